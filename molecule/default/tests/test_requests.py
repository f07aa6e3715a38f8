"""Behaviour, from the control node: real HTTPS requests with and without certificates."""
import datetime
import os
import tempfile

import pytest
from conftest import http_get, https_get, utcnow
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

DAY = datetime.timedelta(days=1)


@pytest.fixture(scope="module")
def port(inventory):
    return inventory["mtls_listen_port"]


def client_files(pki, name):
    base = os.path.join(pki, "clients", name, name)
    return f"{base}.crt", f"{base}.key"


def write_pair(directory, name, cert, key):
    cert_path, key_path = os.path.join(directory, f"{name}.crt"), os.path.join(directory, f"{name}.key")
    with open(cert_path, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return cert_path, key_path


def client_certificate(issuer_name, issuer_key, not_before, not_after, subject="mallory"):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(issuer_key, hashes.SHA256()))
    return cert, key


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory() as directory:
        yield directory


@pytest.fixture(scope="module")
def our_ca(pki, inventory):
    with open(os.path.join(pki, "ca", "ca.crt"), "rb") as handle:
        cert = x509.load_pem_x509_certificate(handle.read())
    with open(os.path.join(pki, "ca", "ca.key"), "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), inventory["mtls_ca"]["passphrase"].encode())
    return cert, key


def test_no_certificate_gets_the_496_page(port):
    response = https_get(port)
    assert response.status == 496, response
    assert "A client certificate is required" in response.body


@pytest.mark.parametrize("name", ["alice", "bob"])
def test_listed_user_gets_200(port, pki, name):
    response = https_get(port, *client_files(pki, name))
    assert response.status == 200, response
    assert "Your client certificate was verified" in response.body
    assert f"CN={'Alice Example' if name == 'alice' else name}" in response.body


def test_certificate_from_another_ca_with_the_same_name_gets_the_495_page(port, our_ca, scratch):
    ca_cert, _ = our_ca
    impostor_key = ec.generate_private_key(ec.SECP256R1())
    cert, key = client_certificate(ca_cert.subject, impostor_key, utcnow() - DAY, utcnow() + DAY)
    response = https_get(port, *write_pair(scratch, "impostor", cert, key))
    assert response.status == 495, response
    assert "Your client certificate was rejected" in response.body
    assert "FAILED:" in response.body


def test_expired_certificate_from_our_ca_is_rejected(port, our_ca, scratch):
    ca_cert, ca_key = our_ca
    cert, key = client_certificate(ca_cert.subject, ca_key, utcnow() - 30 * DAY, utcnow() - DAY, subject="expired")
    response = https_get(port, *write_pair(scratch, "expired", cert, key))
    assert response.status == 495, response
    assert "certificate has expired" in response.body


def test_plain_http_to_the_tls_port_gets_the_497_page(port):
    response = http_get(port)
    assert response.status == 497, response
    assert "This port speaks HTTPS only" in response.body
