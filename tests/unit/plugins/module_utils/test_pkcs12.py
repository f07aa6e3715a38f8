import math
import re
import subprocess

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

from ansible_collections.mtls.nginx.plugins.module_utils import _pkcs12 as P
from ansible_collections.mtls.nginx.plugins.module_utils._common import ENCRYPTIONS
from ansible_collections.mtls.nginx.plugins.module_utils import _keys as K
from ansible_collections.mtls.nginx.plugins.module_utils import _x509 as X


@pytest.fixture(scope="module")
def material():
    ca_key = K.generate_key("ec")
    ca = X.issue_ca_certificate(ca_key, X.build_name("Test CA"), 100)
    key = K.generate_key("ec")
    cert = X.issue_client_certificate((ca, ca_key), key.public_key(), X.build_name("alice"), 10)
    return key, cert, ca


@pytest.fixture(scope="module", params=ENCRYPTIONS)
def bundle(request, material):
    key, cert, ca = material
    return request.param, P.build(key, cert, [ca], "alice", "pw", request.param)


def test_profile_is_recognised(bundle):
    encryption, data = bundle
    assert P.encryption_profile(data) == encryption


def test_round_trip(bundle, material):
    key, cert, ca = material
    loaded = pkcs12.load_pkcs12(bundle[1], b"pw")
    assert loaded.cert.certificate == cert and loaded.cert.friendly_name == b"alice"
    assert [c.certificate for c in loaded.additional_certs] == [ca]
    assert K.public_key_der(loaded.key) == K.public_key_der(key)


def test_openssl3_opens_without_legacy(bundle, tmp_path):
    encryption, data = bundle
    path = tmp_path / "b.p12"
    path.write_bytes(data)
    out = subprocess.run(["openssl", "pkcs12", "-in", str(path), "-passin", "pass:pw", "-info", "-nodes"],
                         capture_output=True, text=True, check=True)
    info = out.stderr
    assert "-----BEGIN " + "PRIVATE KEY-----" in out.stdout and out.stdout.count("BEGIN CERTIFICATE") == 2
    if encryption == "modern":
        assert "MAC: sha256" in info and "AES-256-CBC" in info and "hmacWithSHA256" in info
    else:
        assert "MAC: sha1" in info and "pbeWithSHA1And3-KeyTripleDES-CBC" in info
        assert "RC2" not in info and "AES" not in info


@pytest.mark.parametrize("change, expected", [
    ({}, None),
    ({"passphrase": "other"}, "passphrase changed or bundle unreadable"),
    ({"friendly_name": "Alice"}, "friendly name changed"),
    ({"ca_certs": []}, "CA chain changed"),
    ({"flip_encryption": True}, "encryption changed"),
])
def test_mismatch(bundle, material, change, expected):
    encryption, data = bundle
    key, cert, ca = material
    wanted = {"passphrase": "pw", "key": key, "cert": cert, "ca_certs": [ca], "friendly_name": "alice",
              "encryption": encryption}
    change = dict(change)  # the table is shared by both encryption profiles
    if change.pop("flip_encryption", False):
        wanted["encryption"] = "compatible" if encryption == "modern" else "modern"
    wanted.update(change)
    assert P.mismatch(data, **wanted) == expected


def test_mismatch_key_and_certificate(bundle, material):
    encryption, data = bundle
    key, cert, ca = material
    other_key = K.generate_key("ec")
    assert P.mismatch(data, "pw", other_key, cert, [ca], "alice", encryption) == "key changed"
    other_cert = X.issue_client_certificate((ca, other_key), key.public_key(), X.build_name("alice"), 10)
    assert P.mismatch(data, "pw", key, other_cert, [ca], "alice", encryption) == "certificate changed"


@pytest.mark.parametrize("data", [b"", b"\x30\x03\x02\x01\x03", b"\x30\x82\xff\xff", b"garbage"])
def test_encryption_profile_rejects_garbage(data):
    with pytest.raises(P.BundleError):
        P.encryption_profile(data)


def test_unencrypted_bundle_is_other(material):
    from cryptography.hazmat.primitives.serialization import NoEncryption

    key, cert, ca = material
    data = pkcs12.serialize_key_and_certificates(b"alice", key, cert, [ca], NoEncryption())
    assert P.encryption_profile(data) == "other"


def test_generated_passphrases_have_100_bits_and_read_well():
    seen = {P.generate_passphrase() for _attempt in range(2000)}
    assert len(seen) == 2000
    bits = P.PASSPHRASE_GROUPS * P.PASSPHRASE_GROUP_LENGTH * math.log2(len(set(P.PASSPHRASE_ALPHABET)))
    assert bits >= 100
    alphabet = re.escape(P.PASSPHRASE_ALPHABET)
    assert all(re.fullmatch(rf"[{alphabet}]{{5}}(-[{alphabet}]{{5}}){{3}}", value) for value in seen)
    assert not set("ilou") & set(P.PASSPHRASE_ALPHABET)
    # every symbol is used: the choice is over the whole alphabet
    assert set("".join(seen).replace("-", "")) == set(P.PASSPHRASE_ALPHABET)


@pytest.mark.parametrize("encryption, mac, bags", [
    ("modern", "MAC: sha256, Iteration 2048", "PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256"),
    ("compatible", "MAC: sha1, Iteration 2048", "pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048"),
])
def test_the_kdf_parameters_of_each_profile_as_openssl_reads_them(material, encryption, mac, bags):
    """Pinned: 2048 everywhere. cryptography computes the MAC with 2048 iterations whatever kdf_rounds
    says, and a guess is checked against the MAC, so more bag iterations would protect nothing."""
    key, cert, _ca = material
    data = P.build(key, cert, [], "alice", "pw", encryption)
    info = subprocess.run(["openssl", "pkcs12", "-in", "/dev/stdin", "-info", "-noout", "-passin", "pass:pw"],
                          input=data, capture_output=True, check=False).stderr.decode()
    assert mac in info
    assert info.count(bags) == 2, info  # the certificate bag and the key bag
