import pytest

from ansible_collections.mtls.nginx.plugins.module_utils import _sites
from ansible_collections.mtls.nginx.plugins.filter.inventory import FilterModule
from ansible_collections.mtls.nginx.plugins.module_utils._inventory import (
    client_errors,
    fleet,
    fleet_errors,
    normalize_clients,
    server_errors,
    session_hazard_errors,
    short_passphrases,
)

ALICE = {"name": "alice", "p12_passphrase": "x"}


@pytest.mark.parametrize("clients, fragments", [
    ([], []),
    ([ALICE], []),
    ([ALICE, {"name": "bob", "state": "absent"}], []),
    ([{**ALICE, "email": "alice@example.org", "valid_days": 30, "renew_before_days": 0}], []),
    ([{"name": "../etc", "p12_passphrase": "x"}], ["mtls_clients[0].name must be letters"]),
    ([{"name": "a/b", "p12_passphrase": "x"}], ["mtls_clients[0].name must be letters"]),
    ([{"name": "..", "p12_passphrase": "x"}], ["mtls_clients[0].name must be letters"]),
    ([{"name": "", "p12_passphrase": "x"}], ["mtls_clients[0].name must be letters"]),
    ([{"p12_passphrase": "x"}], ["mtls_clients[0].name must be letters"]),
    ([ALICE, {"name": "alice", "state": "absent"}], ["mtls_clients[1] (alice).name is used again: mtls_clients[0]"]),
    ([ALICE, {"name": "ALICE", "p12_passphrase": "x"}],
     ["mtls_clients[1] (ALICE).name differs from mtls_clients[0] (alice) only in case"]),
    ([ALICE, {"name": "Alice", "state": "revoked"}], ["(Alice).name differs from mtls_clients[0] (alice) only in case"]),
    ([{"name": n, "p12_passphrase": "x"} for n in ("default", "include", "hostnames", "volatile")], []),
    ([{"name": "alice", "state": "revoked", "revoke_reason": "key_compromise"}], []),
    ([{"name": "alice"}], []),  # a passphrase is generated
    ([{"name": "alice", "p12_passphrase": ""}], ["(alice).p12_passphrase is empty: give one, or leave the field out"]),
    ([{**ALICE, "p12_passphrase": ""}], ["(alice).p12_passphrase is empty"]),
    ([{**ALICE, "email": "alice"}], ["(alice).email must look like user@example.org"]),
    ([{**ALICE, "valid_days": 0}], ["(alice).valid_days must be a whole number of days, at least 1"]),
    ([{**ALICE, "valid_days": -3}], ["(alice).valid_days must be"]),
    ([{**ALICE, "renew_before_days": -1}], ["(alice).renew_before_days must be a whole number of days, at least 0"]),
    ([{**ALICE, "valid_days": True}], ["(alice).valid_days must be"]),
    (["alice"], ["mtls_clients[0] must be a mapping"]),
    ([{"name": "a/b", "p12_passphrase": ""}, {"name": "c", "valid_days": 0, "p12_passphrase": "p"}],
     ["mtls_clients[0].name", "mtls_clients[0].p12_passphrase", "mtls_clients[1] (c).valid_days"]),
])
def test_client_errors(clients, fragments):
    errors = client_errors(clients)
    assert len(errors) == len(fragments), errors
    for error, fragment in zip(errors, fragments):
        assert fragment in error


@pytest.mark.parametrize("args, fragment", [
    (("www.example.org",), None),
    (("localhost", 9443, "127.0.0.1"), None),
    (("*.example.org", 443, "::1", "http://127.0.0.1:8080"), None),
    (("app.example.org", 443, "*", "https://backend.internal/api/"), None),
    (("www.example.org; include /etc/passwd",), "mtls_server_name must be a host name"),
    (("www example.org",), "mtls_server_name must be a host name"),
    (("-bad.example.org",), "mtls_server_name must be a host name"),
    (("",), "mtls_server_name must be a host name"),
    (("ok", 0), "mtls_listen_port must be a port number from 1 to 65535, got 0"),
    (("ok", 70000), "mtls_listen_port must be a port number"),
    (("ok", "443"), "mtls_listen_port must be a port number"),
    (("ok", 443, "localhost"), "mtls_listen_address must be '*' or an IP address"),
    (("ok", 443, "127.0.0.1 ssl; listen 80"), "mtls_listen_address must be"),
    (("ok", 443, "::1%lo"), "mtls_listen_address must be"),
    (("ok", 443, "::1%\n} server { listen 80"), "mtls_listen_address must be"),
    (("ok", 443, "*", "http://x;return 200"), "mtls_upstream must be an http(s) URL"),
    (("ok", 443, "*", "ftp://x"), "mtls_upstream must be an http(s) URL"),
    (("ok", 443, "*", "http://x/ a"), "mtls_upstream must be an http(s) URL"),
])
def test_server_errors(args, fragment):
    errors = server_errors(*args)
    if fragment is None:
        assert errors == []
    else:
        assert len(errors) == 1 and fragment in errors[0]


def test_filters_are_registered():
    filters = FilterModule().filters()
    assert filters.pop("contract").__module__.endswith("filter.inventory")
    assert filters == {"client_errors": client_errors, "server_errors": server_errors,
                       "normalize_clients": normalize_clients, "fleet_errors": fleet_errors,
                       "session_hazard_errors": session_hazard_errors, "site_host_errors": _sites.host_errors}


@pytest.mark.parametrize("clients, states", [
    (None, []),
    ([], []),
    ([{"name": "a"}], ["present"]),
    ([{"name": "a", "state": None}], ["present"]),
    ([{"name": "a", "state": "revoked"}, {"name": "b", "state": "absent"}], ["revoked", "absent"]),
])
def test_normalize_clients_fills_in_the_state(clients, states):
    normalized = normalize_clients(clients)
    assert [c["state"] for c in normalized] == states
    assert [c["name"] for c in normalized] == [c["name"] for c in clients or []]


@pytest.mark.parametrize("locations, fragment", [
    (None, None),
    ([], None),
    ([{"path": "/admin", "allow": ["alice"]}, {"path": "/ops/reports", "allow": ["bob", "carol.ops"]}], None),
    ([{"path": "/admin; return 200", "allow": ["alice"]}], "mtls_locations[0].path must be a URL path"),
    ([{"path": "/admin {", "allow": ["alice"]}], "mtls_locations[0].path must be a URL path"),
    ([{"path": "/", "allow": ["alice"]}], "mtls_locations[0].path must be a URL path below /"),
    ([{"path": "admin", "allow": ["alice"]}], "mtls_locations[0].path must be a URL path"),
    ([{"path": "/a", "allow": ["alice"]}, {"path": "/a", "allow": ["bob"]}], "mtls_locations[1].path /a is listed twice"),
    ([{"path": "/a/", "allow": ["alice"]}, {"path": "/a", "allow": ["bob"]}], "mtls_locations[1].path /a is listed twice"),
    ([{"path": "//", "allow": ["alice"]}], "mtls_locations[0].path must be a URL path"),
    ([{"path": "/a//b", "allow": ["alice"]}], "mtls_locations[0].path must be a URL path"),
    ([{"path": "/a/../admin", "allow": ["alice"]}], "mtls_locations[0].path must be a URL path"),
    ([{"path": "/./admin", "allow": ["alice"]}], "mtls_locations[0].path must be a URL path"),
    ([{"path": "/admin", "allow": []}], "mtls_locations[0].allow must be a non-empty list"),
    ([{"path": "/admin", "allow": ["alice; deny all"]}], "mtls_locations[0].allow must be a non-empty list"),
    ([{"path": "/admin", "allow": "alice"}], "mtls_locations[0].allow must be a non-empty list"),
    ([{"path": "/admin", "allow": ["alice"], "deny": ["bob"]}], "mtls_locations[0] has unknown fields deny"),
    ([{"path": "/status", "public": True}], "is public, which needs mtls_verify_client: optional"),
    ([{"path": "/status", "public": True, "allow": ["alice"]}], "is public (no certificate needed) and has an allow list"),
    ([{"path": "/status", "public": "yes"}], "mtls_locations[0].public must be true or false"),
    ([{"path": "/status", "public": False}], "mtls_locations[0].allow must be a non-empty list"),
    (["/admin"], "mtls_locations[0] must be a mapping"),
])
def test_location_errors(locations, fragment):
    errors = server_errors("www.example.org", 443, "*", "", locations)
    if fragment is None:
        assert errors == []
    else:
        assert len(errors) == 1 and fragment in errors[0], errors


def test_public_location_with_optional_verification():
    assert server_errors("www.example.org", 443, "*", "", [{"path": "/status", "public": True}], "optional") == []


CLIENTS = [{"name": "alice"}, {"name": "bob", "state": "revoked"}, {"name": "default"}]


@pytest.mark.parametrize("allow, fragment", [
    (["alice"], None),
    (["alice", "bob", "default"], None),  # a revoked user may stay listed: no valid certificate, no entry
    (["ALICE"], "mtls_locations[0].allow names 'ALICE', which is not in mtls_clients (mtls_clients has 'alice'"),
    (["mallory"], "mtls_locations[0].allow names 'mallory', which is not in mtls_clients"),
])
def test_allow_lists_name_clients_exactly(allow, fragment):
    errors = server_errors("www.example.org", 443, "*", "", [{"path": "/admin", "allow": allow}], "on", CLIENTS)
    if fragment is None:
        assert errors == []
    else:
        assert len(errors) == 1 and fragment in errors[0], errors


@pytest.mark.parametrize("url, ok", [
    ("", True),
    ("https://www.example.org/", True),
    ("https://www.example.org:8443/portal/", True),
    ("https://[::1]:8443/", True),
    ("javascript:alert(1)", False),
    ("http://www.example.org/", False),
    ("https://www.example.org/\"><script>", False),
    ("https://www.example.org/ onmouseover=x", False),
    ("data:text/html,hi", False),
])
def test_kit_url_must_be_https(url, ok):
    errors = server_errors("www.example.org", kit_url=url)
    assert (errors == []) is ok, errors
    if not ok:
        assert "mtls_client_kit_url must be an https URL" in errors[0]


@pytest.mark.parametrize("clients, names", [
    ([], []),
    ([{"name": "a", "p12_passphrase": "x" * 15}, {"name": "b", "p12_passphrase": "x" * 16}], ["a"]),
    ([{"name": "a"}, {"name": "b", "p12_passphrase": None}], []),  # generated ones are long
])
def test_short_passphrases_are_named_never_shown(clients, names):
    assert short_passphrases(clients) == names


CONTROL = {"mtls_server_name": "localhost", "mtls_server_dns_names": [], "mtls_server_ip_addresses": ["127.0.0.1"],
           "mtls_server_certificate": ""}


@pytest.mark.parametrize("hosts, expected", [
    # no nginx hosts: the control node's own settings (a PKI-only run, or the pki role alone)
    ([], [{"name": "localhost", "dns_names": [], "ip_addresses": ["127.0.0.1"]}]),
    # each host by its own name; what it leaves out comes from the control node (group_vars all)
    ([{"mtls_server_name": "web1.example.org", "mtls_server_ip_addresses": ["192.0.2.1"]},
      {"mtls_server_name": "web2.example.org", "mtls_server_dns_names": ["www.example.org"]}],
     [{"name": "web1.example.org", "dns_names": [], "ip_addresses": ["192.0.2.1"]},
      {"name": "web2.example.org", "dns_names": ["www.example.org"], "ip_addresses": ["127.0.0.1"]}]),
    # a host that brings its own certificate gets none
    ([{"mtls_server_name": "web1.example.org"}, {"mtls_server_name": "api.example.org", "mtls_server_certificate": "/x"}],
     [{"name": "web1.example.org", "dns_names": [], "ip_addresses": ["127.0.0.1"]}]),
    # two hosts behind one name share a certificate with both addresses
    ([{"mtls_server_name": "www.example.org", "mtls_server_ip_addresses": ["192.0.2.1"]},
      {"mtls_server_name": "www.example.org", "mtls_server_ip_addresses": ["192.0.2.2", "192.0.2.1"]}],
     [{"name": "www.example.org", "dns_names": [], "ip_addresses": ["192.0.2.1", "192.0.2.2"]}]),
    # every host brings its own: nothing to issue
    ([{"mtls_server_certificate": "/a"}, {"mtls_server_certificate": "/b"}], []),
])
def test_fleet(hosts, expected):
    assert fleet(hosts, CONTROL) == expected


@pytest.mark.parametrize("servers, fragment", [
    ([{"name": "web1.example.org", "dns_names": ["www.example.org"], "ip_addresses": ["::1"]}], None),
    ([{"name": "web1;include x", "dns_names": [], "ip_addresses": []}], "servers[0].name must be a host name"),
    ([{"name": "a.example", "dns_names": [], "ip_addresses": []}, {"name": "A.example", "dns_names": [],
                                                                   "ip_addresses": []}], "is listed twice"),
    ([{"name": "a.example", "dns_names": ["b c"], "ip_addresses": []}], "dns_names: 'b c' is not a host name"),
    ([{"name": "a.example", "dns_names": [], "ip_addresses": ["300.1.1.1"]}], "is not an IP address"),
])
def test_fleet_errors(servers, fragment):
    errors = fleet_errors(servers)
    assert (errors == []) if fragment is None else (len(errors) == 1 and fragment in errors[0]), errors


@pytest.mark.parametrize("value, ok", [
    ("1h", True), ("75s", True), ("1h30m", True), ("500ms", True), ("300", True),
    ("1h; include /etc/passwd", False), ("", False), ("1 h", False), ("-5s", False), (75, False), ("1h\n", False),
])
def test_nginx_time_values_are_checked(value, ok):
    errors = server_errors("www.example.org", times={"mtls_ssl_session_timeout": value})
    assert (errors == []) is ok, errors
    assert ok or errors == [f"mtls_ssl_session_timeout must be an nginx time such as 1h, 75s or 1h30m, got {value!r}"]


@pytest.mark.parametrize("errors, fragment", [
    (lambda: client_errors([{"name": "alice\n"}]), "mtls_clients[0].name must be letters"),
    (lambda: client_errors([{"name": "alice", "email": "alice@example.org\n"}]), "email must look like"),
    (lambda: server_errors("www.example.org\n"), "mtls_server_name must be a host name"),
    (lambda: server_errors("www.example.org", upstream="http://127.0.0.1:8080\n"), "mtls_upstream must be"),
    (lambda: server_errors("www.example.org", kit_url="https://www.example.org/\n"), "mtls_client_kit_url must be"),
    (lambda: server_errors("www.example.org", locations=[{"path": "/admin\n", "allow": []}]), "path"),
])
def test_a_trailing_line_feed_is_refused_everywhere(errors, fragment):
    # Python's "$" also matches before a final line feed: every check must see the whole value.
    assert any(fragment in error for error in errors()), errors()


REDIS = {"name": "cache", "listen_port": 6380, "upstream": "127.0.0.1:6379", "allow": ["alice"]}


@pytest.mark.parametrize("services, fragment", [
    ([REDIS], None),
    ([REDIS, {**REDIS, "name": "mqtt", "listen_port": 8883, "upstream": "mqtt.internal:1883"}], None),
    ([{**REDIS, "upstream": "[::1]:6379"}], None),
    ([{**REDIS, "listen_port": 443}], "listen_port 443 is taken by mtls_listen_port"),
    ([REDIS, {**REDIS, "name": "other"}], "listen_port 6380 is taken by mtls_stream_services[0].listen_port"),
    ([REDIS, {**REDIS, "listen_port": 6381}], "name cache is used twice"),
    ([{**REDIS, "listen_port": 0}], "listen_port must be a port number"),
    ([{**REDIS, "upstream": "127.0.0.1"}], "upstream must be host:port"),
    ([{**REDIS, "upstream": "127.0.0.1:70000"}], "upstream must be host:port"),
    ([{**REDIS, "upstream": "redis:6379; include /etc/passwd"}], "upstream must be host:port"),
    ([{**REDIS, "upstream": "http://redis:6379"}], "upstream must be host:port"),
    ([{**REDIS, "allow": ["mallory"]}], "allow names 'mallory', which is not in mtls_clients"),
    ([{**REDIS, "allow": ["ALICE"]}], "(mtls_clients has 'alice': names match exactly)"),
    ([{**REDIS, "allow": []}], "allow must be a non-empty list"),
    ([{**REDIS, "name": "cache-1"}], "name must be letters, digits and '_'"),
    ([{**REDIS, "name": "cache\n"}], "name must be letters, digits and '_'"),
    ([{**REDIS, "tls": False}], "has unknown fields tls"),
    ("cache", "mtls_stream_services must be a list"),
])
def test_stream_services_are_checked(services, fragment):
    errors = server_errors("www.example.org", 443, clients=[{"name": "alice"}, {"name": "bob"}], stream_services=services)
    assert (errors == []) if fragment is None else any(fragment in error for error in errors), errors


KEY_IN_HTTP = {"context": "http", "ports": None, "what": "ssl_session_ticket_key", "where": "/etc/nginx/nginx.conf:20"}
CACHE_ON_443 = {"context": "http", "ports": [80, 443], "what": "ssl_session_cache shared",
                "where": "/etc/nginx/sites-enabled/default:3"}
KEY_IN_STREAM_SERVER = {"context": "stream", "ports": [6380], "what": "ssl_session_ticket_key", "where": "/etc/nginx/s.conf:4"}
CACHE = {"name": "cache", "listen_port": 6380, "upstream": "127.0.0.1:6379"}
UNREADABLE = {"ports": None, "what": "unreadable: unexpected '}'", "where": "/etc/nginx/conf.d/x.conf:3"}


@pytest.mark.parametrize("hazards, port, services, expected", [
    ([], 443, None, []),
    (None, 443, None, []),
    ([KEY_IN_HTTP], 9443, None,
     ["ssl_session_ticket_key at /etc/nginx/nginx.conf:20 (the http block, so every server there inherits it) keeps"
      " TLS sessions across the reload that installs a new CRL, so a revoked client could resume without a certificate"
      " check: remove it"]),
    ([CACHE_ON_443], 443, None,
     ["ssl_session_cache shared at /etc/nginx/sites-enabled/default:3 (a server on port 443, which the mTLS server"
      " shares: the first server on a port holds the session cache and ticket keys of all) keeps TLS sessions across"
      " the reload that installs a new CRL, so a revoked client could resume without a certificate check: set"
      " ssl_session_cache off there, or give the mTLS server a port of its own"]),
    ([CACHE_ON_443], 8443, None, []),  # another port: not ours
    ([KEY_IN_STREAM_SERVER], 443, None, []),  # no TCP services: the stream block is not ours
    ([KEY_IN_STREAM_SERVER], 443, [CACHE], ["ssl_session_ticket_key at /etc/nginx/s.conf:4 (a server on port 6380"]),
    ([dict(KEY_IN_HTTP, context="stream")], 443, [CACHE], ["(the stream block, so every server there inherits it)"]),
    # configuration the fact script could not read: said once, whichever contexts are ours
    ([dict(UNREADABLE, context=context) for context in ("http", "stream")], 443, [CACHE],
     ["the host's nginx configuration cannot be read as nginx reads it (unexpected '}' at /etc/nginx/conf.d/x.conf:3)"]),
    ([dict(UNREADABLE, context=context) for context in ("http", "stream")], 443, None, ["cannot be read as nginx reads"]),
])
def test_session_hazard_errors(hazards, port, services, expected):
    errors = session_hazard_errors(hazards, port, services)
    assert len(errors) == len(expected)
    for error, start in zip(errors, expected):
        assert start in error
