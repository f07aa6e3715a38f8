# Private to the mtls.nginx collection: not a public API, may change without notice.
"""The client_cert module: its argument spec and what it does (plugins/modules/client_cert.py documents it)."""
from __future__ import annotations

import os

from ansible_collections.mtls.nginx.plugins.module_utils import _layout, _ledger
from ansible_collections.mtls.nginx.plugins.module_utils import _plan as plan
from ansible_collections.mtls.nginx.plugins.module_utils._backends._shared import (
    CA, CERTIFICATE, KEY, OWNERSHIP, apply, ca_made_later, leaf_files, ledger_lock, load_ca_of, load_ledger,
    predicted_new, read, remove)
from ansible_collections.mtls.nginx.plugins.module_utils._common import MtlsError
from ansible_collections.mtls.nginx.plugins.module_utils._inventory import name_error

SPEC = {"argument_spec": {
    **CA,
    "certificate_path": {"type": "path", "required": True},
    "private_key_path": {"type": "path", "required": True},
    "common_name": {"type": "str"},
    "organization": {"type": "str"},
    "country": {"type": "str"},
    "email": {"type": "str"},
    "valid_days": {"type": "int", "default": 365},
    "renew_before_days": {"type": "int", "default": 30},
    "ledger_path": {"type": "path"},
    "name": {"type": "str"},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    **KEY, **CERTIFICATE, **OWNERSHIP,
}, "required_if": [("state", "present", ["common_name"])]}


def ensure(p, check_mode, diff):
    if p["state"] == "absent":
        return remove([p["private_key_path"], p["certificate_path"]], check_mode, diff)
    managed = leaf_files(p)
    name = p["name"] or os.path.splitext(os.path.basename(p["certificate_path"]))[0]
    error = name_error(name, "name" if p["name"] else f"name (from certificate_path {p['certificate_path']})")
    if error:
        raise MtlsError(error)
    # Every signature of the client CA is recorded, so that its CRL can revoke it.
    ledger_path = p["ledger_path"] or _layout.ca_files(os.path.dirname(os.path.abspath(p["ca_certificate_path"])))["ledger"]
    p = {**p, "name": name, "ledger_path": ledger_path}
    if ca_made_later(p, check_mode):
        return predicted_new(diff)
    with ledger_lock(p["ledger_path"]):
        ledger = load_ledger(p)
        the_plan = plan.plan_client(p, load_ca_of(p), read(p["private_key_path"]), read(p["certificate_path"]),
                                    check_mode=check_mode, ledger=ledger)
        if the_plan.ledger is not None:
            the_plan.writes.append((p["ledger_path"], _ledger.dump(the_plan.ledger), plan.LEDGER_MODE))
        result = apply(p, the_plan, managed, check_mode, diff)
    if the_plan.superseded:
        result["superseded"] = [serial for serial, _name, _reason in the_plan.superseded]
    return result
