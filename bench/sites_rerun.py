"""How a full site.yml no-change rerun grows with the number of sites on one host: `make bench-site`.

Against the demo host (make demo first): converges with 1 site and with N sites (mtls_sites, each
with its own name, certificate from the server CA, an allow list and its access log), alternating
(the machine is shared and noisy), times a no-change rerun after each, and prints the medians and
their ratio. The verify step proves every site, so it is in the time too. Restores the demo after.
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
INVENTORY = os.path.join(ROOT, "examples", "inventory")
SITE = os.path.join(ROOT, "playbooks", "site.yml")


def sites(count):
    return [{"name": f"s{index:02d}", "server_name": f"s{index:02d}.demo.test",
             "locations": [{"path": "/admin", "allow": ["alice"]}]} for index in range(1, count + 1)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    timings = {1: [], args.sites: []}
    with tempfile.TemporaryDirectory() as scratch:
        for count in timings:
            with open(os.path.join(scratch, f"{count}.json"), "w", encoding="utf-8") as handle:
                # The sites' names resolve nowhere: the verify step connects to the demo's address.
                json.dump({"mtls_sites": sites(count), "mtls_verify_address": "127.0.0.1"}, handle)
        try:
            for _round in range(args.rounds):
                for count in timings:
                    extra = ["-e", f"@{os.path.join(scratch, f'{count}.json')}"]
                    timed_run(INVENTORY, SITE, *extra)  # converge this size first: it changes the server config
                    elapsed, changed = timed_run(INVENTORY, SITE, *extra)
                    if any(changed):
                        sys.exit(f"a no-change rerun with {count} sites changed something: {changed}")
                    timings[count].append(elapsed)
        finally:
            timed_run(INVENTORY, SITE)  # the demo as it was: its one implicit site
    one, many = statistics.median(timings[1]), statistics.median(timings[args.sites])
    print(f"site.yml no-change rerun against the demo host, median of {args.rounds}:")
    print(f"  1 site: {one:.2f} s   {[round(t, 2) for t in timings[1]]}")
    print(f"  {args.sites} sites: {many:.2f} s   {[round(t, 2) for t in timings[args.sites]]}")
    print(f"  ratio: {many / one:.2f}")


if __name__ == "__main__":
    main()
