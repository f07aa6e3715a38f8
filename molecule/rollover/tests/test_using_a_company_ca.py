"""An issuing CA a company already runs, against a live nginx (after test_two_tiers.py).

A "company" root made here signs two issuing CAs: ours, which the inventory hands to the pki role
(mtls_ca.certificate, its key and chain, the root's CRL from an http URL served here), and the
VPN team's. The host moves to that PKI on purpose (a new mtls_pki_dir, mtls_replace_client_ca).
alice gets 200; a certificate the VPN CA made for "alice" chains to the same root and gets 495 on
the site, and a TCP service never passes it to its upstream. When the root's CRL is about to end,
the daily CRL job still works and report.yml names it.
"""
import datetime
import functools
import http.server
import json
import os
import socket
import ssl
import threading

import pytest
from conftest import shared
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from test_rollover import METRICS, metrics, on_host, pem_count, playbook, unchanged

CA_KEY_USAGE = x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                             data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                             encipher_only=False, decipher_only=False)
ROOT_NAME = "CN=Company Root CA,O=Company"


def company_ca(common_name, key, issuer=None, path_length=None):
    name = x509.Name([x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "Company"),
                      x509.NameAttribute(x509.NameOID.COMMON_NAME, common_name)])
    issuer_cert, issuer_key = issuer or (None, key)
    now = shared.utcnow()
    return (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_cert.subject if issuer_cert else name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=400))
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(CA_KEY_USAGE, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(issuer_key, hashes.SHA256()))


def root_crl(root, root_key, days):
    now = shared.utcnow()
    return (x509.CertificateRevocationListBuilder().issuer_name(root.subject)
            .last_update(now - datetime.timedelta(minutes=5)).next_update(now + datetime.timedelta(days=days))
            .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
            .sign(root_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


class Echo:
    """A TCP upstream that counts its connections and echoes a line back."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port, self.connections = self.server.getsockname()[1], 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            connection, _address = self.server.accept()
            self.connections += 1
            with connection:
                connection.sendall(connection.recv(100))


def through_service(port, cafile, cert_path, key_path):
    """What a TLS client with this certificate gets back from the TCP service ("" when closed)."""
    context = ssl.create_default_context(cafile=cafile)
    context.load_cert_chain(cert_path, key_path)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(b"ping\n")
                return tls.recv(100).decode()
    except (OSError, ssl.SSLError):
        return ""


@pytest.fixture(scope="module")
def company(inventory, port, scratch):
    directory = os.path.join(scratch, "company")
    os.makedirs(directory)
    root_key, ours_key, vpn_key = shared.new_key(), shared.new_key(), shared.new_key()
    root = company_ca("Company Root CA", root_key)
    ours = company_ca("Company mTLS CA", ours_key, (root, root_key), 0)
    vpn = company_ca("Company VPN CA", vpn_key, (root, root_key), 0)
    files = {"mtls.crt": pem(ours), "root.crt": pem(root), "root.crl": root_crl(root, root_key, 30),
             "mtls.key": ours_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.BestAvailableEncryption(b"company-key-pass"))}
    for name, data in files.items():
        with open(os.path.join(directory, name), "wb") as handle:
            handle.write(data)
    # the company publishes its root's CRL over plain HTTP, as CRL distribution points do
    publisher = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(http.server.SimpleHTTPRequestHandler, directory=directory))
    threading.Thread(target=publisher.serve_forever, daemon=True).start()
    echo = Echo()
    pki = os.path.join(scratch, "company-pki")
    users = [{"name": "alice", "p12_passphrase": "alice-molecule"}, {"name": "bob", "p12_passphrase": "bob-molecule"}]
    extra = {"mtls_pki_dir": pki, "mtls_clients": users, "mtls_ca_rollover": "none", "mtls_root_ca": {},
             "mtls_ca": {"common_name": "Company mTLS CA", "passphrase": "our-copy-pass",
                         "certificate": os.path.join(directory, "mtls.crt"), "private_key": os.path.join(directory, "mtls.key"),
                         "private_key_passphrase": "company-key-pass", "chain": os.path.join(directory, "root.crt"),
                         "chain_crls": [f"http://127.0.0.1:{publisher.server_address[1]}/root.crl"]},
             "mtls_stream_services": [{"name": "echo", "listen_port": port + 200, "upstream": f"127.0.0.1:{echo.port}",
                                       "allow": ["alice", "bob"]}]}
    try:
        seen = {"moved": shared.converge({**extra, "mtls_replace_client_ca": True}), "rerun": shared.converge(extra)}
        alice = shared.client_files(pki, "alice")
        seen["status"] = {"alice": shared.https_get(port, *alice, pki=pki).status, "none": shared.https_get(port, pki=pki).status}
        seen["pems"] = (pem_count("/etc/nginx/mtls/ca.crt"), pem_count("/etc/nginx/mtls/crl.pem"))
        seen["site"] = on_host("cat", "/etc/nginx/conf.d/mtls-nginx.conf")
        # "alice" as the VPN team's CA made her: the same root, another issuing CA
        leaf, leaf_key = shared.mint(vpn.subject, vpn_key, subject="alice")
        cert_path, key_path = shared.write_pair(scratch, "vpn-alice", leaf, leaf_key)
        with open(cert_path, "ab") as handle:
            handle.write(pem(vpn))
        seen["vpn_site"] = shared.https_get(port, cert_path, key_path, pki=pki)
        server_ca = os.path.join(pki, "server", "ca.crt")
        before = echo.connections
        seen["vpn_service"] = (through_service(port + 200, server_ca, cert_path, key_path), echo.connections - before)
        seen["alice_service"] = (through_service(port + 200, server_ca, *alice), echo.connections - before)
        # the company's root CRL two days from its end: the daily job fetches it, the report names it
        with open(os.path.join(directory, "root.crl"), "wb") as handle:
            handle.write(root_crl(root, root_key, 2))
        seen["refresh"] = playbook("refresh_crl", "-e", json.dumps(extra))
        seen["metrics"] = metrics()
        seen["report"] = playbook("report", "-e", json.dumps(extra))
        return seen
    finally:
        publisher.shutdown()


def test_the_companys_issuing_ca_is_taken_in_and_users_get_in(company):
    assert unchanged(company["rerun"]), company["rerun"]
    assert company["status"] == {"alice": 200, "none": 496}
    assert company["pems"] == (2, 2)  # our issuing CA and the company's root; a CRL of each
    assert "ssl_verify_depth 2;" in company["site"]


def test_a_certificate_of_another_issuing_ca_under_the_same_root_is_refused(company):
    assert company["vpn_site"].status == 495, company["vpn_site"]
    assert company["vpn_service"] == ("", 0)  # the upstream never saw it
    assert company["alice_service"] == ("ping\n", 1)


def test_the_roots_crl_near_its_end_is_fetched_reported_and_exported(company):
    succeeded, output = company["refresh"]
    assert succeeded, output[-3000:]
    ends = company["metrics"][("mtls_crl_next_update_timestamp_seconds", ROOT_NAME)]
    assert 1 * 86400 < ends - shared.utcnow().timestamp() <= 2 * 86400, METRICS
    succeeded, output = company["report"]
    assert not succeeded and "crls: CN=Company Root CA" in output, output[-3000:]
