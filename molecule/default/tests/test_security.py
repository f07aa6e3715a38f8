"""The attacker's review, live (runs last: it changes the scenario's users).

alice's key is reported stolen: she is revoked with key_compromise, then reinstated. bob rekeys
by deleting his key. Clients named after nginx map keywords get a certificate and an allow list.
Every claim is a real TLS request to nginx.
"""
import http.client
import json
import os
import ssl

import pytest
from conftest import PKI_DIR, client_files, converge, https_get, keep_copy
from cryptography import x509
from cryptography.hazmat.primitives import serialization

KEYWORDS = ["default", "include", "hostnames", "volatile"]


def ledger_entry(serial):
    with open(os.path.join(PKI_DIR, "ca", "ledger.json"), encoding="utf-8") as handle:
        return {e["serial"]: e for e in json.load(handle)["certificates"]}[serial]


def serial_of(cert_path):
    with open(cert_path, "rb") as handle:
        return format(x509.load_pem_x509_certificate(handle.read()).serial_number, "X")


def head(port, path="/"):
    """Status and headers of a request without a client certificate."""
    context = ssl.create_default_context(cafile=os.path.join(PKI_DIR, "server", "ca.crt"))
    connection = http.client.HTTPSConnection("localhost", port, context=context, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status, dict(response.getheaders())
    finally:
        connection.close()


@pytest.fixture(scope="module")
def attacked(inventory, scratch):
    port = inventory["mtls_listen_port"]
    clients = {c["name"]: c for c in inventory["mtls_clients"]}
    keyword_users = [{"name": name, "p12_passphrase": f"{name}-molecule"} for name in KEYWORDS]
    base = {"mtls_upstream": "", "mtls_verify_client": "on", "mtls_upstream_send_certificate": False,
            "mtls_locations": [{"path": "/admin", "allow": ["default"]}]}
    converge({**base, "mtls_clients": [clients["alice"], clients["bob"], *keyword_users]})
    stolen = keep_copy(scratch, "alice")
    bob_before = keep_copy(scratch, "bob")
    compromised = {**clients["alice"], "state": "revoked", "revoke_reason": "key_compromise"}
    converge({**base, "mtls_clients": [compromised, clients["bob"], *keyword_users]})
    os.unlink(client_files(PKI_DIR, "bob")[1])  # bob rekeys the README's way
    reinstated = [clients["alice"], clients["bob"], *keyword_users]
    converge({**base, "mtls_clients": reinstated})
    rerun = converge({**base, "mtls_clients": reinstated})
    return {"port": port, "stolen": stolen, "bob_before": bob_before, "rerun": rerun}


def test_reinstated_user_gets_a_new_key(attacked):
    with open(attacked["stolen"][1], "rb") as old, open(client_files(PKI_DIR, "alice")[1], "rb") as new:
        assert old.read() != new.read()
    assert https_get(attacked["port"], *client_files(PKI_DIR, "alice")).status == 200


def test_the_stolen_key_and_its_certificate_get_495(attacked):
    response = https_get(attacked["port"], *attacked["stolen"])
    assert response.status == 495 and "certificate revoked" in response.body, response


def test_a_superseded_certificate_gets_495_after_its_replacement(attacked):
    response = https_get(attacked["port"], *attacked["bob_before"])
    assert response.status == 495 and "certificate revoked" in response.body, response
    assert ledger_entry(serial_of(attacked["bob_before"][0]))["reason"] == "superseded"
    assert https_get(attacked["port"], *client_files(PKI_DIR, "bob")).status == 200


@pytest.mark.parametrize("name", KEYWORDS)
def test_map_keywords_are_ordinary_names(attacked, name):
    assert https_get(attacked["port"], *client_files(PKI_DIR, name)).status == 200
    admin = https_get(attacked["port"], *client_files(PKI_DIR, name), path="/admin")
    assert admin.status == (404 if name == "default" else 403), admin  # only "default" is allowed in


def test_the_496_page_keeps_hsts_and_hides_the_version(attacked):
    status, headers = head(attacked["port"])
    assert status == 496
    assert headers.get("Strict-Transport-Security") == "max-age=63072000"
    assert headers.get("Server") == "nginx"


def test_the_lifecycle_converges(attacked):
    assert attacked["rerun"] and all("changed=0" in line for line in attacked["rerun"]), attacked["rerun"]


def test_the_root_users_install_is_fenced_short_lived_and_its_key_encrypted(inventory):
    with open(os.path.join(PKI_DIR, "server", "ca.crt"), "rb") as handle:
        ca = x509.load_pem_x509_certificate(handle.read())
    constraints = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical
    assert sorted(str(n.value) for n in constraints.value.permitted_subtrees) == ["127.0.0.1/32", "localhost"]
    life = ca.not_valid_after_utc - ca.not_valid_before_utc
    assert life.days <= 731
    with open(os.path.join(PKI_DIR, "server", "ca.key"), "rb") as handle:
        key = handle.read()
    assert b"ENCRYPTED PRIVATE KEY" in key
    serialization.load_pem_private_key(key, inventory["mtls_server_ca_passphrase"].encode())
