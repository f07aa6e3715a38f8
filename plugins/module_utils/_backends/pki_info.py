# Private to the mtls.nginx collection: not a public API, may change without notice.
"""The pki_info module: its argument spec and what it does (plugins/modules/pki_info.py documents it)."""
from __future__ import annotations

import os

from ansible_collections.mtls.nginx.plugins.module_utils import _info
from ansible_collections.mtls.nginx.plugins.module_utils._backends._shared import read
from ansible_collections.mtls.nginx.plugins.module_utils._common import MtlsError, utcnow

SPEC = {"argument_spec": {
    "pki_dir": {"type": "path", "required": True},
    "expiring_within_days": {"type": "int", "default": 30},
    "crl_expiring_within_days": {"type": "int", "default": 3},
}}


def ensure(p, check_mode, diff):
    """Reads only: the same in check mode."""
    if not os.path.isdir(p["pki_dir"]):
        raise MtlsError(f"pki_dir: {p['pki_dir']} is not a directory; give the mtls_pki_dir that the pki role uses")
    info = _info.report(p["pki_dir"], p["expiring_within_days"], read, os.listdir, utcnow(), p["crl_expiring_within_days"])
    return {"changed": False, **info, "table": _info.table(info)}
