"""Time the PKI side by side in one run: `make bench N=200`.

(1) our PKI play (CA + N users with key, certificate, bundle, CRL), first run and no-change
rerun; (2) the community.crypto way (bench/community.yml), same profile, EC P-256; (3) the
floor: the same crypto in one Python process (bench/floor.py); (4) an empty play. Prints wall
time and peak memory (largest process) for each and the ratios the performance targets use.
Everything runs on this machine in one go, so the ratios compare like with like.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run(label, command, env, results, expect_no_change=False):
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read()
    status, usage = os.wait4(process.pid, 0)[1:]
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"{label} failed ({process.returncode}):\n{output[-3000:]}")
    if expect_no_change:
        recap = re.findall(r"changed=(\d+)", output)
        if not recap or any(int(n) for n in recap):
            sys.exit(f"{label}: a rerun must change nothing, got changed={recap}\n{output[-3000:]}")
    results[label] = (elapsed, usage.ru_maxrss / 1024)
    print(f"  {label:<32} {elapsed:9.2f} s  {usage.ru_maxrss / 1024:8.1f} MiB", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--community", choices=["yes", "no", "auto"], default="auto",
                        help="run the community.crypto playbook (auto: when users <= 1000; it needs ~1.4 s per user)")
    args = parser.parse_args()
    community = args.community == "yes" or (args.community == "auto" and args.users <= 1000)

    out = os.path.join(HERE, "out", f"n{args.users}")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    bin_dir = os.path.dirname(sys.executable)
    env = {**os.environ, "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"), "PATH": f"{bin_dir}:{os.environ['PATH']}",
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    playbook = [os.path.join(bin_dir, "ansible-playbook"), "-i", "localhost,"]
    users = [{"name": f"user{i:05d}", "p12_passphrase": f"bench-passphrase-{i:05d}"} for i in range(args.users)]

    def vars_file(kind):
        path = os.path.join(out, f"{kind}-vars.yml")
        with open(path, "w", encoding="utf-8") as handle:
            yaml.safe_dump({"mtls_pki_dir": os.path.join(out, kind), "mtls_ca": {"common_name": "Bench CA"},
                            "mtls_clients": users}, handle)
        return f"@{path}"

    print(f"N = {args.users} users, EC P-256, {os.cpu_count()} cores; wall time and peak RSS of the largest process")
    results = {}
    run("empty play", playbook + [os.path.join(HERE, "empty.yml")], env, results)
    floor = [sys.executable, os.path.join(HERE, "floor.py")]
    run("floor: first (one process)", floor + ["first", os.path.join(out, "floor"), str(args.users)], env, results)
    run("floor: rerun checks", floor + ["rerun", os.path.join(out, "floor"), str(args.users)], env, results)
    ours = playbook + [os.path.join(HERE, "ours.yml"), "-e", vars_file("ours")]
    run("mtls.nginx: first run", ours, env, results)
    run("mtls.nginx: no-change rerun", ours, env, results, expect_no_change=True)
    if community:
        theirs = playbook + [os.path.join(HERE, "community.yml"), "-e", vars_file("community")]
        run("community.crypto: first run", theirs, env, results)
        run("community.crypto: no-change rerun", theirs, env, results, expect_no_change=True)

    def ratio(a, b):
        return results[a][0] / b

    empty = results["empty play"][0]
    print("\nratios (wall time)")
    print(f"  first run / (floor first + empty play)   {ratio('mtls.nginx: first run', results['floor: first (one process)'][0] + empty):6.2f}")
    print(f"  rerun / (floor rerun + empty play)       {ratio('mtls.nginx: no-change rerun', results['floor: rerun checks'][0] + empty):6.2f}")
    if community:
        print(f"  first run / community.crypto first       {ratio('mtls.nginx: first run', results['community.crypto: first run'][0]):6.3f}")
        print(f"  rerun / community.crypto rerun           {ratio('mtls.nginx: no-change rerun', results['community.crypto: no-change rerun'][0]):6.3f}")


if __name__ == "__main__":
    main()
