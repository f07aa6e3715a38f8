"""How fast the deployed server serves: `make bench-serve` (against the demo, make demo first).

Side by side, in alternating rounds (the machine is shared and noisy), with alice's certificate:
  (a) full mTLS handshakes per second (openssl s_time -new, one GET each),
  (b) resumed handshakes per second (s_time -reuse: session tickets),
  (c) full handshakes per second on the same nginx, certificate and TLS settings with client
      verification off (a second server block on port 8444, removed afterwards): the ceiling a
      TLS-only site would get,
  (d) requests per second over one keep-alive connection (curl, HTTP/1.1 and HTTP/2);
(a)-(c) for TLS 1.3 and TLS 1.2. Prints the medians and the ratios the serving issue targets.
Client and server share the machine's cores: the numbers are what both together manage.
Not a test: a benchmark.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKI = os.path.join(ROOT, "examples", "pki")
CONTAINER = "mtls-nginx-demo"
PORT, OPEN_PORT = 8443, 8444
SITE = "/etc/nginx/conf.d/mtls-nginx.conf"
OPEN_SITE = "/etc/nginx/conf.d/zz-bench-verify-off.conf"
CERT, KEY = (os.path.join(PKI, "clients", "alice", f"alice.{ext}") for ext in ("crt", "key"))
CA = os.path.join(PKI, "server", "ca.crt")


def in_demo(*command):
    return subprocess.run(["docker", "exec", CONTAINER, *command], capture_output=True, text=True, check=True).stdout


def open_server(on):
    """Add (or remove) the demo's server block again, on OPEN_PORT with ssl_verify_client off."""
    if on:
        site = in_demo("cat", SITE)
        server = site[site.index("\nserver {") + 1:]  # the maps stay defined once, by the real site
        server = re.sub(r"listen (\S+):%d ssl" % PORT, r"listen \1:%d ssl" % OPEN_PORT, server)
        server = re.sub(r"ssl_verify_client \w+;", "ssl_verify_client off;", server)
        subprocess.run(["docker", "exec", "-i", CONTAINER, "sh", "-c", f"cat > {OPEN_SITE}"], input=server, text=True,
                       check=True)
    else:
        in_demo("rm", "-f", OPEN_SITE)
    in_demo("nginx", "-t", "-q")
    in_demo("nginx", "-s", "reload")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:  # readiness: the new workers answer (or no longer do) on OPEN_PORT
        answered = subprocess.run(["curl", "-s", "-o", "/dev/null", "--cacert", CA, f"https://localhost:{OPEN_PORT}/"],
                                  check=False).returncode == 0
        if answered == on:
            return
        time.sleep(0.2)
    sys.exit(f"nginx did not {'open' if on else 'close'} port {OPEN_PORT} after the reload")


def handshakes(port, mode, version, certificate, seconds):
    """Handshakes per second (wall clock) of openssl s_time, each connection with one GET."""
    command = ["openssl", "s_time", "-connect", f"127.0.0.1:{port}", "-CAfile", CA, mode, f"-{version}",
               "-www", "/", "-time", str(seconds)]
    if certificate:
        command += ["-cert", CERT, "-key", KEY]
    started = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    elapsed = time.perf_counter() - started
    counts = re.findall(r"^(\d+) connections in [\d.]+ real seconds", out, re.M) or re.findall(r"(\d+) connections in", out)
    return int(counts[-1]) / elapsed


def keepalive(requests, http2):
    """Requests per second over one connection: curl fetches the same URL requests times."""
    command = ["curl", "-s", "--cacert", CA, "--cert", CERT, "--key", KEY, "--http2" if http2 else "--http1.1",
               "-w", "%{http_code} %{num_connects}\\n"]
    for _request in range(requests):
        command += ["-o", "/dev/null", f"https://localhost:{PORT}/"]
    started = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    elapsed = time.perf_counter() - started
    answers = [line.split() for line in out.splitlines()]
    if [status for status, _connects in answers] != ["200"] * requests or sum(int(n) for _s, n in answers) != 1:
        sys.exit(f"keep-alive run: not {requests} answers 200 over one connection: {sorted(set(out.splitlines()))}")
    return requests / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=4, help="length of each s_time run")
    parser.add_argument("--requests", type=int, default=1000,
                        help="requests per keep-alive run (nginx closes a connection after 1000: keepalive_requests)")
    args = parser.parse_args()
    kinds = {}
    for version in ("tls1_3", "tls1_2"):
        kinds[f"(a) full mTLS handshakes/s, {version}"] = lambda v=version: handshakes(PORT, "-new", v, True, args.seconds)
        kinds[f"(b) resumed mTLS handshakes/s, {version}"] = lambda v=version: handshakes(PORT, "-reuse", v, True, args.seconds)
        kinds[f"(c) full handshakes/s, verification off, {version}"] = (
            lambda v=version: handshakes(OPEN_PORT, "-new", v, False, args.seconds))
    kinds["(d) requests/s on one keep-alive connection, HTTP/1.1"] = lambda: keepalive(args.requests, False)
    kinds["(d) requests/s on one connection, HTTP/2"] = lambda: keepalive(args.requests, True)
    results = {kind: [] for kind in kinds}
    open_server(True)
    try:
        for _round in range(args.rounds):
            for kind, measure in kinds.items():
                results[kind].append(measure())
    finally:
        open_server(False)
    median = {kind: statistics.median(values) for kind, values in results.items()}
    print(f"Serving the demo (nginx in a container, host network), median of {args.rounds} alternating rounds:")
    print("| measure | per second | rounds |")
    print("| --- | --- | --- |")
    for kind, value in median.items():
        print(f"| {kind} | {value:.0f} | {', '.join(f'{v:.0f}' for v in results[kind])} |")
    print()
    print("| ratio | TLS 1.3 | TLS 1.2 | target |")
    print("| --- | --- | --- | --- |")
    ratio = {v: (median[f"(b) resumed mTLS handshakes/s, {v}"] / median[f"(a) full mTLS handshakes/s, {v}"],
                 median[f"(a) full mTLS handshakes/s, {v}"] / median[f"(c) full handshakes/s, verification off, {v}"])
             for v in ("tls1_3", "tls1_2")}
    print(f"| resumed / full (mTLS) | {ratio['tls1_3'][0]:.2f} | {ratio['tls1_2'][0]:.2f} | >= 2 |")
    print(f"| full mTLS / verification off | {ratio['tls1_3'][1]:.2f} | {ratio['tls1_2'][1]:.2f} | >= 0.8 |")


if __name__ == "__main__":
    main()
