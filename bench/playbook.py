"""Run ansible-playbook for a benchmark: the wall time and each host's changed count, or exit."""
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed_run(inventory, playbook, *options):
    started = time.perf_counter()
    result = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory,
                             *options, playbook], capture_output=True, text=True, cwd=ROOT, check=False,
                            env={**os.environ, "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"})
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(result.stdout[-3000:])
    return elapsed, [int(n) for n in re.findall(r"changed=(\d+)", result.stdout)]
