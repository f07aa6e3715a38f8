"""The server role's local fact script: how it reads nginx's configuration for session hazards."""
import importlib.machinery
import importlib.util
import os

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "server", "files", "mtls_nginx.fact")
_loader = importlib.machinery.SourceFileLoader("mtls_nginx_fact", SCRIPT)
_spec = importlib.util.spec_from_loader("mtls_nginx_fact", _loader)
fact = importlib.util.module_from_spec(_spec)
_loader.exec_module(fact)


def facts(files, main="/etc/nginx/nginx.conf"):
    """(session_hazards, http_servers) of a configuration given as {path: text}; includes are matched against the paths."""
    def read(pattern):
        import fnmatch
        pattern = pattern if pattern.startswith("/") else "/etc/nginx/" + pattern
        if not any(char in pattern for char in "*?[") and pattern not in files:
            raise fact.Unreadable(f"cannot read {pattern} (No such file or directory)", pattern)
        return [(path, files[path]) for path in sorted(files) if fnmatch.fnmatch(path, pattern)]
    return fact.configuration_facts(main, read)


def hazards(files, main="/etc/nginx/nginx.conf"):
    return facts(files, main)[0]


@pytest.mark.parametrize("text, expected", [
    ("server a;", [("server", ["a"])]),
    ("listen \"127.0.0.1:443\" ssl;# comment ; {\n", [("listen", ["127.0.0.1:443", "ssl"])]),
    ("return 200 'a;b}{';", [("return", ["200", "a;b}{"])]),
    ("set $x \"say \\\"hi\\\"\";", [("set", ["$x", 'say "hi"'])]),
    ("proxy_pass http://${host}x;", [("proxy_pass", ["http://${host}x"])]),
    ("a#b c;", [("a#b", ["c"])]),
    # a '}' does not end a bare word (ngx_conf_read_token ends one at space, ';' or '{' only)
    ("add_header X a}; b;", [("add_header", ["X", "a}"]), ("b", [])]),
    ("set $a ${b}c;", [("set", ["$a", "${b}c"])]),
    ("set $a x\\;y\\tz;", [("set", ["$a", "x\\;y\tz"])]),
    ("return 200 \"a\";", [("return", ["200", "a"])]),
])
def test_tokens_as_nginx_reads_them(text, expected):
    assert [(name, args) for name, args, _children, _where in fact.parse(text, "f", lambda _p: [])] == expected


@pytest.mark.parametrize("address, port", [
    ("443", 443), ("127.0.0.1:8443", 8443), ("[::]:9443", 9443), ("[::1]", 80), ("*:10443", 10443),
    ("localhost", 80), ("example.org:8080", 8080), ("unix:/run/nginx.sock", None),
])
def test_listen_ports(address, port):
    assert fact.listen_port(address) == port


OURS = "server {\n listen 127.0.0.1:9443 ssl;\n ssl_session_cache off;\n ssl_session_tickets on;\n}\n"


@pytest.mark.parametrize("files, expected", [
    # Debian's stock layout with our server: nothing.
    ({"/etc/nginx/nginx.conf": "events {}\nhttp {\n include /etc/nginx/conf.d/*.conf;\n}\n",
      "/etc/nginx/conf.d/mtls-nginx.conf": OURS}, []),
    # A ticket key in the http block: every server inherits it, on every port.
    ({"/etc/nginx/nginx.conf": "http {\n ssl_session_ticket_key /etc/nginx/t.key;\n include conf.d/*.conf;\n}\n",
      "/etc/nginx/conf.d/mtls-nginx.conf": OURS},
     [{"context": "http", "ports": None, "what": "ssl_session_ticket_key", "where": "/etc/nginx/nginx.conf:2"}]),
    # ... also when it comes from an included file, at the http level.
    ({"/etc/nginx/nginx.conf": "http {\n include conf.d/*.conf;\n}\n",
      "/etc/nginx/conf.d/00-tickets.conf": "# shared keys\nssl_session_ticket_key /k;\n",
      "/etc/nginx/conf.d/mtls-nginx.conf": OURS},
     [{"context": "http", "ports": None, "what": "ssl_session_ticket_key", "where": "/etc/nginx/conf.d/00-tickets.conf:2"}]),
    # A shared cache in the http block: inherited by a server without its own setting, not by ours.
    ({"/etc/nginx/nginx.conf": "http {\n ssl_session_cache shared:SSL:10m;\n include sites-enabled/*;\n}\n",
      "/etc/nginx/sites-enabled/default": "server {\n listen 80 default_server;\n listen [::]:443 ssl;\n}\n" + OURS},
     [{"context": "http", "ports": [80, 443], "what": "ssl_session_cache shared", "where": "/etc/nginx/nginx.conf:2"}]),
    # A server's own shared cache and ticket key; a server without listen is on port 80; builtin is per process.
    ({"/etc/nginx/nginx.conf": "http {\n server {\n  listen 9443;\n  ssl_session_cache builtin shared:X:1m;\n"
                               "  ssl_session_ticket_key k;\n }\n server { ssl_session_cache builtin:1000; }\n}\n"},
     [{"context": "http", "ports": [9443], "what": "ssl_session_ticket_key", "where": "/etc/nginx/nginx.conf:5"},
      {"context": "http", "ports": [9443], "what": "ssl_session_cache shared", "where": "/etc/nginx/nginx.conf:4"}]),
    # The stream block is read the same way; directives in comments and strings are not directives.
    ({"/etc/nginx/nginx.conf": "# ssl_session_ticket_key /k;\nstream {\n server { listen 6380 ssl; }\n"
                               " ssl_session_cache shared:S:1m;\n}\nhttp { return 200 'ssl_session_ticket_key x;'; }\n"},
     [{"context": "stream", "ports": [6380], "what": "ssl_session_cache shared", "where": "/etc/nginx/nginx.conf:4"}]),
])
def test_session_hazards(files, expected):
    assert hazards(files) == expected


def unreadable(reason, where):
    return [{"context": context, "ports": None, "what": f"unreadable: {reason}", "where": where}
            for context in ("http", "stream")]


@pytest.mark.parametrize("text, reason, where", [
    # nginx keeps the '}' in the word: the http block goes on and the ticket key is in it
    ("http {\n add_header X a}; ssl_session_ticket_key /k;\n}\n", None, None),
    ("http {\n return 200 \"a\"b;\n}\n", "unexpected 'b' after a quoted word", "/etc/nginx/nginx.conf:2"),
    ("http {\n return 200 'open;\n}\n", "a quote opened here is never closed", "/etc/nginx/nginx.conf:2"),
    ("http {\n ssl_session_ticket_key /k;\n", "unexpected end of file (a ';' or '}' is missing)", "/etc/nginx/nginx.conf:2"),
    ("http { a }\n", "unexpected '}'", "/etc/nginx/nginx.conf:1"),
    ("}\nhttp { ssl_session_ticket_key /k; }\n", "unexpected '}'", "/etc/nginx/nginx.conf:1"),
    ("http { ; }\n", "unexpected ';'", "/etc/nginx/nginx.conf:1"),
    ("http { include missing.conf; }\n", "cannot read /etc/nginx/missing.conf (No such file or directory)",
     "/etc/nginx/missing.conf"),
    ("include nginx.conf;\nhttp { ssl_session_ticket_key k; }\n", "includes nested deeper than 16 levels",
     "/etc/nginx/nginx.conf:1"),
])
def test_what_nginx_reads_differently_or_the_script_cannot_follow_is_a_hazard(text, reason, where):
    found = hazards({"/etc/nginx/nginx.conf": text})
    if reason is None:
        assert found == [{"context": "http", "ports": None, "what": "ssl_session_ticket_key", "where": "/etc/nginx/nginx.conf:2"}]
    else:
        assert found == unreadable(reason, where)


def test_http_servers_name_their_ports_and_where_they_start():
    files = {"/etc/nginx/nginx.conf": "http {\n include conf.d/*.conf;\n server { listen 80; }\n}\nstream { server { listen 5432; } }",
             "/etc/nginx/conf.d/a.conf": "server {\n listen 127.0.0.1:443 ssl;\n listen [::1]:8443 ssl;\n"
                                         " include /etc/nginx/mtls/sites/a.conf;\n}\nserver { server_name x; }",
             "/etc/nginx/mtls/sites/a.conf": "ssl_verify_client on;"}
    a_conf, nginx_conf = "/etc/nginx/conf.d/a.conf", "/etc/nginx/nginx.conf"
    assert [{key: server[key] for key in ("ports", "where", "files")} for server in facts(files)[1]] == [
        {"ports": [443, 8443], "where": f"{a_conf}:1", "files": [a_conf, "/etc/nginx/mtls/sites/a.conf"]},
        {"ports": [80], "where": f"{a_conf}:6", "files": [a_conf]},
        {"ports": [80], "where": f"{nginx_conf}:3", "files": [nginx_conf]}]


TEAM = "/etc/nginx/conf.d/legacy.conf"
SNIPPET = "/etc/nginx/mtls/sites/legacy.conf"


@pytest.mark.parametrize("block, key, expected", [
    ("server_name legacy.test *.legacy.test;", "names", ["legacy.test", "*.legacy.test"]),
    ("listen 443 ssl; listen 80; listen [::]:8080 default_server; listen 8443 quic;", "plain", [f"{TEAM}:2", f"{TEAM}:2"]),
    ("ssl on; listen 443; listen 8443;", "plain", []),  # nginx before 1.25.1: every listen of the block has TLS
    ("rewrite ^/old/(.*)$ /$1 last;\ninclude mtls/sites/legacy.conf;\nreturn 301 /x;", "rewrites",
     [["rewrite", f"{TEAM}:2"], ["if", f"{SNIPPET}:1"], ["return", f"{TEAM}:4"]]),
    ("location / { rewrite ^ /x last; if ($a) { return 403; } }", "rewrites", []),  # a location's run after ours
    ("error_page 403 = @fallback;\nlocation / { error_page 404 /404.html; }", "error_pages",
     [["403 = @fallback", f"{TEAM}:2"]]),
])
def test_what_a_server_block_does_around_an_included_snippet(block, key, expected):
    files = {"/etc/nginx/nginx.conf": "http {\n include conf.d/*.conf;\n}\n", TEAM: f"server {{\n{block}\n}}\n",
             SNIPPET: "if ($mtls_client_forged) { return 400; }"}
    assert facts(files)[1][0][key] == expected


def test_only_our_files_may_assign_our_variables():
    files = {"/etc/nginx/nginx.conf": "http {\n include conf.d/*.conf;\n map $a $mtls_client_name { default x; }\n"
                                      " map $b $other { default y; }\n}\nstream { map $c $mtls_client_name { } }\n",
             TEAM: "server {\n set $mtls_client_name root;\n location / { auth_request_set $mtls_x $y; set $own 1; }\n}\n"}
    assert facts(files)[2] == [["$mtls_client_name", f"{TEAM}:2"], ["$mtls_x", f"{TEAM}:3"],
                               ["$mtls_client_name", "/etc/nginx/nginx.conf:3"]]


def test_an_unreadable_configuration_lists_no_servers_and_is_a_hazard():
    found_hazards, servers, assigned = facts({"/etc/nginx/nginx.conf": "http { server { listen 443 ssl; }"})
    assert servers == assigned == [] and found_hazards and found_hazards[0]["what"].startswith("unreadable: ")
