# Private to the mtls.nginx collection: not a public API, may change without notice.
"""The clients module: its argument spec and what it does (plugins/modules/clients.py documents it)."""
from __future__ import annotations

import os

from ansible_collections.mtls.nginx.plugins.module_utils import _files, _ledger
from ansible_collections.mtls.nginx.plugins.module_utils import _plan as plan
from ansible_collections.mtls.nginx.plugins.module_utils import _plan_clients as plan_clients
from ansible_collections.mtls.nginx.plugins.module_utils._backends._shared import (
    CA, KEY, OWNERSHIP, ca_made_later, ledger_lock, load_ca_of, load_ledger, other_ledgers, predicted_new, read)
from ansible_collections.mtls.nginx.plugins.module_utils._common import ENCRYPTIONS, MIN_PASSPHRASE_LENGTH, MtlsError
from ansible_collections.mtls.nginx.plugins.module_utils._inventory import client_name_errors, short_passphrases
from ansible_collections.mtls.nginx.plugins.module_utils._layout import client_files, passphrase_path
from ansible_collections.mtls.nginx.plugins.module_utils._x509 import load_certificate

SPEC = {"argument_spec": {
    **CA,
    "clients_dir": {"type": "path", "required": True},
    "passphrases_dir": {"type": "path"},
    "ledger_path": {"type": "path"},
    "encryption": {"type": "str", "default": "modern", "choices": list(ENCRYPTIONS)},
    "trust_certificate_path": {"type": "path"},
    "server_url": {"type": "str"},
    "zip": {"type": "bool", "default": False},
    "other_ledger_paths": {"type": "list", "elements": "path", "default": []},
    "keep_issuer_certificate_path": {"type": "path"},
    "clients": {"type": "list", "elements": "dict", "required": True, "options": {
        "name": {"type": "str", "required": True},
        "common_name": {"type": "str"},
        "email": {"type": "str"},
        "valid_days": {"type": "int", "default": 365},
        "renew_before_days": {"type": "int", "default": 30},
        "p12_passphrase": {"type": "str", "no_log": True},
        "csr": {"type": "str"},
    }},
    **KEY, **OWNERSHIP,
}}


def ensure(p, check_mode, diff):
    errors = client_name_errors(p["clients"])
    if errors:
        raise MtlsError("; ".join(errors))
    if ca_made_later(p, check_mode):
        return predicted_new(diff, "clients", [client["name"] for client in p["clients"]])
    trust = _load_trust(p, check_mode)
    with ledger_lock(p["ledger_path"]):
        ledger = load_ledger(p)
        plans, new_ledger = plan_clients.plan_clients(p, load_ca_of(p), read, check_mode, ledger=ledger, trust=trust,
                                                      others=other_ledgers(p), keep_issuer=_load_keep_issuer(p))
        result = _apply_clients(p, plans, new_ledger if new_ledger != ledger else None, check_mode, diff)
    warnings = [f"clients: the request of {user.name} asks for {'; '.join(user.certificate.ignored)}: ignored, the"
                " certificate carries the inventory's subject and e-mail and the client profile only"
                for user in plans if user.certificate.reason and user.certificate.ignored]
    short = short_passphrases(p["clients"])
    if short:
        warnings.append(
            f"clients: the p12_passphrase of {', '.join(short)} is shorter than {MIN_PASSPHRASE_LENGTH} characters."
            " Whoever gets a bundle can test about 10,000 guesses a second per CPU core against it, offline and"
            f" far faster on a GPU; use {MIN_PASSPHRASE_LENGTH} or more random characters, or leave it out to have"
            " one generated.")
    if warnings:
        result["warnings"] = warnings
    return result


def _load_keep_issuer(p):
    """The previous CA during a rollover (its certificates are kept until due), or None."""
    path = p["keep_issuer_certificate_path"]
    data = read(path) if path else None
    return load_certificate(data, path) if data is not None else None


def _load_trust(p, check_mode):
    """The server's CA for the kits. In check mode it may not exist yet: an earlier task would create it."""
    data = read(p["trust_certificate_path"]) if p["trust_certificate_path"] else None
    if check_mode and data is None:
        return None
    return plan_clients.load_trust(p, data)


_REASONS = ("reissue_reason", "bundle_reason", "compat_bundle_reason", "kit_reason")


def _apply_clients(p, plans, ledger, check_mode, diff):
    """Write what plan_clients decided for every user (and the ledger once); the per-user report."""
    writes, removals, managed, report, diff_before, diff_after = [], [], {}, [], [], []
    for user in plans:
        files = client_files(p["clients_dir"], user.name)
        managed.update({files["private_key_path"]: plan.KEY_MODE, files["certificate_path"]: plan.cert_mode({})})
        managed.update({files[option]: mode for option, mode in plan_clients.KIT_MODES.items()})
        if p["passphrases_dir"]:
            managed[passphrase_path(p["passphrases_dir"], user.name)] = plan_clients.PASSPHRASE_MODE
        for each in user.plans:
            writes += each.writes
            removals += each.removals
        superseded = [serial for serial, _name, _reason in user.certificate.superseded]
        entry = {"name": user.name, "changed": any(each.reason for each in user.plans) or bool(superseded),
                 **(user.certificate.after or {})}
        if superseded:
            entry["superseded"] = superseded
        entry.update({key: each.reason for key, each in zip(_REASONS, user.plans) if each.reason})
        report.append(entry)
        if entry["changed"]:
            cert_diff = user.certificate.diff()
            diff_before.append(f"[{user.name}]\n{cert_diff['before']}")
            diff_after.append(f"[{user.name}]\n{cert_diff['after']}" + "".join(
                f"{key}: {entry[key]}\n" for key in _REASONS[1:] if key in entry))
    if ledger is not None:
        writes.append((p["ledger_path"], _ledger.dump(ledger), plan.LEDGER_MODE))
    if writes and not check_mode:
        for directory in sorted({os.path.dirname(path) for path, _data, _mode in writes}):
            _files.make_dirs(directory)  # clients_dir and each user's directory: owner only
    changed = _files.apply(writes, managed, p["owner"], p["group"], check_mode)
    changed = bool(_files.remove_all(removals, check_mode)) or changed or any(entry["changed"] for entry in report)
    result = {"changed": changed, "clients": report}
    if diff:
        result["diff"] = {"before": "".join(diff_before), "after": "".join(diff_after)}
    return result
