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
    """A ledger with what planning many clients looks up in it: the serial index and the burnt keys.

    record() replaces .ledger with a new ledger (entries are never changed in place) and keeps
    the index current; the burnt keys are those of the ledger the run started from.
    """
    ledger: dict
    known: dict
    burnt: set

    @classmethod
    def of(cls, ledger, others=()):
        """others: the ledgers of the PKI's other CAs (the next, the previous, archived ones): their
        serials are taken and their burnt keys burnt here too; only ledger itself is recorded in."""
        combined = {"certificates": [entry for each in (ledger, *others) for entry in each["certificates"]]}
        return cls(ledger, index(combined), burnt_keys(combined))

    def is_revoked(self, serial):
        return is_revoked(self.known, serial)

    def record(self, info, name):
        self.ledger = record(self.ledger, info, name, self.known)
        return self.ledger


def burnt_keys(ledger):
    """SPKI hashes of every key that was revoked and holds no valid certificate: never certified again.

    A renewal with the same key supersedes the old certificate but leaves the key valid in the
    new one; revoking a user (or rekeying) leaves the key with revoked certificates only.
    Entries written before the ledger kept key hashes have none; for those the certificate on
    disk is checked instead (see _plan.plan_client).
    """
    revoked, in_use = set(), set()
    for entry in ledger["certificates"]:
        if entry.get("spki_sha256"):
            (revoked if entry["status"] == "revoked" else in_use).add(entry["spki_sha256"])
    return revoked - in_use


def superseded(ledger, current, now):
    """(serial, name, "superseded") for every unexpired valid certificate that current replaces.

    current: {name: serial of the one certificate that name holds after the run}. Each name keeps
    at most one valid certificate, whatever replaced the others (expiry, profile, key, rekey).
    """
    return [(entry["serial"], entry["name"], SUPERSEDED_REASON) for entry in ledger["certificates"]
            if entry["name"] in current and entry["serial"] != current[entry["name"]]
            and entry["status"] == "valid" and not _expired(entry, now)]


def supersede(ledger, current, now):
    """(new ledger, what it revoked): superseded(...) applied, so each name in current keeps one certificate."""
    due = superseded(ledger, current, now)
    return (revoke(ledger, due, now) if due else ledger), due


def _expired(entry, now):
    return datetime.datetime.fromisoformat(entry["not_after"]) <= now


def revocations_due(ledger, clients, revoke_unlisted, now):
    """(serial, name, reason) for every unexpired valid certificate that must be revoked.

    clients: [{name, state, revoke_reason}] as in the inventory. A name that is revoked or
    absent loses all its certificates; with revoke_unlisted, so does a name the ledger knows
    and the inventory no longer lists.
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


@contextlib.contextmanager
def locked(path):
    """Hold an exclusive lock for the duration (blocks while another run holds it).

    The lock is taken on the ledger's directory: no lock file to create, so a run that fails
    its checks leaves the directory exactly as it was.
    """
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise LedgerError(f"ledger_path: directory {directory} does not exist")
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
