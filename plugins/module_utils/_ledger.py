# Private to the mtls.nginx collection: not a public API, may change without notice.
"""The issuance ledger: every certificate the CA signed, and which ones are revoked.

A JSON document, changed only under an exclusive lock (so two runs at once never lose an
entry or reuse a serial) and written atomically. The functions that decide are pure: they
take a ledger dict and return a new one.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime
import fcntl
import json
import os
import re

from ansible_collections.mtls.nginx.plugins.module_utils._common import MtlsError

VERSION = 1
# Why the ledger revokes on its own: the user was removed from the inventory, or a newer
# certificate replaced this one.
REMOVED_REASON = "cessation_of_operation"
SUPERSEDED_REASON = "superseded"


class LedgerError(MtlsError):
    pass


def empty():
    return {"version": VERSION, "crl_number": 0, "certificates": []}


def parse(data, path="ledger"):
    if data is None:
        return empty()
    try:
        ledger = json.loads(data)
    except ValueError as exc:
        raise LedgerError(f"ledger_path: {path} is not valid JSON ({exc}); restore it from your backup") from None
    if not isinstance(ledger, dict) or ledger.get("version") != VERSION or not isinstance(ledger.get("certificates"), list):
        raise LedgerError(f"ledger_path: {path} is not an mtls.nginx ledger (version {VERSION})")
    return ledger


def dump(ledger):
    return (json.dumps(ledger, indent=2, sort_keys=True) + "\n").encode()


def index(ledger):
    """{serial: entry}: look-ups in constant time, for runs over thousands of clients."""
    return {entry["serial"]: entry for entry in ledger["certificates"]}


def record(ledger, info, name, known=None):
    """A new ledger with the certificate described by info (see _x509.describe) added as valid.

    known: the ledger's index, when the caller keeps one (it is updated); entries are never
    changed in place, so the new ledger shares them with the old one.
    """
    known = index(ledger) if known is None else known
    if info["serial_number"] in known:
        raise LedgerError(f"serial {info['serial_number']} is in the ledger already; serials are never reused")
    entry = {
        "serial": info["serial_number"], "name": name, "subject": info["subject"],
        "not_before": info["not_before"], "not_after": info["not_after"],
        "fingerprint_sha256": info["fingerprint_sha256"], "spki_sha256": info["spki_sha256"],
        "status": "valid", "revoked_at": None, "reason": None,
    }
    known[entry["serial"]] = entry
    return {**ledger, "certificates": [*ledger["certificates"], entry]}


def valid(ledger):
    """Certificates not revoked (expired ones included: nginx refuses those itself)."""
    return [entry for entry in ledger["certificates"] if entry["status"] == "valid"]


def is_revoked(known, serial):
    """known: a ledger's index."""
    entry = known.get(serial)
    return entry is not None and entry["status"] == "revoked"


@dataclasses.dataclass
class View:
    """A ledger with what planning many clients looks up in it: the serial index, the burnt keys and
    the name each key belongs to.

    record() replaces .ledger with a new ledger (entries are never changed in place) and keeps
    the index and owners current; the burnt keys are those of the ledgers the run started from.
    """
    ledger: dict
    known: dict
    burnt: dict
    owners: dict

    @classmethod
    def of(cls, ledger, others=()):
        """others: the ledgers of the PKI's other CAs (the next, the previous, archived ones): their
        serials are taken and their burnt keys burnt here too; only ledger itself is recorded in."""
        combined = combine(ledger, others)
        return cls(ledger, index(combined), burnt_keys(combined), key_owners(combined))

    def is_revoked(self, serial):
        return is_revoked(self.known, serial)

    def record(self, info, name):
        self.ledger = record(self.ledger, info, name, self.known)
        self.owners.setdefault(info["spki_sha256"], name)
        return self.ledger


def combine(ledger, others=()):
    """One ledger-shaped view of every entry of ledger and others (for look-ups, never written)."""
    return {"certificates": [entry for each in (ledger, *others) for entry in each["certificates"]]}


def _when(entry, field):
    return datetime.datetime.fromisoformat(entry[field])


def burnt_keys(ledger):
    """{SPKI hash: reason} of every key that a revocation touched: never certified again, under any name.

    Expired and archived entries change nothing: once any certificate of a key is revoked, the key
    is burnt. One exception, for ledgers written before a same-key renewal left the previous
    certificate valid: an entry revoked as superseded while a later certificate of the same name
    and key stayed valid was such a renewal, not a key change, and burns nothing. Entries written
    before the ledger kept key hashes have none; for those the certificate on disk is checked
    instead (see _plan.plan_client). The reason is the first revocation's other than superseded.
    """
    renewed = {}  # (name, key) -> not_before of the latest valid certificate
    for entry in ledger["certificates"]:
        if entry["status"] == "valid" and entry.get("spki_sha256"):
            slot = (entry["name"], entry["spki_sha256"])
            renewed[slot] = max(renewed.get(slot, _when(entry, "not_before")), _when(entry, "not_before"))
    burnt = {}
    for entry in ledger["certificates"]:
        key = entry.get("spki_sha256")
        if entry["status"] != "revoked" or not key:
            continue
        later = renewed.get((entry["name"], key))
        if entry["reason"] == SUPERSEDED_REASON and later is not None and later >= _when(entry, "not_before"):
            continue
        if burnt.get(key) in (None, SUPERSEDED_REASON):
            burnt[key] = entry["reason"] or "unspecified"
    return burnt


def key_owners(ledger):
    """{SPKI hash: name}: the name a key was first certified for (a key is certified for one name only)."""
    owners = {}
    for entry in ledger["certificates"]:
        if entry.get("spki_sha256"):
            owners.setdefault(entry["spki_sha256"], entry["name"])
    return owners


def stale(ledger, now, others=()):
    """(serial, name, "superseded") for every unexpired valid certificate in ledger whose key is no
    longer its name's: the name's newest valid certificate, in ledger or others, has another key.

    A renewal with the same key leaves the previous certificate valid until it ends (the user's
    devices still hold it); a new key (rekey, reinstatement, a new request) revokes every
    certificate of the old one, in every ledger the servers trust, at once.
    """
    newest = {}
    for entry in combine(ledger, others)["certificates"]:
        if entry["status"] == "valid" and entry.get("spki_sha256"):
            held = newest.get(entry["name"])
            if held is None or _when(entry, "not_before") >= _when(held, "not_before"):
                newest[entry["name"]] = entry
    return [(entry["serial"], entry["name"], SUPERSEDED_REASON) for entry in ledger["certificates"]
            if entry["status"] == "valid" and not _expired(entry, now) and entry["name"] in newest
            and entry.get("spki_sha256") != newest[entry["name"]]["spki_sha256"]]


def supersede(ledger, now, others=()):
    """(new ledger, what it revoked): stale(...) applied, so each name keeps certificates of one key."""
    due = stale(ledger, now, others)
    return (revoke(ledger, due, now) if due else ledger), due


def by_name(ledger):
    """{name: [entries]}: each user's certificates, for look-ups over many users in one pass."""
    names = {}
    for entry in ledger["certificates"]:
        names.setdefault(entry["name"], []).append(entry)
    return names


def previous_until(entries, current):
    """When the previous certificate of current's key (the one a same-key renewal left valid) ends,
    as ISO 8601, or None: the user's kit says until when the old one keeps working.

    entries: the name's ledger entries; current: {serial_number, spki_sha256, not_before} of the
    name's certificate now."""
    ends = [_when(entry, "not_after") for entry in entries
            if entry["serial"] != current["serial_number"] and entry["status"] == "valid"
            and entry.get("spki_sha256") == current["spki_sha256"]
            and _when(entry, "not_before") <= datetime.datetime.fromisoformat(current["not_before"])]
    return max(ends).isoformat() if ends else None


def _expired(entry, now):
    return _when(entry, "not_after") <= now


def revocations_due(ledger, clients, revoke_unlisted, now, others=()):
    """(serial, name, reason) for every unexpired valid certificate that must be revoked.

    clients: [{name, state, revoke_reason}] as in the inventory. A name that is revoked or
    absent loses all its certificates; with revoke_unlisted, so does a name the ledger knows
    and the inventory no longer lists. Then, over this ledger and others (the PKI's other CAs):
    a certificate whose key is no longer its name's (stale), and every certificate of a key that
    any revocation burnt, under whatever name.
    """
    wanted = {c["name"]: c for c in clients}
    due = []
    for entry in ledger["certificates"]:
        if entry["status"] != "valid" or _expired(entry, now):
            continue
        client = wanted.get(entry["name"])
        if client is None:
            if revoke_unlisted:
                due.append((entry["serial"], entry["name"], REMOVED_REASON))
        elif client.get("state") == "revoked":
            due.append((entry["serial"], entry["name"], client.get("revoke_reason") or "unspecified"))
        elif client.get("state") == "absent":
            due.append((entry["serial"], entry["name"], REMOVED_REASON))
    due += stale(revoke(ledger, due, now), now, others)
    after = revoke(ledger, due, now)
    burnt = burnt_keys(combine(after, others))
    due += [(entry["serial"], entry["name"], burnt[entry["spki_sha256"]]) for entry in after["certificates"]
            if entry["status"] == "valid" and not _expired(entry, now) and entry.get("spki_sha256") in burnt]
    return due


def revoke(ledger, due, now):
    """A new ledger with the certificates in due [(serial, name, reason)] marked revoked."""
    reasons = {serial: reason for serial, _name, reason in due}
    return {**ledger, "certificates": [
        {**entry, "status": "revoked", "revoked_at": now.isoformat(), "reason": reasons[entry["serial"]]}
        if entry["serial"] in reasons else entry
        for entry in ledger["certificates"]]}


def revoked(ledger, now):
    """Revoked certificates that have not expired: what the CRL must list."""
    return [entry for entry in ledger["certificates"] if entry["status"] == "revoked" and not _expired(entry, now)]


# File systems on which flock(2) does not hold between machines (NFS turns it into a byte-range
# lock that a directory opened read-only cannot take, or keeps it local with local_lock; CIFS/SMB,
# 9p and sshfs keep it local): two jobs on two nodes would both write the ledger.
UNSHARED_LOCKS = ("nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "fuse.sshfs")


def _unescape(field):
    """A mountinfo field: space, tab, newline and backslash come as octal escapes (\\040)."""
    return re.sub(r"\\([0-7]{3})", lambda match: chr(int(match.group(1), 8)), field)


def lock_problem(directory, mountinfo):
    """Why the ledger's lock would not keep two runs apart in directory (an absolute, real path),
    from /proc/self/mountinfo's text; None when it does."""
    best = None
    for line in mountinfo.splitlines():
        fields = line.split()
        if "-" not in fields or len(fields) < 5:
            continue
        mount_point, after = _unescape(fields[4]), fields[fields.index("-") + 1:]
        inside = directory == mount_point or directory.startswith(mount_point.rstrip("/") + "/")
        if inside and after and (best is None or len(mount_point) >= len(best[0])):
            best = (mount_point, after[0], after[1] if len(after) > 1 else "")
    if best is None or best[1] not in UNSHARED_LOCKS:
        return None
    mount_point, fstype, source = best
    return (f"{directory} is on {fstype} ({source} at {mount_point}), where the ledger's lock does not keep two runs"
            " on two machines apart: both could issue a certificate to one user or reuse a serial. Put mtls_pki_dir"
            " on a local disk, or a volume that one node mounts at a time (ReadWriteOnce), and back it up"
            " (README, \"Running from AWX / AAP and CI\")")


def _mountinfo():
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""  # not Linux: nothing to tell


@contextlib.contextmanager
def locked(path):
    """Hold an exclusive lock for the duration (blocks while another run holds it).

    The lock is taken on the ledger's directory: no lock file to create, so a run that fails
    its checks leaves the directory exactly as it was. A directory on a file system where the lock
    does not hold between machines is refused (lock_problem).
    """
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise LedgerError(f"ledger_path: directory {directory} does not exist")
    problem = lock_problem(os.path.realpath(directory), _mountinfo())
    if problem:
        raise LedgerError(f"ledger_path: {problem}")
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
