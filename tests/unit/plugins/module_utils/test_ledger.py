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


def info_at(serial, key, not_before, not_after=NOW + 365 * DAY):
    return {**info(serial, not_after, key), "not_before": not_before.isoformat()}


def ledger_of(*entries, revoked=()):
    """entries: (serial, name, key, days before NOW it was issued[, days it has left]); revoked: (serial, reason)."""
    ledger = L.empty()
    for serial, name, key, age, *left in entries:
        ledger = L.record(ledger, info_at(serial, key, NOW - age * DAY, NOW + (left[0] if left else 365) * DAY), name)
    return L.revoke(ledger, [(serial, "x", reason) for serial, reason in revoked], NOW)


@pytest.mark.parametrize("entries, revoked, burnt", [
    # revoked for any reason: the key is burnt
    ([("B2", "bob", "kB", 1)], [("B2", "unspecified")], {"kB": "unspecified"}),
    ([("C3", "carol", "kC", 1)], [("C3", "superseded")], {"kC": "superseded"}),
    # a valid certificate of the same key does not unburn it: carol's key, compromised, also certified for dave
    ([("C1", "carol", "kC", 2), ("D1", "dave", "kC", 1)], [("C1", "key_compromise")], {"kC": "key_compromise"}),
    # an expired valid entry does not either (the key was revoked later)
    ([("A0", "alice", "kA", 400, -35), ("A1", "alice", "kA", 30)], [("A1", "cessation_of_operation")],
     {"kA": "cessation_of_operation"}),
    # a key revoked first as superseded, then for compromise: the reason that matters is named
    ([("E1", "erin", "kE", 9), ("E2", "erin", "kE", 5)], [("E1", "superseded"), ("E2", "key_compromise")],
     {"kE": "key_compromise"}),
    # an older main's same-key renewal: D1 superseded, the later D2 of the same name and key valid
    ([("D1", "dave", "kD", 9), ("D2", "dave", "kD", 1)], [("D1", "superseded")], {}),
    # ... but not when the valid one is older than the superseded one (a rekey left an expired one valid)
    ([("D0", "dave", "kD", 400, -35), ("D1", "dave", "kD", 9), ("D2", "dave", "kN", 1)], [("D1", "superseded")],
     {"kD": "superseded"}),
    # ... nor when the later valid one is another name's
    ([("D1", "dave", "kD", 9), ("X2", "mallory", "kD", 1)], [("D1", "superseded")], {"kD": "superseded"}),
    # nothing revoked, nothing burnt
    ([("A1", "alice", "kA", 1), ("A2", "alice", "kA", 0)], [], {}),
])
def test_burnt_keys(entries, revoked, burnt):
    assert L.burnt_keys(ledger_of(*entries, revoked=revoked)) == burnt


def test_entries_from_before_key_hashes_burn_nothing():
    ledger = ledger_with(("A1", "alice"))
    old = {**ledger["certificates"][0]}
    del old["spki_sha256"]
    ledger = L.revoke({**ledger, "certificates": [old]}, [("A1", "alice", "key_compromise")], NOW)
    assert L.burnt_keys(ledger) == {}


def test_a_key_belongs_to_the_name_it_was_first_certified_for():
    ledger = ledger_of(("C1", "carol", "kC", 3), ("D1", "dave", "kC", 2), ("D2", "dave", "kD", 1))
    assert L.key_owners(ledger) == {"kC": "carol", "kD": "dave"}


LATER = NOW + 400 * DAY


@pytest.mark.parametrize("entries, revoked, others, expected", [
    # one name, one certificate: nothing to supersede
    ([("A1", "alice", "kA", 1)], [], [], []),
    # renewed with the same key: the old certificate stays valid until it ends
    ([("A1", "alice", "kA", 9), ("A2", "alice", "kA", 1)], [], [], []),
    # a new key: every unexpired valid certificate of the old one goes, not the expired or revoked ones
    ([("A0", "alice", "kA", 400, -35), ("A1", "alice", "kA", 9), ("A8", "alice", "kA", 8), ("A9", "alice", "kA", 7),
      ("A2", "alice", "kN", 1)], ["A9"], [], ["A1", "A8"]),
    # other names are untouched
    ([("A1", "alice", "kA", 2), ("B1", "bob", "kB", 2), ("B2", "bob", "kB2", 1)], [], [], ["B1"]),
    # rekeyed under the other CA (a migrate): the old key's certificate here goes
    ([("A1", "alice", "kA", 9)], [], [("N1", "alice", "kN", 1)], ["A1"]),
    # renewed under the other CA with the same key: kept
    ([("A1", "alice", "kA", 9)], [], [("N1", "alice", "kA", 1)], []),
    # the other CA holds an older certificate of another key: this one is the newest, kept
    ([("A2", "alice", "kN", 1)], [], [("A1", "alice", "kA", 9)], []),
])
def test_stale(entries, revoked, others, expected):
    ledger = ledger_of(*entries, revoked=[(serial, "unspecified") for serial in revoked])
    other = ledger_of(*others)
    due = L.stale(ledger, NOW, [other])
    assert [serial for serial, _name, _reason in due] == expected
    assert {reason for _serial, _name, reason in due} <= {"superseded"}
    after, revoked_now = L.supersede(ledger, NOW, [other])
    assert revoked_now == due and (after is ledger) == (due == [])
    assert L.stale(after, NOW, [other]) == []  # idempotent


def test_revocations_due_follow_the_key_across_names_and_ledgers():
    # carol is revoked for key compromise; dave was certified her key (before one key, one name)
    # and holds it under the other CA too; erin rekeyed under the other CA
    ledger = ledger_of(("C1", "carol", "kC", 3), ("D1", "dave", "kC", 2), ("E1", "erin", "kE", 9))
    other = ledger_of(("D9", "dave", "kC", 1), ("E2", "erin", "kN", 1))
    clients = [{"name": "carol", "state": "revoked", "revoke_reason": "key_compromise"},
               {"name": "dave", "state": "present"}, {"name": "erin", "state": "present"}]
    due = L.revocations_due(ledger, clients, True, NOW, [other])
    assert sorted(due) == [("C1", "carol", "key_compromise"), ("D1", "dave", "key_compromise"),
                           ("E1", "erin", "superseded")]
    # the other CA's run revokes dave's certificate there too, from this CA's ledger
    after = L.revoke(ledger, due, NOW)
    assert L.revocations_due(other, clients, True, NOW, [after]) == [("D9", "dave", "key_compromise")]


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


MOUNTINFO = "\n".join([
    "22 1 0:21 / / rw,relatime - overlay overlay rw,lowerdir=/l",
    "40 22 0:50 / /srv/pki rw,relatime - nfs4 fs.example.com:/export/pki rw,vers=4.2",
    "41 22 0:51 / /srv/pki/local rw,relatime - ext4 /dev/vdb rw",
    "42 22 0:52 / /mnt/my\\040share rw - cifs //files/share rw",
    "43 22 0:53 / /var/lib/docker/volumes/pki/_data rw - ext4 /dev/vda1 rw",
    "44 22 0:54 / /backup rw - fuse.sshfs user@host:/backup rw",
])


@pytest.mark.parametrize("directory, fstype", [
    ("/srv/pki", "nfs4"),
    ("/srv/pki/ca", "nfs4"),
    ("/srv/pki/local/ca", None),  # a local disk mounted below the share: its own mount decides
    ("/srv/pkix/ca", None),  # a sibling of the mount point, not inside it
    ("/mnt/my share/ca", "cifs"),
    ("/var/lib/docker/volumes/pki/_data/ca", None),
    ("/backup/pki", "fuse.sshfs"),
    ("/home/ops/pki/ca", None),
])
def test_a_ledger_on_a_file_system_whose_locks_stay_local_is_refused(directory, fstype):
    problem = L.lock_problem(directory, MOUNTINFO)
    assert (problem is None) if fstype is None else (f"{directory} is on {fstype} (" in problem and "local disk" in problem)


def test_the_lock_refuses_a_network_file_system_before_taking_it(tmp_path, monkeypatch):
    monkeypatch.setattr(L, "_mountinfo", lambda: f"50 1 0:60 / {tmp_path} rw - nfs server:/pki rw")
    with pytest.raises(L.LedgerError, match=r"^ledger_path: .* is on nfs \(server:/pki at "):
        with L.locked(str(tmp_path / "ledger.json")):
            pass
