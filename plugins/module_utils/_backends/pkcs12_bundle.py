# Private to the mtls.nginx collection: not a public API, may change without notice.
"""The pkcs12_bundle module: its argument spec and what it does (plugins/modules/pkcs12_bundle.py documents it)."""
from __future__ import annotations

from ansible_collections.mtls.nginx.plugins.module_utils import _plan as plan
from ansible_collections.mtls.nginx.plugins.module_utils._backends._shared import OWNERSHIP, apply, read, remove
from ansible_collections.mtls.nginx.plugins.module_utils._common import ENCRYPTIONS
from ansible_collections.mtls.nginx.plugins.module_utils._plan_bundle import plan_bundle

BUNDLE_INPUTS = ("certificate_path", "private_key_path", "ca_certificate_path")

SPEC = {"argument_spec": {
    "path": {"type": "path", "required": True},
    "certificate_path": {"type": "path"},
    "private_key_path": {"type": "path"},
    "ca_certificate_path": {"type": "path"},
    "passphrase": {"type": "str", "no_log": True},
    "friendly_name": {"type": "str"},
    "encryption": {"type": "str", "default": "modern", "choices": list(ENCRYPTIONS)},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    **OWNERSHIP,
}, "required_if": [("state", "present", [*BUNDLE_INPUTS, "passphrase"])]}


def ensure(p, check_mode, diff):
    if p["state"] == "absent":
        return remove([p["path"]], check_mode, diff)
    the_plan = plan_bundle(p, *(read(p[option]) for option in (*BUNDLE_INPUTS, "path")), check_mode=check_mode)
    return apply(p, the_plan, {p["path"]: plan.BUNDLE_MODE}, check_mode, diff)
