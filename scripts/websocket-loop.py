"""How a flaky test is hunted (README, Testing): open many WebSockets through an mTLS site with two
clients side by side, and count the handshakes that never answer.

websockets' threaded client (websockets.sync) starts a thread that reads the socket before the
main thread writes the HTTP Upgrade request. Over TLS both threads then drive one OpenSSL object
at once, which OpenSSL does not allow: with TLS 1.3 nginx sends its session tickets right after the
handshake, so the reader is inside SSL_read while the writer is inside SSL_write. The asyncio
client drives TLS from one thread (a memory BIO) and has no such race.

This script serves a WebSocket echo upstream on 127.0.0.1 (--upstream-port) for a site whose
upstream it is, then opens --count sockets per client, alternating, each sending one message.
Usage, against the demo given a WebSocket site (README, Testing):
  .venv/bin/python scripts/websocket-loop.py --port 8443 --name localhost \\
      --cert examples/pki/clients/alice/alice.crt --key examples/pki/clients/alice/alice.key \\
      --ca examples/pki/server/ca.crt --count 500
"""
import argparse
import asyncio
import shlex
import socket
import ssl
import subprocess
import threading
import time

from websockets.asyncio.client import connect as async_connect
from websockets.sync.client import connect as sync_connect
from websockets.sync.server import serve


def context(args):
    tls = ssl.create_default_context(cafile=args.ca)
    tls.load_cert_chain(args.cert, args.key)
    return tls


def threaded(args, tls, path):
    raw = socket.create_connection(("127.0.0.1", args.port), timeout=args.timeout)
    with sync_connect(f"wss://{args.name}:{args.port}{path}", sock=raw, ssl=tls, server_hostname=args.name,
                      open_timeout=args.timeout, ping_interval=None, proxy=None) as websocket:
        websocket.send("ping")
        return websocket.recv(timeout=args.timeout)


def asynchronous(args, tls, path):
    async def once():
        raw = socket.create_connection(("127.0.0.1", args.port), timeout=args.timeout)
        raw.setblocking(False)
        async with async_connect(f"wss://{args.name}:{args.port}{path}", sock=raw, ssl=tls,
                                 server_hostname=args.name, open_timeout=args.timeout, ping_interval=None,
                                 proxy=None) as websocket:
            await websocket.send("ping")
            return await asyncio.wait_for(websocket.recv(), args.timeout)
    return asyncio.run(once())


def echo_upstream(port):
    def handler(websocket):
        for message in websocket:
            websocket.send(message)
    server = serve(handler, "127.0.0.1", port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", required=True, help="the site's server name (SNI and Host)")
    parser.add_argument("--path", default="/")
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--ca", required=True, help="the CA the server's certificate is checked against")
    parser.add_argument("--count", type=int, default=500, help="sockets per client")
    parser.add_argument("--timeout", type=float, default=10)
    parser.add_argument("--upstream-port", type=int, default=18765, help="0: serve no echo upstream")
    parser.add_argument("--access-log", metavar="COMMAND",
                        help="a command that prints the site's access log (e.g. docker exec HOST cat LOG): each timed-out"
                             " socket is then said to have reached nginx (lost on the client) or not")
    args = parser.parse_args()
    server = echo_upstream(args.upstream_port) if args.upstream_port else None
    tls = context(args)
    counts = {client.__name__: {"echoed": 0, "timeout": 0, "other": 0} for client in (threaded, asynchronous)}
    started, lost = time.monotonic(), []
    for number in range(args.count):
        for client in (threaded, asynchronous):
            # A path of its own per socket, to find it in the access log.
            path = f"{args.path}{'&' if '?' in args.path else '?'}loop={started:.0f}-{client.__name__}-{number}"
            try:
                outcome = "echoed" if client(args, tls, path) == "ping" else "other"
            except TimeoutError:
                outcome = "timeout"
                lost.append(path)
            except Exception as failed:  # noqa: BLE001 (counted and named: a refusal is not a race)
                outcome = "other"
                print(f"{client.__name__}: {type(failed).__name__}: {failed}")
            counts[client.__name__][outcome] += 1
    for name, count in counts.items():
        print(f"{name}: {args.count} sockets, {count['echoed']} echoed, {count['timeout']} timed out,"
              f" {count['other']} other")
    print(f"{time.monotonic() - started:.1f}s")
    if lost and args.access_log:
        log = subprocess.run(shlex.split(args.access_log), capture_output=True, text=True, check=True).stdout
        for path in lost:
            answered = [line for line in log.splitlines() if f" {path} HTTP/" in line]
            print(f"timed out: {path}: " + (f"nginx answered it, the client lost the answer: {answered[-1]}" if answered
                                            else "never in nginx's access log (not received, or not answered yet)"))
    else:
        print("\n".join(f"timed out: {path}" for path in lost))
    if server:
        server.shutdown()


if __name__ == "__main__":
    main()
