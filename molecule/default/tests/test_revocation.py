"""Revocation, live: change the inventory, rerun site.yml, and the revoked are locked out at once.

Runs last in the verify step (it changes the scenario's state): carol is revoked, dave is
dropped from the inventory, erin is revoked after opening TLS sessions (TLS 1.2 and 1.3) that
she has resumed once, and then tries to resume again. alice and bob must keep working, and nginx
must have been reloaded, not restarted.
"""
import datetime
import json
import os
import socket
import ssl

import pytest
from conftest import PKI_DIR, converge, https_get, utcnow
from cryptography import x509


def client_pair(name):
    base = os.path.join(PKI_DIR, "clients", name, name)
    return f"{base}.crt", f"{base}.key"


def context_for(name, version=None):
    context = ssl.create_default_context(cafile=os.path.join(PKI_DIR, "server", "ca.crt"))
    context.load_cert_chain(*client_pair(name))
    if version is not None:
        context.minimum_version = context.maximum_version = version
    return context


VERSIONS = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}


def raw_get(port, context, session=None):
    """One GET on a fresh connection, optionally offering a saved TLS session; (status, reused, session)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        with context.wrap_socket(sock, server_hostname="localhost", session=session) as tls:
            tls.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := tls.recv(65536):
                data += chunk
            return int(data.split(b" ", 2)[1]), tls.session_reused, tls.session, data.decode("utf-8", "replace")


def nginx_master_pid(host):
    return host.file("/run/nginx.pid").content_string.strip()


@pytest.fixture(scope="module")
def revoked_world(host, inventory):
    port = inventory["mtls_listen_port"]
    clients = {c["name"]: c for c in inventory["mtls_clients"]}
    # A saved session can only be offered through the context that made it. Each is resumed once
    # before the revocation: resumption is on, and works.
    sessions = {}
    for label, version in VERSIONS.items():
        erin = context_for("erin", version)
        status, _reused, session, _body = raw_get(port, erin)
        resumed_status, resumed, _session, _body = raw_get(port, erin, session)
        sessions[label] = {"context": erin, "session": session, "before": (status, resumed_status, resumed)}
    pid_before = nginx_master_pid(host)
    serials = {name: x509.load_pem_x509_certificate(open(client_pair(name)[0], "rb").read()).serial_number
               for name in ("carol", "dave", "erin")}
    wanted = [clients["alice"], clients["bob"],
              {**clients["carol"], "state": "revoked", "revoke_reason": "key_compromise"},
              {**clients["erin"], "state": "revoked"}]  # dave is no longer listed at all
    verbose = []
    first = converge({"mtls_clients": wanted}, "-vvv", output=verbose)
    second = converge({"mtls_clients": wanted})
    return {"verbose": verbose[0], "port": port, "sessions": sessions, "pid_before": pid_before, "serials": serials,
            "first": first, "second": second}


@pytest.mark.parametrize("name", ["alice", "bob"])
def test_others_keep_working(revoked_world, name):
    response = https_get(revoked_world["port"], *client_pair(name))
    assert response.status == 200, response


@pytest.mark.parametrize("name", ["carol", "dave"])
def test_revoked_and_dropped_users_get_the_495_page(revoked_world, name):
    response = https_get(revoked_world["port"], *client_pair(name))
    assert response.status == 495, response
    assert "certificate revoked" in response.body


@pytest.mark.parametrize("version", VERSIONS)
def test_sessions_resume_before_the_revocation(revoked_world, version):
    assert revoked_world["sessions"][version]["before"] == (200, 200, True)


@pytest.mark.parametrize("version", VERSIONS)
def test_resuming_an_earlier_session_does_not_get_a_revoked_client_in(revoked_world, version):
    saved = revoked_world["sessions"][version]
    status, reused, _session, body = raw_get(revoked_world["port"], saved["context"], saved["session"])
    assert not reused, "nginx resumed a session: its certificate would not be checked against the new CRL"
    assert status == 495 and "certificate revoked" in body


def test_nginx_was_reloaded_not_restarted(host, revoked_world):
    assert nginx_master_pid(host) == revoked_world["pid_before"]


def test_rerun_after_revocation_changes_nothing(revoked_world):
    assert revoked_world["second"] and all("changed=0" in line for line in revoked_world["second"]), revoked_world["second"]
    assert any("changed=0" not in line for line in revoked_world["first"])


def test_verbose_output_holds_no_secret(revoked_world, inventory):
    """-vvv prints every module's arguments and results: passphrases and keys must not be there."""
    output = revoked_world["verbose"]
    secrets = [inventory["mtls_ca"]["passphrase"]] + [c["p12_passphrase"] for c in inventory["mtls_clients"]]
    assert "ESTABLISH" in output or "<localhost>" in output  # it really was verbose
    assert not [secret for secret in secrets if secret in output]
    assert "PRIVATE KEY" not in output


def test_deployed_crl_is_well_formed(host, revoked_world):
    with open(os.path.join(PKI_DIR, "ca", "ca.crt"), "rb") as handle:
        ca = x509.load_pem_x509_certificate(handle.read())
    deployed = host.file("/etc/nginx/mtls/crl.pem").content_string
    with open(os.path.join(PKI_DIR, "ca", "crl.pem"), encoding="ascii") as handle:
        assert deployed == handle.read()
    crl = x509.load_pem_x509_crl(deployed.encode())
    assert crl.is_signature_valid(ca.public_key())
    aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    assert aki == ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number >= 2
    assert crl.next_update_utc > utcnow() + datetime.timedelta(days=7)
    listed = {entry.serial_number for entry in crl}
    assert set(revoked_world["serials"].values()) <= listed
    with open(os.path.join(PKI_DIR, "ca", "ledger.json"), encoding="utf-8") as handle:
        revoked = {int(e["serial"], 16) for e in json.load(handle)["certificates"] if e["status"] == "revoked"}
    assert listed == revoked  # exactly what the ledger revoked (earlier tests revoke users too)
    carol = crl.get_revoked_certificate_by_serial_number(revoked_world["serials"]["carol"])
    assert carol.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.key_compromise
