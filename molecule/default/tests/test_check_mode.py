"""`site.yml --check --diff`, the dry run before every change: it predicts and writes nothing."""
import os
import re
import tempfile

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
    # A first dry run, before the PKI exists: the modules predict every certificate as new.
    first, empty = [], os.path.join(tempfile.mkdtemp(), "pki")
    runs["first"] = recap(converge({"mtls_pki_dir": empty}, "--check", "--diff", output=first))
    after = (pki_state(), host.file(SITE).sha256sum, host.file("/etc/nginx/mtls/crl.pem").sha256sum)
    return {"runs": runs, "output": {"converged": converged[0], "new user": with_frank[0], "first": first[0]},
            "before": before, "after": after, "first_wrote": os.path.exists(empty)}


def test_a_converged_system_predicts_no_change(dry_runs):
    assert dry_runs["runs"]["converged"] and set(dry_runs["runs"]["converged"].values()) == {0}, dry_runs["runs"]


def test_a_new_user_is_predicted_on_the_control_node(dry_runs):
    assert dry_runs["runs"]["new user"]["localhost"] >= 1, dry_runs["runs"]
    output = dry_runs["output"]["new user"]
    assert "[frank]" in output and "(will be issued: missing)" in output, output[-3000:]


def test_a_first_dry_run_predicts_every_certificate_and_writes_nothing(dry_runs, inventory):
    output = dry_runs["output"]["first"]
    # both CAs, the server certificates, every user, the CRL: predicted by the modules, none skipped
    assert dry_runs["runs"]["first"]["localhost"] >= 5, dry_runs["runs"]
    present = [client for client in inventory["mtls_clients"] if client.get("state", "present") == "present"]
    assert output.count("(will be issued: new CA)") >= len(present) + 2, output[-3000:]
    assert "Check mode: " in output and "not written yet" in output  # the host's part waits for the PKI
    assert not dry_runs["first_wrote"]


def test_check_mode_says_why_the_requests_are_not_sent(dry_runs):
    assert "Check mode: the requests to" in dry_runs["output"]["converged"]


def test_dry_runs_write_nothing(dry_runs):
    assert dry_runs["after"] == dry_runs["before"]
    assert not any("/clients/frank" in path for path in dry_runs["after"][0])


def test_the_host_side_names_what_the_map_gains(dry_runs):
    assert "Check mode: the name map gains frank" in dry_runs["output"]["new user"]
    assert "Check mode: the name map gains" not in dry_runs["output"]["converged"]
