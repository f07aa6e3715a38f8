"""A real browser: headless Chromium (Debian's package) with a user's kit in its NSS database.

As a user would set it up from README.html: the kit's ca.crt trusted for servers, the bundle
imported with pk12util into ~/.pki/nssdb (where Chromium on Linux keeps certificates), and an
AutoSelectCertificateForUrls policy so that the browser picks the certificate without asking.
What the browser did is read from its own net log (status line, certificates sent), the page
from its DOM, and a screenshot of each page is kept under tests/output/kit/.
"""
import json
import os
import shutil
import struct

import pytest
from cryptography import x509

from conftest import URL, run

POLICY_DIR = "/etc/chromium/policies/managed"
POLICY = os.path.join(POLICY_DIR, "mtls-nginx-kit-test.json")
WINDOW = (1024, 768)


@pytest.fixture(scope="module")
def chromium(kit):
    """The browser, with the policy a team would roll out: pick the certificate our CA issued."""
    browser = shutil.which("chromium")
    assert browser, "chromium is not installed: apt-get install chromium (.ci/run does)"
    with open(kit("alice", "NAME.crt"), "rb") as handle:
        issuer = x509.load_pem_x509_certificate(handle.read()).issuer
    issuer_cn = issuer.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    rule = {"pattern": URL.rstrip("/"), "filter": {"ISSUER": {"CN": issuer_cn}}}
    os.makedirs(POLICY_DIR, exist_ok=True)
    with open(POLICY, "w", encoding="utf-8") as handle:
        json.dump({"AutoSelectCertificateForUrls": [json.dumps(rule)]}, handle)
    try:
        yield browser
    finally:
        os.remove(POLICY)


def browse(chromium, home, kit, screenshot, user=None, passphrase=None):
    """Open the demo as a user with (or without) their certificate; what the browser saw."""
    db = home / ".pki" / "nssdb"
    db.mkdir(parents=True)
    nss = f"sql:{db}"
    assert run("certutil", "-N", "-d", nss, "--empty-password").returncode == 0
    trusted = run("certutil", "-A", "-d", nss, "-n", "server CA from the kit", "-t", "C,,", "-i", kit("alice", "ca.crt"))
    assert trusted.returncode == 0, trusted.stderr
    if user:
        imported = run("pk12util", "-d", nss, "-i", kit(user, "NAME.p12"), "-W", passphrase)
        assert imported.returncode == 0, imported.stdout + imported.stderr
    flags = ["--headless", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync",
             "--disable-component-update", f"--user-data-dir={home / 'profile'}", f"--window-size={WINDOW[0]},{WINDOW[1]}"]
    if os.geteuid() == 0:
        flags.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    env = {**os.environ, "HOME": str(home)}
    netlog = home / "netlog.json"
    shot = run(chromium, *flags, f"--log-net-log={netlog}", f"--screenshot={screenshot}", URL, env=env)
    assert shot.returncode == 0, shot.stderr[-2000:]
    dom = run(chromium, *flags, "--dump-dom", URL, env=env)
    assert dom.returncode == 0, dom.stderr[-2000:]
    return {**read_netlog(netlog), "dom": dom.stdout, "png": png_size(screenshot)}


def read_netlog(path):
    """The status line of the page and the certificates the browser sent, from Chromium's net log."""
    with open(path, encoding="utf-8") as handle:
        log = json.load(handle)
    types = log["constants"]["logEventTypes"]
    page_sources = {e["source"]["id"] for e in log["events"]
                    if e["type"] == types["URL_REQUEST_START_JOB"] and e.get("params", {}).get("url") == URL}
    statuses = [e["params"]["headers"][0] for e in log["events"]
                if e["type"] == types["HTTP_TRANSACTION_READ_RESPONSE_HEADERS"] and e["source"]["id"] in page_sources]
    sent = [e.get("params", {}).get("cert_count", 0) for e in log["events"]
            if e["type"] == types["SSL_CLIENT_CERT_PROVIDED"]]
    requested = sum(e["type"] == types["SSL_CLIENT_CERT_REQUESTED"] for e in log["events"])
    http2 = any(e["type"] == types.get("HTTP2_SESSION") for e in log["events"])
    assert statuses, "the net log holds no response for the page"
    return {"status": statuses[-1], "certificates_sent": max(sent, default=0), "requested": requested, "http2": http2}


def png_size(path):
    with open(path, "rb") as handle:
        head = handle.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def test_chromium_with_alice_certificate_gets_the_200_page(chromium, kit, passphrases, output, report, tmp_path):
    screenshot = os.path.join(output, "chromium-alice-200.png")
    seen = browse(chromium, tmp_path, kit, screenshot, "alice", passphrases["alice"])
    # Over HTTP/2 (ALPN h2) Chromium logs the status line without a reason phrase.
    assert seen["status"].split()[1] == "200" and seen["http2"], seen
    assert seen["requested"] >= 1 and seen["certificates_sent"] >= 1
    assert "<h1>You are in</h1>" in seen["dom"] and "Name: <code>alice</code>" in seen["dom"]
    assert seen["png"] == WINDOW
    report(f"chromium with alice's certificate: {seen['status']} over HTTP/2, client certificate sent"
           f" ({seen['certificates_sent']}), page 'You are in'; screenshot {screenshot}")


def test_chromium_without_a_certificate_gets_the_496_page(chromium, kit, output, report, tmp_path):
    screenshot = os.path.join(output, "chromium-no-certificate-496.png")
    seen = browse(chromium, tmp_path, kit, screenshot)
    assert seen["status"].startswith("HTTP/1.1 496")
    assert seen["requested"] >= 1 and seen["certificates_sent"] == 0
    assert "<h1>A client certificate is required</h1>" in seen["dom"]
    assert seen["png"] == WINDOW
    report(f"chromium without a certificate: {seen['status']}, no certificate sent, page"
           f" 'A client certificate is required'; screenshot {screenshot}")
