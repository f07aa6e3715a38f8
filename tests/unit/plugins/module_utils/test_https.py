"""verify_server's requests against a real TLS server that asks for a client certificate."""
import http.server
import ssl
import subprocess
import threading

import pytest

from ansible_collections.mtls.nginx.plugins.module_utils import _https
from ansible_collections.mtls.nginx.plugins.module_utils._common import MtlsError

REFUSAL = "A client certificate is required"


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl."""
    d = tmp_path_factory.mktemp("tls")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", str(d / "ca.key"), "-out", str(d / "ca.crt"), "-subj", "/CN=Test CA", "-days", "2")
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1,DNS:site.test"), ("client", "extendedKeyUsage=clientAuth")):
        openssl("req", *ec, "-keyout", str(d / f"{name}.key"), "-out", str(d / f"{name}.csr"), "-subj", f"/CN={name}")
        (d / f"{name}.ext").write_text(ext + "\n")
        openssl("x509", "-req", "-in", str(d / f"{name}.csr"), "-CA", str(d / "ca.crt"), "-CAkey", str(d / "ca.key"),
                "-CAcreateserial", "-days", "2", "-extfile", str(d / f"{name}.ext"), "-out", str(d / f"{name}.crt"))
    return d


def serve(tls, anonymous_status):
    """A server like ours: no certificate gets anonymous_status with the refusal page, a certificate 200."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            status, body = (200, "hello") if self.connection.getpeercert() else (anonymous_status, REFUSAL)
            self.send_response(status)
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls / "server.crt", tls / "server.key")
    context.load_verify_locations(tls / "ca.crt")
    context.verify_mode = ssl.CERT_OPTIONAL
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def options(tls):
    return {"ca_path": str(tls / "ca.crt"), "client_cert": str(tls / "client.crt"), "client_key": str(tls / "client.key"),
            "refusal_text": REFUSAL, "attempts": 2, "delay": 0.01, "address": None}


def test_a_working_server_passes(tls, options):
    server = serve(tls, 496)
    try:
        result = _https.verify_server({**options, "url": f"https://127.0.0.1:{server.server_port}/"})
    finally:
        server.shutdown()
    assert result == {"changed": False, "refused_attempts": 1, "accepted_attempts": 1}


@pytest.mark.parametrize("anonymous, change, message", [
    (200, {}, "answered HTTP 200 after 2 attempts, expected HTTP 496"),
    (496, {"refusal_text": "the role's own page"}, "HTTP 496 without \"the role's own page\" in the page"),
    (496, {"ca_path": None}, "SSLCertVerificationError"),  # the system's CAs do not know the server's
    (496, {"url": "http://127.0.0.1/"}, "url must be an https:// URL"),
])
def test_a_failing_check_says_what_came_back(tls, options, anonymous, change, message):
    server = serve(tls, anonymous)
    try:
        with pytest.raises(MtlsError) as raised:
            _https.verify_server({**options, "url": f"https://127.0.0.1:{server.server_port}/", **change})
    finally:
        server.shutdown()
    assert message in str(raised.value)


def test_without_a_client_certificate_only_the_refusal_is_checked(tls, options):
    server = serve(tls, 496)
    try:
        result = _https.verify_server({**options, "client_cert": None, "client_key": None,
                                       "url": f"https://127.0.0.1:{server.server_port}/"})
    finally:
        server.shutdown()
    assert result == {"changed": False, "refused_attempts": 1}


def test_check_mode_sends_no_request_and_says_why():
    from ansible_collections.mtls.nginx.plugins.module_utils._backends.verify_server import ensure as verify_server
    # Port 1 refuses every connection: a request would fail the task.
    options = {"url": "https://127.0.0.1:1/", "ca_path": None, "client_cert": None, "client_key": None,
               "refusal_text": "", "attempts": 1, "delay": 0.0}
    result = verify_server(options, True, False)
    assert result == {"changed": False, "msg": "Check mode: the requests to https://127.0.0.1:1/ are not sent; what"
                      " they would prove depends on changes this run only predicted. Run without --check to verify the server."}


def test_a_site_whose_name_does_not_resolve_is_reached_at_the_address_given(tls, options):
    """address: connect there; the name still goes in SNI, the certificate check and Host (curl --resolve)."""
    server = serve(tls, 496)
    try:
        url = f"https://site.test:{server.server_port}/"
        assert _https.verify_server({**options, "url": url, "address": "127.0.0.1"})["accepted_attempts"] == 1
        with pytest.raises(MtlsError, match="site.test"):
            _https.verify_server({**options, "url": url})
    finally:
        server.shutdown()
