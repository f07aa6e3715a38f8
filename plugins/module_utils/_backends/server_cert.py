# Private to the mtls.nginx collection: not a public API, may change without notice.
"""The server_cert module: its argument spec and what it does (plugins/modules/server_cert.py documents it)."""
from __future__ import annotations

from ansible_collections.mtls.nginx.plugins.module_utils import _plan as plan
from ansible_collections.mtls.nginx.plugins.module_utils._backends._shared import (
    CERTIFICATE, KEY, OWNERSHIP, apply_own_dirs, ca_made_later, leaf_files, load_ca_of, predicted_new, read)

SPEC = {"argument_spec": {
    "ca_certificate_path": {"type": "path"},
    "ca_private_key_path": {"type": "path"},
    "ca_passphrase": {"type": "str", "no_log": True},
    "certificate_path": {"type": "path", "required": True},
    "private_key_path": {"type": "path", "required": True},
    "common_name": {"type": "str", "required": True},
    "dns_names": {"type": "list", "elements": "str", "default": []},
    "ip_addresses": {"type": "list", "elements": "str", "default": []},
    "valid_days": {"type": "int", "default": 365},
    "renew_before_days": {"type": "int", "default": 30},
    **KEY, **CERTIFICATE, **OWNERSHIP,
}, "required_together": [("ca_certificate_path", "ca_private_key_path")]}


def ensure(p, check_mode, diff):
    if p["ca_certificate_path"] and ca_made_later(p, check_mode):
        return predicted_new(diff)
    ca = load_ca_of(p) if p["ca_certificate_path"] else None
    the_plan = plan.plan_server(p, read(p["private_key_path"]), read(p["certificate_path"]), check_mode, ca=ca)
    return apply_own_dirs(p, the_plan, leaf_files(p), check_mode, diff)
