"""nginx in front of an application: the verified identity in headers, authorization by path.

Runs after the revocation test (alphabetical order); reconfigures the server with an upstream
(a small echo application on the control node, reached over the shared host network), an /admin
path for alice only and, with optional verification, a /status path open without a certificate,
then requests it for real.
"""
import hashlib
import http.server
import json
import threading
import urllib.parse

import pytest
from conftest import client_files, converge, h2_get, https_get, mint, new_key, write_pair
from cryptography import x509
from cryptography.hazmat.primitives import serialization

UPSTREAM_PORT = 18080


class Echo(http.server.BaseHTTPRequestHandler):
    """Answers every request with the headers it received, as a JSON list of pairs."""

    def do_GET(self):  # noqa: N802 (the name http.server wants)
        body = json.dumps({"path": self.path, "headers": list(self.headers.items())}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def routed(inventory):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", UPSTREAM_PORT), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    clients = [c for c in inventory["mtls_clients"] if c["name"] in ("alice", "bob")]
    converge({"mtls_clients": clients, "mtls_upstream": f"http://127.0.0.1:{UPSTREAM_PORT}",
              "mtls_verify_client": "optional", "mtls_upstream_send_certificate": True,
              "mtls_locations": [{"path": "/admin", "allow": ["alice"]}, {"path": "/status", "public": True}]})
    yield inventory["mtls_listen_port"]
    server.shutdown()


def received(response):
    assert response.status == 200, response
    data = json.loads(response.body)
    headers = {}
    for name, value in data["headers"]:
        headers.setdefault(name.lower(), []).append(value)
    return data["path"], headers


SPOOFED = {"X-SSL-Client-Name": "bob", "X-SSL-Client-Verify": "SUCCESS", "X-SSL-Client-Serial": "01",
           "X-SSL-Client-Fingerprint": "00" * 32, "X-SSL-Client-S-DN": "CN=bob", "X-SSL-Client-Cert": "forged"}


def test_a_request_that_sends_identity_headers_is_refused(routed, pki):
    for name, value in SPOOFED.items():
        for path in ("/", "/status"):
            response = https_get(routed, *client_files(pki, "alice"), path=path, headers={name: value})
            assert response.status == 400 and "X-SSL-Client-* headers" in response.body, (name, path, response)
        # The form CGI and WSGI also read as theirs: nginx drops a header with "_" (ignore_invalid_headers) or,
        # where a team allows them (underscores_in_headers), its $http_ variable matches it and it is refused.
        response = https_get(routed, *client_files(pki, "alice"), headers={name.replace("-", "_"): value})
        assert response.status == 400 or not [header for header in received(response)[1] if "_" in header], response
    version, status, _body = h2_get(routed, *client_files(pki, "alice"), headers=SPOOFED)
    assert (version, status) == ("2", 400)


def test_upstream_gets_the_verified_identity(routed, pki):
    cert_path, key_path = client_files(pki, "alice")
    with open(cert_path, "rb") as handle:
        cert = x509.load_pem_x509_certificate(handle.read())
    _path, headers = received(https_get(routed, cert_path, key_path))
    assert headers["x-ssl-client-verify"] == ["SUCCESS"]
    assert headers["x-ssl-client-name"] == ["alice"]
    assert headers["x-ssl-client-serial"] == [format(cert.serial_number, "X")]
    assert headers["x-ssl-client-fingerprint"] == [hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()]
    assert headers["x-ssl-client-s-dn"] == [cert.subject.rfc4514_string()]
    # asked for with mtls_upstream_send_certificate: the URL-escaped PEM
    assert len(headers["x-ssl-client-cert"]) == 1
    sent = x509.load_pem_x509_certificate(urllib.parse.unquote(headers["x-ssl-client-cert"][0]).encode())
    assert sent == cert


def test_over_http2_the_upstream_gets_the_verified_identity(routed, pki):
    version, status, body = h2_get(routed, *client_files(pki, "alice"))
    assert (version, status) == ("2", 200)
    headers = {}
    for name, value in json.loads(body)["headers"]:
        headers.setdefault(name.lower(), []).append(value)
    assert headers["x-ssl-client-name"] == ["alice"] and headers["x-ssl-client-verify"] == ["SUCCESS"]


def test_authorized_client_reaches_the_restricted_path(routed, pki):
    path, headers = received(https_get(routed, *client_files(pki, "alice"), path="/admin/reports"))
    assert path == "/admin/reports" and headers["x-ssl-client-name"] == ["alice"]


def test_other_client_gets_the_403_page_on_the_restricted_path(routed, pki):
    response = https_get(routed, *client_files(pki, "bob"), path="/admin/reports")
    assert response.status == 403
    assert "Your certificate is valid, but not for this page" in response.body and "bob" in response.body


def test_other_client_still_reaches_the_rest(routed, pki):
    path, headers = received(https_get(routed, *client_files(pki, "bob"), path="/reports"))
    assert path == "/reports" and headers["x-ssl-client-name"] == ["bob"]


def test_public_path_needs_no_certificate(routed):
    path, headers = received(https_get(routed, path="/status"))
    assert path == "/status"
    assert headers["x-ssl-client-verify"] == ["NONE"]
    # no certificate: the identity headers are empty, so nginx drops them
    for name in ("x-ssl-client-name", "x-ssl-client-cert", "x-ssl-client-serial", "x-ssl-client-fingerprint",
                 "x-ssl-client-s-dn"):
        assert name not in headers, name


def test_public_path_still_refuses_a_bad_certificate(routed, our_ca, scratch):
    cert, key = mint(our_ca[0].subject, new_key())  # another CA with our CA's name
    response = https_get(routed, *write_pair(scratch, "impostor_public", cert, key), path="/status")
    assert response.status == 495, response


def test_optional_verification_still_requires_a_certificate_elsewhere(routed):
    for path in ("/", "/reports", "/admin/reports"):
        response = https_get(routed, path=path)
        assert response.status == 496 and "A client certificate is required" in response.body, (path, response)
