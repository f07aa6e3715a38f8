"""How a full site.yml no-change rerun grows with the number of users: `make bench-site N=200`.

Against the demo host (make demo first): converges once with N users, then times no-change
reruns of site.yml with N users and with the demo's 2 users, alternating (the machine is shared
and noisy), and prints the medians and their ratio. The N users get their own PKI directory.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile

from playbook import timed_run

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run(extra):
    # The two sizes have a PKI each, so the host switches client CA: the lost-PKI guard is told it is on purpose.
    return timed_run(os.path.join(ROOT, "examples", "inventory"), os.path.join(ROOT, "playbooks", "site.yml"),
                     "-e", "mtls_replace_client_ca=true", *extra)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        many = os.path.join(scratch, "many.json")
        with open(many, "w", encoding="utf-8") as handle:
            json.dump({"mtls_pki_dir": os.path.join(scratch, "pki"),
                       "mtls_clients": [{"name": f"user{i:05d}", "p12_passphrase": f"bench-passphrase-{i:05d}"}
                                        for i in range(args.users)]}, handle)
        few = []  # the demo inventory as it is: alice and bob
        run(["-e", f"@{many}"])  # converge N users (a new CA, N certificates, a new server config)
        timings = {"N": [], "2": []}
        for _round in range(args.rounds):
            for label, extra in (("N", ["-e", f"@{many}"]), ("2", few)):
                run(extra)  # converge this size first: switching sizes changes the server config
                elapsed, changed = run(extra)
                if any(changed):
                    sys.exit(f"a no-change rerun with {label} users changed something: {changed}")
                timings[label].append(elapsed)
    median_n, median_2 = statistics.median(timings["N"]), statistics.median(timings["2"])
    print(f"site.yml no-change rerun against the demo host, median of {args.rounds}:")
    print(f"  {args.users} users: {median_n:.2f} s   {timings['N']}")
    print(f"  2 users: {median_2:.2f} s   {timings['2']}")
    print(f"  ratio: {median_n / median_2:.2f}")


if __name__ == "__main__":
    main()
