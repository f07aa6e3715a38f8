"""Two tiers against a live nginx, after test_rollover.py (whose final state it starts from).

Setting mtls_root_ca on the one-tier PKI re-signs the client CA under a new root with its key:
every user keeps working, servers trust the root and check its CRL (verify depth 2). A client
CA under the same root that this PKI did not make gets 495. With the root's key taken away, runs
that need no root signature change nothing; one that needs it (a new issuing CA) fails, naming
the file, and changes nothing on the servers. Then, the key back, the issuing CA rolls over under
the same root: the same stages, the root stays, and the old issuing CA's certificates get 495 once
it is retired, even sent with their chain to the root.
"""
import json
import os
import shutil

import pytest
from conftest import shared
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from test_rollover import NEXT_CA, keep, metrics, on_host, pem_count, playbook, unchanged

ROOT_CA = {"common_name": "mtls.nginx Molecule Root CA", "organization": "mtls.nginx tests", "country": "NL",
           "passphrase": "molecule-root-passphrase"}
CA_KEY_USAGE = x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                             data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                             encipher_only=False, decipher_only=False)


@pytest.fixture(scope="module")
def two_tiers(inventory, port, scratch):
    by_name = {user["name"]: user for user in inventory["mtls_clients"]}
    changes = {"carol": {"state": "revoked", "revoke_reason": "key_compromise"}, "bob": {"email": "bob@example.org"},
               "dave": {"email": "dave@example.org", "state": "revoked"}}
    users = [{**user, **changes.get(name, {})} for name, user in by_name.items()]  # test_rollover's final inventory
    base = {"mtls_clients": users, "mtls_ca": NEXT_CA, "mtls_ca_rollover": "none", "mtls_root_ca": ROOT_CA}
    alice = tuple(shutil.copy(source, os.path.join(scratch, f"alice-one-tier{os.path.splitext(source)[1]}"))
                  for source in shared.client_files(shared.PKI_DIR, "alice"))
    seen = {"base": base, "moved": (shared.converge(base), shared.converge(base))}
    seen["status"] = {"alice": shared.https_get(port, *alice).status, "none": shared.https_get(port).status}
    seen["pems"] = (pem_count("/etc/nginx/mtls/ca.crt"), pem_count("/etc/nginx/mtls/crl.pem"))
    seen["site"] = on_host("cat", "/etc/nginx/conf.d/mtls-nginx.conf")
    seen["metrics"] = metrics()
    # another issuing CA under our root, not made by this PKI, and a user "alice" it signed
    root_dir = os.path.join(shared.PKI_DIR, "root")
    with open(os.path.join(root_dir, "ca.crt"), "rb") as handle:
        root = x509.load_pem_x509_certificate(handle.read())
    with open(os.path.join(root_dir, "ca.key"), "rb") as handle:
        root_key = serialization.load_pem_private_key(handle.read(), ROOT_CA["passphrase"].encode())
    sibling_key = shared.new_key()
    sibling, _key = shared.mint(root.subject, root_key, subject="Sibling Issuing CA", key=sibling_key, ca=True, eku=(),
                                extra=[(CA_KEY_USAGE, True)])
    leaf, leaf_key = shared.mint(sibling.subject, sibling_key, subject="alice")
    cert_path, key_path = shared.write_pair(scratch, "sibling-alice", leaf, leaf_key)
    with open(cert_path, "ab") as handle:  # the chain a browser sends: leaf, then its issuing CA
        handle.write(sibling.public_bytes(serialization.Encoding.PEM))
    seen["sibling"] = shared.https_get(port, cert_path, key_path)
    # the root's key taken offline
    offline = os.path.join(scratch, "root-ca.key")
    shutil.move(os.path.join(root_dir, "ca.key"), offline)
    try:
        seen["offline"] = shared.converge(base)
        seen["offline_alice"] = shared.https_get(port, *alice).status
        host_before = on_host("sha256sum", "/etc/nginx/mtls/ca.crt", "/etc/nginx/mtls/crl.pem")
        seen["needs_root"] = []
        shared.converge(  # asserts that the run fails
            {**base, "mtls_ca_rollover": "prepare", "mtls_ca_next": {**NEXT_CA, "common_name": "mtls.nginx Molecule CA 3"}},
            expect_success=False, output=seen["needs_root"])
        seen["needs_root_host"] = on_host("sha256sum", "/etc/nginx/mtls/ca.crt", "/etc/nginx/mtls/crl.pem") == host_before
        seen["report"] = playbook("report", "-e", json.dumps(base))
    finally:
        shutil.move(offline, os.path.join(root_dir, "ca.key"))
    shutil.rmtree(os.path.join(shared.PKI_DIR, "ca-next"), ignore_errors=True)  # what the refused prepare left, if anything
    return seen


def test_the_one_tier_ca_moves_under_the_root_and_every_user_keeps_working(two_tiers):
    assert unchanged(two_tiers["moved"][1]), two_tiers["moved"][1]
    assert two_tiers["status"] == {"alice": 200, "none": 496}


def test_servers_trust_the_root_check_its_crl_and_verify_a_chain_of_two(two_tiers):
    assert two_tiers["pems"] == (2, 2)  # the issuing CA and the root; a CRL of each
    assert "ssl_verify_depth 2;" in two_tiers["site"]
    assert ("mtls_client_ca_not_after_timestamp_seconds", "CN=mtls.nginx Molecule Root CA,O=mtls.nginx tests,C=NL") \
        in two_tiers["metrics"]
    assert ("mtls_crl_next_update_timestamp_seconds", "CN=mtls.nginx Molecule Root CA,O=mtls.nginx tests,C=NL") \
        in two_tiers["metrics"]


def test_another_issuing_ca_under_the_same_root_gets_495(two_tiers):
    response = two_tiers["sibling"]
    assert response.status == 495, response


def test_without_the_roots_key_a_run_changes_nothing_and_users_keep_working(two_tiers):
    assert unchanged(two_tiers["offline"]), two_tiers["offline"]
    assert two_tiers["offline_alice"] == 200


def test_a_run_that_needs_the_root_fails_naming_its_key_and_changes_no_server(two_tiers):
    output = " ".join(two_tiers["needs_root"][0].split())
    assert "issuer_private_key_path" in output and os.path.join(shared.PKI_DIR, "root", "ca.key") in output, output[-3000:]
    assert two_tiers["needs_root_host"]


def test_the_report_covers_the_root_and_its_crl(two_tiers):
    succeeded, output = two_tiers["report"]
    assert succeeded, output[-3000:]
    assert "CN=mtls.nginx Molecule Root CA" in output and "root" in output


THIRD_CA = {**NEXT_CA, "common_name": "mtls.nginx Molecule CA 3", "passphrase": "molecule-third-ca-passphrase"}


@pytest.fixture(scope="module")
def under_the_root(two_tiers, port, scratch):
    """The issuing CA rolled over under the same root: prepare, migrate (every user at once), retire, none."""
    base = {**two_tiers["base"], "mtls_ca_next": THIRD_CA}
    old = keep(scratch, "alice", "alice-ca2")
    with open(old[0], "ab") as chain, open(os.path.join(shared.PKI_DIR, "ca", "ca.crt"), "rb") as issuing:
        chain.write(issuing.read())  # what her .p12 sends: her certificate and its issuing CA
    seen, new = {}, None
    for stage in ("prepare", "migrate", "retire"):
        seen[stage] = (shared.converge({**base, "mtls_ca_rollover": stage, "mtls_ca_rollover_reissue": "all"}),
                       shared.converge({**base, "mtls_ca_rollover": stage, "mtls_ca_rollover_reissue": "all"}))
        seen[f"{stage}_pems"] = (pem_count("/etc/nginx/mtls/ca.crt"), pem_count("/etc/nginx/mtls/crl.pem"))
        if stage == "migrate":
            new = keep(scratch, "alice", "alice-ca3")
        seen[f"{stage}_status"] = {"old": shared.https_get(port, *old).status,
                                   "new": shared.https_get(port, *new).status if new else None}
    with open(os.path.join(shared.PKI_DIR, "ca", "ca.crt"), "rb") as handle:
        seen["issuing"] = x509.load_pem_x509_certificate(handle.read())
    seen["none"] = shared.converge({**base, "mtls_ca": THIRD_CA, "mtls_ca_rollover": "none"})
    return seen


def test_the_issuing_ca_rolls_over_under_the_same_root_in_the_usual_stages(under_the_root):
    for stage in ("prepare", "migrate", "retire"):
        assert unchanged(under_the_root[stage][1]), (stage, under_the_root[stage][1])
    assert unchanged(under_the_root["none"]), under_the_root["none"]
    # the root and both issuing CAs while both issue or are held; the root and the new one after
    assert [under_the_root[f"{stage}_pems"] for stage in ("prepare", "migrate", "retire")] == [(3, 3), (3, 3), (2, 2)]
    assert under_the_root["issuing"].subject.rfc4514_string().startswith("CN=mtls.nginx Molecule CA 3")
    assert under_the_root["issuing"].issuer.rfc4514_string().startswith("CN=mtls.nginx Molecule Root CA")


def test_users_keep_working_until_retire_then_only_the_new_kit_gets_in(under_the_root):
    assert under_the_root["prepare_status"] == {"old": 200, "new": None}
    assert under_the_root["migrate_status"] == {"old": 200, "new": 200}
    assert under_the_root["retire_status"] == {"old": 495, "new": 200}  # the old chain still verifies to the root
