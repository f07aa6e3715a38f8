"""Certificate requests of users who bring their own key: what is refused, what is ignored."""
import base64

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.mtls.nginx.plugins.module_utils import _csr as C
from ansible_collections.mtls.nginx.plugins.module_utils._common import PkiError
from ansible_collections.mtls.nginx.tests.unit.hostile import resigned


def request(key, extensions=(), subject="carol"):
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]) if subject else x509.Name([]))
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(key, algorithm).public_bytes(serialization.Encoding.PEM)


def tampered(pem):
    """The same request with one bit of its signature flipped."""
    der = bytearray(x509.load_pem_x509_csr(pem).public_bytes(serialization.Encoding.DER))
    der[-1] ^= 0x01
    body = base64.encodebytes(bytes(der)).decode()
    return f"-----BEGIN CERTIFICATE REQUEST-----\n{body}-----END CERTIFICATE REQUEST-----\n"


@pytest.mark.parametrize("make_key, ok", [
    (lambda: ec.generate_private_key(ec.SECP256R1()), True),
    (lambda: ec.generate_private_key(ec.SECP384R1()), True),
    (ed25519.Ed25519PrivateKey.generate, True),
    (lambda: rsa.generate_private_key(65537, 2048), True),
    (lambda: rsa.generate_private_key(65537, 1024), "an RSA key of 1024 bits is refused"),
    (lambda: ec.generate_private_key(ec.SECP256K1()), "an EC key on secp256k1 is refused"),
    (lambda: dsa.generate_private_key(2048), "a DSAPublicKey key is refused"),
])
def test_the_key_policy(make_key, ok):
    key = make_key()
    csr = C.load_csr(request(key), "mtls_clients[0] (carol).csr")
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if ok is True:
        assert C.csr_public_key(csr, "x").public_bytes(*spki) == key.public_key().public_bytes(*spki)
    else:
        with pytest.raises(PkiError, match="mtls_clients\\[0\\] \\(carol\\).csr: " + ok.split(" is ")[0]):
            C.csr_public_key(csr, "mtls_clients[0] (carol).csr")


def test_a_tampered_request_is_refused():
    csr = C.load_csr(tampered(request(ec.generate_private_key(ec.SECP256R1()))), "carol.csr")
    with pytest.raises(PkiError, match="carol.csr: the request's signature does not verify"):
        C.csr_public_key(csr, "carol.csr")


@pytest.mark.parametrize("pem", ["", "not a request", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"])
def test_what_is_not_a_request_is_refused(pem):
    with pytest.raises(PkiError, match="carol.csr is not a PEM certificate request"):
        C.load_csr(pem, "carol.csr")


def test_what_a_request_asks_for_is_named_to_be_ignored():
    extensions = [x509.BasicConstraints(ca=True, path_length=None),
                  x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                  x509.SubjectAlternativeName([x509.DNSName("evil.example.org"), x509.RFC822Name("x@evil.example")])]
    csr = C.load_csr(request(ec.generate_private_key(ec.SECP256R1()), extensions, "admin"), "carol.csr")
    assert C.ignored_requests(csr, "carol.csr") == [
        "subject CN=admin", "basicConstraints CA:TRUE", "extendedKeyUsage serverAuth,clientAuth",
        "subjectAltName evil.example.org,x@evil.example"]
    assert C.ignored_requests(C.load_csr(request(ec.generate_private_key(ec.SECP256R1()), subject=None), "x"), "x") == []


def test_a_signed_request_with_two_subject_alternative_names_is_refused_by_name():
    key = ec.generate_private_key(ec.SECP256R1())
    san = x509.SubjectAlternativeName([x509.DNSName("evil.example.org")])
    decoy = x509.UnrecognizedExtension(x509.ObjectIdentifier("2.5.29.99"), san.public_bytes())
    pem = resigned(request(key, [san, decoy]), key, lambda info: info.replace(b"\x06\x03\x55\x1d\x63", b"\x06\x03\x55\x1d\x11"))
    csr = C.load_csr(pem, "mtls_clients[1] (dave).csr")
    assert C.csr_public_key(csr, "x") is not None  # the signature verifies: only the extensions are wrong
    with pytest.raises(PkiError, match=r"^mtls_clients\[1\] \(dave\).csr: its subject or extensions cannot be read"
                                       r" \(Duplicate 2.5.29.17 extension found\); ask for a new request$"):
        C.checked_request(pem, "mtls_clients[1] (dave).csr")


def test_a_request_of_another_version_is_refused_by_name():
    key = ec.generate_private_key(ec.SECP256R1())
    pem = resigned(request(key), key, lambda info: info.replace(b"\x02\x01\x00", b"\x02\x01\x05", 1))
    with pytest.raises(PkiError, match=r"^dave.csr: 5 is not a valid CSR version"):
        C.checked_request(pem, "dave.csr")


@pytest.mark.parametrize("hostile, shown, in_san", [
    ("evil\x1b[2J\x1b[Hok: [localhost]", "evil\\x1b[2J\\x1b[Hok: [localhost]", True),
    ("line\r\nPLAY RECAP", "line\\r\\nPLAY RECAP", True),
    ("abc\u202etxt.exe", "abc\\u202etxt.exe", False),  # a DNS name is ASCII: only the subject can carry it
])
def test_what_a_request_asks_for_is_printed_with_control_characters_escaped(hostile, shown, in_san):
    extensions = [x509.SubjectAlternativeName([x509.DNSName(hostile)])] if in_san else []
    pem = request(ec.generate_private_key(ec.SECP256R1()), extensions, subject=hostile)
    _key, asked = C.checked_request(pem, "x")
    assert asked == [f"subject CN={shown}"] + ([f"subjectAltName {shown}"] if in_san else [])
    assert all(ch.isprintable() for line in asked for ch in line)
