"""A client CA rollover against a live nginx: prepare, migrate, retire, each proven with real requests.

One module fixture drives the stages in order with site.yml (extra variables, as an operator's
inventory edit would) and records what each stage shows; the tests assert on the record.
alice keeps her certificate of the first CA through prepare and migrate (reissue as users renew);
bob is reissued from the new CA in migrate; carol is revoked under the first CA, dave under the
new one; retire reissues alice and archives the first CA. The node_exporter textfile follows the
stages, and playbooks/report.yml reports the result and fails on its threshold.
"""
import datetime
import json
import os
import re
import shutil
import subprocess

import pytest
from conftest import shared

HOST = f"mtls-molecule-{os.environ['MOLECULE_SCENARIO_NAME']}"  # rollover (Debian 12) or rollover-trixie
METRICS = "/var/lib/prometheus/node-exporter/mtls_nginx.prom"
SAMPLE = re.compile(r'^(mtls_[a-z_]+)\{(ca|server_name)="((?:[^"\\]|\\.)*)"\} (\d+)$')
NEXT_CA = {"common_name": "mtls.nginx Molecule CA 2", "organization": "mtls.nginx tests", "country": "NL",
           "passphrase": "molecule-next-ca-passphrase"}


def on_host(*command):
    return subprocess.run(["docker", "exec", HOST, *command], capture_output=True, text=True, check=True).stdout


def pem_count(path):
    return on_host("cat", path).count("-----BEGIN")


def unchanged(recap):
    return all(re.search(r"changed=0\s", line) for line in recap) and recap


def keep(scratch, name, label):
    """A copy of a user's current certificate and key, under label."""
    copies = []
    for source in shared.client_files(shared.PKI_DIR, name):
        target = os.path.join(scratch, f"{label}{os.path.splitext(source)[1]}")
        shutil.copy(source, target)
        copies.append(target)
    return tuple(copies)


def metrics():
    """{(metric, label value): timestamp} of the host's textfile; every line must be a comment or a sample."""
    samples = {}
    for line in on_host("cat", METRICS).splitlines():
        if line.startswith("# "):
            continue
        match = SAMPLE.match(line)
        assert match, line
        samples[(match.group(1), match.group(3))] = int(match.group(4))
    return samples


def not_after(path):
    out = subprocess.run(["openssl", "x509", "-in", path, "-noout", "-enddate", "-dateopt", "iso_8601"], capture_output=True,
                         text=True, check=True).stdout.strip().split("=", 1)[1]
    return int(datetime.datetime.strptime(out, "%Y-%m-%d %H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp())


def playbook(name, *options):
    """playbooks/<name>.yml with the scenario's inventory: (succeeded, output)."""
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": os.path.join(shared.PROJECT_DIR, ".collections"),
           "ANSIBLE_CONFIG": os.path.join(shared.PROJECT_DIR, "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    result = subprocess.run(["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], *options,
                             os.path.join(shared.PROJECT_DIR, "playbooks", f"{name}.yml")],
                            capture_output=True, text=True, env=env, check=False)
    return result.returncode == 0, result.stdout + result.stderr


def report(*options):
    return playbook("report", *options)


def issuer_of(pair):
    return subprocess.run(["openssl", "x509", "-in", pair[0], "-noout", "-issuer"], capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture(scope="module")
def rollover(inventory, port, scratch):
    users = inventory["mtls_clients"]
    by_name = {user["name"]: user for user in users}

    def with_changes(**changes):
        return [{**by_name[name], **changes.get(name, {})} for name in by_name]

    def status(pair):
        return shared.https_get(port, *pair).status

    seen = {"alice_old": keep(scratch, "alice", "alice-old"), "carol_old": keep(scratch, "carol", "carol-old")}
    revoked_carol = {"carol": {"state": "revoked", "revoke_reason": "key_compromise"}}

    def converge(stage, **changes):
        extra = {"mtls_clients": with_changes(**revoked_carol, **changes), "mtls_ca_next": NEXT_CA,
                 "mtls_ca_rollover": stage}
        return shared.converge(extra), shared.converge(extra)  # the run, and its rerun

    seen["none"] = converge("none")
    seen["none_carol"] = status(seen["carol_old"])
    # prepare: a second CA; everyone keeps working
    seen["prepare"] = converge("prepare")
    seen["prepare_status"] = {label: status(seen[label]) for label in ("alice_old", "carol_old")}
    seen["prepare_pems"] = (pem_count("/etc/nginx/mtls/ca.crt"), pem_count("/etc/nginx/mtls/crl.pem"))
    seen["prepare_metrics"] = metrics()
    seen["verbose"] = []  # -vvv prints loop items and module arguments: neither CA's passphrase may be there
    shared.converge({"mtls_clients": with_changes(**revoked_carol), "mtls_ca_next": NEXT_CA, "mtls_ca_rollover": "prepare"},
                    "-vvv", output=seen["verbose"])
    # migrate, as users renew: bob and dave need new certificates (new e-mail), they come from the new CA
    emails = {"bob": {"email": "bob@example.org"}, "dave": {"email": "dave@example.org"}}
    seen["bob_old"] = keep(scratch, "bob", "bob-old")
    seen["migrate"] = converge("migrate", **emails)
    seen["bob_new"], seen["dave_new"] = keep(scratch, "bob", "bob-new"), keep(scratch, "dave", "dave-new")
    seen["alice_kit_kept"] = open(shared.client_files(shared.PKI_DIR, "alice")[0]).read() == open(seen["alice_old"][0]).read()
    seen["migrate_status"] = {label: status(seen[label]) for label in ("alice_old", "bob_new", "carol_old")}
    site = on_host("cat", "/etc/nginx/conf.d/mtls-nginx.conf")
    seen["map_serials"] = {name: serial in site for name, serial in (
        ("alice", serial_of(seen["alice_old"])), ("bob", serial_of(seen["bob_new"])))}
    seen["bob_renewed_status"] = {label: status(seen[label]) for label in ("bob_old", "bob_new")}
    # the daily CRL job and the report with the stage dropped by mistake: refused, nothing deployed
    crl_before = on_host("sha256sum", "/etc/nginx/mtls/crl.pem", "/etc/nginx/mtls/ca.crt")
    dropped = json.dumps({"mtls_clients": with_changes(**revoked_carol, **emails), "mtls_ca_rollover": "none"})
    seen["refresh_dropped"] = playbook("refresh_crl", "-e", dropped)
    seen["report_dropped"] = report("-e", dropped)
    seen["refresh_dropped_host"] = on_host("sha256sum", "/etc/nginx/mtls/crl.pem", "/etc/nginx/mtls/ca.crt") == crl_before
    seen["refresh_dropped_status"] = {label: status(seen[label]) for label in ("alice_old", "bob_new")}
    in_stage = {**json.loads(dropped), "mtls_ca_next": NEXT_CA, "mtls_ca_rollover": "migrate"}
    seen["refresh"] = playbook("refresh_crl", "-e", json.dumps(in_stage))
    # bob rekeys during migrate: his old key stops under both CAs at once, his new one works
    os.unlink(shared.client_files(shared.PKI_DIR, "bob")[1])
    seen["migrate_rekey"] = converge("migrate", **emails)
    seen["bob_rekeyed"] = keep(scratch, "bob", "bob-rekeyed")
    seen["rekey_status"] = {label: status(seen[label]) for label in ("bob_old", "bob_new", "bob_rekeyed")}
    seen["bob_new"] = seen["bob_rekeyed"]
    gone = {**emails, "dave": {"email": "dave@example.org", "state": "revoked"}}
    seen["migrate_revoked"] = converge("migrate", **gone)
    seen["migrate_dave"] = status(seen["dave_new"])
    # a dry run of retire: the move is only predicted, the rest predicted from where the files still are
    seen["retire_dry"], before = [], on_host("sha256sum", "/etc/nginx/mtls/crl.pem", "/etc/nginx/mtls/ca.crt")
    shared.converge({"mtls_clients": with_changes(**revoked_carol, **gone), "mtls_ca_next": NEXT_CA,
                     "mtls_ca_rollover": "retire"}, "--check", "--diff", output=seen["retire_dry"])
    seen["retire_dry_kept"] = (sorted(os.listdir(shared.PKI_DIR)),
                               on_host("sha256sum", "/etc/nginx/mtls/crl.pem", "/etc/nginx/mtls/ca.crt") == before)
    # retire: the first CA leaves every server's trust and goes to the archive
    seen["retire"] = converge("retire", **gone)
    seen["alice_new"] = keep(scratch, "alice", "alice-new")
    seen["retire_status"] = {label: status(seen[label]) for label in ("alice_old", "alice_new", "bob_new", "carol_old",
                                                                      "dave_new")}
    seen["retire_pems"] = (pem_count("/etc/nginx/mtls/ca.crt"), pem_count("/etc/nginx/mtls/crl.pem"))
    seen["retire_metrics"] = metrics()
    archive = os.path.join(shared.PKI_DIR, "archive")
    seen["archive"] = {name: sorted(os.listdir(os.path.join(archive, name))) for name in os.listdir(archive)}
    # done: mtls_ca takes the new CA's values and the stage goes back to none; nothing changes
    extra = {"mtls_clients": with_changes(**revoked_carol, **gone), "mtls_ca": NEXT_CA, "mtls_ca_rollover": "none"}
    seen["done"] = shared.converge(extra)
    seen["warned"] = []  # a CA within mtls_ca_renew_before_days of its end: a warning, no change
    seen["warning_recap"] = shared.converge({**extra, "mtls_ca_renew_before_days": 4000}, output=seen["warned"])
    report_json = os.path.join(scratch, "report.json")
    seen["report"] = report("-e", f"report_json={report_json}")
    with open(report_json, encoding="utf-8") as handle:
        seen["report_json"] = json.load(handle)
    seen["report_strict"] = report("-e", "report_days=400")
    return seen


def serial_of(pair):
    out = subprocess.run(["openssl", "x509", "-in", pair[0], "-noout", "-serial"], capture_output=True, text=True,
                         check=True).stdout
    return format(int(out.strip().split("=", 1)[1], 16), "X")


def test_each_stage_reruns_without_change(rollover):
    for stage in ("none", "prepare", "migrate", "migrate_rekey", "migrate_revoked", "retire"):
        assert unchanged(rollover[stage][1]), (stage, rollover[stage][1])
    assert unchanged(rollover["done"]), rollover["done"]


def test_a_ca_near_its_end_is_warned_about(rollover):
    assert unchanged(rollover["warning_recap"]), rollover["warning_recap"]
    assert "WARNING: the client CA CN=mtls.nginx Molecule CA 2" in rollover["warned"][0], rollover["warned"][0][-3000:]


def test_verbose_output_holds_neither_ca_passphrase(rollover, inventory):
    output = rollover["verbose"][0]
    assert "ESTABLISH" in output or "<localhost>" in output  # it really was verbose
    assert inventory["mtls_ca"]["passphrase"] not in output and NEXT_CA["passphrase"] not in output


def test_prepare_trusts_both_cas_and_changes_no_user(rollover):
    assert rollover["prepare_pems"] == (2, 2)
    assert rollover["prepare_status"] == {"alice_old": 200, "carol_old": 495}
    assert rollover["none_carol"] == 495


def test_migrate_issues_from_the_new_ca_and_the_old_certificates_keep_working(rollover):
    assert "Molecule CA 2" in issuer_of(rollover["bob_new"]) and "Molecule CA 2" not in issuer_of(rollover["alice_old"])
    assert rollover["alice_kit_kept"]
    assert rollover["migrate_status"] == {"alice_old": 200, "bob_new": 200, "carol_old": 495}
    assert rollover["map_serials"] == {"alice": True, "bob": True}  # one name map for both CAs' serials
    assert rollover["migrate_dave"] == 495  # revoked under the new CA


def test_a_renewal_under_the_new_ca_with_the_same_key_leaves_the_old_certificate_working(rollover):
    assert rollover["bob_renewed_status"] == {"bob_old": 200, "bob_new": 200}


def test_a_rekey_during_migrate_revokes_the_old_key_under_both_cas(rollover):
    assert rollover["rekey_status"] == {"bob_old": 495, "bob_new": 495, "bob_rekeyed": 200}
    assert "Molecule CA 2" not in issuer_of(rollover["bob_old"])  # the old CA's certificate, revoked by its own CRL


def test_the_crl_job_and_the_report_refuse_a_dropped_stage_and_change_nothing(rollover):
    for key in ("refresh_dropped", "report_dropped"):
        succeeded, output = rollover[key]
        assert not succeeded and "mtls_ca_rollover is none but" in output and "ca-next exists" in output, output[-3000:]
    assert rollover["refresh_dropped_host"]
    assert rollover["refresh_dropped_status"] == {"alice_old": 200, "bob_new": 200}
    succeeded, output = rollover["refresh"]
    assert succeeded, output[-3000:]


def test_a_dry_run_of_retire_predicts_the_whole_run_and_moves_nothing(rollover):
    output = rollover["retire_dry"][0]
    crl_task = output.split("Revoke and keep the CRL of each client CA current")[1].split("TASK [")[0]
    assert "ca-next/crl.pem" in crl_task, crl_task  # the issuing CA's CRL, where it still is
    assert "Check mode: the requests to" in output
    layout, host_unchanged = rollover["retire_dry_kept"]
    assert "ca-next" in layout and host_unchanged


def test_retire_leaves_only_the_new_ca_trusted(rollover):
    assert rollover["retire_pems"] == (1, 1)
    assert rollover["retire_status"] == {"alice_old": 495, "alice_new": 200, "bob_new": 200, "carol_old": 495,
                                         "dave_new": 495}
    assert "Molecule CA 2" in issuer_of(rollover["alice_new"])


def test_retire_archives_the_old_ca_whole(rollover):
    (name, files), = rollover["archive"].items()
    assert name.endswith("-retired") and files == ["ca.crt", "ca.key", "crl.pem", "ledger.json"]
    with open(os.path.join(shared.PKI_DIR, "archive", name, "ledger.json"), encoding="utf-8") as handle:
        assert serial_of(rollover["alice_old"]) in {entry["serial"] for entry in json.load(handle)["certificates"]}


def test_the_textfile_has_one_series_per_trusted_ca_with_the_real_ends(rollover):
    first, second = "CN=mtls.nginx Molecule CA,O=mtls.nginx tests,C=NL", "CN=mtls.nginx Molecule CA 2,O=mtls.nginx tests,C=NL"
    archived = os.path.join(shared.PKI_DIR, "archive", next(iter(rollover["archive"])), "ca.crt")
    during = rollover["prepare_metrics"]
    assert during[("mtls_client_ca_not_after_timestamp_seconds", first)] == not_after(archived)
    assert during[("mtls_client_ca_not_after_timestamp_seconds", second)] == not_after(
        os.path.join(shared.PKI_DIR, "ca", "ca.crt"))
    assert {key[1] for key in during if key[0] == "mtls_crl_next_update_timestamp_seconds"} == {first, second}
    after = rollover["retire_metrics"]
    assert {key[1] for key in after if key[0] != "mtls_server_certificate_not_after_timestamp_seconds"} == {second}
    assert after[("mtls_server_certificate_not_after_timestamp_seconds", "localhost")] == not_after(
        os.path.join(shared.PKI_DIR, "server", "localhost.crt"))


def test_the_report_lists_every_ca_and_user_and_fails_on_its_threshold(rollover):
    succeeded, output = rollover["report"]
    assert succeeded and "Nothing in use ends within 30 days" in output, output[-3000:]
    data = rollover["report_json"]
    assert sorted(ca["role"] for ca in data["cas"]) == ["current", "retired"]
    states = {(c["name"], c["ca_role"], c["state"]) for c in data["clients"]}
    assert ("carol", "retired", "revoked") in states and ("dave", "current", "revoked") in states
    assert ("alice", "current", "valid") in states and data["expiring_count"] == 0
    failed, strict = rollover["report_strict"]
    assert not failed and "Ending within 400 days" in strict and "alice (" in strict, strict[-3000:]
