"""The server block the role renders, for each combination of settings (Molecule runs nginx -t on it)."""
import base64
import json
import os
import re

import jinja2
import pytest
import yaml

from ansible_collections.mtls.nginx.plugins.module_utils import _server_model
from ansible_collections.mtls.nginx.tests.unit.plugins.module_utils.test_server_model import with_sites

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *[os.pardir] * 3))
ROLE = os.path.join(ROOT, "roles", "server")


CA = "CN=Example Client CA"
ALICE = {"serial": "4CF09E04D705E3DCE5FDA0148BEB04B2", "name": "alice", "fingerprint_sha256": "ab" * 32, "issuer": CA}
KEY = '"$mtls_client_issuer/$ssl_client_serial"'


def render(template="mtls-nginx.conf.j2", server_valid_certificates=(ALICE,), server_http2_directive=False, **overrides):
    """The template as the role renders it: the host's variables through the server_model filter."""
    with open(os.path.join(ROLE, "defaults", "main.yml"), encoding="utf-8") as handle:
        variables = yaml.safe_load(handle)
    variables.update(overrides)
    settings = {"server_name": variables["mtls_server_name"], "listen_address": variables["mtls_listen_address"],
                "listen_port": variables["mtls_listen_port"], "upstream": variables["mtls_upstream"],
                "send_certificate": variables["mtls_upstream_send_certificate"], "locations": variables["mtls_locations"],
                "verify_client": variables["mtls_verify_client"], "verify_depth": variables["mtls_ssl_verify_depth"],
                "tls_profile": variables["mtls_tls_profile"], "session_timeout": variables["mtls_ssl_session_timeout"],
                "keepalive_timeout": variables["mtls_keepalive_timeout"], "stream_services": variables["mtls_stream_services"],
                "nginx_version": "1.25.1" if server_http2_directive else "1.22.1",
                "tls_dir": "/etc/nginx/mtls", "www_dir": "/usr/share/nginx/mtls",
                **({"sites": variables["mtls_sites"]} if variables["mtls_sites"] else {})}
    model = _server_model.build(with_sites(settings), list(server_valid_certificates))
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(ROLE, "templates")), undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True)
    # What Ansible's templating adds that the templates use.
    env.filters.update(b64encode=lambda text: base64.b64encode(str(text).encode()).decode(), to_json=json.dumps)
    site = next((site for site in model["sites"] if site["mode"] == "include"), None)
    return env.get_template(template).render(ansible_managed="Ansible managed", server_model=model, server_site=site)


def directives(text):
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


@pytest.mark.parametrize("http2_directive, expected", [
    (False, ["listen *:443 ssl http2;"]),  # nginx before 1.25.1
    (True, ["listen *:443 ssl;", "http2 on;"]),
])
def test_http2_in_the_form_the_installed_nginx_understands(http2_directive, expected):
    lines = directives(render(server_http2_directive=http2_directive))
    assert [line for line in lines if line.startswith(("listen", "http2"))] == expected


def test_no_shared_session_cache_and_no_ticket_key_files():
    # nginx >= 1.23.2 keeps ticket keys across reloads in a shared cache: a revoked client could resume
    lines = directives(render())
    assert "ssl_session_cache off;" in lines
    assert not any(line.startswith(("ssl_session_ticket_key", "ssl_session_cache shared")) for line in lines)


def test_default_server_block():
    lines = directives(render())
    for expected in ("listen *:443 ssl http2;", "ssl_verify_client on;", "ssl_verify_depth 1;",
                     "ssl_crl /etc/nginx/mtls/crl.pem;", "ssl_session_cache off;", "ssl_session_tickets on;",
                     "ssl_session_timeout 1h;", "keepalive_timeout 75s;",
                     "ssl_protocols TLSv1.2 TLSv1.3;", 'ca1/4CF09E04D705E3DCE5FDA0148BEB04B2 "alice";',
                     "server_tokens off;"):
        assert expected in lines, expected
    assert not any(line.startswith("proxy_") for line in lines)
    # No allow list: a client's own identity headers are refused, and a ledger of ours must list the certificate.
    assert [line for line in lines if line.startswith("if (")] == ["if ($mtls_client_forged) {", "if ($mtls_client_unlisted) {"]


@pytest.mark.parametrize("address, listen", [("127.0.0.1", "listen 127.0.0.1:9443 ssl http2;"), ("::1", "listen [::1]:9443 ssl http2;")])
def test_listen_address(address, listen):
    assert listen in directives(render(mtls_listen_address=address, mtls_listen_port=9443))


@pytest.mark.parametrize("send, header", [
    (False, 'proxy_set_header X-SSL-Client-Cert "";'),
    (True, "proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;"),
])
def test_upstream_headers(send, header):
    lines = directives(render(mtls_upstream="http://127.0.0.1:8080", mtls_upstream_send_certificate=send))
    assert "proxy_pass http://127.0.0.1:8080;" in lines and header in lines
    for name, variable in (("Verify", "$ssl_client_verify"), ("S-DN", "$ssl_client_s_dn"), ("Serial", "$ssl_client_serial"),
                           ("Fingerprint", "$mtls_client_fingerprint"), ("Name", "$mtls_client_name")):
        assert f"proxy_set_header X-SSL-Client-{name} {variable};" in lines


def test_locations_and_optional_verification():
    text = render(mtls_verify_client="optional", mtls_locations=[
        {"path": "/admin", "allow": ["alice", "bob"]}, {"path": "/status", "public": True}])
    lines = directives(text)
    assert "ssl_verify_client optional;" in lines
    assert f"map {KEY} $mtls_allowed_1 {{" in lines and "ca1/4CF09E04D705E3DCE5FDA0148BEB04B2 1;" in lines
    # A path covers itself and what lies below it as a path segment: /status, /status/..., never /status-internal.
    for match in ("= /admin", "/admin/"):
        admin = text.split(f"location {match} {{")[1].split("location ")[0]
        assert "return 496;" in admin and "if ($mtls_allowed_1 = 0) {" in admin
    for match in ("= /status", "/status/"):
        status = text.split(f"location {match} {{")[1].split("location ")[0]
        assert "return 496;" not in status and "if (" not in status
    assert [line for line in lines if line.startswith("location ")] == [
        "location ^~ /.mtls-errors/ {", "location = /admin {", "location /admin/ {", "location = /status {",
        "location /status/ {", "location / {"]
    root = text.split("location / {")[1]
    assert "return 496;" in root
    assert text.count("{") == text.count("}")


def test_modern_profile_is_tls13_only():
    assert "ssl_protocols TLSv1.3;" in directives(render(mtls_tls_profile="modern"))


NGINX_MAP_KEYWORDS = ["default", "include", "hostnames", "volatile"]
FORGED_KEY = ('"$http_x_ssl_client_verify$http_x_ssl_client_s_dn$http_x_ssl_client_serial$http_x_ssl_client_fingerprint'
              '$http_x_ssl_client_name$http_x_ssl_client_cert"')


def map_body(text, target):
    return directives(text.split(f" ${target} {{")[1].split("}")[0])


def test_a_client_that_sends_identity_headers_is_refused_with_every_name_they_have():
    text = render(mtls_upstream="http://127.0.0.1:8080")
    assert f"map {FORGED_KEY} $mtls_client_forged {{" in text  # one variable per header in the identity macro
    sent = {line.split()[1] for line in directives(text) if line.startswith("proxy_set_header X-SSL-")}
    assert {f"$http_{name.lower().replace('-', '_')}" for name in sent} == set(re.findall(r"\$http_\w+", FORGED_KEY))
    assert map_body(text, "mtls_client_forged") == ['"" 0;', "default 1;"]
    server = text.split("server {")[1]
    assert server.index("if ($mtls_client_forged) {") < server.index("location / {")


def test_without_a_verified_certificate_only_the_error_pages_are_reachable():
    """The map's regexes, run as nginx runs them (PCRE; Python's re agrees on these), over hostile URIs."""
    rules = [(re.compile(line.split('"')[1][1:]), line.rsplit(" ", 1)[1].rstrip(";"))
             for line in map_body(render(), "mtls_client_unverified") if line.startswith('"~')]

    def unverified(verify, uri):
        return next((value for pattern, value in rules if pattern.search(f"{verify}:{uri}")), "1")

    for verify, uri, expected in [("SUCCESS", "/app", "0"), ("NONE", "/app", "1"), ("", "/app", "1"),
                                  ("FAILED:certificate revoked", "/app", "1"), ("NONE", "/.mtls-errors/496.html", "0"),
                                  ("", "/.mtls-errors/496.html", "0"), ("NONE", "/x/.mtls-errors/496.html", "1"),
                                  ("NONE", "/x:/.mtls-errors/496.html", "1"), ("", "/app:/.mtls-errors/", "1"),
                                  ("FAILED:unable to get local issuer certificate", "/.mtls-errors/495.html", "0")]:
        assert unverified(verify, uri) == expected, (verify, uri)


@pytest.mark.parametrize("name", NGINX_MAP_KEYWORDS + ["ALICE", "alice"])
def test_no_client_name_is_ever_a_map_key(name):
    """Names appear only as quoted values: keys are issuer/serial, so a keyword or a case twin changes nothing."""
    certificates = [{**ALICE, "name": name}, {"serial": "5D", "name": "bob", "fingerprint_sha256": "cd" * 32, "issuer": CA}]
    text = render(server_valid_certificates=certificates, mtls_locations=[{"path": "/admin", "allow": [name]}])
    maps = re.findall(r"map (\S+) \$(\w+) \{\n(.*?)\n\}", text, re.S)
    assert [(source, target) for source, target, _body in maps] == [
        ("$ssl_client_i_dn", "mtls_client_issuer"), (KEY, "mtls_client_name"), (KEY, "mtls_client_fingerprint"),
        ('"$ssl_client_verify:$mtls_client_name:$uri"', "mtls_client_unlisted"),
        ('"$ssl_client_verify:$uri"', "mtls_client_unverified"), (FORGED_KEY, "mtls_client_forged"), (KEY, "mtls_allowed_1")]
    entries = [dict(line.rsplit(" ", 1) for line in directives(body)) for source, _target, body in maps if source == KEY]
    for entry in entries:
        assert all(key == "default" or re.fullmatch(r"ca1/[0-9A-F]+", key) for key in entry), entry
    assert entries[0]["ca1/4CF09E04D705E3DCE5FDA0148BEB04B2"] == f'"{name}";'
    assert entries[2] == {"default": "0;", "ca1/4CF09E04D705E3DCE5FDA0148BEB04B2": "1;"}  # bob is not let in
    issuer = dict(line.rsplit(" ", 1) for line in directives(maps[0][2]))
    assert issuer == {"default": '"";', r'"~^CN\\=Example\\ Client\\ CA$"': "ca1;"}


def test_a_certificate_no_ledger_lists_is_rejected_before_any_allow_list():
    text = render(mtls_locations=[{"path": "/admin", "allow": ["alice"]}])
    lines = directives(text)
    unlisted = lines[lines.index('map "$ssl_client_verify:$mtls_client_name:$uri" $mtls_client_unlisted {') + 1:][:3]
    assert unlisted == ["volatile;", '"~^SUCCESS::(?!/\\.mtls-errors/)" 1;', "default 0;"]
    server = lines[lines.index("server {"):]
    assert server[server.index("if ($mtls_client_unlisted) {") + 1] == "return 495;"
    assert server.index("if ($mtls_client_unlisted) {") < server.index("location = /admin {")


def test_error_pages_keep_hsts_and_the_upstream_gets_only_the_peer_address():
    text = render(mtls_upstream="http://127.0.0.1:8080")
    errors = text.split("location ^~ /.mtls-errors/ {")[1].split("}")[0]
    assert 'add_header Strict-Transport-Security "max-age=63072000" always;' in errors
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in directives(text)
    assert "$proxy_add_x_forwarded_for" not in text


def test_a_stream_service_passes_only_allowed_serials_to_its_upstream():
    certificates = [{"serial": "0A1B", "name": "alice", "fingerprint_sha256": "ab" * 32, "issuer": CA},
                    {"serial": "0C2D", "name": "bob", "fingerprint_sha256": "cd" * 32, "issuer": CA}]
    services = [{"name": "cache", "listen_port": 6380, "upstream": "127.0.0.1:6379", "allow": ["alice"]}]
    lines = directives(render("mtls-nginx-stream.conf.j2", server_valid_certificates=certificates,
                              mtls_stream_services=services, mtls_listen_address="127.0.0.1"))
    target = lines[lines.index(f"map {KEY} $mtls_stream_cache_target {{") + 1:]
    target = target[:target.index("}")]
    assert target == ["default mtls_stream_refused;", "ca1/0A1B mtls_stream_cache;"]  # bob's, or unlisted: refused
    assert "map $ssl_client_i_dn $mtls_client_issuer {" in lines
    for expected in ("listen 127.0.0.1:6380 ssl;", "ssl_verify_client on;", "ssl_crl /etc/nginx/mtls/crl.pem;",
                     "server 127.0.0.1:6379;", "server 127.0.0.1:9 down;", "proxy_pass $mtls_stream_cache_target;",
                     "ssl_session_cache off;"):
        assert expected in lines, expected


def test_each_request_is_logged_with_the_verified_client_for_audit():
    text = render()
    lines = directives(text)
    assert "access_log /var/log/nginx/mtls-nginx-access.log mtls_access;" in lines
    log_format = text.split("log_format mtls_access ")[1].split(";")[0]
    for variable in ("$mtls_client_name", "$ssl_client_serial", "$ssl_client_verify", "$status", "$request"):
        assert variable in log_format, variable


def test_several_sites_share_the_maps_and_each_has_its_own_server_block():
    site = with_sites({"server_name": "x", "listen_address": "*", "listen_port": 443, "upstream": "", "send_certificate": False,
                       "locations": [], "verify_client": "on"})["sites"][0]
    sites = [{**site, "name": "grafana", "server_name": "grafana.internal", "upstream": "http://127.0.0.1:3000",
              "websocket": True, "default_server": True, "locations": [{"path": "/live", "allow": ["alice"]}]},
             {**site, "name": "kibana", "server_name": "kibana.internal", "dns_names": ["k.internal"], "allow": ["alice"],
              "locations": [{"path": "/admin", "allow": ["alice"]}]},
             {**site, "name": "legacy", "mode": "include", "server_name": "legacy.internal"}]
    text = render(mtls_sites=sites)
    lines = directives(text)
    assert lines.count(f"map {KEY} $mtls_client_name {{") == 1 and text.count("log_format ") == 1
    assert lines.count("map $http_upgrade $mtls_connection_upgrade {") == 1
    assert [line for line in lines if line.startswith(("listen ", "server_name ", "ssl_certificate ", "access_log "))] == [
        "listen *:443 default_server ssl http2;", "server_name grafana.internal;",
        "ssl_certificate /etc/nginx/mtls/sites/grafana.crt;",
        "access_log /var/log/nginx/mtls-nginx-grafana-access.log mtls_access;",
        "listen *:443 ssl http2;", "server_name kibana.internal k.internal;", "ssl_certificate /etc/nginx/mtls/sites/kibana.crt;",
        "access_log /var/log/nginx/mtls-nginx-kibana-access.log mtls_access;"]
    assert "if ($mtls_site_grafana_allowed_1 = 0) {" in lines and "if ($mtls_site_kibana_allowed_1 = 0) {" in lines
    # Upgrades go through only where the site asks for them (and has an upstream).
    assert lines.count("proxy_set_header Connection $mtls_connection_upgrade;") == 3  # = /live, /live/ and / of grafana
    assert lines.count("proxy_http_version 1.1;") == 3
    # A site-wide allow list: a map of who is allowed, and a check before any location (error pages excepted).
    kibana = text.split("server_name kibana.internal")[1]
    assert "if ($mtls_site_kibana_denied) {" in directives(kibana) and "$mtls_site_grafana_denied" not in text
    assert 'map "$mtls_site_kibana_allowed:$uri" $mtls_site_kibana_denied {' in lines
    # An included site has maps (its snippet's check lets every valid client in) but no server block here.
    assert "server_name legacy.internal;" not in lines
    legacy_allowed = text.split(f"map {KEY} $mtls_site_legacy_allowed {{")[1].split("}")[0]
    assert directives(legacy_allowed) == ["default 1;"]


def test_an_included_site_is_a_snippet_of_checks_its_teams_block_includes():
    site = with_sites({"server_name": "x", "listen_address": "*", "listen_port": 443, "upstream": "", "send_certificate": False,
                       "locations": [], "verify_client": "on"})["sites"][0]
    sites = [{**site, "name": "legacy", "mode": "include", "server_name": "legacy.internal", "allow": ["alice"],
              "certificate": "", "private_key": ""}]
    files = {name: render(f"mtls-nginx-{name}.j2", mtls_sites=sites) for name in ("snippet", "included-log", "identity")}
    assert "log_format mtls_included " in files["included-log"] and files["included-log"].endswith("';\n")
    snippet = directives(files["snippet"])
    # The checks come first: the run demands that the include stands above the block's own rewrite directives.
    assert [line for line in snippet if line.startswith(("if", "rewrite", "set", "break"))][:4] == [
        "if ($mtls_client_forged) {", "if ($mtls_client_unverified) {", "if ($mtls_client_unlisted) {",
        "if ($mtls_site_legacy_denied) {"]
    for expected in ("ssl_client_certificate /etc/nginx/mtls/ca.crt;", "ssl_verify_client on;", "ssl_crl /etc/nginx/mtls/crl.pem;",
                     "ssl_session_cache off;", "access_log /var/log/nginx/mtls-nginx-legacy-access.log mtls_included;",
                     "error_page 496 =496 /.mtls-errors/496.html;", "if ($mtls_site_legacy_denied) {",
                     "include /etc/nginx/mtls/identity-headers.conf;"):
        assert expected in snippet, expected
    # The team's block has its own certificate and TLS policy: the snippet sets neither.
    assert not [line for line in snippet if line.startswith(("ssl_certificate ", "ssl_protocols", "ssl_ciphers", "listen"))]
    assert "proxy_set_header X-SSL-Client-Name $mtls_client_name;" in directives(files["identity"])
    assert files["identity"].endswith('proxy_set_header X-SSL-Client-Cert "";\n')
