# Private to the mtls.nginx collection: not a public API, may change without notice.
"""What the module backends share: applying a plan, the ledger's lock, loading the CA, the check-mode
prediction of a CA not made yet, and the option groups of their argument specs."""
from __future__ import annotations

import contextlib
import os

from ansible_collections.mtls.nginx.plugins.module_utils import _files, _ledger
from ansible_collections.mtls.nginx.plugins.module_utils._common import KEY_TYPES
from ansible_collections.mtls.nginx.plugins.module_utils._plan import KEY_MODE, cert_mode
from ansible_collections.mtls.nginx.plugins.module_utils._plan_ca import load_ca

read = _files.read_bytes

# Option groups of the argument specs (their documentation: plugins/doc_fragments/common.py).
OWNERSHIP = {"owner": {"type": "str"}, "group": {"type": "str"}}
KEY = {"key_type": {"type": "str", "default": "ec", "choices": list(KEY_TYPES)}, "key_size": {"type": "int"}}
CERTIFICATE = {"mode": {"type": "str", "default": "0644"}, "force": {"type": "bool", "default": False}}
CA = {
    "ca_certificate_path": {"type": "path", "required": True},
    "ca_private_key_path": {"type": "path", "required": True},
    "ca_passphrase": {"type": "str", "no_log": True},
}


def apply(p, the_plan, managed, check_mode, diff):
    """Write what the plan says; the result every module returns about it."""
    # In check mode new material is not generated, so the reason alone says a write is due.
    changed = _files.apply(the_plan.writes, managed, p["owner"], p["group"], check_mode) or the_plan.reason is not None
    result = {"changed": changed, **(the_plan.after or {})}
    if the_plan.reason:
        result["reissue_reason"] = the_plan.reason
    if diff:
        result["diff"] = the_plan.diff()
    return result


def remove(paths, check_mode, diff):
    removed = _files.remove_all(paths, check_mode)
    result = {"changed": bool(removed)}
    if diff:
        result["diff"] = {"before": "".join(f"{path}: present\n" for path in removed), "after": ""}
    return result


def ledger_lock(path):
    """The ledger's lock when the module keeps one: plan and writes happen under it."""
    return _ledger.locked(path) if path else contextlib.nullcontext()


def load_ledger(p):
    return _ledger.parse(read(p["ledger_path"]), p["ledger_path"]) if p["ledger_path"] else None


def load_ca_of(p):
    return load_ca(read(p["ca_certificate_path"]), read(p["ca_private_key_path"]), p)


def ca_made_later(p, check_mode):
    """Check mode, and the signing CA's certificate is not there: ca_root, earlier in the run, would
    make it, and a new CA signs everything anew. Modules predict that instead of failing to load it
    (the roles need no check-mode guard around them). A certificate without its key is a key taken
    offline, or lost: the plan says so."""
    return check_mode and read(p["ca_certificate_path"]) is None


NEW_CA = "new CA"


def predicted_new(diff, key=None, names=()):
    """What a module reports in check mode when its signing CA is not made yet: everything is new
    (key: the per-item report of a many-item module, one entry per name)."""
    if key is None:
        result, text = {"changed": True, "reissue_reason": NEW_CA}, f"(will be issued: {NEW_CA})\n"
    else:
        result = {"changed": bool(names), key: [{"name": name, "changed": True, "reissue_reason": NEW_CA} for name in names]}
        text = "".join(f"[{name}]\n(will be issued: {NEW_CA})\n" for name in names)
    if diff:
        result["diff"] = {"before": "", "after": text}
    return result


def leaf_files(p):
    return {p["private_key_path"]: KEY_MODE, p["certificate_path"]: cert_mode(p)}


def apply_own_dirs(p, the_plan, managed, check_mode, diff):
    """_apply, creating the files' missing directories first (mode 0700): ca_root and server_cert own theirs."""
    if the_plan.writes and not check_mode:
        for path in managed:
            _files.make_dirs(os.path.dirname(os.path.abspath(path)))
    return apply(p, the_plan, managed, check_mode, diff)


def other_ledgers(p):
    return [_ledger.parse(read(path), path) for path in p["other_ledger_paths"]]
