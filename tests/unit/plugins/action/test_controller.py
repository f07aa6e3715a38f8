"""The modules' controller-side path: tasks on the control node run in the controller process.

Runs a real playbook (local connection) and reads its results through the json callback: the
same contract as the module (check mode predicts, rerun is a no-op, failures name the option,
no_log values never appear).
"""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *[os.pardir] * 4))
BIN = os.path.dirname(sys.executable)


def play(tmp_path, tasks):
    playbook = tmp_path / "play.yml"
    playbook.write_text(json.dumps([{"hosts": "localhost", "connection": "local", "gather_facts": False,
                                     "vars": {"ansible_python_interpreter": sys.executable}, "tasks": tasks}]))
    env = {**os.environ, "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
           "ANSIBLE_COLLECTIONS_PATH": os.path.join(ROOT, ".collections"),
           "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_NOCOLOR": "1"}
    result = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", str(playbook)],
                            capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    output = json.loads(result.stdout)
    return [task["hosts"]["localhost"] for task in output["plays"][0]["tasks"]], result.stdout


def test_tasks_on_the_controller_run_in_process(tmp_path):
    ca = {"mtls.nginx.ca_root": {"certificate_path": str(tmp_path / "pki/ca/ca.crt"),
                                 "private_key_path": str(tmp_path / "pki/ca/ca.key"),
                                 "common_name": "Action CA", "passphrase": "action-ca-secret"}}
    users = {"mtls.nginx.clients": {
        "ca_certificate_path": str(tmp_path / "pki/ca/ca.crt"), "ca_private_key_path": str(tmp_path / "pki/ca/ca.key"),
        "ca_passphrase": "action-ca-secret", "clients_dir": str(tmp_path / "pki/clients"),
        "ledger_path": str(tmp_path / "pki/ca/ledger.json"),
        "clients": [{"name": "alice", "p12_passphrase": "alice-action-secret"}]}}
    bad = {"mtls.nginx.ca_root": {**ca["mtls.nginx.ca_root"], "country": "Netherlands"}, "ignore_errors": True}
    results, stdout = play(tmp_path, [
        {**ca, "check_mode": True}, ca, ca, {**users, "check_mode": True, "diff": True}, users, users, bad,
        {"mtls.nginx.clients": {**users["mtls.nginx.clients"], "clients": [{"name": "../x", "p12_passphrase": "p"}]},
         "ignore_errors": True},
    ])
    assert [r.get("changed") for r in results[:6]] == [True, True, False, True, True, False]
    assert results[1]["reissue_reason"] == "missing" and results[1]["subject"] == "CN=Action CA"
    assert results[3]["clients"][0]["reissue_reason"] == "missing" and "[alice]" in results[3]["diff"]["after"]
    assert results[4]["clients"][0]["serial_number"] == results[5]["clients"][0]["serial_number"]
    assert results[6]["failed"] and "country must be a two-letter" in results[6]["msg"]
    assert results[7]["failed"] and "name must be letters" in results[7]["msg"]
    assert "action-ca-secret" not in stdout and "alice-action-secret" not in stdout
    assert "invocation" not in results[1]  # ran in the controller, not as a module on a target


@pytest.mark.parametrize("args, fragment", [
    ({"common_name": "x"}, "missing required arguments: certificate_path, private_key_path"),
    ({"certificate_path": "/tmp/x", "private_key_path": "/tmp/y", "common_name": "x", "key_type": "dsa"},
     "value of key_type must be one of: ec, rsa, ed25519"),
    ({"certificate_path": "/tmp/x", "private_key_path": "/tmp/y", "common_name": "x", "bogus": 1}, "bogus"),
])
def test_argument_spec_is_enforced_in_process(tmp_path, args, fragment):
    results = play(tmp_path, [{"mtls.nginx.ca_root": args, "ignore_errors": True}])[0]
    assert results[0]["failed"] and fragment in results[0]["msg"]


def test_mask_hides_secrets_in_messages_and_values():
    from ansible_collections.mtls.nginx.plugins.plugin_utils._controller import mask

    outcome = {"msg": "passphrase hunter2-secret does not open x", "diff": {"after": "hunter2-secret\n"},
               "clients": [{"name": "alice", "subject": "hunter2-secret"}], "changed": True}
    masked = mask(outcome, {"hunter2-secret"})
    assert "hunter2-secret" not in repr(masked)
    assert masked["clients"][0]["name"] == "alice" and masked["changed"] is True
