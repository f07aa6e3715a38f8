"""`site.yml --check --diff`, the dry run before every change: it predicts and writes nothing."""
import re

import pytest
from conftest import converge
from test_bad_input import SITE, pki_state


def recap(lines):
    """{host: changed count} from PLAY RECAP lines."""
    return {line.split()[0]: int(re.search(r"changed=(\d+)", line).group(1)) for line in lines}


@pytest.fixture(scope="module")
def dry_runs(host, inventory):
    before = (pki_state(), host.file(SITE).sha256sum, host.file("/etc/nginx/mtls/crl.pem").sha256sum)
    converged, with_frank = [], []
    runs = {
        "converged": recap(converge({}, "--check", "--diff", output=converged)),
        "new user": recap(converge({"mtls_clients": inventory["mtls_clients"] + [
            {"name": "frank", "p12_passphrase": "frank-molecule"}]}, "--check", "--diff", output=with_frank)),
    }
    after = (pki_state(), host.file(SITE).sha256sum, host.file("/etc/nginx/mtls/crl.pem").sha256sum)
    return {"runs": runs, "output": {"converged": converged[0], "new user": with_frank[0]},
            "before": before, "after": after}


def test_a_converged_system_predicts_no_change(dry_runs):
    assert dry_runs["runs"]["converged"] and set(dry_runs["runs"]["converged"].values()) == {0}, dry_runs["runs"]


def test_a_new_user_is_predicted_on_the_control_node(dry_runs):
    assert dry_runs["runs"]["new user"]["localhost"] >= 1, dry_runs["runs"]
    output = dry_runs["output"]["new user"]
    assert "[frank]" in output and "(will be issued: missing)" in output, output[-3000:]


def test_check_mode_says_why_the_requests_are_not_sent(dry_runs):
    assert "Check mode: the requests to" in dry_runs["output"]["converged"]


def test_dry_runs_write_nothing(dry_runs):
    assert dry_runs["after"] == dry_runs["before"]
    assert not any("/clients/frank" in path for path in dry_runs["after"][0])


def test_the_host_side_names_what_the_map_gains(dry_runs):
    assert "Check mode: the name map gains frank" in dry_runs["output"]["new user"]
    assert "Check mode: the name map gains" not in dry_runs["output"]["converged"]
