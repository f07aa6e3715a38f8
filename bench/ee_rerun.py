"""A job's no-change site.yml run inside the execution environment next to the same run on this machine.

`make bench-ee` (after make ee): the host and PKI volume of tests/ee (an SSH-reached nginx host, the
PKI on a Docker volume), one converging job, then alternating no-change runs: ansible-runner in a
fresh container of the EE image (what an AWX job costs, container start included), and
ansible-playbook from this checkout's virtual environment with the same inventory and PKI. Prints
the medians and their ratio.
"""
import argparse
import os
import re
import runpy
import shutil
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
    job = ee["Job"]("unused", host, volume, USERS)
    with open(os.path.join(job.data, "inventory", "hosts.yml"), encoding="utf-8") as handle:
        inventory = yaml.safe_load(handle)
    shutil.rmtree(job.data)
    known_hosts, key = os.path.join(work, "known_hosts"), os.path.join(work, "ssh_key")
    with open(known_hosts, "w", encoding="utf-8") as handle:
        handle.write(host["known_hosts"])
    with open(os.open(key, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as handle:
        handle.write(host["ssh_key"])
    server = inventory["all"]["children"]["nginx_mtls_servers"]["hosts"]["ee-host"]
    server["ansible_ssh_common_args"] = f"-o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes"
    server["ansible_ssh_private_key_file"] = key
    inventory["all"]["vars"].update(ee["SECRETS"], mtls_pki_dir=volume.path)
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    host_fixture = ee["managed_host"].__wrapped__(None)
    host = next(host_fixture)
    volume = ee["Volume"]("mtls-bench-ee")
    try:
        first = ee["run_job"]("mtls-bench-ee-job", host, volume, USERS)
        assert first.succeeded, first.output[-3000:]
        command, env = on_this_machine(host, volume)

        def job():
            result = ee["run_job"]("mtls-bench-ee-job", host, volume, USERS)
            assert result.succeeded and set(result.recap.values()) == {0}, result.output[-3000:]

        def playbook():
            output = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
            assert "changed=0" in output and not re.search(r"changed=[1-9]", output), output[-3000:]

        here, inside = [], []
        for _round in range(args.rounds):
            inside.append(timed(job))
            here.append(timed(playbook))
        print(f"no-change site.yml, median of {args.rounds}: in the EE (ansible-runner, fresh container)"
              f" {statistics.median(inside):.2f} s; here (ansible-playbook) {statistics.median(here):.2f} s;"
              f" ratio {statistics.median(inside) / statistics.median(here):.2f}")
    finally:
        volume.remove()
        next(host_fixture, None)


if __name__ == "__main__":
    main()
