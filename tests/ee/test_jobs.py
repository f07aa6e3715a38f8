"""site.yml as AWX runs it: ansible-runner in fresh containers of the EE image, the PKI on a volume.

One module fixture runs the jobs in order and records what each showed: a first job (496/200),
a second in a fresh container on the same volume (nothing changes), two jobs at once on that
volume for one inventory edit (carol and dave added, bob revoked), a rerun, and a job whose volume
is empty (the lost-PKI guard stops it before the host changes); the daily CRL job runs there too,
and `ansible-navigator run --eei` with the same image.
"""
import io
import json
import os
import re
import subprocess
import tarfile
import tempfile

import pytest
from conftest import IMAGE, Job, host_files, https_status, navigator_run, run_job, user
from cryptography import x509

BEFORE = [user("alice"), user("bob")]
AFTER = [user("alice"), user("bob", state="revoked"), user("carol"), user("dave")]


@pytest.fixture(scope="module")
def jobs(managed_host, volumes):
    host, pki = managed_host, volumes("mtls-ee-pki")
    seen = {"first": run_job("mtls-ee-job-1", host, pki, BEFORE)}
    seen["first_status"] = {name: https_status(pki.path, name) for name in (None, "alice", "bob")}
    seen["second"] = run_job("mtls-ee-job-2", host, pki, BEFORE)
    both = [Job(f"mtls-ee-job-{n}", host, pki, AFTER).start() for n in ("3a", "3b")]
    seen["parallel"] = [job.wait() for job in both]
    seen["rerun"] = run_job("mtls-ee-job-4", host, pki, AFTER)
    # the daily CRL job, told that a 30-day CRL is due (as it is after 23 days), re-signs and deploys it
    seen["crl_job"] = run_job("mtls-ee-job-crl", host, pki, AFTER, "refresh_crl",
                              {"mtls_crl_refresh_before_days": 35, "mtls_crl_next_update_days": 40})
    seen["after_status"] = {name: https_status(pki.path, name) for name in ("alice", "bob", "carol", "dave")}
    seen["navigator"] = navigator_run(host, pki, AFTER)  # changes nothing: the volume's files keep their owner
    with open(os.path.join(pki.path, "ca", "ledger.json"), encoding="utf-8") as handle:
        seen["ledger"] = json.load(handle)["certificates"]
    with open(os.path.join(pki.path, "ca", "crl.pem"), "rb") as handle:
        crl = x509.load_pem_x509_crl(handle.read())
    seen["crl"] = {entry.serial_number for entry in crl}
    seen["crl_next_update_days"] = (crl.next_update_utc - crl.last_update_utc).days
    before = host_files()
    seen["empty"] = run_job("mtls-ee-job-5", host, volumes("mtls-ee-empty"), AFTER)
    seen["empty_host_unchanged"] = host_files() == before
    seen["empty_status"] = https_status(pki.path, "alice")
    return seen


def test_a_job_in_the_ee_converges_the_host(jobs):
    first = jobs["first"]
    assert first.succeeded, first.output[-4000:]
    assert set(first.recap) == {"localhost", "ee-host"} and first.recap["ee-host"] > 0
    assert jobs["first_status"] == {None: 496, "alice": 200, "bob": 200}


def test_a_second_job_in_a_fresh_container_changes_nothing(jobs):
    second = jobs["second"]
    assert second.succeeded and set(second.recap.values()) == {0}, second.output[-4000:]


def test_two_jobs_at_once_on_one_volume_issue_each_user_once(jobs):
    for job in jobs["parallel"]:
        assert job.succeeded, job.output[-4000:]
    ledger = jobs["ledger"]
    serials = [entry["serial"] for entry in ledger]
    assert len(serials) == len(set(serials))
    valid = sorted(entry["name"] for entry in ledger if entry["status"] == "valid")
    assert valid == ["alice", "carol", "dave"]  # one valid certificate each: the lock made one job issue it
    revoked = {int(entry["serial"], 16) for entry in ledger if entry["name"] == "bob"}
    assert revoked and revoked <= jobs["crl"]


def test_after_the_parallel_jobs_a_rerun_changes_nothing(jobs):
    rerun = jobs["rerun"]
    assert rerun.succeeded and set(rerun.recap.values()) == {0}, rerun.output[-4000:]
    assert jobs["after_status"] == {"alice": 200, "bob": 495, "carol": 200, "dave": 200}


def test_the_daily_crl_job_runs_in_the_ee_and_keeps_the_revocation(jobs):
    crl_job = jobs["crl_job"]
    assert crl_job.succeeded and crl_job.recap["localhost"] > 0 and crl_job.recap["ee-host"] > 0, crl_job.output[-4000:]
    assert jobs["after_status"]["bob"] == 495 and jobs["crl_next_update_days"] > 39


def test_ansible_navigator_runs_site_yml_in_the_ee_and_finds_nothing_to_change(jobs):
    navigator = jobs["navigator"]
    assert navigator.succeeded and navigator.recap == {"localhost": 0, "ee-host": 0}, navigator.output[-4000:]


def test_a_job_with_an_empty_volume_is_refused_and_changes_no_host(jobs):
    empty = jobs["empty"]
    assert not empty.succeeded
    assert "Restore it from your backup" in " ".join(empty.output.split()), empty.output[-4000:]
    assert jobs["empty_host_unchanged"] and jobs["empty_status"] == 200


def test_no_layer_or_history_entry_of_the_image_holds_the_build_index():
    """make ee served the wheels from a local index (a build argument, /etc/pip.conf in the build's stages)."""
    index = re.compile(rb"127\.0\.0\.1:\d+/(index|wheels)")  # where scripts/ee.sh serves it
    history = subprocess.run(["docker", "history", "--no-trunc", IMAGE], capture_output=True, check=True).stdout
    assert not index.search(history) and b"PIP_INDEX_URL" not in history, history
    with tempfile.TemporaryDirectory() as directory:
        archive = os.path.join(directory, "image.tar")
        subprocess.run(["docker", "save", "-o", archive, IMAGE], check=True)
        layers = 0
        with tarfile.open(archive) as image:
            for member in (member for member in image.getmembers() if member.isfile()):
                data = image.extractfile(member).read()
                assert not index.search(data), member.name  # configs, manifests and every file of every layer
                if data[257:262] == b"ustar":
                    layers += 1
                    with tarfile.open(fileobj=io.BytesIO(data)) as layer:
                        assert not [name for name in layer.getnames() if name.endswith("pip.conf")], member.name
        assert layers == 1
