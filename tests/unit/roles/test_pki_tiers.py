"""The pki role for real on this machine with the client CA's two ways of having a root above it:
a root of ours (mtls_root_ca) and an issuing CA a company already runs (mtls_ca.certificate).
Each converges twice (the second run changes nothing), and the servers' trust follows."""
import os
import subprocess

from ansible_collections.mtls.nginx.plugins.filter.pki import client_cas
from ansible_collections.mtls.nginx.plugins.module_utils import _crl as C
from ansible_collections.mtls.nginx.plugins.module_utils import _keys as K
from ansible_collections.mtls.nginx.plugins.module_utils import _x509 as X
from ansible_collections.mtls.nginx.tests.unit.plugins.modules.test_ca_import import make_ca
from ansible_collections.mtls.nginx.tests.unit.roles.conftest import converge

ROOT_CA = {"common_name": "Role Root CA", "passphrase": "root-pass"}


def verify(pki, trust):
    """OpenSSL as nginx verifies alice: every trusted certificate, every CRL, CRL checks on each level."""
    bundle, crls = pki / "trusted.pem", pki / "crls.pem"
    bundle.write_bytes(b"".join(open(path, "rb").read() for path in trust["certificates"]))
    crls.write_bytes(b"".join(open(path, "rb").read() for path in trust["crls"]))
    return subprocess.run(["openssl", "verify", "-CAfile", str(bundle), "-crl_check_all", "-CRLfile", str(crls),
                           "-verify_depth", str(trust["chain_depth"]), str(pki / "clients/alice/alice.crt")],
                          capture_output=True, text=True, check=False)


def test_a_root_of_ours_signs_the_client_ca(play, tmp_path):
    pki = tmp_path / "pki"
    converge(play, pki, mtls_root_ca=ROOT_CA)
    trust = client_cas(str(pki))["trust"]
    assert trust["certificates"] == [str(pki / "ca/ca.crt"), str(pki / "root/ca.crt")] and trust["chain_depth"] == 2
    assert trust["crls"] == [str(pki / "ca/crl.pem"), str(pki / "root/crl.pem")]
    result = verify(pki, trust)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_issuing_ca_the_company_runs_is_taken_in(play, tmp_path):
    root_key, issuing_key = K.generate_key("ec"), K.generate_key("ec")
    root = make_ca("Company Root CA", root_key)
    issuing = make_ca("Company mTLS CA", issuing_key, (root, root_key), 0)
    source = tmp_path / "company"
    source.mkdir()
    (source / "mtls.crt").write_bytes(X.dump_certificate(issuing))
    (source / "mtls.key").write_bytes(K.dump_private_key(issuing_key, "company-pass"))
    (source / "root.crt").write_bytes(X.dump_certificate(root))
    (source / "root.crl").write_bytes(C.dump_crl(C.build_crl(root, root_key, [], 1, 30, X.utcnow())))
    ca = {"common_name": "Company mTLS CA", "certificate": source / "mtls.crt", "private_key": source / "mtls.key",
          "private_key_passphrase": "company-pass", "chain": source / "root.crt", "chain_crls": [source / "root.crl"],
          "passphrase": "our-copy-pass"}
    pki = tmp_path / "pki"
    converge(play, pki, mtls_ca={key: [str(v) for v in value] if isinstance(value, list) else str(value)
                                 for key, value in ca.items()})
    alice = X.load_certificate((pki / "clients/alice/alice.crt").read_bytes(), "alice")
    alice.verify_directly_issued_by(issuing)
    trust = client_cas(str(pki))["trust"]
    assert trust["certificates"] == [str(pki / "ca/ca.crt"), str(pki / "ca/chain.pem")] and trust["chain_depth"] == 2
    assert trust["crls"] == [str(pki / "ca/crl.pem"), str(pki / "ca/chain-crls.pem")]
    result = verify(pki, trust)
    assert result.returncode == 0, result.stdout + result.stderr
    assert os.stat(pki / "ca/ca.key").st_mode & 0o777 == 0o600


def test_a_company_ca_is_not_put_under_a_root_of_ours(play, tmp_path):
    proc, _recap = play(tmp_path / "pki", mtls_root_ca=ROOT_CA, mtls_ca={
        "common_name": "Company mTLS CA", "certificate": "/c.crt", "private_key": "/c.key", "chain": "/r.crt",
        "chain_crls": ["http://pki.example.com/r.crl"]})
    assert proc.returncode != 0 and "leave mtls_root_ca empty" in proc.stdout
    assert not (tmp_path / "pki").exists()
