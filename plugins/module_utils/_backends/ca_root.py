# Private to the mtls.nginx collection: not a public API, may change without notice.
"""The ca_root module: its argument spec and what it does (plugins/modules/ca_root.py documents it)."""
from __future__ import annotations

import os

from ansible_collections.mtls.nginx.plugins.module_utils._backends._shared import (
    CERTIFICATE, KEY, OWNERSHIP, apply_own_dirs, leaf_files, predicted_new, read)
from ansible_collections.mtls.nginx.plugins.module_utils._common import days_left, utcnow
from ansible_collections.mtls.nginx.plugins.module_utils._plan_ca import plan_ca
from ansible_collections.mtls.nginx.plugins.module_utils._x509 import not_after

SPEC = {"required_together": [["issuer_certificate_path", "issuer_private_key_path"]], "argument_spec": {
    "certificate_path": {"type": "path", "required": True},
    "private_key_path": {"type": "path", "required": True},
    "passphrase": {"type": "str", "no_log": True},
    "common_name": {"type": "str", "required": True},
    "organization": {"type": "str"},
    "country": {"type": "str"},
    "valid_days": {"type": "int", "default": 3650},
    "renew_before_days": {"type": "int", "default": 90},
    "permitted_names": {"type": "list", "elements": "str", "default": []},
    "path_length": {"type": "int", "default": 0, "choices": [0, 1]},
    "issuer_certificate_path": {"type": "path"},
    "issuer_private_key_path": {"type": "path"},
    "issuer_passphrase": {"type": "str", "no_log": True},
    "offline": {"type": "bool", "default": False},
    **KEY, **CERTIFICATE, **OWNERSHIP,
}}


def ensure(p, check_mode, diff):
    now = utcnow()
    key_data = read(p["private_key_path"])
    issuer = [read(p[option]) if p[option] else None for option in ("issuer_certificate_path", "issuer_private_key_path")]
    if check_mode and p["issuer_certificate_path"] and issuer[0] is None:
        # The root is made earlier in this run (the pki role's first task), and signs this CA anew.
        return {**predicted_new(diff), "created": key_data is None}
    the_plan = plan_ca(p, key_data, read(p["certificate_path"]), check_mode, now=now, issuer_data=issuer)
    result = apply_own_dirs(p, the_plan, leaf_files(p), check_mode, diff)
    result["created"] = the_plan.reason in ("missing", "forced") and (p["force"] or key_data is None)
    if result["created"] and not p["force"]:
        result["warnings"] = [
            f"a NEW CA ({result.get('subject', p['common_name'])}) was made in"
            f" {os.path.dirname(os.path.abspath(p['certificate_path']))}, which had none. If this PKI existed before (a lost,"
            " emptied or mistyped mtls_pki_dir, a fresh CI runner or AWX/AAP job container), stop and restore it from"
            " your backup: nothing that trusted the old CA trusts this one (for a client CA, the server role refuses to"
            " replace the one a host trusts; for the server CA, devices refuse the servers until they install a new kit)."]
    if the_plan.certificate is not None:
        result["days_left"] = days_left(not_after(the_plan.certificate), now)
    return result
