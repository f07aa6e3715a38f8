"""A rolling rollout stops at the first host whose configuration fails, before the rest change.

Runs after test_fleet.py: the first host in the rollout order (Molecule's inventory lists them
sorted: api, web1, web2) gets a broken nginx file of somebody else's, then site.yml adds a user
with -e mtls_serial=1 -e mtls_max_fail_percentage=0. Its candidate configuration fails nginx -t
in the host's whole configuration and is never installed; web1 and web2 are not touched at all.
With the broken file gone, the same run converges every host.
"""
import json
import os
import subprocess

import pytest
from conftest import shared

BROKEN = "/etc/nginx/conf.d/zz-broken.conf"
SITE = "/etc/nginx/conf.d/mtls-nginx.conf"
ROLLING = ("-e", "mtls_serial=1", "-e", "mtls_max_fail_percentage=0")
FIRST, LATER = "mtls-fleet-api", ("mtls-fleet-web1", "mtls-fleet-web2")


def in_container(name, *command):
    return subprocess.run(["docker", "exec", name, *command], capture_output=True, text=True, check=False)


def site_config(name):
    return in_container(name, "cat", SITE).stdout


def serial_of(user):
    with open(os.path.join(shared.PKI_DIR, "ca", "ledger.json"), encoding="utf-8") as handle:
        return [e["serial"] for e in json.load(handle)["certificates"] if e["name"] == user and e["status"] == "valid"][0]


@pytest.fixture(scope="module")
def rollout(inventory):
    users = [c for c in inventory["mtls_clients"] if c["name"] != "bob"] + [
        {"name": "frank", "p12_passphrase": "frank-molecule-passphrase"}]
    before = {name: site_config(name) for name in ("mtls-fleet-web1", "mtls-fleet-web2", "mtls-fleet-api")}
    assert in_container(FIRST, "sh", "-c", f"echo 'this is not nginx syntax {{' > {BROKEN}").returncode == 0
    output = []
    try:
        stopped = shared.converge({"mtls_clients": users}, *ROLLING, expect_success=False, output=output)
        after_stop = {name: site_config(name) for name in before}
    finally:
        in_container(FIRST, "rm", "-f", BROKEN)
    converged = shared.converge({"mtls_clients": users}, *ROLLING)
    return {"before": before, "after_stop": after_stop, "stopped": stopped, "output": output[0],
            "converged": converged, "frank": serial_of("frank")}


def test_the_failing_host_keeps_its_running_configuration(rollout):
    assert rollout["after_stop"][FIRST] == rollout["before"][FIRST]
    assert rollout["frank"] not in rollout["after_stop"][FIRST]
    assert f"fatal: [{FIRST}]" in rollout["output"], rollout["output"][-3000:]


def test_the_hosts_after_it_are_not_touched(rollout):
    for name in LATER:
        assert rollout["after_stop"][name] == rollout["before"][name], name
        assert rollout["frank"] not in rollout["after_stop"][name]
    assert not any(line.startswith(LATER) for line in rollout["stopped"]), rollout["stopped"]


def test_once_repaired_the_rollout_reaches_every_host(rollout, fleet):
    for name, settings in fleet.items():
        assert rollout["frank"] in site_config(name), name
        frank = shared.client_files(shared.PKI_DIR, "frank")
        assert shared.https_get(settings["mtls_listen_port"], *frank, host=settings["mtls_server_name"]).status == 200
