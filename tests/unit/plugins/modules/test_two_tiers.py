"""Two tiers: a root that signs an issuing CA, which signs users; the root's key may go offline."""
import os
import subprocess
import sys

import pytest
from cryptography import x509

from ansible_collections.mtls.nginx.plugins.module_utils import _keys as K
from ansible_collections.mtls.nginx.plugins.module_utils import _x509 as X
from ansible_collections.mtls.nginx.tests.unit.plugins.modules.test_pki_modules import converge, snapshot


@pytest.fixture
def pki(tmp_path):
    for directory in ("root", "ca", "alice"):
        (tmp_path / directory).mkdir()
    return tmp_path


def root_args(pki, **extra):
    return {"certificate_path": str(pki / "root/ca.crt"), "private_key_path": str(pki / "root/ca.key"),
            "common_name": "Test Root CA", "path_length": 1, "valid_days": 7300, "offline": True,
            "passphrase": "root-pass", **extra}


def issuing_args(pki, **extra):
    return {"certificate_path": str(pki / "ca/ca.crt"), "private_key_path": str(pki / "ca/ca.key"),
            "common_name": "Test Issuing CA", "issuer_certificate_path": str(pki / "root/ca.crt"),
            "issuer_private_key_path": str(pki / "root/ca.key"), "issuer_passphrase": "root-pass", **extra}


def client_args(pki, **extra):
    return {"ca_certificate_path": str(pki / "ca/ca.crt"), "ca_private_key_path": str(pki / "ca/ca.key"),
            "certificate_path": str(pki / "alice/alice.crt"), "private_key_path": str(pki / "alice/alice.key"),
            "common_name": "alice", **extra}


def crl_args(pki, which="ca", **extra):
    return {"path": str(pki / f"{which}/crl.pem"), "ledger_path": str(pki / f"{which}/ledger.json"),
            "ca_certificate_path": str(pki / f"{which}/ca.crt"), "ca_private_key_path": str(pki / f"{which}/ca.key"),
            "clients": [{"name": "alice"}] if which == "ca" else [], **extra}


def cert(path):
    return X.load_certificate(path.read_bytes(), str(path))


def openssl_verify(pki, leaf, crls=False):
    """OpenSSL, as nginx does it: the root trusted, the issuing CA in the store, CRLs for every level."""
    options = ["-CAfile", str(pki / "root/ca.crt"), "-untrusted", str(pki / "ca/ca.crt")]
    if crls:
        crl_file = pki / "crls.pem"
        crl_file.write_bytes((pki / "root/crl.pem").read_bytes() + (pki / "ca/crl.pem").read_bytes())
        options += ["-crl_check_all", "-CRLfile", str(crl_file)]
    return subprocess.run(["openssl", "verify", *options, str(leaf)], capture_output=True, text=True, check=False)


@pytest.fixture
def two_tiers(run_module, pki):
    converge(run_module, "ca_root", root_args(pki), pki)
    converge(run_module, "ca_root", issuing_args(pki), pki)
    assert run_module("client_cert", client_args(pki))["changed"] is True
    for which, passphrase in (("root", "root-pass"), ("ca", None)):
        assert run_module("crl", crl_args(pki, which, ca_passphrase=passphrase, next_update_days=365))["changed"] is True
    return pki


def test_the_root_signs_the_issuing_ca_which_signs_users(two_tiers):
    root, issuing, leaf = cert(two_tiers / "root/ca.crt"), cert(two_tiers / "ca/ca.crt"), cert(two_tiers / "alice/alice.crt")
    constraints = [c.extensions.get_extension_for_class(x509.BasicConstraints).value for c in (root, issuing)]
    assert [(c.ca, c.path_length) for c in constraints] == [(True, 1), (True, 0)]
    assert root.issuer == root.subject and issuing.issuer == root.subject and leaf.issuer == issuing.subject
    issuing.verify_directly_issued_by(root)
    aki = issuing.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    assert aki == root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    assert X.not_after(issuing) <= X.not_after(root)
    result = openssl_verify(two_tiers, two_tiers / "alice/alice.crt", crls=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_without_the_roots_key_runs_that_need_no_root_signature_pass(run_module, two_tiers):
    os.unlink(two_tiers / "root/ca.key")
    before = snapshot(two_tiers)
    for name, args in (("ca_root", root_args(two_tiers)), ("ca_root", issuing_args(two_tiers)),
                       ("client_cert", client_args(two_tiers)), ("crl", crl_args(two_tiers, next_update_days=365))):
        for check in (True, False):
            result = run_module(name, args, check=check)
            assert result.get("failed") is not True and result["changed"] is False, (name, result.get("msg"))
    assert snapshot(two_tiers) == before
    assert run_module("client_cert", client_args(two_tiers, common_name="Alice", force=True))["changed"] is True


@pytest.mark.parametrize("name, args, option", [
    ("ca_root", lambda pki: issuing_args(pki, valid_days=1000), "issuer_private_key_path"),  # re-sign the issuing CA
    ("ca_root", lambda pki: root_args(pki, valid_days=3000), "private_key_path"),  # re-sign the root itself
    ("crl", lambda pki: os.unlink(pki / "root/crl.pem") or crl_args(pki, "root"), "ca_private_key_path"),  # its CRL
])
def test_a_run_that_needs_the_offline_root_fails_naming_its_key(run_module, two_tiers, name, args, option):
    os.unlink(two_tiers / "root/ca.key")
    args = args(two_tiers)
    before = snapshot(two_tiers)
    for check in (True, False):
        result = run_module(name, args, check=check)
        assert result["failed"] and result["msg"].startswith(f"{option}: ") and str(two_tiers / "root/ca.key") in result["msg"], \
            result["msg"]
    assert snapshot(two_tiers) == before


def test_a_new_issuing_ca_needs_the_root(run_module, two_tiers, tmp_path):
    os.unlink(two_tiers / "root/ca.key")
    args = issuing_args(two_tiers, certificate_path=str(tmp_path / "next.crt"), private_key_path=str(tmp_path / "next.key"),
                        common_name="Test Issuing CA 2")
    result = run_module("ca_root", args)
    assert result["failed"] and "issuer_private_key_path" in result["msg"] and "taken offline" in result["msg"]
    assert not (tmp_path / "next.key").exists()


def test_without_offline_a_missing_root_key_is_a_lost_key(run_module, two_tiers):
    os.unlink(two_tiers / "root/ca.key")
    result = run_module("ca_root", root_args(two_tiers, offline=False))
    assert result["failed"] and "restore the key" in result["msg"]


def test_a_one_tier_ca_moves_under_a_root_with_its_key_and_every_user_keeps_working(run_module, pki):
    converge(run_module, "ca_root", {**issuing_args(pki), "issuer_certificate_path": None, "issuer_private_key_path": None,
                                     "issuer_passphrase": None}, pki)
    run_module("client_cert", client_args(pki))
    old_key = (pki / "ca/ca.key").read_bytes()
    converge(run_module, "ca_root", root_args(pki), pki)
    moved = run_module("ca_root", issuing_args(pki))
    assert moved["changed"] and moved["reissue_reason"] == "issuer changed" and moved["created"] is False
    assert (pki / "ca/ca.key").read_bytes() == old_key
    assert run_module("client_cert", client_args(pki))["changed"] is False  # the user's certificate stays
    for which, passphrase in (("root", "root-pass"), ("ca", None)):
        run_module("crl", crl_args(pki, which, ca_passphrase=passphrase))
    result = openssl_verify(pki, pki / "alice/alice.crt", crls=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert run_module("ca_root", issuing_args(pki))["changed"] is False


def test_an_issuer_that_may_not_sign_cas_is_refused_and_nothing_changes(run_module, pki):
    run_module("ca_root", root_args(pki, path_length=0))
    before = snapshot(pki)
    result = run_module("ca_root", issuing_args(pki))
    assert result["failed"] and result["msg"].startswith("issuer_certificate_path: ") and "may not sign CAs" in result["msg"]
    assert snapshot(pki) == before


def test_an_issuer_key_of_another_ca_is_refused_and_nothing_changes(run_module, pki, tmp_path):
    run_module("ca_root", root_args(pki))
    (tmp_path / "other.key").write_bytes(K.dump_private_key(K.generate_key("ec"), None))
    before = snapshot(pki)
    result = run_module("ca_root", issuing_args(pki, issuer_private_key_path=str(tmp_path / "other.key"),
                                                issuer_passphrase=None))
    assert result["failed"] and "is not the key of" in result["msg"]
    assert snapshot(pki) == before


def test_the_issuer_options_come_together(run_module, pki):
    args = issuing_args(pki)
    del args["issuer_private_key_path"]
    result = run_module("ca_root", args)
    assert result["failed"] and "issuer_certificate_path" in result["msg"] and "issuer_private_key_path" in result["msg"]


def test_an_issuing_ca_that_outlives_its_root_is_capped_and_not_renewed_each_run(run_module, pki):
    converge(run_module, "ca_root", root_args(pki, valid_days=400), pki)
    converge(run_module, "ca_root", issuing_args(pki, valid_days=3650, renew_before_days=30), pki)
    assert X.not_after(cert(pki / "ca/ca.crt")) == X.not_after(cert(pki / "root/ca.crt"))


def test_the_root_itself_renews_with_its_key_and_the_issuing_ca_follows(run_module, two_tiers):
    old_root = cert(two_tiers / "root/ca.crt")
    assert run_module("ca_root", root_args(two_tiers, valid_days=7000))["reissue_reason"] == "validity changed"
    assert cert(two_tiers / "root/ca.crt").public_key() == old_root.public_key()
    # the issuing CA is still signed by the same key and name: nothing to do
    assert run_module("ca_root", issuing_args(two_tiers))["changed"] is False
    assert openssl_verify(two_tiers, two_tiers / "alice/alice.crt").returncode == 0


def pkilint(tool, *arguments):
    """DigiCert's pkilint from this Python's environment: its findings of WARNING and above ("" when clean)."""
    result = subprocess.run([os.path.join(os.path.dirname(sys.executable), tool), "lint", "-s", "WARNING", *arguments],
                            capture_output=True, text=True, check=False)
    assert result.returncode in (0, 1), result.stderr
    return result.stdout.strip()


def test_every_profile_of_both_tiers_is_pkilint_clean(two_tiers):
    root, issuing, leaf = (str(two_tiers / path) for path in ("root/ca.crt", "ca/ca.crt", "alice/alice.crt"))
    for path in (root, issuing, leaf):
        assert pkilint("lint_pkix_cert", path) == "", path
    for issuer, subject in ((root, issuing), (issuing, leaf)):  # a self-signed root may leave out the AKI (RFC 5280)
        assert pkilint("lint_pkix_signer_signee_cert_chain", issuer, subject) == "", (issuer, subject)
    # the root's CRL lists CAs (an ARL); the issuing CA's lists users
    assert pkilint("lint_crl", "-t", "ARL", "-p", "PKIX", str(two_tiers / "root/crl.pem")) == ""
    assert pkilint("lint_crl", "-t", "CRL", "-p", "PKIX", str(two_tiers / "ca/crl.pem")) == ""


def test_the_report_covers_the_root_and_warns_of_its_crl_a_month_ahead(run_module, two_tiers):
    report = run_module("pki_info", {"pki_dir": str(two_tiers)})
    root = next(ca for ca in report["cas"] if ca["role"] == "root")
    assert root["subject"] == "CN=Test Root CA" and 364 < root["crl_days_left"] <= 365
    assert report["expiring"]["crls"] == []
    # within the report's threshold for CAs, not only the few days an issuing CA's CRL gets
    late = run_module("pki_info", {"pki_dir": str(two_tiers), "expiring_within_days": 400})
    assert "CN=Test Root CA" in late["expiring"]["crls"] and "CN=Test Issuing CA" not in late["expiring"]["crls"]


def test_a_dry_run_on_a_fresh_pki_predicts_both_tiers(run_module, pki):
    """Check mode, nothing made yet: the root would be made first in the run, then sign the issuing CA."""
    root = run_module("ca_root", root_args(pki), check=True)
    issuing = run_module("ca_root", issuing_args(pki), check=True)
    assert root["changed"] and root["created"] and issuing["changed"] and issuing["created"], (root, issuing)
    assert issuing["reissue_reason"] == "new CA" and not any(pki.rglob("*.crt"))


def test_a_bundle_carries_the_issuing_ca_as_its_chain_and_never_the_root(run_module, two_tiers):
    from cryptography.hazmat.primitives.serialization import pkcs12
    from ansible_collections.mtls.nginx.tests.unit.plugins.modules.test_pki_modules import clients_args
    users = [{"name": "bob", "p12_passphrase": "bob-p12-secret"}]
    assert run_module("clients", clients_args(two_tiers, users))["changed"] is True
    for bundle in ("bob.p12", "bob-compat.p12"):
        loaded = pkcs12.load_pkcs12((two_tiers / "clients/bob" / bundle).read_bytes(), b"bob-p12-secret")
        assert [c.certificate for c in loaded.additional_certs] == [cert(two_tiers / "ca/ca.crt")], bundle
    assert run_module("clients", clients_args(two_tiers, users))["changed"] is False
