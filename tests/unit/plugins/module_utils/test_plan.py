"""The pure plan layer: bytes and options in, a Plan out; check mode predicts without new material."""
import datetime

import pytest

from ansible_collections.mtls.nginx.plugins.module_utils import _ledger as L
from ansible_collections.mtls.nginx.plugins.module_utils import _plan as P
from ansible_collections.mtls.nginx.plugins.module_utils import _keys as K
from ansible_collections.mtls.nginx.plugins.module_utils import _x509 as X

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)
KEY, CERT = "/pki/alice/alice.key", "/pki/alice/alice.crt"


@pytest.fixture(scope="module")
def ca():
    key = K.generate_key("ec")
    return X.issue_ca_certificate(key, X.build_name("Plan CA"), 3650, NOW - 10 * DAY), key


def params(**extra):
    return {"name": "alice", "common_name": "alice", "organization": None, "country": None, "email": None,
            "valid_days": 365, "renew_before_days": 30, "key_type": "ec", "key_size": None, "force": False,
            "mode": None, "private_key_path": KEY, "certificate_path": CERT, **extra}


def issued(ca, ledger=None, **extra):
    """A first run: the key and certificate bytes and the ledger after it."""
    plan = P.plan_client(params(**extra), ca, None, None, now=NOW, ledger=ledger)
    files = {path: data for path, data, _mode in plan.writes}
    return files[KEY], files[CERT], plan.ledger


def revoke_all(ledger, reason="key_compromise"):
    return L.revoke(ledger, [(e["serial"], e["name"], reason) for e in L.valid(ledger)], NOW)


# Each row: how the files and ledger stand before the run, what is asked, and what the plan says.
CASES = [
    # (case, setup, asked, reason, new key written, new certificate written)
    ("first run", "none", {}, "missing", True, True),
    ("nothing to do", "issued", {}, None, False, False),
    ("key file lost", "no key", {}, "missing", True, True),
    ("certificate lost", "no cert", {}, "missing", False, True),
    ("e-mail added", "issued", {"email": "alice@example.org"}, "email changed", False, True),
    ("subject changed", "issued", {"common_name": "Alice"}, "subject changed", False, True),
    ("validity changed", "issued", {"valid_days": 90}, "validity changed", False, True),
    ("forced", "issued", {"force": True}, "forced", True, True),
    ("revoked, reinstated", "revoked", {}, "key revoked", True, True),
    ("revoked, only the key left", "revoked, no cert", {}, "key revoked", True, True),
    ("renewed with the same key", "renewed", {"valid_days": 90}, None, False, False),
]


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
@pytest.mark.parametrize("case, setup, asked, reason, new_key, new_cert", CASES, ids=[c[0] for c in CASES])
def test_plan_client(ca, case, setup, asked, reason, new_key, new_cert, check_mode):
    key = cert = None
    ledger = L.empty()
    if setup != "none":
        key, cert, ledger = issued(ca, ledger)
    if setup == "no key":
        key = None
    if setup in ("no cert", "revoked, no cert"):
        cert = None
    if setup.startswith("revoked"):
        ledger = revoke_all(ledger)
    if setup == "renewed":  # a renewal with the same key leaves the first certificate valid
        old = L.valid(ledger)[0]["serial"]
        plan = P.plan_client(params(valid_days=90), ca, key, cert, now=NOW, ledger=ledger)
        cert, ledger = dict((p, d) for p, d, _m in plan.writes)[CERT], plan.ledger
        assert plan.superseded == [] and [e["serial"] for e in L.valid(ledger)] == [old, plan.after["serial_number"]]
    plan = P.plan_client(params(**asked), ca, key, cert, check_mode=check_mode, now=NOW, ledger=ledger)
    assert plan.reason == reason, case
    written = {path for path, _data, _mode in plan.writes}
    if check_mode:
        assert written == set() and (plan.after is None) == bool(reason) and plan.ledger is None
        return
    assert (KEY in written, CERT in written) == (new_key, new_cert), case
    if reason:
        assert plan.after["serial_number"] in L.index(plan.ledger)
        valid = L.valid(plan.ledger)
        # A new key revokes the old one's certificates; a renewal with the same key keeps them until they end.
        assert valid[-1]["serial"] == plan.after["serial_number"]
        assert {e["spki_sha256"] for e in valid} == {plan.after["spki_sha256"]}
        if new_key or setup.startswith("revoked"):
            assert len(valid) == 1
        if new_key and key is not None:
            assert plan.after["spki_sha256"] != K.spki_sha256(K.load_private_key(key, None, KEY)[0])


def test_check_mode_generates_no_key(ca, monkeypatch):
    monkeypatch.setattr(P, "generate_key", lambda *a: pytest.fail("check mode generated a key"))
    assert P.plan_client(params(), ca, None, None, check_mode=True, now=NOW, ledger=L.empty()).reason == "missing"


@pytest.mark.parametrize("bad, fragment", [
    ({"common_name": ""}, "common_name"),
    ({"valid_days": 0}, "valid_days"),
    ({"key_type": "dsa"}, "key_type"),
    ({"email": "not-an-address"}, "email"),
])
def test_bad_options_name_the_option(ca, bad, fragment):
    with pytest.raises(X.PkiError, match=fragment):
        P.plan_client(params(**bad), ca, None, None, now=NOW)
