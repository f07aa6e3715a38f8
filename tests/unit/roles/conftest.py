"""The pki role for real on this machine: ansible-playbook with the role alone on localhost (no
container), in a fresh PKI directory per test."""
import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *[os.pardir] * 3))
PLAYBOOK = """
- name: The pki role alone
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    mtls_clients: [{name: alice, p12_passphrase: alice-secret}]
  roles:
    - role: mtls.nginx.pki
"""


@pytest.fixture
def play(tmp_path):
    playbook = tmp_path / "pki.yml"
    playbook.write_text(PLAYBOOK)

    def run(pki, **extra):
        extra = {key: str(value) if isinstance(value, os.PathLike) else value for key, value in extra.items()}
        variables = json.dumps({"mtls_pki_dir": str(pki), **extra})
        command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                   "-e", variables, str(playbook)]
        env = {**os.environ, "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
        proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, check=False)
        recap = re.search(r"localhost\s+: ok=\d+\s+changed=(\d+).*failed=(\d+)", proc.stdout)
        return proc, (int(recap.group(1)), int(recap.group(2))) if recap else None
    return run


def converge(play, pki, **extra):
    first, recap = play(pki, **extra)
    assert first.returncode == 0, first.stdout[-3000:]
    again, recap = play(pki, **extra)
    assert again.returncode == 0 and recap == (0, 0), again.stdout[-3000:]
