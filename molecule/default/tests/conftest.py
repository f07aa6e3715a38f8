"""What the scenario configured (its merged molecule.yml) and a small HTTPS client."""
import base64
import datetime
import http.client
import ipaddress
import json
import os
import re
import shutil
import socket
import ssl
import subprocess

import tempfile

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

PROJECT_DIR = os.environ["MOLECULE_PROJECT_DIRECTORY"]
PKI_DIR = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "pki")


def scenario_vars():
    # MOLECULE_FILE is the scenario's configuration merged with .config/molecule/config.yml.
    with open(os.environ["MOLECULE_FILE"], encoding="utf-8") as handle:
        return yaml.safe_load(handle)["provisioner"]["inventory"]["group_vars"]["all"]


@pytest.fixture(scope="session")
def inventory():
    return scenario_vars()


@pytest.fixture(scope="session")
def pki():
    return PKI_DIR


def converge(extra_vars, *options, expect_success=True, output=None):
    """Rerun the product's playbook with extra variables; returns the PLAY RECAP lines.

    output, a list, receives the whole stdout (for checks of what a run prints)."""
    extra = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "test-vars.json")
    with open(extra, "w", encoding="utf-8") as handle:
        json.dump(extra_vars, handle)
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": os.path.join(PROJECT_DIR, ".collections"),
           "ANSIBLE_CONFIG": os.path.join(PROJECT_DIR, "ansible.cfg"), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    result = subprocess.run(
        ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "-e", f"@{extra}", *options,
         os.path.join(PROJECT_DIR, "molecule", "default", "converge.yml")],
        capture_output=True, text=True, env=env, cwd=PROJECT_DIR, check=False)
    assert (result.returncode == 0) is expect_success, result.stdout[-4000:] + result.stderr[-2000:]
    plain = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    if output is not None:
        output.append(plain + result.stderr)
    return [line for line in plain.splitlines() if re.search(r"\s:\s+ok=\d+", line)]


class Response:
    def __init__(self, status, body):
        self.status, self.body = status, body

    def __repr__(self):
        return f"<HTTP {self.status}: {self.body[:120]!r}>"


def https_get(port, cert=None, key=None, host="localhost", path="/", headers=None, pki=PKI_DIR):
    """GET over TLS, trusting the server CA of the pki role's PKI in pki."""
    context = ssl.create_default_context(cafile=os.path.join(pki, "server", "ca.crt"))
    if cert:
        context.load_cert_chain(cert, key)
    connection = http.client.HTTPSConnection(host, port, context=context, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return Response(response.status, response.read().decode("utf-8", "replace"))
    finally:
        connection.close()


def h2_get(port, cert, key, path="/", headers=None):
    """GET with curl over HTTP/2 (ALPN h2): (HTTP version curl used, status, body)."""
    command = ["curl", "-sS", "--http2", "--cacert", os.path.join(PKI_DIR, "server", "ca.crt"), "--cert", cert, "--key", key,
               "-w", "\n%{http_version} %{http_code}", f"https://localhost:{port}{path}"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    body, _newline, last = out.rpartition("\n")
    version, status = last.split()
    return version, int(status), body


def http_get(port, host="127.0.0.1", path="/"):
    """Plain HTTP to the TLS port."""
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return Response(response.status, response.read().decode("utf-8", "replace"))
    finally:
        connection.close()


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def port_open(port):
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# ---------------------------------------------------------------------------- certificates made by the tests

def client_files(pki, name):
    base = os.path.join(pki, "clients", name, name)
    return f"{base}.crt", f"{base}.key"


def keep_copy(scratch, name, label="old"):
    """A user's current certificate and key, as a device (or a thief, or an old laptop) keeps them."""
    kept = []
    for path in client_files(PKI_DIR, name):
        kept.append(os.path.join(scratch, f"{label}-{os.path.basename(path)}"))
        shutil.copy(path, kept[-1])
    return tuple(kept)


@pytest.fixture(scope="module")
def port(inventory):
    return inventory["mtls_listen_port"]


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory() as directory:
        yield directory


@pytest.fixture(scope="module")
def our_ca(pki, inventory):
    """The scenario's CA certificate and key, read on the control node."""
    with open(os.path.join(pki, "ca", "ca.crt"), "rb") as handle:
        cert = x509.load_pem_x509_certificate(handle.read())
    with open(os.path.join(pki, "ca", "ca.key"), "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), inventory["mtls_ca"]["passphrase"].encode())
    return cert, key


def new_key():
    return ec.generate_private_key(ec.SECP256R1())


def mint(issuer_name, issuer_key, subject="mallory", key=None, not_before=None, not_after=None,
         ca=False, eku=(ExtendedKeyUsageOID.CLIENT_AUTH,), aki_from=None, extra=()):
    """A certificate signed by issuer_key; each argument bends one rule nginx must enforce."""
    key = key or new_key()
    now = utcnow()
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, subject)]))
               .issuer_name(issuer_name).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before or now - datetime.timedelta(hours=1))
               .not_valid_after(not_after or now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if aki_from is not None:
        builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(aki_from), critical=False)
    for extension, critical in extra:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(issuer_key, hashes.SHA256()), key


def server_ca_and_certificate(common_name, names):
    """A team's own CA (valid 30 days) and, from it, a server certificate for names (DNS names or IP
    addresses): ((ca, ca_key), (certificate, key))."""
    ca_key = new_key()
    ca_name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, common_name)])
    ca, _key = mint(ca_name, ca_key, subject=common_name, key=ca_key, ca=True, eku=(),
                    not_after=utcnow() + datetime.timedelta(days=30))
    return (ca, ca_key), server_certificate((ca, ca_key), names)


def server_certificate(ca_pair, names):
    """A server certificate from ca_pair for names (DNS names or IP addresses), named after the first."""
    ca, ca_key = ca_pair
    alternative = []
    for name in names:
        try:
            alternative.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternative.append(x509.DNSName(name))
    return mint(ca.subject, ca_key, subject=names[0], eku=(ExtendedKeyUsageOID.SERVER_AUTH,),
                extra=[(x509.SubjectAlternativeName(alternative), False)])


def write_pair(directory, name, cert, key, cert_der=None):
    """Write a certificate (or raw DER, to send a damaged one) and its key as PEM files."""
    cert_path, key_path = os.path.join(directory, f"{name}.crt"), os.path.join(directory, f"{name}.key")
    with open(cert_path, "wb") as handle:
        if cert_der is not None:
            body = base64.encodebytes(cert_der).replace(b"\n", b"")
            lines = [body[i:i + 64] for i in range(0, len(body), 64)]
            handle.write(b"-----BEGIN CERTIFICATE-----\n" + b"\n".join(lines) + b"\n-----END CERTIFICATE-----\n")
        else:
            handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return cert_path, key_path
