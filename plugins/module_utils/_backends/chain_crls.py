# Private to the mtls.nginx collection: not a public API, may change without notice.
"""The chain_crls module: its argument spec and what it does (plugins/modules/chain_crls.py documents it)."""
from __future__ import annotations

import urllib.parse

from ansible.module_utils.urls import open_url

from ansible_collections.mtls.nginx.plugins.module_utils._backends._shared import OWNERSHIP, apply, read
from ansible_collections.mtls.nginx.plugins.module_utils._plan import CRL_MODE
from ansible_collections.mtls.nginx.plugins.module_utils._plan_chain_crls import plan_chain_crls

SPEC = {"argument_spec": {
    "path": {"type": "path", "required": True},
    "chain_path": {"type": "path", "required": True},
    "sources": {"type": "list", "elements": "str", "required": True},
    "timeout": {"type": "int", "default": 10},
    **OWNERSHIP,
}}

# A CRL is public and signed: plain HTTP is how CRL distribution points serve them.
SCHEMES = ("http", "https")


def fetch(source, timeout):
    """(bytes, None), or (None, what went wrong): a path on the control node or an http(s) URL."""
    if urllib.parse.urlsplit(source).scheme in SCHEMES:
        try:
            with open_url(source, timeout=timeout, validate_certs=True, follow_redirects="safe") as response:
                return response.read(), None
        except Exception as exc:  # noqa: BLE001 - any failure of one source is reported, never fatal by itself
            return None, f"could not be fetched ({exc})"
    data = read(source)
    return (data, None) if data is not None else (None, "does not exist")


def ensure(p, check_mode, diff):
    if check_mode and read(p["chain_path"]) is None:
        return {"changed": True, "crls": [], "reissue_reason": "missing"}  # ca_import, earlier in the run, would write it
    fetched = [(source, *fetch(source, p["timeout"])) for source in p["sources"]]
    the_plan, warnings = plan_chain_crls(p, read(p["chain_path"]), fetched, read(p["path"]))
    result = apply(p, the_plan, {p["path"]: CRL_MODE}, check_mode, diff)
    if warnings:
        result["warnings"] = warnings
    return result
