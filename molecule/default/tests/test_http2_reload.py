"""What a reload (every CRL change) does to an HTTP/2 connection that has not sent its first request.

nginx's old worker answers such an idle connection with GOAWAY (NO_ERROR, last stream 0) and
closes it: a request sent on it is never processed, and RFC 9113 section 6.8 lets the client
retry it on a new connection. curl 7.88 does not, and reports "Error in the HTTP2 framing layer"
(about one request in a thousand, under load across reloads). Shown here deterministically with
a raw HTTP/2 client: the refused request, and the same request on a new connection answered.
"""
import os
import socket
import ssl
import time

from conftest import PKI_DIR, client_files

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"  # and an empty SETTINGS
HEADERS, SETTINGS, GOAWAY, DATA = 1, 4, 7, 0


def get_request(stream):
    """A HEADERS frame (END_STREAM, END_HEADERS): GET https://localhost/, HPACK static-table indices."""
    block = b"\x82\x87\x84\x41\x09localhost"
    return len(block).to_bytes(3, "big") + bytes([HEADERS, 0x05]) + stream.to_bytes(4, "big") + block


def frames(data):
    """[(type, stream, payload)] of the complete frames in data."""
    found = []
    while len(data) >= 9 and len(data) >= 9 + int.from_bytes(data[:3], "big"):
        length = int.from_bytes(data[:3], "big")
        found.append((data[3], int.from_bytes(data[5:9], "big") & 0x7FFFFFFF, data[9:9 + length]))
        data = data[9 + length:]
    return found


class H2Connection:
    """TLS 1.3 with alice's certificate and ALPN h2, over a socket this test drives by hand."""

    def __init__(self, port):
        context = ssl.create_default_context(cafile=os.path.join(PKI_DIR, "server", "ca.crt"))
        context.load_cert_chain(*client_files(PKI_DIR, "alice"))
        context.set_alpn_protocols(["h2"])
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_hostname="localhost")
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.received = b""
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.sock.sendall(self.outgoing.read())
                self.incoming.write(self.sock.recv(65536))
        assert self.tls.selected_alpn_protocol() == "h2"

    def send(self, data):
        self.tls.write(data)
        self.sock.sendall(self.outgoing.read())

    def until(self, done):
        """Read frames until done(frame types) or the server closes the connection; the frames."""
        while not done([kind for kind, _stream, _payload in frames(self.received)]):
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.incoming.write(chunk)
            try:
                while data := self.tls.read(65536):
                    self.received += data
            except ssl.SSLWantReadError:
                continue
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                break
        return frames(self.received)

    def close(self):
        self.sock.close()


def worker_titles(host):
    return [line for line in host.check_output(
        "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done").splitlines()
        if line.startswith("nginx: worker")]


def test_a_reload_refuses_the_first_request_of_an_idle_http2_connection_and_a_retry_is_answered(host, port):
    idle = H2Connection(port)
    try:
        idle.send(PREFACE)
        idle.until(lambda kinds: SETTINGS in kinds)  # the server set the connection up; no request yet
        host.check_output("nginx -s reload")
        deadline = time.monotonic() + 10
        while not any("shutting down" in title for title in worker_titles(host)):  # readiness: the old worker exits
            assert time.monotonic() < deadline, worker_titles(host)
            time.sleep(0.05)
        idle.send(get_request(1))
        goaway = [payload for kind, _stream, payload in idle.until(lambda kinds: GOAWAY in kinds) if kind == GOAWAY]
        answered = [stream for kind, stream, _payload in frames(idle.received) if kind == HEADERS]
    finally:
        idle.close()
    assert goaway and goaway[0][:8] == bytes(8), goaway  # last stream 0, NO_ERROR: stream 1 was never processed
    assert answered == []
    retry = H2Connection(port)  # what RFC 9113 section 6.8 allows a client: the same request, a new connection
    try:
        retry.send(PREFACE + get_request(1))
        reply = retry.until(lambda kinds: DATA in kinds or GOAWAY in kinds)
    finally:
        retry.close()
    status = [payload for kind, stream, payload in reply if kind == HEADERS and stream == 1]
    assert status and status[0][:1] == b"\x88", reply  # HPACK static index 8: ":status: 200"
