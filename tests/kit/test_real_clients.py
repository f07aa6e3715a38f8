"""Each bundle of each user through the clients people use: OpenSSL 3, NSS, Java, Python, curl."""
import hashlib
import io
import os
import plistlib
import re
import zipfile

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from conftest import PKI, URL, USERS, run

BUNDLES = [(user, name) for user in USERS for name in ("NAME.p12", "NAME-compat.p12")]
BUNDLE_IDS = [name.replace("NAME", user) for user, name in BUNDLES]
GET = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"


def certificate(kit, user):
    with open(kit(user, "NAME.crt"), "rb") as handle:
        return x509.load_pem_x509_certificate(handle.read())


def two_tiers():
    """Whether the demo's PKI has a root above its client CA (make kit-check-two-tiers)."""
    return os.path.exists(os.path.join(PKI, "root", "ca.crt"))


def colon_fingerprint(cert):
    digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


@pytest.mark.parametrize("user, name", BUNDLES, ids=BUNDLE_IDS)
def test_openssl3_reads_the_bundle_without_legacy(kit, passphrases, report, user, name):
    info = run("openssl", "pkcs12", "-in", kit(user, name), "-info", "-noout", "-passin", f"pass:{passphrases[user]}")
    assert info.returncode == 0, info.stderr
    algorithms = sorted(set(re.findall(r"^(?:MAC|PKCS7 Encrypted data|Shrouded Keybag): .*$", info.stderr, re.M)))
    compat = name.endswith("-compat.p12")
    if compat:
        assert "MAC: sha1, Iteration 2048" in info.stderr
        assert "Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048" in info.stderr
        assert "PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048" in info.stderr
        assert "RC2" not in info.stderr and "rc2" not in info.stderr
    else:
        assert "MAC: sha256, Iteration 2048" in info.stderr
        assert "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256" in info.stderr
    report(f"openssl pkcs12 (no -legacy) {os.path.basename(kit(user, name))}: " + "; ".join(algorithms))


@pytest.mark.parametrize("user, name", BUNDLES, ids=BUNDLE_IDS)
def test_openssl_s_client_with_the_bundle_gets_200(kit, passphrases, report, user, name):
    # The command README.html gives, with a request typed on stdin.
    session = run("openssl", "s_client", "-quiet", "-connect", "localhost:8443", "-servername", "localhost",
                  "-cert", kit(user, name), "-pass", f"pass:{passphrases[user]}", "-CAfile", kit(user, "ca.crt"),
                  "-verify_return_error", stdin=GET)
    status = session.stdout.splitlines()[0] if session.stdout else session.stderr
    assert status == "HTTP/1.1 200 OK", session.stderr
    report(f"openssl s_client -cert {os.path.basename(kit(user, name))}: {status}")


@pytest.mark.parametrize("user, name", BUNDLES, ids=BUNDLE_IDS)
def test_nss_pk12util_imports_the_bundle(kit, passphrases, report, tmp_path, user, name):
    db = f"sql:{tmp_path}"
    assert run("certutil", "-N", "-d", db, "--empty-password").returncode == 0
    imported = run("pk12util", "-d", db, "-i", kit(user, name), "-W", passphrases[user])
    assert imported.returncode == 0 and "PKCS12 IMPORT SUCCESSFUL" in imported.stdout, imported.stdout + imported.stderr
    listing = run("certutil", "-L", "-d", db).stdout
    common_name = certificate(kit, user).subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    assert re.search(rf"^{re.escape(common_name)}\s+u,u,u$", listing, re.M), listing  # a certificate with its key
    keys = run("certutil", "-K", "-d", db)
    assert keys.returncode == 0 and common_name in keys.stdout, keys.stdout + keys.stderr
    report(f"NSS pk12util {os.path.basename(kit(user, name))}: {imported.stdout.strip()}; "
           f"certutil: {common_name!r} u,u,u with its key")


@pytest.mark.parametrize("user, name", BUNDLES, ids=BUNDLE_IDS)
def test_java_keytool_reads_the_bundle(kit, passphrases, report, user, name):
    listing = run("keytool", "-list", "-v", "-storetype", "PKCS12", "-keystore", kit(user, name),
                  "-storepass", passphrases[user])
    assert listing.returncode == 0, listing.stdout + listing.stderr
    assert "Entry type: PrivateKeyEntry" in listing.stdout
    # One tier: the user's certificate alone, the client CA stays out of every bundle (see README, "The
    # user's kit"). Two tiers: the certificate and the issuing CA that signed it, never the root.
    length = 2 if two_tiers() else 1
    assert f"Certificate chain length: {length}" in listing.stdout
    assert f"SHA256: {colon_fingerprint(certificate(kit, user))}" in listing.stdout
    java = run("java", "-version").stderr.splitlines()[0]
    report(f"Java keytool ({java}) {os.path.basename(kit(user, name))}: PrivateKeyEntry, chain length {length},"
           " fingerprint matches")


@pytest.mark.parametrize("user, name", BUNDLES, ids=BUNDLE_IDS)
def test_python_cryptography_loads_the_bundle(kit, passphrases, report, user, name):
    with open(kit(user, name), "rb") as handle:
        bundle = pkcs12.load_pkcs12(handle.read(), passphrases[user].encode())
    cert = certificate(kit, user)
    assert bundle.cert.certificate == cert
    public = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    assert bundle.key.public_key().public_bytes(*public) == cert.public_key().public_bytes(*public)
    chain = [extra.certificate for extra in bundle.additional_certs]
    if two_tiers():  # the issuing CA, which clients send
        with open(os.path.join(PKI, "ca", "ca.crt"), "rb") as handle:
            issuing = x509.load_pem_x509_certificate(handle.read())
        assert chain == [issuing] and issuing.issuer != issuing.subject  # a chain certificate, not a trust anchor
        what = f"chain {issuing.subject.rfc4514_string()} (issued by {issuing.issuer.rfc4514_string()})"
    else:
        assert chain == []  # no CA for a device to file as a trusted root
        what = "no CA certificate"
    report(f"python cryptography load_pkcs12 {os.path.basename(kit(user, name))}: key matches certificate, "
           f"{what}, friendly name {bundle.cert.friendly_name.decode()!r}")


@pytest.mark.parametrize("user, name", BUNDLES, ids=BUNDLE_IDS)
def test_curl_with_the_bundle_gets_200(kit, passphrases, report, user, name):
    # The kit's ca.crt is all curl needs to trust the server.
    curl = run("curl", "-s", "-o", os.devnull, "-w", "%{http_code}", "--cacert", kit(user, "ca.crt"),
               "--cert-type", "P12", "--cert", f"{kit(user, name)}:{passphrases[user]}", URL)
    assert curl.stdout == "200", curl.stderr
    report(f"curl --cert-type P12 {os.path.basename(kit(user, name))} --cacert ca.crt {URL}: HTTP {curl.stdout}")


def test_curl_without_a_certificate_gets_the_496_page(kit, report):
    curl = run("curl", "-s", "-w", "\n%{http_code}", "--cacert", kit("alice", "ca.crt"), URL)
    body, status = curl.stdout.rsplit("\n", 1)
    assert status == "496" and "A client certificate is required" in body
    report(f"curl without a certificate: HTTP {status}")


@pytest.mark.parametrize("user", USERS)
def test_mobileconfig_is_a_profile_with_the_identity_and_the_server_root(kit, passphrases, report, user):
    with open(kit(user, "NAME.mobileconfig"), "rb") as handle:
        profile = plistlib.load(handle)
    assert profile["PayloadType"] == "Configuration" and profile["PayloadVersion"] == 1
    payloads = {payload["PayloadType"]: payload for payload in profile["PayloadContent"]}
    assert sorted(payloads) == ["com.apple.security.pkcs12", "com.apple.security.root"]
    identity = payloads["com.apple.security.pkcs12"]
    assert "Password" not in identity
    with open(kit(user, "NAME-compat.p12"), "rb") as handle:
        assert identity["PayloadContent"] == handle.read()
    bundle = pkcs12.load_pkcs12(identity["PayloadContent"], passphrases[user].encode())
    assert bundle.cert.certificate == certificate(kit, user)
    with open(kit(user, "ca.crt"), "rb") as handle:
        root = x509.load_pem_x509_certificate(handle.read())
    assert payloads["com.apple.security.root"]["PayloadContent"] == root.public_bytes(serialization.Encoding.DER)
    for payload in [profile, *profile["PayloadContent"]]:
        assert payload["PayloadIdentifier"] and payload["PayloadUUID"] and payload["PayloadVersion"] == 1
    report(f"plistlib {os.path.basename(kit(user, 'NAME.mobileconfig'))}: {profile['PayloadIdentifier']} with "
           + ", ".join(sorted(payloads)))


@pytest.mark.parametrize("user", USERS)
def test_readme_states_what_openssl_says_about_the_certificate(kit, report, user):
    with open(kit(user, "README.html"), encoding="utf-8") as handle:
        page = handle.read()
    said = run("openssl", "x509", "-in", kit(user, "NAME.crt"), "-noout", "-fingerprint", "-sha256", "-enddate", "-serial")
    fingerprint = re.search(r"Fingerprint=(\S+)", said.stdout).group(1)
    serial = re.search(r"serial=(\S+)", said.stdout).group(1)
    assert fingerprint in page and serial in page
    end = certificate(kit, user).not_valid_after_utc.strftime("%Y-%m-%d %H:%M UTC")
    assert f"<td><code>{end}</code></td>" in page, said.stdout
    server_ca = run("openssl", "x509", "-in", kit(user, "ca.crt"), "-noout", "-fingerprint", "-sha256").stdout
    assert server_ca.split("=", 1)[1].strip() in page
    assert f'<a href="{URL}">' in page
    report(f"README.html of {user}: fingerprint {fingerprint[:23]}…, expires {end}")


@pytest.mark.parametrize("user", USERS)
def test_zip_holds_the_kit_and_never_the_key(kit, report, user):
    with zipfile.ZipFile(kit(user, "NAME.zip")) as archive:
        names = sorted(archive.namelist())
        assert names == sorted(n.replace("NAME", user) for n in (
            "NAME.crt", "NAME.p12", "NAME-compat.p12", "NAME.mobileconfig", "ca.crt", "README.html"))
        for member in names:
            with open(kit(user, member), "rb") as handle:
                assert archive.read(member) == handle.read(), member
            assert b"PRIVATE KEY" not in archive.read(member)
    report(f"zip of {user}: {', '.join(names)}")


@pytest.mark.parametrize("user", USERS)
def test_no_kit_file_holds_the_passphrase(kit, passphrases, user):
    directory = os.path.dirname(kit(user, "NAME.p12"))
    secret = passphrases[user].encode()
    for name in os.listdir(directory):
        with open(os.path.join(directory, name), "rb") as handle:
            data = handle.read()
        assert secret not in data, name
        if name.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                assert not any(secret in archive.read(member) for member in archive.namelist())
