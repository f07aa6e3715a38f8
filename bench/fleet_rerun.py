"""How a no-change site.yml rerun grows with the fleet: `make bench-site HOSTS="1 4 8"`.

Starts as many target containers as the largest size (host network, one port each), converges
site.yml once for all of them, then times, alternating in rounds (the machine is shared and
noisy), a no-change rerun limited to the first n hosts and an empty play with fact gathering to
the same hosts; prints the medians and the ratios the fleet issue targets. Removes the
containers at the end. Not a test: a benchmark.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

from playbook import timed_run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGE = os.environ.get("MTLS_TARGET_IMAGE", "mtls-nginx-target:bookworm")
FIRST_PORT = 12443


def container(index):
    return f"mtls-bench-host{index}"


def inventory(scratch, count):
    hosts = {container(i): {"ansible_connection": "community.docker.docker", "ansible_python_interpreter": "/usr/bin/python3",
                            "ansible_become": False, "mtls_server_name": f"host{i}.bench.mtls.test",
                            "mtls_listen_port": FIRST_PORT + i, "mtls_verify_url": f"https://127.0.0.1:{FIRST_PORT + i}/"}
             for i in range(count)}
    return {"all": {
        "hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}},
        "vars": {"mtls_pki_dir": os.path.join(scratch, "pki"), "mtls_ca": {"common_name": "mtls.nginx bench CA"},
                 "mtls_clients": [{"name": "alice", "p12_passphrase": "bench-alice-passphrase"},
                                  {"name": "bob", "p12_passphrase": "bench-bob-passphrase"}],
                 "mtls_server_ip_addresses": ["127.0.0.1"], "mtls_listen_address": "127.0.0.1"},
        "children": {"nginx_mtls_servers": {"hosts": hosts}}}}


def play(inventory_path, playbook, limit):
    return timed_run(inventory_path, playbook, "--limit", limit)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", default="1 4 8", help="fleet sizes, e.g. '1 4 8'")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sizes = sorted({int(n) for n in args.hosts.replace(",", " ").split()})
    count = sizes[-1]
    for i in range(count):
        subprocess.run(["docker", "rm", "-f", container(i)], capture_output=True, check=False)
        subprocess.run(["docker", "run", "-d", "--name", container(i), "--network", "host", IMAGE, "sleep", "infinity"],
                       capture_output=True, check=True)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            inventory_path = os.path.join(scratch, "hosts.json")
            with open(inventory_path, "w", encoding="utf-8") as handle:
                json.dump(inventory(scratch, count), handle)
            empty = os.path.join(scratch, "empty.yml")
            with open(empty, "w", encoding="utf-8") as handle:
                handle.write("- name: Empty play with facts\n  hosts: nginx_mtls_servers\n  gather_facts: true\n  tasks: []\n")
            site = os.path.join(ROOT, "playbooks", "site.yml")
            play(inventory_path, site, "all")  # converge every host once
            timings = {(kind, n): [] for n in sizes for kind in ("rerun", "empty")}
            for _round in range(args.rounds):
                for n in sizes:
                    limit = ",".join(["localhost"] + [container(i) for i in range(n)])
                    elapsed, changed = play(inventory_path, site, limit)
                    if any(changed):
                        sys.exit(f"a no-change rerun with {n} hosts changed something: {changed}")
                    timings[("rerun", n)].append(elapsed)
                    timings[("empty", n)].append(play(inventory_path, empty, limit)[0])
    finally:
        for i in range(count):
            subprocess.run(["docker", "rm", "-f", container(i)], capture_output=True, check=False)
    median = {key: statistics.median(values) for key, values in timings.items()}
    print(f"site.yml no-change rerun vs an empty play with facts, same hosts, median of {args.rounds} rounds:")
    print("| hosts | no-change rerun | empty play with facts | rerun / empty | rerun / rerun with 1 host |")
    print("| --- | --- | --- | --- | --- |")
    for n in sizes:
        print(f"| {n} | {median[('rerun', n)]:.2f} s | {median[('empty', n)]:.2f} s | "
              f"{median[('rerun', n)] / median[('empty', n)]:.2f} | {median[('rerun', n)] / median[('rerun', sizes[0])]:.2f} |")


if __name__ == "__main__":
    main()
