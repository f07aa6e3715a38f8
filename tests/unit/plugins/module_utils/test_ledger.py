import datetime
import json
import multiprocessing

import pytest

from ansible_collections.mtls.nginx.plugins.module_utils import _ledger as L
from ansible_collections.mtls.nginx.plugins.module_utils import _crl as C
from ansible_collections.mtls.nginx.plugins.module_utils import _keys as K
from ansible_collections.mtls.nginx.plugins.module_utils import _x509 as X

NOW = datetime.datetime(2026, 6, 1, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def info(serial, not_after=NOW + 365 * DAY, spki=None):
    return {"serial_number": serial, "subject": f"CN={serial}", "not_before": NOW.isoformat(),
            "not_after": not_after.isoformat(), "fingerprint_sha256": "00" * 32, "spki_sha256": spki or f"key-{serial}"}


def ledger_with(*entries):
    ledger = L.empty()
    for serial, name, *rest in entries:
        ledger = L.record(ledger, info(serial, *rest), name)
    return ledger


def test_burnt_keys_are_revoked_keys_without_a_valid_certificate():
    ledger = ledger_with(("A1", "alice"), ("B2", "bob"), ("C3", "carol"),
                         ("D1", "dave", NOW + DAY, "key-D"), ("D2", "dave", NOW + DAY, "key-D"))
    ledger = L.revoke(ledger, [("B2", "bob", "unspecified"), ("C3", "carol", "superseded"),
                               ("D1", "dave", "superseded")], NOW)
    # dave renewed with the same key: D1 superseded, D2 valid, so key-D is still in use
    assert L.burnt_keys(ledger) == {"key-B2", "key-C3"}


def test_entries_from_before_key_hashes_burn_nothing():
    ledger = ledger_with(("A1", "alice"))
    old = {**ledger["certificates"][0]}
    del old["spki_sha256"]
    ledger = L.revoke({**ledger, "certificates": [old]}, [("A1", "alice", "key_compromise")], NOW)
    assert L.burnt_keys(ledger) == set()


LATER = NOW + 400 * DAY


@pytest.mark.parametrize("entries, revoked, current, expected", [
    # one name, one certificate: nothing to supersede
    ([("A1", "alice")], [], {"alice": "A1"}, []),
    # a rekey or renewal left the old certificate valid: it goes
    ([("A1", "alice"), ("A2", "alice")], [], {"alice": "A2"}, ["A1"]),
    # several old ones, of which one already revoked and one expired: only the valid, unexpired one
    ([("A0", "alice", NOW - DAY), ("A1", "alice"), ("A9", "alice"), ("A2", "alice")], ["A9"], {"alice": "A2"},
     ["A1"]),
    # other names are untouched, and so are names the run did not plan
    ([("A1", "alice"), ("B1", "bob"), ("B2", "bob")], [], {"alice": "A1"}, []),
    # two names, each keeps its current one
    ([("A1", "alice"), ("A2", "alice"), ("B1", "bob"), ("B2", "bob")], [], {"alice": "A2", "bob": "B1"},
     ["A1", "B2"]),
])
def test_superseded(entries, revoked, current, expected):
    ledger = L.revoke(ledger_with(*entries), [(s, "x", "unspecified") for s in revoked], NOW)
    due = L.superseded(ledger, current, NOW)
    assert [serial for serial, _name, _reason in due] == expected
    assert {reason for _serial, _name, reason in due} <= {"superseded"}
    after, revoked = L.supersede(ledger, current, NOW)
    assert revoked == due and (after is ledger) == (due == [])
    for name, serial in current.items():
        assert [e["serial"] for e in L.valid(after) if e["name"] == name and e["not_after"] > NOW.isoformat()] == [serial]
    assert L.superseded(after, current, NOW) == []  # idempotent


def test_round_trip():
    ledger = ledger_with(("A1", "alice"))
    assert L.parse(L.dump(ledger)) == ledger
    assert L.parse(None) == L.empty()


@pytest.mark.parametrize("data, fragment", [
    (b"{not json", "is not valid JSON"),
    (b"[]", "is not an mtls.nginx ledger"),
    (json.dumps({"version": 99, "certificates": []}).encode(), "is not an mtls.nginx ledger"),
])
def test_parse_rejects_garbage(data, fragment):
    with pytest.raises(L.LedgerError, match=fragment):
        L.parse(data, "ca/ledger.json")


def test_record_never_reuses_a_serial():
    ledger = ledger_with(("A1", "alice"))
    with pytest.raises(L.LedgerError, match="never reused"):
        L.record(ledger, info("A1"), "bob")


def test_record_does_not_mutate():
    ledger = ledger_with(("A1", "alice"))
    L.record(ledger, info("B2"), "bob")
    assert set(L.index(ledger)) == {"A1"}


def test_record_keeps_the_callers_index_current():
    ledger = ledger_with(("A1", "alice"))
    known = L.index(ledger)
    new = L.record(ledger, info("B2"), "bob", known)
    assert known == L.index(new) and set(known) == {"A1", "B2"}
    with pytest.raises(L.LedgerError, match="never reused"):
        L.record(new, info("B2"), "bob", known)


CLIENTS = [{"name": "alice", "state": "present"}, {"name": "carol", "state": "revoked", "revoke_reason": "key_compromise"},
           {"name": "dave", "state": "absent"}, {"name": "erin", "state": "revoked"}]


@pytest.mark.parametrize("revoke_unlisted, expected", [
    (True, {("C3", "carol", "key_compromise"), ("C4", "carol", "key_compromise"), ("D1", "dave", "cessation_of_operation"),
            ("E1", "erin", "unspecified"), ("F1", "frank", "cessation_of_operation")}),
    (False, {("C3", "carol", "key_compromise"), ("C4", "carol", "key_compromise"), ("D1", "dave", "cessation_of_operation"),
             ("E1", "erin", "unspecified")}),
])
def test_revocations_due(revoke_unlisted, expected):
    ledger = ledger_with(("A1", "alice"), ("C3", "carol"), ("C4", "carol"), ("D1", "dave"), ("E1", "erin"),
                         ("F1", "frank"), ("G1", "gina", NOW - DAY))  # gina's certificate has expired already
    assert set(L.revocations_due(ledger, CLIENTS, revoke_unlisted, NOW)) == expected


def test_revoke_is_idempotent_and_listed():
    ledger = ledger_with(("A1", "alice"), ("C3", "carol"))
    due = L.revocations_due(ledger, CLIENTS, True, NOW)
    revoked = L.revoke(ledger, due, NOW)
    assert L.is_revoked(L.index(revoked), "C3") and not L.is_revoked(L.index(revoked), "A1")
    assert not L.is_revoked(L.index(ledger), "C3")  # revoke returned a new ledger
    assert L.revocations_due(revoked, CLIENTS, True, NOW + DAY) == []
    assert [e["serial"] for e in L.revoked(revoked, NOW)] == ["C3"]
    assert L.revoked(revoked, NOW + 400 * DAY) == []  # expired entries leave the CRL
    entry = L.index(revoked)["C3"]
    assert (entry["reason"], entry["revoked_at"]) == ("key_compromise", NOW.isoformat())
    assert [e["serial"] for e in L.valid(revoked)] == ["A1"]


def _append_many(args):
    path, worker, count = args
    for index in range(count):
        with L.locked(path):
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
            except FileNotFoundError:
                data = None
            ledger = L.record(L.parse(data), info(f"{worker:02X}{index:04X}"), f"w{worker}")
            from ansible_collections.mtls.nginx.plugins.module_utils._files import write_atomic
            write_atomic(path, L.dump(ledger), 0o600)


def test_concurrent_writers_lose_nothing(tmp_path):
    path = str(tmp_path / "ledger.json")
    workers, count = 6, 25
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pool.map(_append_many, [(path, worker, count) for worker in range(workers)])
    with open(path, "rb") as handle:
        ledger = L.parse(handle.read())
    assert len(ledger["certificates"]) == len(L.index(ledger)) == workers * count


# ---------------------------------------------------------------------------- CRL logic

@pytest.fixture(scope="module")
def ca():
    key = K.generate_key("ec")
    return X.issue_ca_certificate(key, X.build_name("CRL CA"), 3650, NOW), key


REVOKED = [{"serial": "C3", "revoked_at": NOW.isoformat(), "reason": "key_compromise"},
           {"serial": "D1", "revoked_at": NOW.isoformat(), "reason": "unspecified"}]
WANTED = {"C3": "key_compromise", "D1": "unspecified"}


def test_crl_profile(ca):
    cert, key = ca
    crl = C.build_crl(cert, key, REVOKED, 7, 30, NOW)
    assert crl.is_signature_valid(cert.public_key())
    assert C.crl_number(crl) == 7
    assert C.crl_entries(crl) == WANTED
    assert C.crl_next_update(crl) == NOW + 30 * DAY
    unspecified = crl.get_revoked_certificate_by_serial_number(0xD1)
    assert len(unspecified.extensions) == 0  # RFC 5280: no reason code for "unspecified"


@pytest.mark.parametrize("change, expected", [
    ({}, None),
    ({"wanted": {"C3": "key_compromise"}}, "revocations changed"),
    ({"wanted": {**WANTED, "E1": "unspecified"}}, "revocations changed"),
    ({"wanted": {**WANTED, "C3": "superseded"}}, "revocations changed"),
    ({"now": NOW + 22 * DAY}, None),
    ({"now": NOW + 23 * DAY}, "expiring"),  # exactly refresh_before_days left
    ({"now": NOW + 40 * DAY}, "expiring"),
])
def test_crl_reissue_reason(ca, change, expected):
    cert, key = ca
    crl = C.build_crl(cert, key, REVOKED, 1, 30, NOW)
    assert C.crl_reissue_reason(crl, cert, change.get("wanted", WANTED), 7, change.get("now", NOW)) == expected


def test_crl_of_another_ca_is_reissued(ca):
    cert = ca[0]
    other_key = K.generate_key("ec")
    other = X.issue_ca_certificate(other_key, X.build_name("CRL CA"), 3650, NOW)
    crl = C.build_crl(other, other_key, REVOKED, 1, 30, NOW)
    assert C.crl_reissue_reason(crl, cert, WANTED, 7, NOW) == "issuer changed"


def test_crl_days_left(ca):
    cert, key = ca
    pem = C.dump_crl(C.build_crl(cert, key, [], 1, 30, NOW))
    assert C.crl_days_left(pem, NOW + 10 * DAY) == pytest.approx(20)
    assert C.crl_days_left(pem, NOW + 31 * DAY) < 0
