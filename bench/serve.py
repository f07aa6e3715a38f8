"""How fast the deployed server serves: `make bench-serve` (against the demo, make demo first).

Side by side, in alternating rounds (the machine is shared and noisy), with alice's certificate:
  (a) full mTLS handshakes per second (openssl s_time -new, one GET each),
  (b) resumed handshakes per second (s_time -reuse: session tickets),
  (c) full handshakes per second on the same nginx, certificate and TLS settings with client
      verification off (a second server block on port 8444, removed afterwards): the ceiling a
      TLS-only site would get,
  (d) requests per second over one keep-alive connection (curl, HTTP/1.1 and HTTP/2);
(a)-(c) for TLS 1.3 and TLS 1.2. Prints the medians and the ratios the serving issue targets.
Client and server share the machine's cores and s_time makes one connection at a time, so a rate
is the round trip of both sides' work; the CPU time nginx's workers spent per handshake (read from
/proc on this host, which runs the container's processes) is what the server alone needs.
A breakdown follows: TLS 1.3 server blocks that take the client-certificate work away step by step.
Not a test: a benchmark.
"""
import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKI = os.path.join(ROOT, "examples", "pki")
CONTAINER = "mtls-nginx-demo"
PORT = 8443
SITE = "/etc/nginx/conf.d/mtls-nginx.conf"
BENCH_SITE = "/etc/nginx/conf.d/zz-bench-serve.conf"
CERT, KEY = (os.path.join(PKI, "clients", "alice", f"alice.{ext}") for ext in ("crt", "key"))
CA = os.path.join(PKI, "server", "ca.crt")
VERIFY_OFF = ("ssl_verify_client on;", "ssl_verify_client off;")
NO_CRL = ("ssl_crl /etc/nginx/mtls/crl.pem;", "")
NO_TICKETS = ("ssl_session_tickets on;", "ssl_session_tickets off;")
OFF_PORT = 8444
# The demo's server block again on another port, with these changes: (port, changes, client sends a certificate).
# (c) is the first; the others, TLS 1.3 only, are the breakdown.
VARIANTS = {
    "verification off": (OFF_PORT, [VERIFY_OFF], False),
    "verification off, no tickets": (8445, [VERIFY_OFF, NO_TICKETS], False),
    "certificate requested, no chain to verify (optional_no_ca, no CA file), no tickets": (8446, [
        ("ssl_verify_client on;", "ssl_verify_client optional_no_ca;"),
        ("ssl_client_certificate /etc/nginx/mtls/ca.crt;", ""), NO_CRL, NO_TICKETS], True),
    "chain verified, no CRL, no tickets": (8447, [NO_CRL, NO_TICKETS], True),
    "chain and CRL checked, no tickets": (8448, [NO_TICKETS], True),
    "as deployed, one TLS 1.3 ticket instead of two (NumTickets 1)":
        (8449, [("ssl_session_tickets on;", "ssl_session_tickets on;\n    ssl_conf_command NumTickets 1;")], True),
}


def in_demo(*command):
    return subprocess.run(["docker", "exec", CONTAINER, *command], capture_output=True, text=True, check=True).stdout


def reload_and_wait(ports, listening):
    in_demo("nginx", "-t", "-q")
    in_demo("nginx", "-s", "reload")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:  # readiness: the new workers answer (or no longer do) on every port
        answered = [subprocess.run(["curl", "-s", "-o", "/dev/null", "--cacert", CA, f"https://localhost:{port}/"],
                                   check=False).returncode == 0 for port in ports]
        if answered == [listening] * len(ports):
            return
        time.sleep(0.2)
    sys.exit(f"nginx did not {'open' if listening else 'close'} ports {ports} after the reload")


def add_variants(variants):
    """The demo's server block again for each variant (the maps stay defined once, by the real site)."""
    site = in_demo("cat", SITE)
    server = site[site.index("\nserver {") + 1:]
    blocks = []
    for port, changes, _cert in variants.values():
        block = re.sub(r"listen (\S+):%d ssl" % PORT, r"listen \g<1>:%d ssl" % port, server)
        for old, new in changes:
            if old not in block:
                sys.exit(f"the demo's server block has no {old!r}: bench/serve.py needs updating")
            block = block.replace(old, new)
        blocks.append(block)
    subprocess.run(["docker", "exec", "-i", CONTAINER, "sh", "-c", f"cat > {BENCH_SITE}"], input="".join(blocks),
                   text=True, check=True)
    reload_and_wait([port for port, _changes, _cert in variants.values()], True)


def remove_variants(variants):
    in_demo("rm", "-f", BENCH_SITE)
    reload_and_wait([port for port, _changes, _cert in variants.values()], False)


def worker_seconds():
    """CPU seconds (user + system) nginx's worker processes have used so far."""
    ticks = 0
    for line in subprocess.run(["docker", "top", CONTAINER, "-o", "pid,args"], capture_output=True, text=True,
                               check=True).stdout.splitlines()[1:]:
        pid, args = line.split(None, 1)
        if args.startswith("nginx: worker process"):
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat(5))
    return ticks / os.sysconf("SC_CLK_TCK")


def measured(command, count):
    """Run command; its count(stdout) events per wall-clock second, and server and client CPU ms per event."""
    server, client = worker_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    elapsed = time.perf_counter() - started
    server, after = worker_seconds() - server, resource.getrusage(resource.RUSAGE_CHILDREN)
    n = count(out)
    client = after.ru_utime + after.ru_stime - client.ru_utime - client.ru_stime
    return n / elapsed, 1000 * server / n, 1000 * client / n


def handshakes(port, mode, version, certificate, seconds):
    """openssl s_time, each connection with one GET."""
    command = ["openssl", "s_time", "-connect", f"127.0.0.1:{port}", "-CAfile", CA, mode, f"-{version}",
               "-www", "/", "-time", str(seconds)]
    if certificate:
        command += ["-cert", CERT, "-key", KEY]

    def count(out):
        counts = re.findall(r"^(\d+) connections in [\d.]+ real seconds", out, re.M) or re.findall(r"(\d+) connections in", out)
        return int(counts[-1])
    return measured(command, count)


def keepalive(requests, http2):
    """Requests over one connection: curl fetches the same URL requests times."""
    command = ["curl", "-s", "--cacert", CA, "--cert", CERT, "--key", KEY, "--http2" if http2 else "--http1.1",
               "-w", "%{http_code} %{num_connects}\\n"]
    for _request in range(requests):
        command += ["-o", "/dev/null", f"https://localhost:{PORT}/"]

    def count(out):
        answers = [line.split() for line in out.splitlines()]
        if [status for status, _connects in answers] != ["200"] * requests or sum(int(n) for _s, n in answers) != 1:
            sys.exit(f"keep-alive run: not {requests} answers 200 over one connection: {sorted(set(out.splitlines()))}")
        return requests
    return measured(command, count)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=4, help="length of each s_time run")
    parser.add_argument("--requests", type=int, default=1000,
                        help="requests per keep-alive run (nginx closes a connection after 1000: keepalive_requests)")
    args = parser.parse_args()
    kinds = {}
    for version in ("tls1_3", "tls1_2"):
        kinds[f"(a) full mTLS, {version}"] = lambda v=version: handshakes(PORT, "-new", v, True, args.seconds)
        kinds[f"(b) resumed mTLS, {version}"] = lambda v=version: handshakes(PORT, "-reuse", v, True, args.seconds)
        kinds[f"(c) full, verification off, {version}"] = (
            lambda v=version: handshakes(OFF_PORT, "-new", v, False, args.seconds))
    for name, (port, _changes, cert) in list(VARIANTS.items())[1:]:
        kinds[f"breakdown: {name}, tls1_3"] = lambda p=port, c=cert: handshakes(p, "-new", "tls1_3", c, args.seconds)
    kinds["(d) requests on one keep-alive connection, HTTP/1.1"] = lambda: keepalive(args.requests, False)
    kinds["(d) requests on one connection, HTTP/2"] = lambda: keepalive(args.requests, True)
    results = {kind: [] for kind in kinds}
    add_variants(VARIANTS)
    try:
        for _round in range(args.rounds):
            for kind, measure in kinds.items():
                results[kind].append(measure())
    finally:
        remove_variants(VARIANTS)
    rate = {kind: statistics.median(r[0] for r in values) for kind, values in results.items()}
    server = {kind: statistics.median(r[1] for r in values) for kind, values in results.items()}
    client = {kind: statistics.median(r[2] for r in values) for kind, values in results.items()}
    versions = in_demo("sh", "-c", "nginx -v 2>&1; openssl version").split("\n")
    print(f"Serving the demo ({versions[0]}, {versions[1]}; nginx in a container, host network;")
    print(f"client: {subprocess.run(['openssl', 'version'], capture_output=True, text=True, check=True).stdout.strip()}),"
          f" median of {args.rounds} alternating rounds:")
    print("| measure | per second | server CPU ms each | client CPU ms each | rounds (per second) |")
    print("| --- | --- | --- | --- | --- |")
    for kind in kinds:
        print(f"| {kind} | {rate[kind]:.0f} | {server[kind]:.3f} | {client[kind]:.3f} | "
              f"{', '.join(f'{r[0]:.0f}' for r in results[kind])} |")
    print()
    print("| ratio | TLS 1.3 | TLS 1.2 | target |")
    print("| --- | --- | --- | --- |")
    full, resumed, off = ({v: f"({letter}) {name}, {v}" for v in ("tls1_3", "tls1_2")}
                          for letter, name in (("a", "full mTLS"), ("b", "resumed mTLS"), ("c", "full, verification off")))
    for label, numerator, denominator, target in (("resumed / full (mTLS)", resumed, full, ">= 2"),
                                                  ("full mTLS / verification off", full, off, ">= 0.8")):
        print(f"| {label}, per second | {rate[numerator['tls1_3']] / rate[denominator['tls1_3']]:.2f} | "
              f"{rate[numerator['tls1_2']] / rate[denominator['tls1_2']]:.2f} | {target} |")
        print(f"| {label}, server capacity (1 / server CPU) | "
              f"{server[denominator['tls1_3']] / server[numerator['tls1_3']]:.2f} | "
              f"{server[denominator['tls1_2']] / server[numerator['tls1_2']]:.2f} | |")


if __name__ == "__main__":
    main()
