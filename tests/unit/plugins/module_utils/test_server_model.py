"""The server model: who may connect where, decided in Python (the templates only print it)."""
import pytest

from ansible_collections.mtls.nginx.plugins.module_utils import _server_model, _sites

CA = "CN=Example CA,O=Example"
CERTIFICATES = [
    {"serial": "0A", "name": "alice", "fingerprint_sha256": "aa", "issuer": CA},
    {"serial": "0B", "name": "bob", "fingerprint_sha256": "bb", "issuer": CA},
    {"serial": "0C", "name": "alice", "fingerprint_sha256": "cc", "issuer": CA},  # alice's renewal: both certificates valid
]
K = {serial: f"ca1/{serial}" for serial in ("0A", "0B", "0C")}
SETTINGS = {"server_name": "www.example.org", "listen_address": "*", "listen_port": 443, "upstream": "",
            "send_certificate": False, "locations": [], "verify_client": "on", "verify_depth": 1,
            "tls_profile": "intermediate", "session_timeout": "1h", "keepalive_timeout": "75s",
            "stream_services": [], "nginx_version": "1.22.1", "tls_dir": "/etc/nginx/mtls", "www_dir": "/srv/www"}


SITE_FIELDS = ("server_name", "listen_address", "listen_port", "upstream", "send_certificate", "locations", "verify_client")


def with_sites(settings):
    """settings with "sites": the single site its short names describe, unless it has sites already."""
    implicit = {"name": _sites.IMPLICIT, "mode": "server", "allow": None, "dns_names": [], "ip_addresses": [],
                "websocket": False, "default_server": False,
                "certificate": "/pki/server/www.crt", "private_key": "/pki/server/www.key",
                **{field: settings[field] for field in SITE_FIELDS}}
    return {"sites": [implicit], **settings}


def build(**overrides):
    return _server_model.build(with_sites({**SETTINGS, **overrides}), CERTIFICATES)


@pytest.mark.parametrize("address, port, expected", [
    ("*", 443, "*:443"), ("127.0.0.1", 8443, "127.0.0.1:8443"), ("::1", 443, "[::1]:443"), ("::", 9443, "[::]:9443")])
def test_listen(address, port, expected):
    assert _server_model.listen(address, port) == expected


@pytest.mark.parametrize("version, directive", [("", False), ("1.22.1", False), ("1.25.0", False), ("1.25.1", True),
                                                ("1.26.3", True), ("2.0", True)])
def test_http2_directive_from_nginx_1_25_1(version, directive):
    assert build(nginx_version=version)["sites"][0]["http2_directive"] is directive


@pytest.mark.parametrize("allow, serials", [
    (["alice"], ["0A", "0C"]),  # every valid certificate of the name
    (["bob"], ["0B"]),
    (["alice", "bob"], ["0A", "0B", "0C"]),  # ledger order
    (["ALICE"], []),  # names match exactly
    (["carol"], []),
])
def test_allowed_keys(allow, serials):
    assert _server_model.allowed_keys(_server_model.keyed(CERTIFICATES), allow) == [K[serial] for serial in serials]


def test_a_certificate_is_matched_by_issuer_and_serial():
    other = {**CERTIFICATES[1], "issuer": "CN=Other CA"}  # bob's serial, from another CA of ours
    model = _server_model.build(with_sites(SETTINGS), [*CERTIFICATES, other])
    assert model["client_key"] == '"$mtls_client_issuer/$ssl_client_serial"'
    assert [issuer["id"] for issuer in model["issuers"]] == ["ca1", "ca2"]
    assert model["issuers"][1]["pattern"] == r'"~^CN\\=Other\\ CA$"'
    assert [c["key"] for c in model["certificates"]] == ["ca1/0A", "ca1/0B", "ca1/0C", "ca2/0B"]


def test_locations_restricted_first_then_public_each_with_its_decision():
    model = build(verify_client="optional", locations=[
        {"path": "/status", "public": True}, {"path": "/admin", "allow": ["bob"]}, {"path": "/all", "allow": ["alice", "bob"]}])
    assert model["sites"][0]["locations"] == [
        {"path": "/admin", "matches": ["= /admin", "/admin/"], "public": False, "require_certificate": True,
         "allowed": "$mtls_allowed_1", "admitted": [K["0B"]]},
        {"path": "/all", "matches": ["= /all", "/all/"], "public": False, "require_certificate": True,
         "allowed": "$mtls_allowed_2", "admitted": [K["0A"], K["0B"], K["0C"]]},
        {"path": "/status", "matches": ["= /status", "/status/"], "public": True, "require_certificate": False}]
    assert model["sites"][0]["require_certificate"] is True


def test_with_verification_on_nginx_itself_demands_the_certificate():
    model = build(locations=[{"path": "/admin", "allow": ["bob"]}])
    assert model["sites"][0]["require_certificate"] is False
    assert model["sites"][0]["locations"][0]["require_certificate"] is False


def test_stream_services_get_their_own_keys_and_listen_address():
    model = build(listen_address="::1", stream_services=[
        {"name": "pg", "listen_port": 5432, "upstream": "127.0.0.1:5433", "allow": ["bob"]}])
    assert model["stream"] == [{"name": "pg", "listen": "[::1]:5432", "upstream": "127.0.0.1:5433", "admitted": [K["0B"]]}]


@pytest.mark.parametrize("profile, protocols", [("intermediate", "TLSv1.2 TLSv1.3"), ("modern", "TLSv1.3")])
def test_one_tls_block_for_every_listener(profile, protocols):
    tls = build(tls_profile=profile, verify_depth=2)["tls"]
    assert tls == {"certificate": "/etc/nginx/mtls/server.crt", "private_key": "/etc/nginx/mtls/server.key",
                   "client_ca": "/etc/nginx/mtls/ca.crt", "crl": "/etc/nginx/mtls/crl.pem", "verify_depth": 2,
                   "protocols": protocols, "ciphers": _server_model.TLS_CIPHERS, "curves": "X25519:prime256v1:secp384r1",
                   "session_timeout": "1h"}


def test_identity_maps_list_every_valid_certificate():
    assert build()["certificates"] == [{"key": K["0A"], "name": "alice", "fingerprint": "aa"},
                                       {"key": K["0B"], "name": "bob", "fingerprint": "bb"},
                                       {"key": K["0C"], "name": "alice", "fingerprint": "cc"}]


def test_each_site_its_server_block_certificate_maps_and_log():
    sites = [{**with_sites(SETTINGS)["sites"][0], "name": "grafana", "server_name": "grafana.internal",
              "dns_names": ["g.internal"], "upstream": "http://127.0.0.1:3000", "websocket": True, "default_server": True,
              "certificate": "/pki/server/grafana.internal.crt", "private_key": "/pki/server/grafana.internal.key",
              "locations": [{"path": "/admin", "allow": ["bob"]}]},
             {**with_sites(SETTINGS)["sites"][0], "name": "kibana", "server_name": "kibana.internal", "websocket": True,
              "locations": [{"path": "/admin", "allow": ["alice"]}]}]
    model = build(sites=sites)
    grafana, kibana = model["sites"]
    assert grafana["tls"]["certificate"] == "/etc/nginx/mtls/sites/grafana.crt" and grafana["tls"]["crl"] == model["tls"]["crl"]
    assert grafana["files"] == [["/etc/nginx/mtls/sites/grafana.crt", "/pki/server/grafana.internal.crt"],
                                ["/etc/nginx/mtls/sites/grafana.key", "/pki/server/grafana.internal.key", "0600"]]
    assert grafana["listen"] == "*:443 default_server" and grafana["server_name"] == "grafana.internal g.internal"
    assert grafana["access_log"] == "/var/log/nginx/mtls-nginx-grafana-access.log"
    # Each site's allow maps have names of their own; a WebSocket needs an upstream.
    assert [grafana["locations"][0]["allowed"], kibana["locations"][0]["allowed"]] == ["$mtls_site_grafana_allowed_1",
                                                                                       "$mtls_site_kibana_allowed_1"]
    assert [grafana["locations"][0]["admitted"], kibana["locations"][0]["admitted"]] == [[K["0B"]], [K["0A"], K["0C"]]]
    assert (grafana["websocket"], kibana["websocket"], model["websocket"]) == (True, False, True)


def test_the_implicit_site_keeps_the_single_server_blocks_names():
    site = build(locations=[{"path": "/admin", "allow": ["bob"]}])["sites"][0]
    assert site["tls"]["certificate"] == "/etc/nginx/mtls/server.crt" and site["files"] == []
    assert site["access_log"] == "/var/log/nginx/mtls-nginx-access.log" and site["locations"][0]["allowed"] == "$mtls_allowed_1"


def test_a_site_wide_allow_list_and_an_included_site():
    base = with_sites(SETTINGS)["sites"][0]
    sites = [{**base, "name": "grafana-x", "allow": ["bob"]},
             {**base, "name": "legacy", "mode": "include", "certificate": "", "private_key": ""},
             {**base, "name": "legacy2", "mode": "include", "allow": ["alice"], "certificate": "", "private_key": ""}]
    grafana, legacy, legacy2 = build(sites=sites)["sites"]
    assert grafana["allow"] == {"denied": "$mtls_site_grafana_x_denied", "allowed": "$mtls_site_grafana_x_allowed",
                                "admitted": [K["0B"]]}
    assert grafana["snippet"] is None and grafana["tls"]["certificate"] == "/etc/nginx/mtls/sites/grafana-x.crt"
    # An included site: a snippet, no certificate of ours, and a check that lets every valid client in.
    assert legacy["snippet"] == "/etc/nginx/mtls/sites/legacy.conf" and "certificate" not in legacy["tls"]
    assert legacy["files"] == [] and legacy["allow"]["admitted"] is None
    assert legacy2["allow"]["admitted"] == [K["0A"], K["0C"]]
    assert build()["sites"][0]["allow"] is None and build()["included"] is False


@pytest.mark.parametrize("setting, chain_depth, depth", [(1, 1, 1), (1, 2, 2), (3, 2, 3)])
def test_the_verify_depth_covers_the_chain_of_two_tiers(setting, chain_depth, depth):
    assert build(verify_depth=setting, chain_depth=chain_depth)["tls"]["verify_depth"] == depth
