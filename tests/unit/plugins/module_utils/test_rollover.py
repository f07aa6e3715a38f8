"""The CA rollover's state machine: which CA issues, which ones are trusted, what is archived."""
import datetime
import os

import pytest

from ansible_collections.mtls.nginx.plugins.module_utils import _rollover as R
from ansible_collections.mtls.nginx.plugins.module_utils._common import MtlsError

NOW = datetime.datetime(2026, 11, 28, 7, 0, 0, tzinfo=datetime.timezone.utc)
CA, NEXT, ARCHIVE = "/pki/ca", "/pki/ca-next", "/pki/archive"


@pytest.mark.parametrize("stage, reissue, issuing, trusted, other, keep, settings", [
    ("none", "on_renewal", "ca", ["ca"], None, None, ["mtls_ca"]),
    ("prepare", "on_renewal", "ca", ["ca", "ca-next"], "ca-next", None, ["mtls_ca", "mtls_ca_next"]),
    ("migrate", "on_renewal", "ca-next", ["ca", "ca-next"], "ca", "/pki/ca/ca.crt", ["mtls_ca", "mtls_ca_next"]),
    ("migrate", "all", "ca-next", ["ca", "ca-next"], "ca", None, ["mtls_ca", "mtls_ca_next"]),
    ("retire", "on_renewal", "ca", ["ca"], None, None, ["mtls_ca_next"]),  # ca/ is the former ca-next/ by then
    ("abandon", "all", "ca", ["ca"], None, None, ["mtls_ca"]),
])
def test_client_cas_by_stage(stage, reissue, issuing, trusted, other, keep, settings):
    cas = R.client_cas("/pki", stage, reissue)
    assert os.path.basename(cas["issuing"]["dir"]) == issuing
    assert [os.path.basename(ca["dir"]) for ca in cas["trusted"]] == trusted
    assert [ca["settings"] for ca in cas["trusted"]] == settings
    assert cas["issuing"]["settings"] == ("mtls_ca_next" if stage in ("migrate", "retire") else "mtls_ca")
    assert (os.path.basename(cas["other"]["dir"]) if cas["other"] else None) == other
    assert cas["keep_issuer"] == keep
    assert cas["issuing"]["ledger"] == os.path.join(cas["issuing"]["dir"], "ledger.json")


@pytest.mark.parametrize("stage, existing, expected", [
    ("none", {CA}, []),
    ("prepare", {CA}, []),  # ca_root creates ca-next/
    ("prepare", {CA, NEXT}, []),
    ("migrate", {CA, NEXT}, []),
    ("retire", {CA, NEXT}, [(CA, ARCHIVE + "/20261128T070000Z-retired"), (NEXT, CA)]),
    ("retire", {NEXT}, [(NEXT, CA)]),  # interrupted between the two renames: finishes
    ("retire", {CA}, []),  # done: the rerun changes nothing
    ("abandon", {CA, NEXT}, [(NEXT, ARCHIVE + "/20261128T070000Z-abandoned")]),
    ("abandon", {CA}, []),
])
def test_moves(stage, existing, expected):
    assert R.moves(stage, CA, NEXT, ARCHIVE, existing.__contains__, NOW) == expected


def test_dropping_the_stage_mid_rollover_is_refused():
    with pytest.raises(MtlsError, match="a CA rollover is under way: set mtls_ca_rollover to its stage"):
        R.moves("none", CA, NEXT, ARCHIVE, {CA, NEXT}.__contains__, NOW)


@pytest.mark.parametrize("stage, reissue, ca, next_ca, fragment", [
    ("none", "on_renewal", {"common_name": "A"}, {}, None),
    ("prepare", "on_renewal", {"common_name": "A"}, {"common_name": "B"}, None),
    ("rotate", "on_renewal", {"common_name": "A"}, {"common_name": "B"}, "mtls_ca_rollover must be one of"),
    ("migrate", "sometimes", {"common_name": "A"}, {"common_name": "B"}, "mtls_ca_rollover_reissue must be one of"),
    ("prepare", "on_renewal", {"common_name": "A"}, {}, "mtls_ca_next.common_name must be set"),
    ("migrate", "all", {"common_name": "Users CA"}, {"common_name": "users ca"}, "must differ from mtls_ca.common_name"),
    ("retire", "all", {"common_name": "B"}, {"common_name": "B"}, None),  # the last step: mtls_ca takes its values
])
def test_stage_errors(stage, reissue, ca, next_ca, fragment):
    errors = R.stage_errors(stage, reissue, ca, next_ca)
    assert (fragment is None and errors == []) or (fragment is not None and fragment in "; ".join(errors)), errors


def test_archived_ledgers(tmp_path):
    assert R.archived_ledgers(str(tmp_path / "archive"), os.listdir) == []
    for name in ("20261128T070000Z-retired", "20251001T000000Z-abandoned"):
        (tmp_path / "archive" / name).mkdir(parents=True)
    assert R.archived_ledgers(str(tmp_path / "archive"), os.listdir) == [
        str(tmp_path / "archive/20251001T000000Z-abandoned/ledger.json"),
        str(tmp_path / "archive/20261128T070000Z-retired/ledger.json")]


@pytest.mark.parametrize("stage, existing, pending_ok, fragment", [
    ("none", {"ca"}, False, None),
    ("none", {"ca", "next"}, True, "mtls_ca_rollover is none but /pki/ca-next exists"),
    ("none", {"ca", "next"}, False, "a CA rollover is under way"),
    ("prepare", {"ca"}, True, None),  # site.yml creates the next CA
    ("prepare", {"ca"}, False, "prepare but site.yml has not carried it out yet (/pki/ca-next does not exist)"),
    ("prepare", {"ca", "next"}, False, None),
    ("migrate", {"ca", "next"}, False, None),
    ("migrate", {"ca"}, True, "migrate but /pki/ca-next does not exist"),
    ("retire", {"ca", "next"}, True, None),  # site.yml archives ca/ and renames ca-next/
    ("retire", {"ca", "next"}, False, "retire but site.yml has not carried it out yet (/pki/ca-next still exists)"),
    ("retire", {"next"}, False, "still exists"),  # a retire interrupted between its two renames
    ("retire", {"ca"}, False, None),
    ("abandon", {"ca", "next"}, False, "abandon but site.yml has not carried it out yet"),
    ("abandon", {"ca"}, False, None),
    ("migrate", {"next"}, True, "/pki/ca does not exist next to /pki/ca-next"),
    ("sideways", {"ca"}, False, None),  # stage_errors names it
])
def test_layout_errors(stage, existing, pending_ok, fragment):
    paths = {"/pki/ca": "ca", "/pki/ca-next": "next"}
    errors = R.layout_errors(stage, "/pki/ca", "/pki/ca-next", lambda path: paths[path] in existing, pending_ok)
    if fragment is None:
        assert errors == []
    else:
        assert errors and fragment in errors[0], errors


@pytest.mark.parametrize("path, pending, now", [
    ("/p/ca/ca.crt", [], "/p/ca/ca.crt"),
    ("/p/ca/ca.crt", [("/p/ca", "/p/archive/T-retired"), ("/p/ca-next", "/p/ca")], "/p/ca-next/ca.crt"),
    ("/p/archive/T-retired/ledger.json", [("/p/ca", "/p/archive/T-retired"), ("/p/ca-next", "/p/ca")], "/p/ca/ledger.json"),
    ("/p/archive/T-abandoned", [("/p/ca-next", "/p/archive/T-abandoned")], "/p/ca-next"),
    ("/p/ca-nextx/ca.crt", [("/p/ca-next", "/p/ca-nextx")], "/p/ca-next/ca.crt"),
    ("/p/cax/ca.crt", [("/p/x", "/p/ca")], "/p/cax/ca.crt"),  # a prefix that is not a directory boundary
])
def test_where_now(path, pending, now):
    assert R.where_now(path, pending) == now


BY_NAME = "clients and servers find a certificate's issuer by name"


@pytest.mark.parametrize("root, errors", [
    ({}, []), (None, []),
    ({"common_name": "Example Root CA"}, []),
    ({"common_name": "example CLIENT ca"}, [f"mtls_root_ca.common_name must differ from mtls_ca.common_name: {BY_NAME}"]),
    ({"common_name": "Next CA"}, [f"mtls_root_ca.common_name must differ from mtls_ca_next.common_name: {BY_NAME}"]),
    ({"valid_days": 7300}, ["mtls_root_ca must be {} (one tier) or a mapping with at least common_name (two tiers: README,"
                            " \"Two tiers and your company's CA\"), got {'valid_days': 7300}"]),
])
def test_root_errors(root, errors):
    assert R.root_errors(root, {"common_name": "Example Client CA"}, {"common_name": "Next CA"}) == errors


def test_with_two_tiers_servers_trust_the_root(tmp_path):
    one, two = R.client_cas(str(tmp_path), "none"), R.client_cas(str(tmp_path), "prepare", two_tiers=True)
    assert one["root"] is None
    assert two["root"]["certificate"] == str(tmp_path / "root" / "ca.crt") and two["root"]["settings"] == "mtls_root_ca"
    assert len(two["trusted"]) == 2  # both issuing CAs of a rollover, under the one root


SOURCE = {"common_name": "Corp mTLS Issuing CA", "certificate": "/secure/ca.crt", "private_key": "/secure/ca.key",
          "chain": "/secure/chain.pem", "chain_crls": ["http://pki.example.com/root.crl"]}


@pytest.mark.parametrize("settings, root, errors", [
    ({"common_name": "Made here"}, {}, []),
    (SOURCE, {}, []),
    ({**SOURCE, "chain": ""}, {}, ["mtls_ca.chain must be the path of the CA's chain on the control node (an issuing CA you"
                                   " already have: certificate, private_key, chain and chain_crls come together)"]),
    ({"common_name": "x", "certificate": "/secure/ca.crt"}, {}, [
        "mtls_ca.private_key must be the path of the CA's private key on the control node (an issuing CA you already have:"
        " certificate, private_key, chain and chain_crls come together)",
        "mtls_ca.chain must be the path of the CA's chain on the control node (an issuing CA you already have:"
        " certificate, private_key, chain and chain_crls come together)",
        "mtls_ca.chain_crls must list where each CA of the chain publishes its CRL (paths or http(s) URLs): nginx checks a"
        " CRL of every CA of a client's chain"]),
    (SOURCE, {"common_name": "Root"}, ["mtls_ca.certificate and mtls_root_ca: a CA taken from another PKI has that"
                                       " PKI's root; leave mtls_root_ca empty"]),
])
def test_source_errors(settings, root, errors):
    assert R.source_errors("mtls_ca", settings, root) == errors


@pytest.mark.parametrize("two_tiers, has_root, refused", [
    (None, True, False), (True, True, False), (True, False, False), (False, False, False), (False, True, True)])
def test_a_root_the_inventory_no_longer_names_is_refused(two_tiers, has_root, refused):
    existing = {"/pki/ca"} | ({"/pki/root"} if has_root else set())
    errors = R.layout_errors("none", "/pki/ca", "/pki/ca-next", existing.__contains__, root_dir="/pki/root",
                             two_tiers=two_tiers)
    assert errors == ([
        "/pki/root exists (a root signs the client CA) but mtls_root_ca is empty: set mtls_root_ca as before, in"
        " group_vars/all; to go back to one tier, move that directory out of mtls_pki_dir first"] if refused else [])
