# Private to the mtls.nginx collection: not a public API, may change without notice.
"""The ca_import module: its argument spec and what it does (plugins/modules/ca_import.py documents it)."""
from __future__ import annotations

from ansible_collections.mtls.nginx.plugins.module_utils._backends._shared import (
    OWNERSHIP, apply_own_dirs, read)
from ansible_collections.mtls.nginx.plugins.module_utils._common import days_left, utcnow
from ansible_collections.mtls.nginx.plugins.module_utils._plan import KEY_MODE, cert_mode
from ansible_collections.mtls.nginx.plugins.module_utils._plan_import import CHAIN_MODE, plan_import
from ansible_collections.mtls.nginx.plugins.module_utils._x509 import not_after

SPEC = {"argument_spec": {
    "certificate_path": {"type": "path", "required": True},
    "private_key_path": {"type": "path", "required": True},
    "chain_path": {"type": "path", "required": True},
    "passphrase": {"type": "str", "no_log": True},
    "common_name": {"type": "str"},
    "source_certificate": {"type": "path", "required": True},
    "source_private_key": {"type": "path", "required": True},
    "source_passphrase": {"type": "str", "no_log": True},
    "source_chain": {"type": "path", "required": True},
    "mode": {"type": "str", "default": "0644"},
    **OWNERSHIP,
}}


def ensure(p, check_mode, diff):
    now = utcnow()
    sources = {what: read(p[f"source_{what}"]) for what in ("certificate", "private_key", "chain")}
    current = {what: read(p[f"{what}_path"]) for what in ("certificate", "private_key", "chain")}
    the_plan = plan_import(p, sources, current, now)
    managed = {p["private_key_path"]: KEY_MODE, p["certificate_path"]: cert_mode(p), p["chain_path"]: CHAIN_MODE}
    result = apply_own_dirs(p, the_plan, managed, check_mode, diff)
    result["days_left"] = days_left(not_after(the_plan.certificate), now)
    return result
