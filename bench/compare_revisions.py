"""This tree's site.yml next to another revision's, side by side: `make bench-compare BASE=rev`.

Against the demo host (make demo first), with N users in a PKI of their own: the base revision
converges it (as a team running that release would have), then no-change reruns of site.yml
(the whole run, and the control node's part alone, --limit localhost) alternate between the
base and this work tree, each tree converging its own configuration first, and every timed
rerun must change nothing. This tree's first run on what the base made is the upgrade: what it
changed is printed. Each round also times a first run of the control node's part (a
CA and N users) in a fresh PKI. Prints the medians and the ratio this tree / base; the demo
host is put back on the demo's PKI at the end.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def checkout(revision, scratch):
    """A worktree of revision with the collection link Ansible looks for (as `make link` makes)."""
    tree = os.path.join(scratch, "base")
    subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", "-f", tree, revision], check=True,
                   capture_output=True)
    link = os.path.join(tree, ".collections", "ansible_collections", "mtls")
    os.makedirs(link)
    os.symlink("../../..", os.path.join(link, "nginx"))
    return tree


def timed_run(tree, *options):
    env = {**os.environ, "ANSIBLE_CONFIG": os.path.join(tree, "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_COLLECTIONS_PATH": os.path.join(tree, ".collections"), "PYTHONPATH": os.path.join(tree, ".collections")}
    started = time.perf_counter()
    result = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i",
                             os.path.join(tree, "examples", "inventory"), *options,
                             os.path.join(tree, "playbooks", "site.yml")],
                            capture_output=True, text=True, cwd=tree, env=env, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{tree}: site.yml failed\n{result.stdout[-3000:]}")
    return elapsed, [int(n) for n in re.findall(r"changed=(\d+)", result.stdout)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the revision to compare with, e.g. the previous release")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        base = checkout(args.base, scratch)
        try:
            extra = os.path.join(scratch, "users.json")
            with open(extra, "w", encoding="utf-8") as handle:
                json.dump({"mtls_pki_dir": os.path.join(scratch, "pki"),
                           "mtls_clients": [{"name": f"user{i:05d}", "p12_passphrase": f"bench-passphrase-{i:05d}"}
                                            for i in range(args.users)]}, handle)
            # The base converges the N users' PKI and the host (replacing the demo's client CA); this
            # tree's first run on what the base made is the upgrade.
            timed_run(base, "-e", f"@{extra}", "-e", "mtls_replace_client_ca=true")
            upgrade = timed_run(ROOT, "-e", f"@{extra}")[1]
            timings = {(tree, scope): [] for tree in ("base", "this") for scope in ("site", "pki", "first")}
            for index in range(args.rounds):
                for label, tree in (("base", base), ("this", ROOT)):
                    timed_run(tree, "-e", f"@{extra}")  # this tree's own configuration first (no change when alike)
                    for scope, options in (("site", ()), ("pki", ("--limit", "localhost"))):
                        elapsed, changed = timed_run(tree, "-e", f"@{extra}", *options)
                        if any(changed):
                            sys.exit(f"a no-change rerun of {label} ({scope}) changed something: {changed}")
                        timings[(label, scope)].append(elapsed)
                    # A first run of the control node's part: a CA and N users, in a PKI of its own.
                    fresh = os.path.join(scratch, f"first-{label}-{index}")
                    elapsed, _changed = timed_run(tree, "-e", f"@{extra}", "-e", f"mtls_pki_dir={fresh}", "--limit", "localhost")
                    timings[(label, "first")].append(elapsed)
        finally:
            subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", base], check=False, capture_output=True)
            timed_run(ROOT, "-e", "mtls_replace_client_ca=true")  # the demo host back on the demo's client CA
    print(f"upgrade from {args.base}: this tree's first run on what it made changed {upgrade} (control node, host)")
    print(f"site.yml with {args.users} users, median of {args.rounds} (alternating; every timed rerun changed=0):")
    for scope, what in (("site", "no-change rerun, whole run (pki + demo host + verify)"),
                        ("pki", "no-change rerun, control node only (--limit localhost)"),
                        ("first", "first run, control node only (a CA and every user issued)")):
        old, new = (statistics.median(timings[(label, scope)]) for label in ("base", "this"))
        print(f"  {what}: base {args.base} {old:.2f} s, this tree {new:.2f} s, ratio {new / old:.3f}")


if __name__ == "__main__":
    main()
