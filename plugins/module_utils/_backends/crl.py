# Private to the mtls.nginx collection: not a public API, may change without notice.
"""The crl module: its argument spec and what it does (plugins/modules/crl.py documents it)."""
from __future__ import annotations

from ansible_collections.mtls.nginx.plugins.module_utils import _plan as plan
from ansible_collections.mtls.nginx.plugins.module_utils._backends._shared import (
    CA, OWNERSHIP, apply, ca_made_later, ledger_lock, other_ledgers, predicted_new, read)
from ansible_collections.mtls.nginx.plugins.module_utils._common import REVOKE_REASONS
from ansible_collections.mtls.nginx.plugins.module_utils._plan_crl import plan_crl

SPEC = {"argument_spec": {
    **CA,
    "path": {"type": "path", "required": True},
    "ledger_path": {"type": "path", "required": True},
    "clients": {"type": "list", "elements": "dict", "default": [], "options": {
        "name": {"type": "str", "required": True},
        "state": {"type": "str", "default": "present", "choices": ["present", "revoked", "absent"]},
        "revoke_reason": {"type": "str", "choices": list(REVOKE_REASONS)},
    }},
    "revoke_unlisted": {"type": "bool", "default": True},
    "other_ledger_paths": {"type": "list", "elements": "path", "default": []},
    "next_update_days": {"type": "int", "default": 30},
    "refresh_before_days": {"type": "int", "default": 7},
    **OWNERSHIP,
}}


def ensure(p, check_mode, diff):
    if ca_made_later(p, check_mode):
        return {**predicted_new(diff), "newly_revoked": []}
    with ledger_lock(p["ledger_path"]):
        the_plan = plan_crl(p, *(read(p[option]) for option in (
            "ca_certificate_path", "ca_private_key_path", "ledger_path", "path")), check_mode=check_mode,
            others=other_ledgers(p))
        result = apply(p, the_plan, {p["path"]: plan.CRL_MODE}, check_mode, diff)
    return {**result, "newly_revoked": the_plan.newly_revoked}
