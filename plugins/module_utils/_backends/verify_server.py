# Private to the mtls.nginx collection: not a public API, may change without notice.
"""The verify_server module: its argument spec and what it does (plugins/modules/verify_server.py documents it)."""
from __future__ import annotations

from ansible_collections.mtls.nginx.plugins.module_utils import _https

SPEC = {"argument_spec": {
    "url": {"type": "str", "required": True},
    "ca_path": {"type": "path"},
    "address": {"type": "str"},
    "client_cert": {"type": "path"},
    "client_key": {"type": "path"},
    "refusal_text": {"type": "str", "default": ""},
    "attempts": {"type": "int", "default": 10},
    "delay": {"type": "float", "default": 1.0},
}, "required_together": [["client_cert", "client_key"]]}


def ensure(p, check_mode, diff):
    """Requests change nothing, but in check mode what they would prove depends on changes the same
    run only predicts: none is sent, and the result says so."""
    if check_mode:
        return {"changed": False, "msg": f"Check mode: the requests to {p['url']} are not sent; what they would prove"
                " depends on changes this run only predicted. Run without --check to verify the server."}
    return _https.verify_server(p)
