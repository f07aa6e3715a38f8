# Private to the mtls.nginx collection: not a public API, may change without notice.
"""Real HTTPS requests that prove an mTLS server works: standard library only."""
from __future__ import annotations

import http.client
import socket
import ssl
import time
import urllib.parse

from ansible_collections.mtls.nginx.plugins.module_utils._common import MtlsError

MAX_BODY = 65536


def request(url, ca_path=None, client_cert=None, client_key=None, timeout=10, address=None):
    """(status, body) of a GET of url, presenting client_cert when given; OSError/ssl.SSLError pass through.
    address: connect there instead of to the URL's host (whose name still goes in SNI, the certificate
    check and Host), as curl --resolve does."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise MtlsError(f"url must be an https:// URL, got {url!r}")
    context = ssl.create_default_context(cafile=ca_path or None)
    if client_cert:
        context.load_cert_chain(client_cert, client_key or None)
    connection = http.client.HTTPSConnection(parts.hostname, parts.port or 443, context=context, timeout=timeout)
    try:
        if address:
            raw = socket.create_connection((address, parts.port or 443), timeout=timeout)
            connection.sock = context.wrap_socket(raw, server_hostname=parts.hostname)
        connection.request("GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
        response = connection.getresponse()
        return response.status, response.read(MAX_BODY).decode("utf-8", errors="replace")
    finally:
        connection.close()


def expect(url, status, text="", attempts=10, delay=1.0, **options):
    """Request url until it answers status with text in the body (a reload reaches every worker
    within a few seconds): the number of attempts it took, or MtlsError saying what came back."""
    for attempt in range(1, attempts + 1):
        try:
            got, body = request(url, **options)
            if got == status and text in body:
                return attempt
            seen = f"HTTP {got}" + ("" if got != status else f" without {text!r} in the page")
        except (OSError, ssl.SSLError) as exc:
            seen = f"{type(exc).__name__}: {exc}"
        if attempt < attempts:
            time.sleep(delay)
    raise MtlsError(f"{url} answered {seen} after {attempts} attempts, expected HTTP {status}")


def verify_server(p):
    """No certificate: the refusal page (496); with the client's certificate: 200."""
    tls = {"ca_path": p["ca_path"], "address": p["address"]}
    result = {"changed": False, "refused_attempts": expect(p["url"], 496, p["refusal_text"], p["attempts"], p["delay"], **tls)}
    if p["client_cert"]:
        result["accepted_attempts"] = expect(p["url"], 200, "", p["attempts"], p["delay"], client_cert=p["client_cert"],
                                             client_key=p["client_key"], **tls)
    return result
