import io
import plistlib
import re
import uuid
import zipfile

import pytest

from ansible_collections.mtls.nginx.plugins.module_utils import _kit as K
from ansible_collections.mtls.nginx.plugins.module_utils._keys import generate_key
from ansible_collections.mtls.nginx.plugins.module_utils import _x509 as X

FILES = {"path": "alice.p12", "compat_path": "alice-compat.p12", "mobileconfig_path": "alice.mobileconfig",
         "certificate_path": "alice.crt"}


@pytest.fixture(scope="module")
def material():
    ca_key = generate_key("ec")
    ca = X.issue_ca_certificate(ca_key, X.build_name("Test CA", "Example Org", "NL"), 100)
    server_ca_key = generate_key("ec")
    server_ca = X.issue_ca_certificate(server_ca_key, X.build_name("localhost server CA"), 100)
    key = generate_key("ec")
    cert = X.issue_client_certificate((ca, ca_key), key.public_key(), X.build_name("<b>alice</b> & co"), 10)
    return cert, ca, server_ca


@pytest.mark.parametrize("digits, expected", [
    ("", ""),
    ("ab", "AB"),
    ("ab12cd", "AB:12:CD"),
    ("0f0e", "0F:0E"),
])
def test_colon_hex(digits, expected):
    assert K.colon_hex(digits) == expected


@pytest.mark.parametrize("url, expected", [
    ("https://localhost:8443/", "localhost:8443"),
    ("https://www.example.org/", "www.example.org:443"),
    ("https://www.example.org/app/", "www.example.org:443"),
    ("https://[::1]:9443/", "[::1]:9443"),
    ("https://[::1]/", "[::1]:443"),
    (None, "your-server:443"),
])
def test_host_port(url, expected):
    assert K._host_port(url) == expected


def test_fingerprint_is_what_openssl_prints(material):
    cert = material[0]
    assert K.fingerprint(cert) == K.colon_hex(X.describe(cert)["fingerprint_sha256"])
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", K.fingerprint(cert))


@pytest.mark.parametrize("with_trust", [True, False], ids=["private server CA", "public server CA"])
def test_mobileconfig_payloads(material, with_trust):
    cert, ca, server_ca = material
    trust = server_ca if with_trust else None
    data = K.mobileconfig("alice", b"bundle-bytes", "alice-compat.p12", ca, trust, "https://localhost:8443/")
    profile = plistlib.loads(data)
    assert profile["PayloadType"] == "Configuration" and profile["PayloadVersion"] == 1
    assert profile["PayloadOrganization"] == "Example Org"
    assert "https://localhost:8443/" in profile["PayloadDescription"]
    kinds = [payload["PayloadType"] for payload in profile["PayloadContent"]]
    assert kinds == ([K.PKCS12_PAYLOAD, K.ROOT_PAYLOAD] if with_trust else [K.PKCS12_PAYLOAD])
    identity = profile["PayloadContent"][0]
    assert identity["PayloadContent"] == b"bundle-bytes"
    assert identity["PayloadCertificateFileName"] == "alice-compat.p12"
    assert "Password" not in identity  # the passphrase is asked for on the device, never stored
    if with_trust:
        assert profile["PayloadContent"][1]["PayloadContent"] == X.certificate_der(server_ca)
    identifiers = [profile["PayloadIdentifier"]] + [p["PayloadIdentifier"] for p in profile["PayloadContent"]]
    uuids = [profile["PayloadUUID"]] + [p["PayloadUUID"] for p in profile["PayloadContent"]]
    assert len(set(identifiers)) == len(identifiers) and len(set(uuids)) == len(uuids)
    assert all(str(uuid.UUID(u)).upper() == u for u in uuids)
    assert identifiers[0].startswith("mtls.nginx.") and identifiers[0].endswith(".alice")


def test_mobileconfig_is_stable_per_input_and_distinct_per_user(material):
    cert, ca, server_ca = material
    first = K.mobileconfig("alice", b"x", "alice-compat.p12", ca, server_ca)
    assert K.mobileconfig("alice", b"x", "alice-compat.p12", ca, server_ca) == first
    bob = plistlib.loads(K.mobileconfig("bob", b"x", "bob-compat.p12", ca, server_ca))
    assert bob["PayloadIdentifier"] != plistlib.loads(first)["PayloadIdentifier"]
    assert bob["PayloadUUID"] != plistlib.loads(first)["PayloadUUID"]


def test_readme_shows_the_certificate_and_escapes_names(material):
    cert, ca, server_ca = material
    page = K.readme_html(K.readme_facts("alice", cert, ca, FILES, server_ca, "https://localhost:8443/")).decode()
    info = X.describe(cert)
    assert K.fingerprint(cert) in page and info["serial_number"] in page
    assert X.not_after(cert).strftime("%Y-%m-%d %H:%M UTC") in page
    assert "<b>" not in page and "&lt;b" in page and "&amp; co" in page  # the subject is text, not markup
    assert K.fingerprint(server_ca) in page
    assert "curl --cert-type P12 --cert alice.p12:PASSPHRASE --cacert ca.crt https://localhost:8443/" in page
    assert "openssl s_client -connect localhost:8443 -cert alice.p12 -pass pass:PASSPHRASE -CAfile ca.crt" in page
    for platform in ("Chrome or Edge on Windows", "Chrome on Linux", "Firefox", "Safari, iPhone, iPad and Mac",
                     "Android", "curl", "openssl"):
        assert f"<h3>{platform}</h3>" in page


@pytest.mark.parametrize("own_key", [False, True])
def test_a_renewal_says_until_when_the_previous_certificate_works(material, own_key):
    cert, ca, server_ca = material
    args = ("alice", cert, ca, FILES, server_ca, "https://localhost:8443/")
    renewed = K.readme_html(K.readme_facts(*args, own_key=own_key, previous_until="2027-01-31T09:30:00+00:00")).decode()
    assert ("Install the new kit: the certificate you have now keeps working until <code>2027-01-31 09:30 UTC</code>"
            " and stops then.") in renewed
    assert "renews" not in K.readme_html(K.readme_facts(*args, own_key=own_key)).decode()


def test_readme_says_a_bundle_carries_the_issuing_ca_only_under_a_root(material):
    cert, ca, server_ca = material
    root_key, issuing_key = generate_key("ec"), generate_key("ec")
    root = X.issue_ca_certificate(root_key, X.build_name("Test Root CA"), 100, path_length=1)
    issuing = X.issue_ca_certificate(issuing_key, X.build_name("Test Issuing CA"), 50, issuer=(root, root_key))
    under_root = X.issue_client_certificate((issuing, issuing_key), generate_key("ec").public_key(), X.build_name("alice"), 10)
    sentence = "It also holds the authority that issued your certificate"
    assert sentence in K.readme_html(K.readme_facts("alice", under_root, issuing, FILES, server_ca)).decode()
    assert sentence not in K.readme_html(K.readme_facts("alice", cert, ca, FILES, server_ca)).decode()


def test_readme_without_a_private_server_ca_mentions_no_ca_file(material):
    cert, ca, _server_ca = material
    page = K.readme_html(K.readme_facts("alice", cert, ca, FILES, None, "https://www.example.org/")).decode()
    assert "ca.crt" not in page
    assert "curl --cert-type P12 --cert alice.p12:PASSPHRASE https://www.example.org/" in page


def test_zip_is_byte_stable_and_holds_the_members():
    members = [("alice.p12", b"\x30\x82bundle"), ("README.html", b"<html>")]
    data = K.kit_zip(members)
    assert K.kit_zip(members) == data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert [(i.filename, i.compress_type, i.date_time) for i in archive.infolist()] == [
            ("alice.p12", zipfile.ZIP_STORED, K.ZIP_DATE), ("README.html", zipfile.ZIP_STORED, K.ZIP_DATE)]
        assert archive.read("alice.p12") == b"\x30\x82bundle"
        assert all(i.external_attr >> 16 == 0o600 for i in archive.infolist())


def test_the_readme_of_a_user_with_their_own_key_has_no_bundle_and_the_steps_for_their_key(material):
    cert, ca, server_ca = material
    page = K.readme_html(K.readme_facts("alice", cert, ca, FILES, server_ca, "https://www.example.org/", own_key=True)).decode()
    assert "alice.p12" not in page and "mobileconfig" not in page and "&lt;b" in page
    for step in ("curl --cert alice.crt --key YOUR.key", "pkcs11-tool --login --write-object alice.crt",
                 "security import alice.crt", "certreq -accept alice.crt"):
        assert step in page, step
