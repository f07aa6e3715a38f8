# Private to the mtls.nginx collection: not a public API, may change without notice.
"""The glue every mtls.nginx module shares: run the body, apply a plan, report."""
from __future__ import annotations

import contextlib

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.mtls.nginx.plugins.module_utils import _files, _ledger
from ansible_collections.mtls.nginx.plugins.module_utils._common import MtlsError

try:
    from ansible_collections.mtls.nginx.plugins.module_utils import _plan as plan
except ImportError as exc:  # cryptography is missing on the host that runs the module
    plan, IMPORT_ERROR = None, exc
else:
    IMPORT_ERROR = None


def run(module, body):
    """Call body() -> result dict; turn our errors into a failure that names the field."""
    if IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=str(IMPORT_ERROR))
    try:
        result = body()
    except MtlsError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


def apply_plan(module, plan, managed):
    """Write what the plan says; the result every module returns about it."""
    p = module.params
    # In check mode new material is not generated, so the reason alone says a write is due.
    changed = _files.apply(plan.writes, managed, p["owner"], p["group"], module.check_mode) or plan.reason is not None
    result = {"changed": changed, **(plan.after or {})}
    if plan.reason:
        result["reissue_reason"] = plan.reason
    if module._diff:
        result["diff"] = plan.diff()
    return result


def remove_files(module, paths):
    removed = _files.remove_all(paths, module.check_mode)
    result = {"changed": bool(removed)}
    if module._diff:
        result["diff"] = {"before": "".join(f"{path}: present\n" for path in removed), "after": ""}
    return result


def ledger_lock(path):
    """The ledger's lock when the module keeps one: plan and writes happen under it."""
    return _ledger.locked(path) if path else contextlib.nullcontext()
