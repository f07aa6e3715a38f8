"""Each module for real: check mode predicts the change, the run makes it, the rerun changes nothing."""
import base64
import json
import os
import plistlib
import re
import shutil
import stat
import subprocess
import zipfile

import pytest
from cryptography.hazmat.primitives import serialization

from ansible_collections.mtls.nginx.plugins.module_utils import _kit as K
from ansible_collections.mtls.nginx.plugins.module_utils import _pkcs12 as P
from ansible_collections.mtls.nginx.plugins.module_utils._keys import load_private_key
from ansible_collections.mtls.nginx.plugins.module_utils import _x509 as X


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def snapshot(directory):
    """Content and inode of every file: a run that changes nothing must leave both alone."""
    out = {}
    for base, _dirs, files in os.walk(directory):
        for name in files:
            path = os.path.join(base, name)
            with open(path, "rb") as handle:
                out[path] = (handle.read(), os.stat(path).st_ino, mode_of(path))
    return out


def converge(run_module, name, args, directory):
    """check -> run -> rerun -> check again; returns the result of the real run."""
    before = snapshot(directory)
    predicted = run_module(name, args, check=True)
    assert predicted.get("failed") is not True, predicted.get("msg")
    assert predicted["changed"] is True
    assert snapshot(directory) == before, "check mode wrote files"
    made = run_module(name, args)
    assert made["changed"] is True and "failed" not in made, made.get("msg")
    after = snapshot(directory)
    again = run_module(name, args)
    assert again["changed"] is False, again.get("reissue_reason")
    assert snapshot(directory) == after, "a run without change touched files"
    assert run_module(name, args, check=True)["changed"] is False
    return made


@pytest.fixture
def pki(tmp_path):
    (tmp_path / "ca").mkdir()
    (tmp_path / "alice").mkdir()
    return tmp_path


def ca_args(pki, **extra):
    return {"certificate_path": str(pki / "ca/ca.crt"), "private_key_path": str(pki / "ca/ca.key"),
            "common_name": "Test CA", **extra}


def client_args(pki, ca_extra=None, **extra):
    ca = ca_args(pki, **(ca_extra or {}))
    return {"ca_certificate_path": ca["certificate_path"], "ca_private_key_path": ca["private_key_path"],
            "ca_passphrase": ca.get("passphrase"), "certificate_path": str(pki / "alice/alice.crt"),
            "private_key_path": str(pki / "alice/alice.key"), "common_name": "alice", **extra}


def bundle_args(pki, **extra):
    return {"path": str(pki / "alice/alice.p12"), "certificate_path": str(pki / "alice/alice.crt"),
            "private_key_path": str(pki / "alice/alice.key"), "ca_certificate_path": str(pki / "ca/ca.crt"),
            "passphrase": "bundle-pass", **extra}


@pytest.mark.parametrize("extra", [
    {},
    {"organization": "Example Org", "country": "NL"},
    {"key_type": "rsa", "key_size": 2048},
    {"key_type": "ed25519"},
    {"passphrase": "ca-secret"},
    {"valid_days": 30, "renew_before_days": 7},
    {"mode": "0640"},
    {"group": "daemon"},
], ids=repr)
def test_ca_root_converges(run_module, pki, extra):
    made = converge(run_module, "ca_root", ca_args(pki, **extra), pki)
    assert made["reissue_reason"] == "missing" and made["subject"].startswith("CN=Test CA")
    assert mode_of(pki / "ca/ca.key") == 0o600
    assert mode_of(pki / "ca/ca.crt") == int(extra.get("mode", "0644"), 8)
    key_pem = (pki / "ca/ca.key").read_bytes()
    assert (b"ENCRYPTED" in key_pem) is ("passphrase" in extra)
    if "passphrase" in extra:
        assert extra["passphrase"] not in made["_stdout"]
    assert b"PRIVATE" not in made["_stdout"].encode()
    if "group" in extra:
        assert os.stat(pki / "ca/ca.crt").st_gid == os.stat(pki / "ca/ca.key").st_gid != 0


@pytest.mark.parametrize("extra", [
    {},
    {"email": "alice@example.org"},
    {"organization": "Team A", "country": "DE"},
    {"key_type": "rsa", "key_size": 2048},
    {"key_type": "ed25519"},
    {"valid_days": 90, "renew_before_days": 10},
    {"mode": "0600"},
], ids=repr)
@pytest.mark.parametrize("ca_extra", [{}, {"passphrase": "ca-secret"}], ids=["plain-ca", "encrypted-ca"])
def test_client_cert_converges(run_module, pki, extra, ca_extra):
    assert run_module("ca_root", ca_args(pki, organization="Example Org", country="NL", **ca_extra))["changed"]
    made = converge(run_module, "client_cert", client_args(pki, ca_extra, **extra), pki)
    assert made["reissue_reason"] == "missing"
    cert = X.load_certificate((pki / "alice/alice.crt").read_bytes(), "x")
    assert cert.subject.rfc4514_string() == made["subject"]
    assert made["subject"] == "CN=alice,O={},C={}".format(extra.get("organization", "Example Org"), extra.get("country", "NL"))
    assert made["serial_number"] == format(cert.serial_number, "X")
    assert mode_of(pki / "alice/alice.key") == 0o600
    assert "ca-secret" not in made["_stdout"]


@pytest.mark.parametrize("extra", [
    {},
    {"encryption": "compatible"},
    {"friendly_name": "Alice's laptop"},
], ids=repr)
def test_pkcs12_bundle_converges(run_module, pki, extra):
    run_module("ca_root", ca_args(pki))
    run_module("client_cert", client_args(pki))
    made = converge(run_module, "pkcs12_bundle", bundle_args(pki, **extra), pki)
    assert made["encryption"] == extra.get("encryption", "modern")
    assert made["friendly_name"] == extra.get("friendly_name", "alice")
    assert mode_of(pki / "alice/alice.p12") == 0o600
    assert "bundle-pass" not in made["_stdout"]


def test_server_cert_from_a_server_ca_converges(run_module, pki):
    run_module("ca_root", ca_args(pki))
    args = {"certificate_path": str(pki / "ca/srv.crt"), "private_key_path": str(pki / "ca/srv.key"),
            "common_name": "localhost", "dns_names": ["localhost"], "ip_addresses": ["127.0.0.1"],
            "ca_certificate_path": str(pki / "ca/ca.crt"), "ca_private_key_path": str(pki / "ca/ca.key")}
    made = converge(run_module, "server_cert", args, pki)
    assert made["issuer"] == "CN=Test CA"
    assert ": OK" in subprocess.run(["openssl", "verify", "-CAfile", str(pki / "ca/ca.crt"), str(pki / "ca/srv.crt")],
                                    capture_output=True, text=True, check=False).stdout
    self_signed = {k: v for k, v in args.items() if not k.startswith("ca_")}
    assert run_module("server_cert", self_signed)["reissue_reason"] == "issuer changed"
    without_key = {k: v for k, v in args.items() if k != "ca_private_key_path"}
    failed = run_module("server_cert", without_key)
    assert failed["failed"] and "ca_certificate_path, ca_private_key_path" in failed["msg"]


FLEET = [{"name": "web1.example.org", "ip_addresses": ["192.0.2.1"]}, {"name": "web2.example.org"},
         {"name": "web3.example.org", "dns_names": ["www.example.org"]}]


def test_server_certs_give_each_server_its_own_certificate(run_module, pki):
    run_module("ca_root", ca_args(pki, permitted_names=["example.org", "192.0.2.1"]))
    args = {"ca_certificate_path": str(pki / "ca/ca.crt"), "ca_private_key_path": str(pki / "ca/ca.key"),
            "servers_dir": str(pki / "server"), "servers": FLEET}
    made = converge(run_module, "server_certs", args, pki)
    assert [(s["name"], s["reissue_reason"]) for s in made["servers"]] == [(f["name"], "missing") for f in FLEET]
    assert mode_of(pki / "server") == 0o700
    for server in FLEET:
        cert_path = pki / f"server/{server['name']}.crt"
        assert mode_of(pki / f"server/{server['name']}.key") == 0o600
        verdict = subprocess.run(["openssl", "verify", "-CAfile", str(pki / "ca/ca.crt"), "-verify_hostname",
                                  server["name"], str(cert_path)], capture_output=True, text=True, check=False)
        assert ": OK" in verdict.stdout, verdict.stdout + verdict.stderr
    # web2 gains an address: only its certificate changes
    changed = [FLEET[0], {**FLEET[1], "ip_addresses": ["192.0.2.1"]}, FLEET[2]]
    again = run_module("server_certs", {**args, "servers": changed})
    assert [s["changed"] for s in again["servers"]] == [False, True, False]
    assert again["servers"][1]["reissue_reason"] == "names changed"


@pytest.mark.parametrize("servers, fragment", [
    ([{"name": "web1;include /etc/passwd"}], "servers[0].name must be a host name"),
    ([{"name": "web1.example.org"}, {"name": "WEB1.example.org"}], "is listed twice"),
    ([{"name": "web1.example.org", "ip_addresses": ["not-an-ip"]}], "is not an IP address"),
])
def test_server_certs_bad_input_changes_nothing(run_module, pki, servers, fragment):
    run_module("ca_root", ca_args(pki))
    before = snapshot(pki)
    result = run_module("server_certs", {"ca_certificate_path": str(pki / "ca/ca.crt"),
                                         "ca_private_key_path": str(pki / "ca/ca.key"),
                                         "servers_dir": str(pki / "server"), "servers": servers})
    assert result.get("failed") and fragment in result["msg"], result
    assert snapshot(pki) == before


def test_host_files_put_many_files_in_one_call(run_module, pki):
    secret = "-----BEGIN PRIVATE" + " KEY-----\nnot-a-real-key\n"
    args = {"owner": str(os.getuid()), "group": str(os.getgid()),
            "directories": [{"path": str(pki / "host/tls")}, {"path": str(pki / "host/www/errors")}],
            "files": [{"path": str(pki / "host/tls/ca.crt"), "content": base64.b64encode(b"CA\n").decode()},
                      {"path": str(pki / "host/tls/server.key"), "content": base64.b64encode(secret.encode()).decode(),
                       "mode": "0600"},
                      {"path": str(pki / "host/www/errors/496.html"), "content": base64.b64encode(b"<p>496</p>").decode()}]}
    made = converge(run_module, "host_files", args, pki)
    changed = sorted(os.path.basename(path) for path in made["changed_paths"])
    assert changed == ["496.html", "ca.crt", "errors", "server.key", "tls"]
    assert (pki / "host/tls/server.key").read_text() == secret and mode_of(pki / "host/tls/server.key") == 0o600
    assert "not-a-real-key" not in made["_stdout"] and base64.b64encode(secret.encode()).decode() not in made["_stdout"]


def test_host_files_validates_defers_removes_and_probes(run_module, pki):
    site, default = pki / "host/site.conf", pki / "host/default"
    (pki / "host").mkdir()
    default.write_text("server {}\n")
    checker = pki / "host/checker"
    entry = {"path": str(site), "content": base64.b64encode(b"listen 443;\n").decode(),
             "validate": "grep -q listen %s", "diff": True}
    args = {"owner": str(os.getuid()), "group": str(os.getgid()), "files": [entry], "absent": [str(default)],
            "validate_needs": str(checker), "probe": [str(checker), str(default)],
            "process": {"pid_file": str(pki / "host/none.pid"), "name": "nginx"}}
    first = run_module("host_files", args)  # the checker is not installed yet: the site waits
    assert first["deferred"] == [str(site)] and first["changed_paths"] == [str(default)], first
    assert first["probed"] == {str(checker): False, str(default): True} and first["process_running"] is False
    assert not site.exists() and not default.exists()
    checker.write_text("")
    made = run_module("host_files", args, diff=True)
    assert made["changed_paths"] == [str(site)] and made["deferred"] == [] and site.read_text() == "listen 443;\n"
    assert made["diff"][1]["after"] == "listen 443;\n" and made["diff"][1]["after_header"] == str(site), made["diff"]
    assert run_module("host_files", args)["changed"] is False
    refused = run_module("host_files", {**args, "files": [{**entry, "content": base64.b64encode(b"nothing\n").decode()}]})
    assert refused.get("failed") and f"{site} was not installed" in refused["msg"], refused
    assert site.read_text() == "listen 443;\n"


def test_host_files_never_writes_a_crl_set_that_lacks_a_trusted_cas_crl(run_module, pki):
    """The CRL guard, against the trust file on the host or the one the same call writes."""
    from ansible_collections.mtls.nginx.plugins.module_utils import _crl, _keys, _x509

    def ca_and_crl(name):
        key = _keys.generate_key("ec")
        cert = _x509.issue_ca_certificate(key, _x509.build_name(name, None, None), 3650)
        return _x509.dump_certificate(cert), _crl.dump_crl(_crl.build_crl(cert, key, [], 1, 30))
    (ours, ours_crl), (theirs, theirs_crl) = ca_and_crl("Our CA"), ca_and_crl("Their CA")
    host = pki / "host"
    host.mkdir()
    (host / "ca.crt").write_bytes(ours)
    (host / "crl.pem").write_bytes(ours_crl)

    def entry(name, data):
        return {"path": str(host / name), "content": base64.b64encode(data).decode()}
    guard = {"path": str(host / "crl.pem"), "trust": str(host / "ca.crt"), "hint": "Restore it."}
    args = {"owner": str(os.getuid()), "group": str(os.getgid()), "crl_guard": guard}
    for check_mode in (True, False):  # refused alike, and nothing written
        refused = run_module("host_files", {**args, "files": [entry("crl.pem", theirs_crl)]}, check=check_mode)
        assert refused.get("failed") and "this run would leave no CRL of the client CA" in refused["msg"], refused
        assert (host / "crl.pem").read_bytes() == ours_crl
    both = {**args, "files": [entry("ca.crt", theirs), entry("crl.pem", theirs_crl)]}  # the trust moves with it
    assert run_module("host_files", both, check=True)["changed"] is True
    assert run_module("host_files", both)["changed"] is True and (host / "crl.pem").read_bytes() == theirs_crl
    assert run_module("host_files", {**args, "files": [entry("crl.pem", theirs_crl + ours_crl)]})["changed"] is True


@pytest.mark.parametrize("bad, fragment", [
    ({"files": [{"path": "/tmp/x", "content": "not base64!"}]}, "files[0].content must be base64"),
    ({"files": [{"path": "/tmp/x", "content": "", "mode": "rw"}]}, "files[0].mode must be an octal string"),
    ({"files": [{"path": "/tmp/x", "content": "", "validate": "nginx -t"}]}, "files[0].validate must contain %s"),
])
def test_host_files_bad_input(run_module, pki, bad, fragment):
    result = run_module("host_files", bad)
    assert result.get("failed") and fragment in result["msg"], result


def test_server_cert_converges(run_module, pki):
    args = {"certificate_path": str(pki / "ca/srv.crt"), "private_key_path": str(pki / "ca/srv.key"),
            "common_name": "localhost", "dns_names": ["localhost"], "ip_addresses": ["127.0.0.1"]}
    converge(run_module, "server_cert", args, pki)
    changed = run_module("server_cert", {**args, "dns_names": ["localhost", "www.example.org"]})
    assert changed["reissue_reason"] == "names changed"


@pytest.mark.parametrize("change, reason", [
    ({"email": "alice@example.org"}, "email changed"),
    ({"common_name": "Alice Example"}, "subject changed"),
    ({"valid_days": 90}, "validity changed"),
    ({"force": True}, "forced"),
])
def test_client_cert_reissues_with_reason(run_module, pki, change, reason):
    run_module("ca_root", ca_args(pki))
    args = client_args(pki)
    first = run_module("client_cert", args)
    key_before = (pki / "alice/alice.key").read_bytes()
    predicted = run_module("client_cert", {**args, **change}, check=True)
    assert predicted["changed"] and predicted["reissue_reason"] == reason
    assert reason in predicted["diff"]["after"]
    made = run_module("client_cert", {**args, **change})
    assert made["reissue_reason"] == reason and made["serial_number"] != first["serial_number"]
    assert ((pki / "alice/alice.key").read_bytes() == key_before) is (reason != "forced")
    assert run_module("client_cert", {**args, **change, "force": False})["changed"] is False


def test_client_cert_follows_a_new_ca(run_module, pki):
    run_module("ca_root", ca_args(pki))
    run_module("client_cert", client_args(pki))
    run_module("ca_root", ca_args(pki, force=True))
    assert run_module("client_cert", client_args(pki))["reissue_reason"] == "issuer changed"


def test_client_cert_reissues_an_unreadable_certificate(run_module, pki):
    run_module("ca_root", ca_args(pki))
    run_module("client_cert", client_args(pki))
    (pki / "alice/alice.crt").write_text("not a certificate")
    assert run_module("client_cert", client_args(pki))["reissue_reason"] == "unreadable"


def test_ca_renews_with_the_same_key_when_expiring(run_module, pki):
    run_module("ca_root", ca_args(pki))
    run_module("client_cert", client_args(pki))
    key = load_private_key((pki / "ca/ca.key").read_bytes(), None, "k")[0]
    old = X.issue_ca_certificate(key, X.build_name("Test CA"), 3650, X.utcnow() - X.datetime.timedelta(days=3600))
    (pki / "ca/ca.crt").write_bytes(X.dump_certificate(old))
    key_pem = (pki / "ca/ca.key").read_bytes()
    assert run_module("ca_root", ca_args(pki), check=True)["reissue_reason"] == "expiring"
    assert run_module("ca_root", ca_args(pki))["reissue_reason"] == "expiring"
    assert (pki / "ca/ca.key").read_bytes() == key_pem
    renewed = X.load_certificate((pki / "ca/ca.crt").read_bytes(), "c")
    client = X.load_certificate((pki / "alice/alice.crt").read_bytes(), "c")
    client.verify_directly_issued_by(renewed)  # issued clients stay valid
    assert run_module("client_cert", client_args(pki))["changed"] is False


def test_ca_passphrase_added_rewrites_the_same_key(run_module, pki):
    first = run_module("ca_root", ca_args(pki))
    made = run_module("ca_root", ca_args(pki, passphrase="later"))
    assert made["changed"] and "reissue_reason" not in made
    assert made["fingerprint_sha256"] == first["fingerprint_sha256"]
    assert b"ENCRYPTED" in (pki / "ca/ca.key").read_bytes()
    assert run_module("ca_root", ca_args(pki, passphrase="later"))["changed"] is False


def test_attributes_are_fixed_without_reissue(run_module, pki):
    run_module("ca_root", ca_args(pki))
    os.chmod(pki / "ca/ca.key", 0o644)
    fixed = run_module("ca_root", ca_args(pki))
    assert fixed["changed"] and "reissue_reason" not in fixed
    assert mode_of(pki / "ca/ca.key") == 0o600


@pytest.mark.parametrize("name, args_for, state_files", [
    ("client_cert", client_args, ["alice/alice.key", "alice/alice.crt"]),
    ("pkcs12_bundle", bundle_args, ["alice/alice.p12"]),
])
def test_state_absent(run_module, pki, name, args_for, state_files):
    run_module("ca_root", ca_args(pki))
    run_module("client_cert", client_args(pki))
    run_module("pkcs12_bundle", bundle_args(pki))
    args = {**args_for(pki), "state": "absent"}
    assert run_module(name, args, check=True)["changed"] is True
    assert all((pki / f).exists() for f in state_files)
    assert run_module(name, args)["changed"] is True
    assert not any((pki / f).exists() for f in state_files)
    assert run_module(name, args)["changed"] is False


# ------------------------------------------------------------------ failures change no file

@pytest.mark.parametrize("name, bad, fragment", [
    ("ca_root", {"common_name": ""}, "common_name must not be empty"),
    ("ca_root", {"country": "Netherlands"}, "country must be a two-letter"),
    ("ca_root", {"valid_days": -1}, "valid_days must be at least 1"),
    ("ca_root", {"key_type": "rsa", "key_size": 1024}, "key_size must be 2048"),
    ("ca_root", {"key_type": "dsa"}, "key_type"),
    ("ca_root", {"mode": "rw-r--r--"}, "mode must be an octal string"),
    ("ca_root", {"owner": "no-such-user-here"}, "no such user"),
    ("client_cert", {"email": "not-an-address"}, "email must look like"),
    ("client_cert", {"renew_before_days": 400}, "renew_before_days (400) must be smaller"),
    ("client_cert", {"ca_passphrase": "wrong"}, "ca_passphrase does not open"),
    ("pkcs12_bundle", {"passphrase": ""}, "passphrase must not be empty"),
    ("pkcs12_bundle", {"encryption": "rc2"}, "encryption"),
])
def test_bad_input_fails_naming_the_option(run_module, pki, name, bad, fragment):
    run_module("ca_root", ca_args(pki, passphrase="ca-secret"))
    if name == "pkcs12_bundle":
        run_module("client_cert", client_args(pki, {"passphrase": "ca-secret"}))
    args = {"ca_root": ca_args(pki, passphrase="ca-secret"),
            "client_cert": client_args(pki, {"passphrase": "ca-secret"}),
            "pkcs12_bundle": bundle_args(pki)}[name]
    before = snapshot(pki)
    result = run_module(name, {**args, **bad, **({"certificate_path": str(pki / "new/x.crt")} if name == "ca_root" else {})})
    assert result.get("failed") is True
    assert fragment in result["msg"]
    assert snapshot(pki) == before


@pytest.mark.parametrize("name", ["ca_root", "server_cert"])
def test_own_directories_are_created_owner_only(run_module, pki, name):
    base = pki / "new" / "deeper"
    args = {"certificate_path": str(base / "x.crt"), "private_key_path": str(base / "x.key"), "common_name": "localhost"}
    assert run_module(name, args, check=True)["changed"] and not (pki / "new").exists()
    assert run_module(name, args)["changed"]
    assert mode_of(pki / "new") == mode_of(base) == 0o700


def test_unwritable_directory_fails_before_writing(run_module, pki):
    run_module("ca_root", ca_args(pki))
    result = run_module("client_cert", client_args(pki, private_key_path=str(pki / "missing/alice.key")))
    assert result["failed"] and "does not exist" in result["msg"]
    assert not (pki / "alice/alice.crt").exists()


@pytest.mark.parametrize("damage, fragment", [
    ("ca/ca.crt", "certificate_path:"),
    ("ca/ca.key", "not a readable PEM private key"),
])
def test_corrupt_ca_is_never_replaced(run_module, pki, damage, fragment):
    run_module("ca_root", ca_args(pki))
    (pki / damage).write_text("corrupted\n")
    before = snapshot(pki)
    result = run_module("ca_root", ca_args(pki))
    assert result["failed"] and fragment in result["msg"] and "never replaced on its own" in result["msg"]
    assert snapshot(pki) == before
    assert run_module("ca_root", ca_args(pki, force=True))["reissue_reason"] == "forced"


@pytest.mark.parametrize("change, fragment", [
    ({"common_name": "Renamed CA"}, "renaming a CA breaks every certificate"),
    ({"key_type": "rsa"}, "a CA key is never replaced on its own"),
])
def test_ca_refuses_changes_that_would_lock_users_out(run_module, pki, change, fragment):
    run_module("ca_root", ca_args(pki))
    before = snapshot(pki)
    result = run_module("ca_root", ca_args(pki, **change))
    assert result["failed"] and fragment in result["msg"]
    assert snapshot(pki) == before


def test_ca_with_lost_key_fails(run_module, pki):
    run_module("ca_root", ca_args(pki))
    os.unlink(pki / "ca/ca.key")
    result = run_module("ca_root", ca_args(pki))
    assert result["failed"] and "restore the key" in result["msg"]
    assert not (pki / "ca/ca.key").exists()


def test_ca_key_of_another_ca_is_refused(run_module, pki, tmp_path_factory):
    run_module("ca_root", ca_args(pki))
    other = tmp_path_factory.mktemp("other")
    run_module("ca_root", {"certificate_path": str(other / "ca.crt"), "private_key_path": str(other / "ca.key"),
                           "common_name": "Test CA"})
    result = run_module("client_cert", client_args(pki, ca_private_key_path=str(other / "ca.key")))
    assert result["failed"] and "is not the key of the CA certificate" in result["msg"]


def test_client_key_of_another_type_is_not_replaced(run_module, pki):
    run_module("ca_root", ca_args(pki))
    run_module("client_cert", client_args(pki))
    result = run_module("client_cert", client_args(pki, key_type="rsa"))
    assert result["failed"] and "private_key_path" in result["msg"] and "force: true" in result["msg"]
    made = run_module("client_cert", client_args(pki, key_type="rsa", key_size=2048, force=True))
    assert made["reissue_reason"] == "forced"


def test_bundle_rebuilt_when_passphrase_or_certificate_changes(run_module, pki):
    run_module("ca_root", ca_args(pki))
    run_module("client_cert", client_args(pki))
    run_module("pkcs12_bundle", bundle_args(pki))
    assert run_module("pkcs12_bundle", bundle_args(pki, passphrase="new"))["reissue_reason"] == \
        "passphrase changed or bundle unreadable"
    run_module("client_cert", client_args(pki, email="alice@example.org"))
    assert run_module("pkcs12_bundle", bundle_args(pki, passphrase="new"))["reissue_reason"] == "certificate changed"
    assert run_module("pkcs12_bundle", bundle_args(pki, passphrase="new", encryption="compatible"),
                      check=True)["reissue_reason"] == "encryption changed"


# ------------------------------------------------------------------ ledger and CRL

def crl_args(pki, clients, **extra):
    return {"path": str(pki / "ca/crl.pem"), "ca_certificate_path": str(pki / "ca/ca.crt"),
            "ca_private_key_path": str(pki / "ca/ca.key"), "ledger_path": str(pki / "ca/ledger.json"),
            "clients": clients, **extra}


def issue(run_module, pki, name):
    (pki / name).mkdir(exist_ok=True)
    return run_module("client_cert", client_args(
        pki, certificate_path=str(pki / f"{name}/{name}.crt"), private_key_path=str(pki / f"{name}/{name}.key"),
        common_name=name, ledger_path=str(pki / "ca/ledger.json")))


def openssl_verify(pki, name):
    """What OpenSSL, independently of us, says of a client certificate against the CA and CRL."""
    result = subprocess.run(["openssl", "verify", "-crl_check", "-CAfile", str(pki / "ca/ca.crt"),
                             "-CRLfile", str(pki / "ca/crl.pem"), str(pki / f"{name}/{name}.crt")],
                            capture_output=True, text=True, check=False)
    return result.stdout + result.stderr


def test_client_cert_records_in_the_ledger(run_module, pki):
    run_module("ca_root", ca_args(pki))
    made = issue(run_module, pki, "alice")
    ledger = json.loads((pki / "ca/ledger.json").read_text())
    assert [(e["name"], e["serial"], e["status"]) for e in ledger["certificates"]] == \
        [("alice", made["serial_number"], "valid")]
    assert mode_of(pki / "ca/ledger.json") == 0o600
    assert issue(run_module, pki, "alice")["changed"] is False


def test_client_cert_adopts_a_certificate_issued_before_the_ledger(run_module, pki):
    run_module("ca_root", ca_args(pki))
    first = run_module("client_cert", client_args(pki))
    # without ledger_path, the CA's own ledger.json: every certificate the CA signs is revocable
    assert [e["serial"] for e in json.loads((pki / "ca/ledger.json").read_text())["certificates"]] == [
        first["serial_number"]]
    (pki / "ca/ledger.json").unlink()  # as an older release left it
    adopted = run_module("client_cert", client_args(pki, ledger_path=str(pki / "ca/ledger.json")))
    assert adopted["changed"] and "reissue_reason" not in adopted
    assert adopted["serial_number"] == first["serial_number"]
    assert json.loads((pki / "ca/ledger.json").read_text())["certificates"][0]["name"] == "alice"


@pytest.mark.parametrize("name, where", [
    ('a"; } server {', "name"),
    ("..", "name"),
    (None, "certificate_path"),  # the name from the file name: "x y"
])
def test_client_cert_refuses_a_name_that_is_no_identity_and_writes_nothing(run_module, pki, name, where):
    run_module("ca_root", ca_args(pki))
    before = snapshot(pki)
    extra = {"name": name} if name else {"certificate_path": str(pki / "alice/x y.crt")}
    failed = run_module("client_cert", client_args(pki, **extra))
    assert failed.get("failed") and where in failed["msg"] and "letters, digits" in failed["msg"], failed
    assert snapshot(pki) == before


def test_crl_converges_and_revokes_by_name(run_module, pki):
    run_module("ca_root", ca_args(pki))
    for name in ("alice", "carol", "dave"):
        issue(run_module, pki, name)
    clients = [{"name": "alice"}, {"name": "carol", "state": "revoked", "revoke_reason": "key_compromise"}]
    made = converge(run_module, "crl", crl_args(pki, clients), pki)
    assert made["newly_revoked"] == ["carol", "dave"]  # dave is no longer listed
    assert sorted(e["name"] for e in made["revoked"]) == ["carol", "dave"]
    assert made["crl_number"] == 1 and made["reissue_reason"] == "missing"
    assert ": OK" in openssl_verify(pki, "alice")
    assert "certificate revoked" in openssl_verify(pki, "carol")


def test_crl_revokes_from_the_ledger_without_files_and_numbers_increase(run_module, pki):
    run_module("ca_root", ca_args(pki))
    issue(run_module, pki, "alice")
    issue(run_module, pki, "bob")
    first = run_module("crl", crl_args(pki, [{"name": "alice"}, {"name": "bob"}]))
    for path in (pki / "bob").iterdir():
        path.unlink()
    predicted = run_module("crl", crl_args(pki, [{"name": "alice"}, {"name": "bob", "state": "absent"}]), check=True)
    assert predicted["changed"] and predicted["newly_revoked"] == ["bob"]
    second = run_module("crl", crl_args(pki, [{"name": "alice"}, {"name": "bob", "state": "absent"}]))
    assert second["reissue_reason"] == "revocations changed" and second["newly_revoked"] == ["bob"]
    assert second["crl_number"] == first["crl_number"] + 1
    third = run_module("crl", crl_args(pki, [{"name": "alice"}, {"name": "bob", "state": "absent"}],
                                       next_update_days=5, refresh_before_days=5 - 1))
    assert third["changed"] is False  # the current CRL still has ~30 days


def spki_of(pki, name):
    key = serialization.load_pem_private_key((pki / f"{name}/{name}.key").read_bytes(), None)
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def ledger_of(pki):
    return json.loads((pki / "ca/ledger.json").read_text())


def valid_serials(pki, name):
    return [e["serial"] for e in ledger_of(pki)["certificates"] if e["name"] == name and e["status"] == "valid"]


@pytest.mark.parametrize("reason", ["unspecified", "key_compromise", "cessation_of_operation", "superseded"])
def test_a_reinstated_user_gets_a_new_key_whatever_the_revocation_reason(run_module, pki, reason):
    run_module("ca_root", ca_args(pki))
    old = issue(run_module, pki, "alice")
    old_key = spki_of(pki, "alice")
    revoked = run_module("crl", crl_args(pki, [{"name": "alice", "state": "revoked", "revoke_reason": reason}]))
    assert revoked.get("newly_revoked") == ["alice"], revoked["_stdout"]
    before = snapshot(pki)
    predicted = run_module("client_cert", client_args(
        pki, certificate_path=str(pki / "alice/alice.crt"), private_key_path=str(pki / "alice/alice.key"),
        common_name="alice", ledger_path=str(pki / "ca/ledger.json")), check=True)
    assert predicted["changed"] and predicted["reissue_reason"] == "key revoked", predicted
    assert snapshot(pki) == before
    again = issue(run_module, pki, "alice")
    assert again["reissue_reason"] == "key revoked" and again["serial_number"] != old["serial_number"]
    assert spki_of(pki, "alice") != old_key
    assert issue(run_module, pki, "alice")["changed"] is False
    assert valid_serials(pki, "alice") == [again["serial_number"]]
    assert run_module("crl", crl_args(pki, [{"name": "alice"}]))["changed"] is False


def test_a_revoked_key_is_never_certified_again_even_without_its_certificate(run_module, pki):
    run_module("ca_root", ca_args(pki))
    issue(run_module, pki, "alice")
    old_key = spki_of(pki, "alice")
    run_module("crl", crl_args(pki, [{"name": "alice", "state": "revoked", "revoke_reason": "key_compromise"}]))
    (pki / "alice/alice.crt").unlink()  # only the stolen key is left
    again = issue(run_module, pki, "alice")
    assert again["reissue_reason"] == "key revoked" and spki_of(pki, "alice") != old_key


def old_certificate_verdict(pki):
    verdict = subprocess.run(["openssl", "verify", "-crl_check", "-CAfile", str(pki / "ca/ca.crt"), "-CRLfile",
                              str(pki / "ca/crl.pem"), str(pki / "old-alice.crt")], capture_output=True, text=True, check=False)
    return verdict.stdout + verdict.stderr


@pytest.mark.parametrize("replace", ["delete the key", "force"])
def test_a_certificate_of_a_replaced_key_is_revoked_as_superseded(run_module, pki, replace):
    run_module("ca_root", ca_args(pki))
    old = issue(run_module, pki, "alice")
    run_module("crl", crl_args(pki, [{"name": "alice"}]))
    if replace == "delete the key":
        (pki / "alice/alice.key").unlink()
    shutil.copy(pki / "alice/alice.crt", pki / "old-alice.crt")
    new = run_module("client_cert", client_args(
        pki, certificate_path=str(pki / "alice/alice.crt"), private_key_path=str(pki / "alice/alice.key"),
        common_name="alice", ledger_path=str(pki / "ca/ledger.json"), force=replace == "force"))
    assert new["changed"] and new["superseded"] == [old["serial_number"]]
    assert valid_serials(pki, "alice") == [new["serial_number"]]
    entry = {e["serial"]: e for e in ledger_of(pki)["certificates"]}[old["serial_number"]]
    assert (entry["status"], entry["reason"]) == ("revoked", "superseded")
    assert run_module("crl", crl_args(pki, [{"name": "alice"}]))["changed"]
    assert "certificate revoked" in old_certificate_verdict(pki)
    assert ": OK" in openssl_verify(pki, "alice")


def test_a_renewal_with_the_same_key_leaves_the_previous_certificate_valid(run_module, pki):
    run_module("ca_root", ca_args(pki))
    old = issue(run_module, pki, "alice")
    run_module("crl", crl_args(pki, [{"name": "alice"}]))
    shutil.copy(pki / "alice/alice.crt", pki / "old-alice.crt")
    new = run_module("client_cert", client_args(
        pki, certificate_path=str(pki / "alice/alice.crt"), private_key_path=str(pki / "alice/alice.key"),
        common_name="alice", ledger_path=str(pki / "ca/ledger.json"), valid_days=200))
    assert new["changed"] and new["reissue_reason"] == "validity changed" and "superseded" not in new
    assert valid_serials(pki, "alice") == [old["serial_number"], new["serial_number"]]
    assert run_module("crl", crl_args(pki, [{"name": "alice"}]))["changed"] is False
    assert ": OK" in old_certificate_verdict(pki) and ": OK" in openssl_verify(pki, "alice")


def test_upgrade_from_a_ledger_that_kept_a_superseded_certificate_valid(run_module, clients_pki):
    """The previous release left the old certificate valid after a rekey: the first run revokes it."""
    pki = clients_pki
    args = clients_args(pki, USERS[:1], ca_passphrase="ca-secret")
    first = run_module("clients", args)["clients"][0]
    (pki / "clients/alice/alice.key").unlink()
    ledger = ledger_of(pki)
    second = run_module("clients", args)["clients"][0]
    # what the previous release wrote: both certificates valid
    (pki / "ca/ledger.json").write_text(json.dumps({**ledger_of(pki), "certificates": [
        {**e, "status": "valid", "revoked_at": None, "reason": None} for e in ledger_of(pki)["certificates"]]}))
    assert ledger["certificates"][0]["serial"] == first["serial_number"]
    assert sorted(valid_serials(pki, "alice")) == sorted([first["serial_number"], second["serial_number"]])
    predicted = run_module("clients", args, check=True)
    assert predicted["changed"] and predicted["clients"][0]["superseded"] == [first["serial_number"]]
    made = run_module("clients", args)
    assert made["clients"][0]["superseded"] == [first["serial_number"]]
    assert made["clients"][0]["serial_number"] == second["serial_number"]  # the current one keeps working
    assert valid_serials(pki, "alice") == [second["serial_number"]]
    assert run_module("clients", args)["changed"] is False


@pytest.mark.parametrize("extra, fragment", [
    ({"next_update_days": 0}, "next_update_days must be at least 1"),
    ({"refresh_before_days": 30}, "refresh_before_days must be 0 to next_update_days - 1"),
])
def test_crl_bad_input(run_module, pki, extra, fragment):
    run_module("ca_root", ca_args(pki))
    before = snapshot(pki)
    result = run_module("crl", crl_args(pki, [], **extra))
    assert result["failed"] and fragment in result["msg"]
    assert snapshot(pki) == before


def test_corrupt_ledger_is_refused_not_replaced(run_module, pki):
    run_module("ca_root", ca_args(pki))
    (pki / "ca/ledger.json").write_text("{broken")
    before = snapshot(pki)
    result = run_module("crl", crl_args(pki, []))
    assert result["failed"] and "is not valid JSON" in result["msg"]
    assert snapshot(pki) == before


# ------------------------------------------------------------------ clients (many users in one run)

def clients_args(pki, clients, **extra):
    return {"ca_certificate_path": str(pki / "ca/ca.crt"), "ca_private_key_path": str(pki / "ca/ca.key"),
            "clients_dir": str(pki / "clients"), "ledger_path": str(pki / "ca/ledger.json"),
            "clients": clients, **extra}


USERS = [{"name": "alice", "email": "alice@example.org", "p12_passphrase": "alice-p12-secret"},
         {"name": "bob", "common_name": "Bob Builder", "p12_passphrase": "bob-p12-secret"},
         {"name": "carol", "valid_days": 30, "renew_before_days": 5, "p12_passphrase": "carol-p12-secret"}]


@pytest.fixture
def clients_pki(run_module, pki):
    assert run_module("ca_root", ca_args(pki, passphrase="ca-secret"))["changed"]
    return pki


@pytest.mark.parametrize("extra", [{}, {"encryption": "compatible"}, {"key_type": "rsa", "key_size": 2048}], ids=repr)
def test_clients_converges(run_module, clients_pki, extra):
    pki = clients_pki
    made = converge(run_module, "clients", clients_args(pki, USERS, ca_passphrase="ca-secret", **extra), pki)
    assert [(c["name"], c["reissue_reason"], c["bundle_reason"]) for c in made["clients"]] == \
        [(u["name"], "missing", "missing") for u in USERS]
    assert [c["subject"] for c in made["clients"]] == ["CN=alice", "CN=Bob Builder", "CN=carol"]
    assert mode_of(pki / "clients") == 0o700  # created by the module
    for user in USERS:
        name = user["name"]
        assert mode_of(pki / f"clients/{name}") == 0o700
        assert (mode_of(pki / f"clients/{name}/{name}.key"), mode_of(pki / f"clients/{name}/{name}.p12")) == (0o600, 0o600)
        assert ": OK" in subprocess.run(["openssl", "verify", "-CAfile", str(pki / "ca/ca.crt"),
                                         str(pki / f"clients/{name}/{name}.crt")],
                                        capture_output=True, text=True, check=False).stdout
    ledger = json.loads((pki / "ca/ledger.json").read_text())
    assert sorted(e["name"] for e in ledger["certificates"]) == ["alice", "bob", "carol"]
    for secret in ("ca-secret", "alice-p12-secret", "bob-p12-secret", "carol-p12-secret"):
        assert secret not in made["_stdout"]


def test_clients_changes_only_the_user_that_changed(run_module, clients_pki):
    pki = clients_pki
    args = clients_args(pki, USERS, ca_passphrase="ca-secret")
    run_module("clients", args)
    changed = [dict(u) for u in USERS]
    changed[1]["email"] = "bob@example.org"
    changed[2]["p12_passphrase"] = "carol-new-secret"
    predicted = run_module("clients", {**args, "clients": changed}, check=True)
    report = {c["name"]: c for c in predicted["clients"]}
    assert predicted["changed"] and not report["alice"]["changed"]
    assert (report["bob"]["reissue_reason"], report["bob"]["bundle_reason"]) == ("email changed", "certificate changed")
    assert "reissue_reason" not in report["carol"] and report["carol"]["bundle_reason"] == "passphrase changed or bundle unreadable"
    assert "[bob]" in predicted["diff"]["after"] and "[alice]" not in predicted["diff"]["after"]
    made = run_module("clients", {**args, "clients": changed})
    assert [c["changed"] for c in made["clients"]] == [False, True, True]
    assert run_module("clients", {**args, "clients": changed})["changed"] is False


@pytest.mark.parametrize("bad, fragment", [
    ({"name": "../escape", "p12_passphrase": "x"}, "name must be letters, digits"),
    ({"name": "alice", "p12_passphrase": "x"}, "is used again"),
    ({"name": "eve", "email": "nope", "p12_passphrase": "x"}, "email must look like"),
    ({"name": "eve", "p12_passphrase": ""}, "passphrase must not be empty"),
])
def test_clients_bad_input_changes_nothing(run_module, clients_pki, bad, fragment):
    pki = clients_pki
    before = snapshot(pki)
    result = run_module("clients", clients_args(pki, USERS + [bad], ca_passphrase="ca-secret"))
    assert result.get("failed") and fragment in result["msg"]
    assert snapshot(pki) == before


def test_clients_generate_a_passphrase_when_none_is_given(run_module, clients_pki):
    pki = clients_pki
    args = clients_args(pki, [{"name": "dora"}], ca_passphrase="ca-secret", passphrases_dir=str(pki / "passphrases"),
                        zip=True)
    before = snapshot(pki)
    predicted = run_module("clients", args, check=True)
    assert predicted["changed"] and predicted["clients"][0]["bundle_reason"] == "certificate changed"
    assert snapshot(pki) == before
    made = run_module("clients", args)
    path = pki / "passphrases/dora.p12-passphrase"
    value = path.read_text().strip()
    assert (mode_of(path), mode_of(pki / "passphrases")) == (0o600, 0o700)
    assert re.fullmatch(r"([0-9a-z]{5}-){3}[0-9a-z]{5}", value)
    for bundle in ("dora.p12", "dora-compat.p12"):
        P.pkcs12.load_pkcs12((pki / "clients/dora" / bundle).read_bytes(), value.encode())
    assert value not in made["_stdout"]
    for kit_file in (pki / "clients/dora").iterdir():  # the zip is stored, not compressed: a plain search holds
        assert value.encode() not in kit_file.read_bytes(), kit_file
    after = snapshot(pki)
    assert run_module("clients", args)["changed"] is False
    assert snapshot(pki) == after  # the passphrase is read back, not made again
    path.unlink()  # lost: a new one is made and the bundles follow it
    remade = run_module("clients", args)["clients"][0]
    assert remade["bundle_reason"] == "passphrase changed or bundle unreadable" and "reissue_reason" not in remade


def test_clients_without_a_passphrase_need_a_place_to_keep_one(run_module, clients_pki):
    pki = clients_pki
    before = snapshot(pki)
    result = run_module("clients", clients_args(pki, [{"name": "dora"}], ca_passphrase="ca-secret"))
    assert result.get("failed") and "clients[0].p12_passphrase is not set for dora" in result["msg"]
    assert "passphrases_dir" in result["msg"] and snapshot(pki) == before


def test_short_inventory_passphrases_are_warned_by_name(run_module, clients_pki):
    pki = clients_pki
    made = run_module("clients", clients_args(pki, USERS + [{"name": "eve", "p12_passphrase": "short-one"}],
                                              ca_passphrase="ca-secret"))
    # ansible-core 2.19 wraps module warnings in a summary object; the text is the same
    assert len(made["warnings"]) == 1 and "p12_passphrase of bob, eve is shorter than 16" in str(made["warnings"])
    assert "short-one" not in made["_stdout"] and "bob-p12-secret" not in made["_stdout"]


# ------------------------------------------------------------------ clients: each user's onboarding kit

def kit_args(pki, **extra):
    return clients_args(pki, USERS, **{"ca_passphrase": "ca-secret", "trust_certificate_path": str(pki / "server/ca.crt"),
                                       "server_url": "https://localhost:8443/", "zip": True, **extra})


@pytest.fixture
def kit_pki(run_module, clients_pki):
    server_ca = {"certificate_path": str(clients_pki / "server/ca.crt"),
                 "private_key_path": str(clients_pki / "server/ca.key"), "common_name": "localhost server CA"}
    assert run_module("ca_root", server_ca)["changed"]
    return clients_pki


def kit_file(pki, name, suffix):
    return pki / f"clients/{name}/{suffix.replace('NAME', name)}"


def test_clients_kit_converges(run_module, kit_pki):
    pki = kit_pki
    made = converge(run_module, "clients", kit_args(pki), pki)
    alice = made["clients"][0]
    assert (alice["bundle_reason"], alice["compat_bundle_reason"]) == ("missing", "missing")
    assert alice["kit_reason"] == "ca.crt missing, README.html missing, alice.mobileconfig missing, alice.zip missing"
    for user in USERS:
        name = user["name"]
        modes = {suffix: mode_of(kit_file(pki, name, suffix)) for suffix in (
            "NAME.p12", "NAME-compat.p12", "NAME.mobileconfig", "NAME.zip", "ca.crt", "README.html")}
        assert modes == {"NAME.p12": 0o600, "NAME-compat.p12": 0o600, "NAME.mobileconfig": 0o600, "NAME.zip": 0o600,
                         "ca.crt": 0o644, "README.html": 0o644}
        compat = kit_file(pki, name, "NAME-compat.p12").read_bytes()
        assert P.encryption_profile(compat) == "compatible"
        assert P.encryption_profile(kit_file(pki, name, "NAME.p12").read_bytes()) == "modern"
        assert kit_file(pki, name, "ca.crt").read_bytes() == (pki / "server/ca.crt").read_bytes()
        profile = plistlib.loads(kit_file(pki, name, "NAME.mobileconfig").read_bytes())
        assert [p["PayloadContent"] for p in profile["PayloadContent"]] == [
            compat, X.certificate_der(X.load_certificate((pki / "server/ca.crt").read_bytes(), "ca.crt"))]
        with zipfile.ZipFile(kit_file(pki, name, "NAME.zip")) as archive:
            assert sorted(archive.namelist()) == sorted(
                [f"{name}.crt", f"{name}.p12", f"{name}-compat.p12", f"{name}.mobileconfig", "ca.crt", "README.html"])
            assert archive.read(f"{name}-compat.p12") == compat
        readme = kit_file(pki, name, "README.html").read_text()
        assert K.colon_hex(made["clients"][USERS.index(user)]["fingerprint_sha256"]) in readme
        # Nothing the user receives holds the passphrase.
        for path in (pki / f"clients/{name}").iterdir():
            assert user["p12_passphrase"].encode() not in path.read_bytes(), path


def test_clients_kit_follows_the_options(run_module, kit_pki):
    pki = kit_pki
    run_module("clients", kit_args(pki))
    bundles = {p: (p.read_bytes(), p.stat().st_ino) for p in (pki / "clients").glob("*/*.p12")}
    args = kit_args(pki, zip=False)
    del args["trust_certificate_path"]
    predicted = run_module("clients", args, check=True)
    assert predicted["changed"]
    assert predicted["clients"][0]["kit_reason"] == "ca.crt removed, README.html changed, alice.mobileconfig changed, alice.zip removed"
    assert kit_file(pki, "alice", "NAME.zip").exists(), "check mode removed a file"
    run_module("clients", args)
    for name in ("alice", "bob", "carol"):
        assert not kit_file(pki, name, "ca.crt").exists() and not kit_file(pki, name, "NAME.zip").exists()
        profile = plistlib.loads(kit_file(pki, name, "NAME.mobileconfig").read_bytes())
        assert [p["PayloadType"] for p in profile["PayloadContent"]] == ["com.apple.security.pkcs12"]
        assert "ca.crt" not in kit_file(pki, name, "README.html").read_text()
    assert {p: (p.read_bytes(), p.stat().st_ino) for p in (pki / "clients").glob("*/*.p12")} == bundles
    assert run_module("clients", args)["changed"] is False


def test_clients_kit_new_passphrase_rebuilds_what_holds_the_bundles(run_module, kit_pki):
    pki = kit_pki
    run_module("clients", kit_args(pki))
    before = snapshot(pki / "clients/carol")
    users = [dict(u) for u in USERS]
    users[2]["p12_passphrase"] = "carol-new-secret"
    made = run_module("clients", {**kit_args(pki), "clients": users})
    carol = made["clients"][2]
    assert carol["kit_reason"] == "carol.mobileconfig changed, carol.zip changed" and "reissue_reason" not in carol
    after = snapshot(pki / "clients/carol")
    unchanged = {os.path.basename(path) for path in after if after[path] == before[path]}
    assert unchanged == {"carol.key", "carol.crt", "ca.crt", "README.html"}
    assert [c["changed"] for c in made["clients"]] == [False, False, True]


def test_clients_kit_needs_its_trust_certificate(run_module, clients_pki):
    pki = clients_pki
    before = snapshot(pki)
    result = run_module("clients", kit_args(pki))
    assert result.get("failed") and "trust_certificate_path:" in result["msg"] and "does not exist" in result["msg"]
    assert snapshot(pki) == before
    # In check mode an earlier task of the same run may be the one that creates it.
    predicted = run_module("clients", kit_args(pki), check=True)
    assert predicted["changed"] and not predicted.get("failed")


def rollover_args(pki, clients, keep=True):
    """The clients module issuing from the next CA (ca-next/) during a rollover from ca/."""
    return clients_args(pki, clients, ca_certificate_path=str(pki / "ca-next/ca.crt"),
                        ca_private_key_path=str(pki / "ca-next/ca.key"), ledger_path=str(pki / "ca-next/ledger.json"),
                        other_ledger_paths=[str(pki / "ca/ledger.json")],
                        **({"keep_issuer_certificate_path": str(pki / "ca/ca.crt")} if keep else {}))


def two_cas(run_module, pki):
    """A rollover's two client CAs: ca/ (Test CA) and ca-next/ (Test CA 2)."""
    run_module("ca_root", ca_args(pki))
    (pki / "ca-next").mkdir()
    run_module("ca_root", ca_args(pki, certificate_path=str(pki / "ca-next/ca.crt"),
                                  private_key_path=str(pki / "ca-next/ca.key"), common_name="Test CA 2"))


ROLLOVER_DIRS = ("ca_dir", "ca"), ("next_ca_dir", "ca-next"), ("archive_dir", "archive")


def issuer_cn(pki, name):
    cert = X.load_certificate((pki / f"clients/{name}/{name}.crt").read_bytes(), name)
    return cert.issuer.rfc4514_string(), X.serial_hex(cert.serial_number)


def test_a_rollover_keeps_sound_certificates_of_the_previous_ca_until_they_need_renewing(run_module, pki):
    two_cas(run_module, pki)
    users = [{"name": "alice", "p12_passphrase": "alice-p12-secret"}, {"name": "bob", "p12_passphrase": "bob-p12-secret"}]
    assert run_module("clients", clients_args(pki, users))["changed"]
    old = {name: issuer_cn(pki, name) for name in ("alice", "bob")}
    # migrate, as users renew: nothing to renew, nothing changes; a new user and a changed one get the next CA
    assert run_module("clients", rollover_args(pki, users))["changed"] is False
    carol = {"name": "carol", "p12_passphrase": "carol-p12-secret"}
    bob = {**users[1], "email": "bob@example.org"}
    made = run_module("clients", rollover_args(pki, [users[0], bob, carol]))
    assert {entry["name"]: entry.get("reissue_reason") for entry in made["clients"]} == {
        "alice": None, "bob": "issuer changed", "carol": "missing"}
    assert issuer_cn(pki, "alice") == old["alice"]
    assert issuer_cn(pki, "bob")[0] == issuer_cn(pki, "carol")[0] == "CN=Test CA 2"
    next_ledger = json.loads((pki / "ca-next/ledger.json").read_text())
    assert sorted(entry["name"] for entry in next_ledger["certificates"]) == ["bob", "carol"]
    assert run_module("clients", rollover_args(pki, [users[0], bob, carol]))["changed"] is False
    # migrate, all at once: alice's certificate of the previous CA is replaced too
    again = run_module("clients", rollover_args(pki, [users[0], bob, carol], keep=False))
    assert [entry["name"] for entry in again["clients"] if entry["changed"]] == ["alice"]
    assert issuer_cn(pki, "alice")[0] == "CN=Test CA 2" and issuer_cn(pki, "alice")[1] != old["alice"][1]
    serials = [entry["serial"] for path in ("ca", "ca-next") for entry in
               json.loads((pki / path / "ledger.json").read_text())["certificates"]]
    assert len(serials) == len(set(serials)) == 5


def test_a_key_revoked_under_the_previous_ca_is_never_certified_by_the_next(run_module, pki):
    two_cas(run_module, pki)
    dave = [{"name": "dave", "p12_passphrase": "dave-p12-secret"}]
    run_module("clients", clients_args(pki, dave))
    stolen = X.public_key_der(load_private_key((pki / "clients/dave/dave.key").read_bytes(), None, "dave")[0])
    run_module("crl", crl_args(pki, [{"name": "dave", "state": "revoked", "revoke_reason": "key_compromise"}]))
    made = run_module("clients", rollover_args(pki, dave))
    assert made["clients"][0]["reissue_reason"] == "key revoked", made["clients"]
    assert X.public_key_der(load_private_key((pki / "clients/dave/dave.key").read_bytes(), None, "dave")[0]) != stolen
    assert issuer_cn(pki, "dave")[0] == "CN=Test CA 2"


def test_ca_rollover_archives_what_retire_and_abandon_leave_and_deletes_nothing(run_module, pki):
    args = {option: str(pki / directory) for option, directory in ROLLOVER_DIRS}
    two_cas(run_module, pki)
    old, new = (pki / "ca/ca.crt").read_bytes(), (pki / "ca-next/ca.crt").read_bytes()
    assert run_module("ca_rollover", {**args, "stage": "migrate"})["changed"] is False
    dropped = run_module("ca_rollover", {**args, "stage": "none"})
    assert dropped.get("failed") and "a CA rollover is under way" in dropped["msg"]
    before = snapshot(pki)
    predicted = run_module("ca_rollover", {**args, "stage": "retire"}, check=True)
    assert predicted["changed"] and [move["to"] for move in predicted["moved"]][1] == str(pki / "ca")
    assert snapshot(pki) == before
    made = run_module("ca_rollover", {**args, "stage": "retire"})
    archived = made["moved"][0]["to"]
    assert made["changed"] and archived.endswith("-retired") and (pki / "ca/ca.crt").read_bytes() == new
    assert sorted(os.listdir(archived)) == ["ca.crt", "ca.key"] and open(f"{archived}/ca.crt", "rb").read() == old
    assert made["archived_ledgers"] == [f"{archived}/ledger.json"]
    assert mode_of(pki / "archive") == 0o700
    assert run_module("ca_rollover", {**args, "stage": "retire"})["changed"] is False


@pytest.mark.parametrize("within, crl_within, expiring", [
    (10, 3, {"cas": [], "crls": [], "clients": [], "servers": []}),
    (31, 3, {"cas": [], "crls": [], "clients": ["carol"], "servers": []}),  # carol's 30-day certificate
    (31, 31, {"cas": [], "crls": ["CN=Test CA"], "clients": ["carol"], "servers": []}),
    (4000, 3, {"cas": ["CN=Test CA"], "crls": [], "clients": ["alice", "carol"], "servers": []}),
])
def test_pki_info_reports_everything_and_what_ends_within_the_threshold(run_module, pki, within, crl_within, expiring):
    run_module("ca_root", ca_args(pki))
    users = [USERS[0], USERS[2], {"name": "dave", "p12_passphrase": "dave-p12-secret"}]
    run_module("clients", clients_args(pki, users))
    run_module("crl", crl_args(pki, [{"name": "alice"}, {"name": "carol"}, {"name": "dave", "state": "revoked"}]))
    before = snapshot(pki)
    info = run_module("pki_info", {"pki_dir": str(pki), "expiring_within_days": within,
                                   "crl_expiring_within_days": crl_within}, check=True)
    assert snapshot(pki) == before and info["changed"] is False
    assert [(ca["role"], ca["subject"]) for ca in info["cas"]] == [("current", "CN=Test CA")]
    assert {c["name"]: (c["state"], c["revoked_reason"]) for c in info["clients"]} == {
        "alice": ("valid", None), "carol": ("valid", None), "dave": ("revoked", "unspecified")}
    got = {kind: sorted(item.split(" (")[0] for item in items) for kind, items in info["expiring"].items()}
    assert got == expiring and info["expiring_count"] == sum(len(items) for items in expiring.values())
    assert any(line.startswith("client") and "dave" in line and "revoked" in line for line in info["table"])


def test_pki_info_refuses_a_missing_directory(run_module, pki):
    result = run_module("pki_info", {"pki_dir": str(pki / "nowhere")})
    assert result.get("failed") and "pki_dir:" in result["msg"] and "is not a directory" in result["msg"]


def test_an_abandoned_rollover_gives_users_the_current_ca_again(run_module, pki):
    args = {option: str(pki / directory) for option, directory in ROLLOVER_DIRS}
    two_cas(run_module, pki)
    bob = [{"name": "bob", "p12_passphrase": "bob-p12-secret"}]
    run_module("clients", rollover_args(pki, bob))  # migrate: bob, new, gets the next CA
    issued_by_next = issuer_cn(pki, "bob")
    assert issued_by_next[0] == "CN=Test CA 2"
    abandoned = run_module("ca_rollover", {**args, "stage": "abandon"})
    assert abandoned["moved"][0]["to"].endswith("-abandoned") and not (pki / "ca-next").exists()
    again = run_module("clients", clients_args(pki, bob, other_ledger_paths=abandoned["archived_ledgers"]))
    assert again["clients"][0]["reissue_reason"] == "issuer changed"
    assert issuer_cn(pki, "bob")[0] == "CN=Test CA" and issuer_cn(pki, "bob")[1] != issued_by_next[1]
    assert run_module("ca_rollover", {**args, "stage": "none"})["changed"] is False


def own_request(key, extensions=()):
    """A certificate request made outside the collection (as openssl req would), PEM text."""
    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives import hashes
    builder = cx509.CertificateSigningRequestBuilder().subject_name(
        cx509.Name([cx509.NameAttribute(cx509.oid.NameOID.COMMON_NAME, "admin")]))
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def test_a_user_who_brings_a_request_gets_a_certificate_for_that_key_and_no_bundle(run_module, pki):
    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives.asymmetric import ec
    run_module("ca_root", ca_args(pki))
    carol_key = ec.generate_private_key(ec.SECP256R1())
    asks = [cx509.BasicConstraints(ca=True, path_length=None),
            cx509.ExtendedKeyUsage([cx509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
            cx509.SubjectAlternativeName([cx509.DNSName("evil.example.org")])]
    carol = {"name": "carol", "email": "carol@example.org", "csr": own_request(carol_key, asks)}
    args = clients_args(pki, [carol], passphrases_dir=str(pki / "passphrases"), zip=True)
    made = converge(run_module, "clients", args, pki)
    assert "evil.example.org" in str(made.get("warnings")) and "CA:TRUE" in str(made.get("warnings"))
    assert sorted(os.listdir(pki / "clients/carol")) == ["README.html", "carol.crt", "carol.zip"]
    cert = X.load_certificate((pki / "clients/carol/carol.crt").read_bytes(), "carol")
    assert X.public_key_der(cert) == X.public_key_der(carol_key.public_key())
    assert cert.subject.rfc4514_string() == "CN=carol"  # the inventory's subject, not the request's "admin"
    assert cert.extensions.get_extension_for_class(cx509.BasicConstraints).value.ca is False
    assert list(cert.extensions.get_extension_for_class(cx509.ExtendedKeyUsage).value) == [
        cx509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]
    assert [str(n.value) for n in cert.extensions.get_extension_for_class(cx509.SubjectAlternativeName).value] == [
        "carol@example.org"]
    assert not (pki / "passphrases/carol.p12-passphrase").exists()
    # renewal re-signs the same request: same key, new certificate, the old one valid until it ends
    renewed = run_module("clients", {**args, "clients": [{**carol, "valid_days": 90}]})
    assert renewed["clients"][0]["reissue_reason"] == "validity changed"
    assert X.public_key_der(X.load_certificate((pki / "clients/carol/carol.crt").read_bytes(), "c")) == \
        X.public_key_der(carol_key.public_key())
    assert len(valid_serials(pki, "carol")) == 2
    first_end = ledger_of(pki)["certificates"][0]["not_after"]
    readme = (pki / "clients/carol/README.html").read_text()
    assert "This kit renews your certificate" in readme and f"keeps working until <code>{first_end[:10]}" in readme
    # a new request (a new key) replaces the certificate, both of the old key superseded
    new_key = ec.generate_private_key(ec.SECP256R1())
    carol = {**carol, "valid_days": 90, "csr": own_request(new_key)}
    replaced = run_module("clients", {**args, "clients": [carol]})
    assert replaced["clients"][0]["reissue_reason"] == "key changed" and len(valid_serials(pki, "carol")) == 1


def test_a_revoked_request_key_needs_a_new_request_and_bad_requests_change_nothing(run_module, pki):
    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    run_module("ca_root", ca_args(pki))
    key = ec.generate_private_key(ec.SECP256R1())
    carol = {"name": "carol", "csr": own_request(key)}
    run_module("clients", clients_args(pki, [carol]))
    run_module("crl", crl_args(pki, [{"name": "carol", "state": "revoked", "revoke_reason": "key_compromise"}]))
    before = snapshot(pki)
    again = run_module("clients", clients_args(pki, [carol]))
    assert again.get("failed") and "the key of this request was revoked" in again["msg"] and "new request" in again["msg"]
    weak = own_request(rsa.generate_private_key(65537, 1024))
    der = bytearray(cx509.load_pem_x509_csr(own_request(ec.generate_private_key(ec.SECP256R1())).encode())
                    .public_bytes(serialization.Encoding.DER))
    der[-1] ^= 1
    broken = "-----BEGIN CERTIFICATE REQUEST-----\n" + base64.encodebytes(bytes(der)).decode() + "-----END CERTIFICATE REQUEST-----\n"
    for csr, fragment in ((weak, "an RSA key of 1024 bits is refused"), (broken, "signature does not verify"),
                          ("garbage", "is not a PEM certificate request")):
        refused = run_module("clients", clients_args(pki, [{"name": "carol", "csr": csr}]))
        assert refused.get("failed") and "clients[0] (carol).csr" in refused["msg"] and fragment in refused["msg"], refused
    assert snapshot(pki) == before
    fresh = run_module("clients", clients_args(pki, [{"name": "carol", "csr": own_request(ec.generate_private_key(ec.SECP256R1()))}]))
    assert fresh["changed"] and fresh["clients"][0]["reissue_reason"] == "revoked"


def test_a_user_switching_to_their_own_key_loses_the_key_and_bundles_made_here(run_module, pki):
    from cryptography.hazmat.primitives.asymmetric import ec
    run_module("ca_root", ca_args(pki))
    run_module("clients", clients_args(pki, [{"name": "dave", "p12_passphrase": "dave-p12-secret-passphrase"}]))
    assert (pki / "clients/dave/dave.key").exists() and (pki / "clients/dave/dave.p12").exists()
    switched = run_module("clients", clients_args(pki, [{"name": "dave", "csr": own_request(ec.generate_private_key(ec.SECP256R1()))}]))
    assert switched["clients"][0]["reissue_reason"] == "key changed"
    assert sorted(os.listdir(pki / "clients/dave")) == ["README.html", "dave.crt"]
    assert len(valid_serials(pki, "dave")) == 1


def test_one_key_one_name_and_a_revoked_key_never_comes_back(run_module, pki):
    """carol and dave both send carol's request; carol's key is later reported stolen."""
    from cryptography.hazmat.primitives.asymmetric import ec
    run_module("ca_root", ca_args(pki))
    carol_csr = own_request(ec.generate_private_key(ec.SECP256R1()))
    run_module("clients", clients_args(pki, [{"name": "carol", "csr": carol_csr}]))
    before = snapshot(pki)
    shared = run_module("clients", clients_args(pki, [{"name": "carol", "csr": carol_csr},
                                                      {"name": "dave", "csr": carol_csr}]))
    assert shared.get("failed") and "clients[1] (dave).csr: this key is certified for carol" in shared["msg"], shared
    assert snapshot(pki) == before
    # in one run, the first name to get the key keeps it
    first_run = run_module("clients", clients_args(pki, [{"name": "erin", "csr": own_request(key := ec.generate_private_key(ec.SECP256R1()))},
                                                         {"name": "frank", "csr": own_request(key)}]))
    assert first_run.get("failed") and "(frank).csr: this key is certified for erin" in first_run["msg"], first_run
    assert snapshot(pki) == before
    # revoked, removed, then re-added with the same request: refused, under her name or another
    run_module("crl", crl_args(pki, [{"name": "carol", "state": "revoked", "revoke_reason": "key_compromise"}]))
    run_module("crl", crl_args(pki, [{"name": "carol", "state": "absent"}]))
    before = snapshot(pki)
    for name in ("carol", "mallory"):
        back = run_module("clients", clients_args(pki, [{"name": name, "csr": carol_csr}]))
        assert back.get("failed") and ("was revoked" in back["msg"] or "certified for carol" in back["msg"]), back
    assert snapshot(pki) == before


def test_a_hostile_request_fails_the_run_before_anything_is_written(run_module, pki):
    """A correctly signed request with two subjectAltName extensions, next to a new user."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from ansible_collections.mtls.nginx.tests.unit.hostile import resigned
    run_module("ca_root", ca_args(pki))
    run_module("clients", clients_args(pki, [{"name": "alice", "p12_passphrase": "alice-p12-secret"}]))
    key = ec.generate_private_key(ec.SECP256R1())
    from cryptography import x509 as cx509
    san = cx509.SubjectAlternativeName([cx509.DNSName("evil.example.org")])
    decoy = cx509.UnrecognizedExtension(cx509.ObjectIdentifier("2.5.29.99"), san.public_bytes())
    hostile = resigned(own_request(key, [san, decoy]).encode(), key,
                       lambda info: info.replace(b"\x06\x03\x55\x1d\x63", b"\x06\x03\x55\x1d\x11"))
    before = snapshot(pki)
    users = [{"name": "alice", "p12_passphrase": "alice-p12-secret"}, {"name": "bob", "p12_passphrase": "bob-p12-secret"},
             {"name": "dave", "csr": hostile}]
    failed = run_module("clients", clients_args(pki, users))
    assert failed.get("failed") and failed["msg"].startswith("clients[2] (dave).csr: its subject or extensions cannot"), failed
    assert snapshot(pki) == before and not (pki / "clients/bob").exists()


def test_ca_root_warns_when_it_makes_a_new_ca(run_module, pki):
    made = run_module("ca_root", ca_args(pki))
    warning = str(made["warnings"][0])  # ansible-core 2.19 returns warnings as structured events
    assert made["created"] is True and "a NEW CA (CN=" in warning and "restore it from your backup" in warning
    again = run_module("ca_root", ca_args(pki))
    assert again["created"] is False and not again.get("warnings")
    (pki / "ca/ca.crt").unlink()  # re-signed with the existing key: the same CA, no warning
    resigned = run_module("ca_root", ca_args(pki))
    assert resigned["changed"] and resigned["created"] is False and not resigned.get("warnings")


@pytest.mark.parametrize("name, args_for, report", [
    ("clients", lambda pki: clients_args(pki, [{"name": "alice"}, {"name": "bob"}]), "clients"),
    ("crl", lambda pki: crl_args(pki, [{"name": "alice"}]), None),
    ("server_certs", lambda pki: {"ca_certificate_path": str(pki / "ca/ca.crt"), "ca_private_key_path": str(pki / "ca/ca.key"),
                                  "servers_dir": str(pki / "server"), "servers": FLEET}, "servers"),
    ("client_cert", lambda pki: client_args(pki, ledger_path=str(pki / "ca/ledger.json")), None),
    ("server_cert", lambda pki: {"ca_certificate_path": str(pki / "ca/ca.crt"), "ca_private_key_path": str(pki / "ca/ca.key"),
                                 "certificate_path": str(pki / "web.crt"), "private_key_path": str(pki / "web.key"),
                                 "common_name": "web1.example.org"}, None),
])
def test_check_mode_before_the_ca_exists_predicts_everything_new(run_module, pki, name, args_for, report):
    """A first dry run: ca_root would make the CA, so the modules predict every product as new (no guard in the roles)."""
    before = snapshot(pki)
    predicted = run_module(name, args_for(pki), check=True, diff=True)
    assert predicted.get("failed") is not True, predicted.get("msg")
    assert predicted["changed"] is True
    if report:
        assert all(entry["changed"] and entry["reissue_reason"] == "new CA" for entry in predicted[report])
        assert len(predicted[report]) == (2 if name == "clients" else len(FLEET))
        assert predicted["diff"]["after"].count("(will be issued: new CA)") == len(predicted[report])
    else:
        assert predicted["reissue_reason"] == "new CA" and "(will be issued: new CA)" in predicted["diff"]["after"]
    assert snapshot(pki) == before
    # Without check mode the missing CA is still an error that names it.
    failed = run_module(name, args_for(pki))
    assert failed.get("failed") and "ca.crt" in failed["msg"], failed
