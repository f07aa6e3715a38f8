"""ca_import: an issuing CA a company already runs, taken into the PKI; users are issued under it."""
import datetime
import os
import stat
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from ansible_collections.mtls.nginx.plugins.module_utils import _crl as C
from ansible_collections.mtls.nginx.plugins.module_utils import _keys as K
from ansible_collections.mtls.nginx.plugins.module_utils import _x509 as X
from ansible_collections.mtls.nginx.tests.unit.plugins.modules.test_pki_modules import converge, snapshot

NOW = X.utcnow()


def make_ca(common_name, key, issuer=None, path_length=None, crl_sign=True, cert_sign=True, days=3650, attributes=()):
    """A CA certificate as another PKI might make it: issuer = (certificate, key), or self-signed."""
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, common_name), *attributes])
    issuer_cert, issuer_key = issuer or (None, key)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_cert.subject if issuer_cert else name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=cert_sign,
                                            crl_sign=crl_sign, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def corporate():
    """A corporate root, and two issuing CAs under it: ours (to import) and another team's."""
    root_key, ours_key, other_key = K.generate_key("ec"), K.generate_key("ec"), K.generate_key("ec")
    root = make_ca("Corp Root CA", root_key)
    return {"root": (root, root_key), "ours": (make_ca("Corp mTLS Issuing CA", ours_key, (root, root_key), 0), ours_key),
            "other": (make_ca("Corp VPN Issuing CA", other_key, (root, root_key), 0), other_key)}


def write_source(directory, cert, key, chain, passphrase=None):
    directory.mkdir(exist_ok=True)
    (directory / "issuing.crt").write_bytes(X.dump_certificate(cert))
    (directory / "issuing.key").write_bytes(K.dump_private_key(key, passphrase))
    (directory / "chain.pem").write_bytes(b"".join(X.dump_certificate(c) for c in chain))


@pytest.fixture
def pki(tmp_path, corporate):
    (tmp_path / "pki").mkdir()
    ours, ours_key = corporate["ours"]
    write_source(tmp_path / "source", ours, ours_key, [corporate["root"][0]], "corp-key-pass")
    return tmp_path


def import_args(tmp, **extra):
    return {"certificate_path": str(tmp / "pki/ca/ca.crt"), "private_key_path": str(tmp / "pki/ca/ca.key"),
            "chain_path": str(tmp / "pki/ca/chain.pem"), "passphrase": "our-ca-pass",
            "source_certificate": str(tmp / "source/issuing.crt"), "source_private_key": str(tmp / "source/issuing.key"),
            "source_passphrase": "corp-key-pass", "source_chain": str(tmp / "source/chain.pem"), **extra}


def test_the_issuing_ca_is_imported_once_and_users_are_issued_under_it(run_module, pki, corporate):
    made = converge(run_module, "ca_import", import_args(pki), pki / "pki")
    assert made["reissue_reason"] == "imported" and made["chain"] == ["CN=Corp Root CA"]
    assert made["subject"] == "CN=Corp mTLS Issuing CA" and 3649 < made["days_left"] < 3651
    assert stat.S_IMODE(os.stat(pki / "pki/ca/ca.key").st_mode) == 0o600
    key, encrypted = K.load_private_key((pki / "pki/ca/ca.key").read_bytes(), "our-ca-pass", "k")
    assert encrypted and K.public_key_der(key) == K.public_key_der(corporate["ours"][0])
    assert (pki / "pki/ca/chain.pem").read_bytes() == X.dump_certificate(corporate["root"][0])
    # a user, as the clients module issues one, verifies up to the company's root with every CRL
    client = {"ca_certificate_path": str(pki / "pki/ca/ca.crt"), "ca_private_key_path": str(pki / "pki/ca/ca.key"),
              "ca_passphrase": "our-ca-pass", "certificate_path": str(pki / "alice.crt"),
              "private_key_path": str(pki / "alice.key"), "common_name": "alice"}
    assert run_module("client_cert", client)["changed"] is True
    crls = pki / "crls.pem"
    crls.write_bytes(C.dump_crl(C.build_crl(*corporate["root"], [], 1, 30, NOW))
                     + C.dump_crl(C.build_crl(*corporate["ours"], [], 1, 30, NOW)))
    result = subprocess.run(["openssl", "verify", "-CAfile", str(pki / "pki/ca/chain.pem"), "-untrusted",
                             str(pki / "pki/ca/ca.crt"), "-crl_check_all", "-CRLfile", str(crls), str(pki / "alice.crt")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_renewal_of_the_same_ca_by_its_issuer_replaces_the_copy(run_module, pki, corporate):
    run_module("ca_import", import_args(pki))
    root, root_key = corporate["root"]
    renewed = make_ca("Corp mTLS Issuing CA", corporate["ours"][1], (root, root_key), 0, days=4000)
    (pki / "source/issuing.crt").write_bytes(X.dump_certificate(renewed))
    result = run_module("ca_import", import_args(pki))
    assert result["changed"] and result["reissue_reason"] == "renewed"
    assert (pki / "pki/ca/ca.crt").read_bytes() == X.dump_certificate(renewed)


def test_another_ca_never_replaces_the_one_in_use(run_module, pki, corporate):
    run_module("ca_import", import_args(pki))
    other, other_key = corporate["other"]
    write_source(pki / "source", other, other_key, [corporate["root"][0]], "corp-key-pass")
    before = snapshot(pki / "pki")
    result = run_module("ca_import", import_args(pki))
    assert result["failed"] and "another CA" in result["msg"] and "roll over" in result["msg"]
    assert snapshot(pki / "pki") == before


def _with_root(corporate, **options):
    """An issuing CA (and the chain above it) bent by options, under the corporate root."""
    key = K.generate_key("ec")
    return make_ca("Bent Issuing CA", key, corporate["root"], 0, **options), key, [corporate["root"][0]]


REFUSALS = {
    "key of another CA": (lambda c: (c["ours"][0], c["other"][1], [c["root"][0]]), "source_private_key:", "is not the key of"),
    "chain without the root": (lambda c: (c["ours"][0], c["ours"][1], [c["other"][0]]), "source_chain:", "give every CA"),
    "self-signed": (lambda c: (c["root"][0], c["root"][1], [c["root"][0]]), "source_certificate:", "is self-signed"),
    "no cRLSign": (lambda c: _with_root(c, crl_sign=False), "source_certificate:", "may not sign CRLs"),
    "no keyCertSign": (lambda c: _with_root(c, cert_sign=False), "source_certificate:", "may not sign certificates"),
    "ended": (lambda c: _with_root(c, days=-1), "source_certificate:", "ended on"),
    "unknown name attribute": (lambda c: _with_root(c, attributes=[x509.NameAttribute(
        x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), "x")]), "source_certificate:", "only common attributes"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_ca_that_does_not_check_out_is_refused_naming_the_option_and_nothing_is_written(run_module, pki, corporate, case):
    make, option, fragment = REFUSALS[case]
    cert, key, chain = make(corporate)
    write_source(pki / "source", cert, key, chain, "corp-key-pass")
    result = run_module("ca_import", import_args(pki))
    assert result["failed"] and result["msg"].startswith(option) and fragment in result["msg"], result["msg"]
    assert not (pki / "pki/ca").exists()


def test_a_ca_above_that_allows_no_ca_below_it_is_refused(run_module, pki, corporate):
    policy_key, issuing_key = K.generate_key("ec"), K.generate_key("ec")
    policy = make_ca("Corp Policy CA", policy_key, corporate["root"], path_length=0)  # may sign users only
    issuing = make_ca("Corp mTLS Issuing CA 2", issuing_key, (policy, policy_key), 0)
    write_source(pki / "source", issuing, issuing_key, [policy, corporate["root"][0]])
    result = run_module("ca_import", import_args(pki, source_passphrase=None))
    assert result["failed"] and "CN=Corp Policy CA allows 0 CA(s) below it (pathlen), the chain needs 1" in result["msg"]
    assert not (pki / "pki/ca").exists()


def test_the_common_name_the_inventory_gives_must_be_the_certificates(run_module, pki):
    result = run_module("ca_import", import_args(pki, common_name="Corp Issuing CA"))
    assert result["failed"] and result["msg"].startswith("common_name: ") and "'Corp mTLS Issuing CA'" in result["msg"]
    assert run_module("ca_import", import_args(pki, common_name="Corp mTLS Issuing CA"))["changed"] is True


def test_a_missing_source_is_named(run_module, pki):
    os.unlink(pki / "source/chain.pem")
    result = run_module("ca_import", import_args(pki))
    assert result["failed"] and result["msg"].startswith(f"source_chain: {pki / 'source/chain.pem'} does not exist")


def test_a_new_passphrase_rewrites_the_same_key(run_module, pki, corporate):
    run_module("ca_import", import_args(pki))
    result = run_module("ca_import", import_args(pki, passphrase="rotated"))
    assert result["changed"] and result["reissue_reason"] == "key rewritten"
    key, encrypted = K.load_private_key((pki / "pki/ca/ca.key").read_bytes(), "rotated", "k")
    assert encrypted and K.public_key_der(key) == K.public_key_der(corporate["ours"][0])
    assert run_module("ca_import", import_args(pki, passphrase="rotated"))["changed"] is False


def crl_of(ca, days=30, number=1, now=NOW):
    return C.build_crl(ca[0], ca[1], [], number, days, now)


@pytest.fixture
def imported(run_module, pki):
    run_module("ca_import", import_args(pki))
    return pki


def crls_args(tmp, *sources, **extra):
    return {"path": str(tmp / "pki/ca/chain-crls.pem"), "chain_path": str(tmp / "pki/ca/chain.pem"),
            "sources": [str(source) for source in sources], **extra}


def test_the_chains_crls_are_kept_from_a_path_in_pem_or_der(run_module, imported, corporate):
    from cryptography.hazmat.primitives import serialization
    der = imported / "root.crl"
    der.write_bytes(crl_of(corporate["root"]).public_bytes(serialization.Encoding.DER))
    made = converge(run_module, "chain_crls", crls_args(imported, der), imported / "pki")
    assert [(crl["issuer"], crl["source"]) for crl in made["crls"]] == [("CN=Corp Root CA", str(der))]
    assert C.load_crls((imported / "pki/ca/chain-crls.pem").read_bytes(), "x")[0].issuer == corporate["root"][0].subject


def test_a_source_that_fails_keeps_the_valid_crl_and_warns(run_module, imported, corporate):
    pem = imported / "root.pem"
    pem.write_bytes(C.dump_crl(crl_of(corporate["root"])))
    run_module("chain_crls", crls_args(imported, pem))
    before = snapshot(imported / "pki")
    for source in (imported / "gone.crl", "http://127.0.0.1:9/root.crl"):  # missing; nothing listens on port 9
        result = run_module("chain_crls", crls_args(imported, source, timeout=2))
        assert result["changed"] is False and result["crls"][0]["source"] == "kept", result
        assert str(source) in str(result["warnings"]), result  # (ansible-core may wrap each warning)
    assert snapshot(imported / "pki") == before


def test_a_newer_crl_replaces_the_kept_one_and_an_older_or_foreign_one_does_not(run_module, imported, corporate):
    source = imported / "root.pem"
    source.write_bytes(C.dump_crl(crl_of(corporate["root"], number=5)))
    run_module("chain_crls", crls_args(imported, source))
    source.write_bytes(C.dump_crl(crl_of(corporate["root"], number=4)) + C.dump_crl(crl_of(corporate["other"])))
    older = run_module("chain_crls", crls_args(imported, source))
    assert older["changed"] is False and older["crls"][0]["crl_number"] == 5
    assert "CN=Corp VPN Issuing CA, no CA of the chain" in str(older["warnings"])
    source.write_bytes(C.dump_crl(crl_of(corporate["root"], number=6)))
    newer = run_module("chain_crls", crls_args(imported, source))
    assert newer["changed"] and newer["reissue_reason"] == "newer CRLs" and newer["crls"][0]["crl_number"] == 6


def test_no_valid_crl_of_a_ca_of_the_chain_fails_and_writes_nothing(run_module, imported, corporate):
    expired = imported / "expired.pem"
    expired.write_bytes(C.dump_crl(crl_of(corporate["root"], days=1, now=NOW - datetime.timedelta(days=3))))
    forged = imported / "forged.pem"  # the root's name, another key
    forged.write_bytes(C.dump_crl(C.build_crl(make_ca("Corp Root CA", corporate["other"][1]), corporate["other"][1],
                                              [], 9, 30, NOW)))
    result = run_module("chain_crls", crls_args(imported, expired, forged))
    assert result["failed"] and result["msg"].startswith("sources: no valid CRL of CN=Corp Root CA")
    assert "every server would reject every client" in result["msg"] and "ended on" in result["msg"]
    assert not (imported / "pki/ca/chain-crls.pem").exists()


def test_the_report_lists_the_companys_root_and_its_crl_before_it_ends(run_module, imported, corporate):
    source = imported / "root.pem"
    source.write_bytes(C.dump_crl(crl_of(corporate["root"], days=2)))  # the publisher's CRL, two days left
    run_module("chain_crls", crls_args(imported, source))
    report = run_module("pki_info", {"pki_dir": str(imported / "pki")})
    chain = [ca for ca in report["cas"] if ca["role"] == "current chain"]
    assert [ca["subject"] for ca in chain] == ["CN=Corp Root CA"] and 1 < chain[0]["crl_days_left"] <= 2
    assert report["expiring"]["crls"] == ["CN=Corp Root CA"]  # within the 3 days a CRL is reported, before it ends


def test_a_damaged_crl_file_is_mended_from_the_sources(run_module, imported, corporate):
    source = imported / "root.pem"
    source.write_bytes(C.dump_crl(crl_of(corporate["root"])))
    (imported / "pki/ca/chain-crls.pem").write_bytes(b"-----BEGIN X509 CRL-----\ngarbage\n-----END X509 CRL-----\n")
    result = run_module("chain_crls", crls_args(imported, source))
    assert result["changed"] and "is not a readable CRL" in str(result["warnings"])
    assert (imported / "pki/ca/chain-crls.pem").read_bytes() == source.read_bytes()


def scoped_crl(ca, number, extension):
    """A CRL of ca with CRLNumber number and one more extension (a delta indicator, a distribution point)."""
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca[0].subject).last_update(NOW)
               .next_update(NOW + datetime.timedelta(days=30)).add_extension(x509.CRLNumber(number), critical=False)
               .add_extension(extension, critical=True))
    return C.dump_crl(builder.sign(ca[1], C.signature_hash(ca[1])))


@pytest.mark.parametrize("label, extension", [
    ("a delta CRL (over base CRL 5)", "delta"),
    ("a partial CRL (user certificates only)", "users"),
    ("a partial CRL (some reasons only)", "reasons"),
])
def test_a_delta_or_partial_crl_is_never_kept_over_the_base(run_module, imported, corporate, label, extension):
    """The company root's base CRL #5 revokes our issuing CA; its delta #6 (or a partial CRL) must not replace it."""
    extension = {"delta": x509.DeltaCRLIndicator(5),
                 "users": x509.IssuingDistributionPoint(None, None, True, False, None, False, False),
                 "reasons": x509.IssuingDistributionPoint(None, None, False, False,
                                                          frozenset([x509.ReasonFlags.key_compromise]), False, False)}[extension]
    base = imported / "base.pem"
    base.write_bytes(C.dump_crl(crl_of(corporate["root"], number=5)))
    partial = imported / "partial.pem"
    partial.write_bytes(scoped_crl(corporate["root"], 6, extension))
    result = run_module("chain_crls", crls_args(imported, base, partial))
    assert result["crls"][0]["crl_number"] == 5 and f"{partial}: {label} of CN=Corp Root CA; left out" in str(result["warnings"])
    alone = run_module("chain_crls", {**crls_args(imported, partial), "path": str(imported / "pki/ca/other.pem")})
    assert alone["failed"] and alone["msg"].startswith("sources: no valid CRL of CN=Corp Root CA")
    assert not (imported / "pki/ca/other.pem").exists()
