"""The server model: who may connect where, decided in Python (the templates only print it)."""
import pytest

from ansible_collections.mtls.nginx.plugins.module_utils import _server_model

CERTIFICATES = [
    {"serial": "0A", "name": "alice", "fingerprint_sha256": "aa"},
    {"serial": "0B", "name": "bob", "fingerprint_sha256": "bb"},
    {"serial": "0C", "name": "alice", "fingerprint_sha256": "cc"},  # alice's renewal: both certificates valid
]
SETTINGS = {"server_name": "www.example.org", "listen_address": "*", "listen_port": 443, "upstream": "",
            "send_certificate": False, "locations": [], "verify_client": "on", "verify_depth": 1,
            "tls_profile": "intermediate", "session_timeout": "1h", "keepalive_timeout": "75s",
            "stream_services": [], "nginx_version": "1.22.1", "tls_dir": "/etc/nginx/mtls", "www_dir": "/srv/www"}


def build(**overrides):
    return _server_model.build({**SETTINGS, **overrides}, CERTIFICATES)


@pytest.mark.parametrize("address, port, expected", [
    ("*", 443, "*:443"), ("127.0.0.1", 8443, "127.0.0.1:8443"), ("::1", 443, "[::1]:443"), ("::", 9443, "[::]:9443")])
def test_listen(address, port, expected):
    assert _server_model.listen(address, port) == expected


@pytest.mark.parametrize("version, expected", [
    ("1.22.1", (1, 22, 1)), ("1.25.1", (1, 25, 1)), ("", ()), ("1.x", ()), (None, ())])
def test_version_tuple(version, expected):
    assert _server_model.version_tuple(version) == expected


@pytest.mark.parametrize("version, directive", [("", False), ("1.22.1", False), ("1.25.0", False), ("1.25.1", True),
                                                ("1.26.3", True), ("2.0", True)])
def test_http2_directive_from_nginx_1_25_1(version, directive):
    assert build(nginx_version=version)["http"]["http2_directive"] is directive


@pytest.mark.parametrize("allow, serials", [
    (["alice"], ["0A", "0C"]),  # every valid certificate of the name
    (["bob"], ["0B"]),
    (["alice", "bob"], ["0A", "0B", "0C"]),  # ledger order
    (["ALICE"], []),  # names match exactly
    (["carol"], []),
])
def test_allowed_serials(allow, serials):
    assert _server_model.allowed_serials(CERTIFICATES, allow) == serials


def test_locations_restricted_first_then_public_each_with_its_decision():
    model = build(verify_client="optional", locations=[
        {"path": "/status", "public": True}, {"path": "/admin", "allow": ["bob"]}, {"path": "/all", "allow": ["alice", "bob"]}])
    assert model["http"]["locations"] == [
        {"path": "/admin", "public": False, "require_certificate": True, "allowed": "$mtls_allowed_1", "serials": ["0B"]},
        {"path": "/all", "public": False, "require_certificate": True, "allowed": "$mtls_allowed_2",
         "serials": ["0A", "0B", "0C"]},
        {"path": "/status", "public": True, "require_certificate": False}]
    assert model["http"]["require_certificate"] is True


def test_with_verification_on_nginx_itself_demands_the_certificate():
    model = build(locations=[{"path": "/admin", "allow": ["bob"]}])
    assert model["http"]["require_certificate"] is False
    assert model["http"]["locations"][0]["require_certificate"] is False


def test_stream_services_get_their_own_serials_and_listen_address():
    model = build(listen_address="::1", stream_services=[
        {"name": "pg", "listen_port": 5432, "upstream": "127.0.0.1:5433", "allow": ["bob"]}])
    assert model["stream"] == [{"name": "pg", "listen": "[::1]:5432", "upstream": "127.0.0.1:5433", "serials": ["0B"]}]


@pytest.mark.parametrize("profile, protocols", [("intermediate", "TLSv1.2 TLSv1.3"), ("modern", "TLSv1.3")])
def test_one_tls_block_for_every_listener(profile, protocols):
    tls = build(tls_profile=profile, verify_depth=2)["tls"]
    assert tls == {"certificate": "/etc/nginx/mtls/server.crt", "private_key": "/etc/nginx/mtls/server.key",
                   "client_ca": "/etc/nginx/mtls/ca.crt", "crl": "/etc/nginx/mtls/crl.pem", "verify_depth": 2,
                   "protocols": protocols, "ciphers": _server_model.TLS_CIPHERS, "curves": "X25519:prime256v1:secp384r1",
                   "session_timeout": "1h"}


def test_identity_maps_list_every_valid_certificate():
    assert build()["certificates"] == [{"serial": "0A", "name": "alice", "fingerprint": "aa"},
                                       {"serial": "0B", "name": "bob", "fingerprint": "bb"},
                                       {"serial": "0C", "name": "alice", "fingerprint": "cc"}]
