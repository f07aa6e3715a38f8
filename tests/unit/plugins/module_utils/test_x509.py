import datetime
import hashlib
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from ansible_collections.mtls.nginx.plugins.module_utils import _keys as K
from ansible_collections.mtls.nginx.plugins.module_utils import _x509 as X

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)
CA_NAME = X.build_name("Test CA", "Example Org", "NL")
ALICE = X.build_name("alice", "Example Org", "NL")


@pytest.fixture(scope="module")
def ca():
    key = K.generate_key("ec")
    return X.issue_ca_certificate(key, CA_NAME, 3650, NOW), key


@pytest.fixture(scope="module")
def other_ca():
    """Another CA with the very same name: only its key differs."""
    key = K.generate_key("ec")
    return X.issue_ca_certificate(key, CA_NAME, 3650, NOW), key


@pytest.fixture(scope="module")
def alice(ca):
    ca_cert, ca_key = ca
    key = K.generate_key("ec")
    return X.issue_client_certificate((ca_cert, ca_key), key.public_key(), ALICE, 365, email="alice@example.org", now=NOW), key


@pytest.mark.parametrize("cn, org, country, expected", [
    ("alice", None, None, []),
    ("alice", "Org", "NL", []),
    ("", None, None, ["common_name must not be empty"]),
    ("   ", None, None, ["common_name must not be empty"]),
    ("x" * 65, None, None, ["common_name is 65 characters; X.509 allows at most 64"]),
    ("alice", "", None, ["organization must be 1 to 64 characters"]),
    ("alice", None, "nl", ["country must be a two-letter ISO 3166 code such as NL, got 'nl'"]),
    ("alice", None, "NLD", ["country must be a two-letter ISO 3166 code such as NL, got 'NLD'"]),
])
def test_subject_errors(cn, org, country, expected):
    assert X.subject_errors(cn, org, country) == expected


@pytest.mark.parametrize("key_type, key_size, fragment", [
    ("ec", None, None),
    ("rsa", None, None),
    ("rsa", 2048, None),
    ("ed25519", None, None),
    ("rsa", 1024, "key_size must be 2048 to 8192"),
    ("ec", 256, "key_size applies to rsa keys only"),
    ("dsa", None, "key_type must be one of ec, rsa, ed25519"),
])
def test_key_errors(key_type, key_size, fragment):
    errors = K.key_errors(key_type, key_size)
    assert (errors == []) if fragment is None else (fragment in errors[0])


@pytest.mark.parametrize("valid, renew, fragment", [
    (365, 30, None),
    (1, 0, None),
    (0, 0, "valid_days must be at least 1"),
    (-5, 0, "valid_days must be at least 1"),
    (365, -1, "renew_before_days must not be negative"),
    (30, 30, "must be smaller than valid_days"),
])
def test_validity_errors(valid, renew, fragment):
    errors = X.validity_errors(valid, renew)
    assert (errors == []) if fragment is None else (fragment in errors[0])


@pytest.mark.parametrize("email, ok", [
    (None, True), ("alice@example.org", True), ("alice", False), ("a b@example.org", False), ("a@b", False),
])
def test_email_errors(email, ok):
    assert (X.email_errors(email) == []) is ok


@pytest.mark.parametrize("key_type, size, asked_type, asked_size, ok", [
    ("ec", None, "ec", None, True),
    ("ec", None, "rsa", None, False),
    ("rsa", 2048, "rsa", 2048, True),
    ("rsa", 2048, "rsa", None, False),  # default is 3072
    ("rsa", 2048, "rsa", 3072, False),
    ("ed25519", None, "ed25519", None, True),
    ("ed25519", None, "ec", None, False),
])
def test_key_spec_mismatch(key_type, size, asked_type, asked_size, ok):
    key = K.generate_key(key_type, size)
    assert (K.key_spec_mismatch(key, asked_type, asked_size) is None) is ok


@pytest.mark.parametrize("key_type, cls", [
    ("ec", ec.EllipticCurvePrivateKey), ("rsa", rsa.RSAPrivateKey), ("ed25519", ed25519.Ed25519PrivateKey),
])
def test_generate_key_types(key_type, cls):
    assert isinstance(K.generate_key(key_type, 2048 if key_type == "rsa" else None), cls)


def test_rsa_default_size_is_3072():
    assert K.generate_key("rsa").key_size == 3072


class TestLoadPrivateKey:
    def test_round_trip_plain(self):
        key = K.generate_key("ec")
        loaded, encrypted = K.load_private_key(K.dump_private_key(key), None, "k.pem")
        assert K.public_key_der(loaded) == K.public_key_der(key) and not encrypted

    def test_round_trip_encrypted(self):
        key = K.generate_key("ec")
        data = K.dump_private_key(key, "s3cret")
        assert b"ENCRYPTED" in data
        loaded, encrypted = K.load_private_key(data, "s3cret", "k.pem")
        assert K.public_key_der(loaded) == K.public_key_der(key) and encrypted

    def test_encrypted_without_passphrase_names_the_option(self):
        data = K.dump_private_key(K.generate_key("ec"), "s3cret")
        with pytest.raises(X.PkiError, match="k.pem is encrypted; set ca_passphrase"):
            K.load_private_key(data, None, "k.pem", "ca_passphrase")

    def test_wrong_passphrase(self):
        data = K.dump_private_key(K.generate_key("ec"), "s3cret")
        with pytest.raises(X.PkiError, match="passphrase does not open k.pem"):
            K.load_private_key(data, "wrong", "k.pem")

    def test_plain_key_with_passphrase_reports_unencrypted(self):
        key, encrypted = K.load_private_key(K.dump_private_key(K.generate_key("ec")), "new", "k.pem")
        assert not encrypted

    # A PEM armour around no key (spelled in two parts so that no tracked file looks like a key).
    @pytest.mark.parametrize("data", [b"", b"garbage", b"-----BEGIN " + b"PRIVATE KEY-----\nAAAA\n-----END " + b"PRIVATE KEY-----\n"])
    def test_corrupt(self, data):
        with pytest.raises(X.PkiError, match="k.pem is not a readable PEM private key"):
            K.load_private_key(data, None, "k.pem")


def _ext(cert, cls):
    return cert.extensions.get_extension_for_class(cls)


class TestProfiles:
    def test_ca_profile(self, ca):
        cert, key = ca
        bc = _ext(cert, x509.BasicConstraints)
        assert bc.critical and bc.value.ca and bc.value.path_length == 0
        ku = _ext(cert, x509.KeyUsage)
        assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign and not ku.value.digital_signature
        assert _ext(cert, x509.SubjectKeyIdentifier).value == x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        assert cert.subject == cert.issuer == CA_NAME

    def test_client_profile(self, ca, alice):
        ca_cert = ca[0]
        cert, key = alice
        bc = _ext(cert, x509.BasicConstraints)
        assert bc.critical and not bc.value.ca
        ku = _ext(cert, x509.KeyUsage)
        assert ku.critical and ku.value.digital_signature and not ku.value.key_cert_sign
        assert list(_ext(cert, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CLIENT_AUTH]
        aki = _ext(cert, x509.AuthorityKeyIdentifier).value.key_identifier
        assert aki == _ext(ca_cert, x509.SubjectKeyIdentifier).value.digest
        assert _ext(cert, x509.SubjectAlternativeName).value.get_values_for_type(x509.RFC822Name) == ["alice@example.org"]
        assert cert.signature_hash_algorithm.name == "sha256"
        cert.verify_directly_issued_by(ca_cert)

    def test_validity_window(self, alice):
        cert = alice[0]
        assert X.not_before(cert) == NOW - X.BACKDATE
        assert X.not_after(cert) == NOW + 365 * DAY

    def test_serials_are_random_and_large(self, ca):
        ca_cert, ca_key = ca
        serials = {X.issue_client_certificate((ca_cert, ca_key), ca_key.public_key(), ALICE, 1, now=NOW).serial_number
                   for _attempt in range(20)}
        assert len(serials) == 20
        assert all(64 <= s.bit_length() < 160 and s > 0 for s in serials)

    def test_ed25519_ca_signs_without_hash(self):
        key = K.generate_key("ed25519")
        cert = X.issue_ca_certificate(key, CA_NAME, 10, NOW)
        assert cert.signature_hash_algorithm is None

    def test_server_profile_signed_by_a_ca(self, ca):
        ca_cert, ca_key = ca
        key = K.generate_key("ec")
        cert = X.issue_server_certificate(key, X.build_name("localhost"), ["localhost"], [], 30, NOW, (ca_cert, ca_key))
        cert.verify_directly_issued_by(ca_cert)
        assert _ext(cert, x509.KeyUsage).value.digital_signature and _ext(cert, x509.KeyUsage).critical
        assert _ext(cert, x509.AuthorityKeyIdentifier).value.key_identifier == \
            _ext(ca_cert, x509.SubjectKeyIdentifier).value.digest
        profile = X.server_extensions(key.public_key(), ["localhost"], [], ca_cert)
        assert X.reissue_reason(cert, key, ca_cert, X.build_name("localhost"), profile, 30, 5, NOW) is None
        assert X.reissue_reason(cert, key, cert, X.build_name("localhost"), profile, 30, 5, NOW) == "issuer changed"
        other_names = X.server_extensions(key.public_key(), ["localhost", "www"], [], ca_cert)
        assert X.reissue_reason(cert, key, ca_cert, X.build_name("localhost"), other_names, 30, 5, NOW) == "names changed"

    def test_server_profile_is_self_issued_leaf(self):
        key = K.generate_key("ec")
        cert = X.issue_server_certificate(key, X.build_name("localhost"), ["localhost"], ["127.0.0.1"], 30, NOW)
        assert not _ext(cert, x509.BasicConstraints).value.ca
        assert list(_ext(cert, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
        san = _ext(cert, x509.SubjectAlternativeName).value
        assert san.get_values_for_type(x509.DNSName) == ["localhost"]
        assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]


class TestClientReissueReason:
    def _reason(self, cert, public_key, ca_cert, subject=ALICE, email="alice@example.org", valid=365, renew=30, now=NOW):
        return X.reissue_reason(cert, public_key, ca_cert, subject, X.client_extensions(public_key, ca_cert, email),
                                valid, renew, now)

    def test_up_to_date(self, ca, alice):
        assert self._reason(alice[0], alice[1].public_key(), ca[0]) is None

    @pytest.mark.parametrize("change, expected", [
        ({"subject": X.build_name("alice", "Other Org", "NL")}, "subject changed"),
        ({"email": "alice@other.example"}, "email changed"),
        ({"email": None}, "email changed"),
        ({"valid": 90}, "validity changed"),
        ({"now": NOW + 340 * DAY}, "expiring"),
        ({"now": NOW + 400 * DAY}, "expiring"),
        ({"now": NOW - DAY}, "not yet valid"),
        ({"now": NOW + 334 * DAY}, None),
    ])
    def test_reasons(self, ca, alice, change, expected):
        assert self._reason(alice[0], alice[1].public_key(), ca[0], **change) == expected

    def test_key_changed(self, ca, alice):
        assert self._reason(alice[0], K.generate_key("ec").public_key(), ca[0]) == "key changed"

    def test_issuer_changed_for_same_named_ca(self, other_ca, alice):
        assert self._reason(alice[0], alice[1].public_key(), other_ca[0]) == "issuer changed"

    def test_profile_changed(self, ca, alice):
        ca_cert, ca_key = ca
        key = alice[1]
        odd = (x509.CertificateBuilder().subject_name(ALICE).issuer_name(CA_NAME).public_key(key.public_key())
               .serial_number(5).not_valid_before(NOW - X.BACKDATE).not_valid_after(NOW + 365 * DAY)
               .add_extension(x509.SubjectAlternativeName([x509.RFC822Name("alice@example.org")]), False)
               .sign(ca_key, K.signature_hash(ca_key)))
        assert self._reason(odd, key.public_key(), ca_cert) == "profile changed"


@pytest.mark.parametrize("offset_days, renew, expected", [
    (0, 90, None),
    (3559, 90, None),
    (3560, 90, "expiring"),  # exactly renew_before_days left: inside the window
    (4000, 90, "expiring"),
])
def test_ca_renewal_window(ca, offset_days, renew, expected):
    cert, key = ca
    assert X.ca_renewal_reason(cert, key.public_key(), 3650, renew, NOW + offset_days * DAY) == expected


def test_ca_profile_changed_for_foreign_ca(ca):
    key = ca[1]
    weak = (x509.CertificateBuilder().subject_name(CA_NAME).issuer_name(CA_NAME).public_key(key.public_key())
            .serial_number(7).not_valid_before(NOW - X.BACKDATE).not_valid_after(NOW + 3650 * DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, K.signature_hash(key)))
    assert X.ca_renewal_reason(weak, key.public_key(), 3650, 90, NOW) == "profile changed"


def test_describe(alice):
    cert = alice[0]
    info = X.describe(cert)
    assert info["subject"] == "CN=alice,O=Example Org,C=NL"
    assert int(info["serial_number"], 16) == cert.serial_number and info["serial_number"].isupper()
    assert info["not_after"] == (NOW + 365 * DAY).isoformat()
    assert set(info) == {"subject", "issuer", "serial_number", "fingerprint_sha256", "spki_sha256", "not_before",
                         "not_after"}


def test_fingerprints_are_what_openssl_computes(alice):
    """Checked against openssl itself, not against our own code."""
    cert, key = alice[0], alice[1]
    pem = X.dump_certificate(cert)
    printed = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256"], input=pem,
                             capture_output=True, check=True).stdout.decode()
    assert X.describe(cert)["fingerprint_sha256"] == printed.split("=", 1)[1].strip().replace(":", "").lower()
    spki = subprocess.run(["openssl", "pkey", "-pubout", "-outform", "DER"],
                          input=K.dump_private_key(key), capture_output=True, check=True).stdout
    assert X.describe(cert)["spki_sha256"] == hashlib.sha256(spki).hexdigest() == K.spki_sha256(key)


@pytest.mark.parametrize("permitted, dns, ips, excluded_ips", [
    (["localhost"], ["localhost"], [], True),
    (["www.example.org", "127.0.0.1"], ["www.example.org"], ["127.0.0.1/32"], False),
    (["*.example.org", "WWW.example.org", "www.example.org"], ["example.org", "www.example.org"], [], True),
    (["a.example", "::1", "10.0.0.5"], ["a.example"], ["10.0.0.5/32", "::1/128"], False),
])
def test_name_constraints_permit_only_what_is_listed(permitted, dns, ips, excluded_ips):
    constraints = X.name_constraints(permitted)
    assert [n.value for n in constraints.permitted_subtrees if isinstance(n, x509.DNSName)] == dns
    assert sorted(str(n.value) for n in constraints.permitted_subtrees if isinstance(n, x509.IPAddress)) == sorted(ips)
    assert (constraints.excluded_subtrees is not None) == excluded_ips
    if excluded_ips:
        assert sorted(str(n.value) for n in constraints.excluded_subtrees) == ["0.0.0.0/0", "::/0"]


@pytest.mark.parametrize("permitted, fragment", [
    (["bad name"], "neither a host name"),
    (["127.0.0.1"], "at least one host name"),
    (["a;b"], "neither a host name"),
])
def test_name_constraints_refuse_bad_names(permitted, fragment):
    with pytest.raises(X.PkiError, match=fragment):
        X.name_constraints(permitted)


def test_a_fenced_ca_is_critical_and_changes_are_names_changed():
    key = K.generate_key("ec")
    ca = X.issue_ca_certificate(key, X.build_name("Server CA"), 730, NOW, ["www.example.org"])
    extension = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert extension.critical
    assert X.ca_renewal_reason(ca, key.public_key(), 730, 90, NOW, ["www.example.org"]) is None
    assert X.ca_renewal_reason(ca, key.public_key(), 730, 90, NOW, ["www.example.org", "api.example.org"]) == "names changed"
    unfenced = X.issue_ca_certificate(key, X.build_name("Server CA"), 730, NOW)
    assert X.ca_renewal_reason(unfenced, key.public_key(), 730, 90, NOW, ["www.example.org"]) == "profile changed"


@pytest.mark.parametrize("dns_names, ips, verdict", [
    (["www.example.org"], [], "OK"),
    (["api.www.example.org"], ["127.0.0.1"], "OK"),
    (["evil.example.com"], [], "permitted subtree violation"),
    (["www.example.org"], ["10.1.2.3"], "excluded subtree violation"),
])
def test_openssl_enforces_the_fence(tmp_path, dns_names, ips, verdict):
    """What OpenSSL itself says of server certificates the fenced CA signs."""
    ca_key = K.generate_key("ec")
    ca = X.issue_ca_certificate(ca_key, X.build_name("Server CA"), 730, NOW,
                                ["www.example.org"] + (["127.0.0.1"] if "127.0.0.1" in ips else []))
    key = K.generate_key("ec")
    leaf = X.issue_server_certificate(key, X.build_name(dns_names[0]), dns_names, ips, 30, NOW, (ca, ca_key))
    (tmp_path / "ca.crt").write_bytes(X.dump_certificate(ca))
    (tmp_path / "leaf.crt").write_bytes(X.dump_certificate(leaf))
    result = subprocess.run(["openssl", "verify", "-attime", str(int(NOW.timestamp()) + 3600), "-CAfile",
                             str(tmp_path / "ca.crt"), str(tmp_path / "leaf.crt")],
                            capture_output=True, text=True, check=False)
    assert verdict in result.stdout + result.stderr


@pytest.mark.parametrize("ca_days, client_days, renew, later_days, ca_renewed_days, expected_days, reason", [
    (3650, 365, 30, 0, None, 365, None),  # far from the CA's end: not capped
    (100, 365, 30, 0, None, 100, None),  # capped at the CA's end, and kept on the next run
    (100, 365, 30, 80, None, 100, None),  # inside renew_before of a capped end: a new one would end there too
    (100, 60, 30, 0, None, 60, None),  # shorter than the CA's rest: not capped
    (100, 365, 30, 10, 3650, 100, "validity changed"),  # the CA was renewed: the cap moved, reissue
])
def test_a_client_certificate_never_outlives_its_ca(ca_days, client_days, renew, later_days, ca_renewed_days,
                                                    expected_days, reason):
    key = K.generate_key("ec")
    ca_cert = X.issue_ca_certificate(key, CA_NAME, ca_days, NOW)
    user = K.generate_key("ec")
    cert = X.issue_client_certificate((ca_cert, key), user.public_key(), ALICE, client_days, now=NOW)
    assert abs((X.not_after(cert) - NOW).total_seconds() - expected_days * 86400) < 2
    assert X.not_after(cert) <= X.not_after(ca_cert)
    issuer = X.issue_ca_certificate(key, CA_NAME, ca_renewed_days, NOW + later_days * DAY) if ca_renewed_days else ca_cert
    later = NOW + later_days * DAY
    assert X.reissue_reason(cert, user.public_key(), issuer, ALICE, X.client_extensions(user.public_key(), issuer, None),
                            client_days, renew, later) == reason
