# Private to the mtls.nginx collection: not a public API, may change without notice.
"""The ca_rollover module: its argument spec and what it does (plugins/modules/ca_rollover.py documents it)."""
from __future__ import annotations

import os

from ansible_collections.mtls.nginx.plugins.module_utils import _files, _rollover
from ansible_collections.mtls.nginx.plugins.module_utils._common import MtlsError, utcnow
from ansible_collections.mtls.nginx.plugins.module_utils._rollover import STAGES

SPEC = {"argument_spec": {
    "stage": {"type": "str", "required": True, "choices": list(STAGES)},
    "ca_dir": {"type": "path", "required": True},
    "next_ca_dir": {"type": "path", "required": True},
    "archive_dir": {"type": "path", "required": True},
}}


def ensure(p, check_mode, diff):
    """Archive (never delete) the CA a rollover retires or abandons; the archived CAs' ledgers."""
    todo = _rollover.moves(p["stage"], p["ca_dir"], p["next_ca_dir"], p["archive_dir"], os.path.isdir, utcnow())
    freed = {source for source, _target in todo}
    for _source, target in todo:
        if os.path.lexists(target) and target not in freed:
            raise MtlsError(f"archive_dir: {target} exists already; move it aside and run again")
    if not check_mode:
        for source, target in todo:
            _files.make_dirs(os.path.dirname(target))
            os.rename(source, target)
    result = {"changed": bool(todo), "moved": [{"from": source, "to": target} for source, target in todo],
              "archived_ledgers": _rollover.archived_ledgers(p["archive_dir"], os.listdir)}
    if diff:
        result["diff"] = {"before": "".join(f"{source}\n" for source, _target in todo),
                          "after": "".join(f"{target}\n" for _source, target in todo)}
    return result
