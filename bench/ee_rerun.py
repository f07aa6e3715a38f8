"""A job's no-change site.yml run inside the execution environment next to the same run on this machine.

`make bench-ee` (after make ee): the host and PKI volume of tests/ee (an SSH-reached nginx host, the
PKI on a Docker volume), one converging job, then alternating no-change runs: ansible-runner in a
fresh container of the EE image (what an AWX job costs, container start included), and
ansible-playbook from this checkout's virtual environment with the same inventory and PKI. Prints
the medians and their ratio.
"""
import argparse
import os
import runpy
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "ee"))
ee = runpy.run_path(os.path.join(ROOT, "tests", "ee", "conftest.py"))
USERS = [ee["user"]("alice"), ee["user"]("bob")]


def on_this_machine(host, volume):
    """The job's inventory and secrets as files here, the PKI at the volume's path: ansible-playbook's command."""
    work = tempfile.mkdtemp(prefix="mtls-bench-ee-")
    known_hosts, key = os.path.join(work, "known_hosts"), os.path.join(work, "ssh_key")
    ee["write_files"](work, {"known_hosts": host["known_hosts"], "ssh_key": host["ssh_key"].decode()})
    inventory = ee["inventory"](USERS, known_hosts, volume.path, key)
    inventory["all"]["vars"].update(ee["SECRETS"])
    path = os.path.join(work, "hosts.yml")
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(inventory, handle)
    env = {**os.environ, "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    return [os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "-i", path,
            os.path.join(ROOT, "playbooks", "site.yml")], env


def timed(run):
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def no_change(outcome):
    assert outcome.succeeded and set(outcome.recap.values()) == {0}, outcome.output[-3000:]


def compare(host, volume, rounds):
    """One converging job, then rounds of alternating no-change runs; prints the medians and their ratio."""
    first = ee["run_job"]("mtls-bench-ee-job", host, volume, USERS)
    assert first.succeeded, first.output[-3000:]
    command, env = on_this_machine(host, volume)

    def job():
        no_change(ee["run_job"]("mtls-bench-ee-job", host, volume, USERS))

    def playbook():
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        no_change(ee["Outcome"](result.returncode, result.stdout + result.stderr))

    here, inside = [], []
    for _round in range(rounds):
        inside.append(timed(job))
        here.append(timed(playbook))
    print(f"no-change site.yml, median of {rounds}: in the EE (ansible-runner, fresh container)"
          f" {statistics.median(inside):.2f} s; here (ansible-playbook) {statistics.median(here):.2f} s;"
          f" ratio {statistics.median(inside) / statistics.median(here):.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with ee["running_host"]() as host:
        volume = ee["Volume"]("mtls-bench-ee")
        try:
            compare(host, volume, args.rounds)
        finally:
            volume.remove()


if __name__ == "__main__":
    main()
