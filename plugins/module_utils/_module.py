# Private to the mtls.nginx collection: not a public API, may change without notice.
"""The glue every mtls.nginx module shares: run the body, apply a plan, report."""
from __future__ import annotations

import contextlib
import os

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


def check_client_names(clients):
    """Names become file names: refuse anything that could leave the clients directory."""
    from ansible_collections.mtls.nginx.plugins.module_utils._inventory import client_name_errors

    errors = client_name_errors(clients)
    if errors:
        raise MtlsError("; ".join(errors))


def apply_client_plans(module, plans, ledger):
    """Write what plan_clients decided for every user (and the ledger once); the per-user report."""
    p = module.params
    writes, managed, report, diff_before, diff_after = [], {}, [], [], []
    for name, cert_plan, bundle_plan in plans:
        files = plan.client_files(p["clients_dir"], name)
        managed.update({files["private_key_path"]: plan.KEY_MODE, files["certificate_path"]: plan.cert_mode({}),
                        files["path"]: plan.BUNDLE_MODE})
        writes += cert_plan.writes + bundle_plan.writes
        entry = {"name": name, "changed": bool(cert_plan.reason or bundle_plan.reason), **(cert_plan.after or {})}
        if cert_plan.reason:
            entry["reissue_reason"] = cert_plan.reason
        if bundle_plan.reason:
            entry["bundle_reason"] = bundle_plan.reason
        report.append(entry)
        if entry["changed"]:
            diff = cert_plan.diff()
            diff_before.append(f"[{name}]\n{diff['before']}")
            diff_after.append(f"[{name}]\n{diff['after']}" + (f"bundle: {bundle_plan.reason}\n" if bundle_plan.reason else ""))
    if ledger is not None:
        writes.append((p["ledger_path"], _ledger.dump(ledger), plan.LEDGER_MODE))
    if writes and not module.check_mode:
        # clients_dir and each user's directory: owner only.
        for directory in [p["clients_dir"]] + sorted({os.path.dirname(path) for path, _, _ in writes} - {p["clients_dir"]}):
            if not os.path.isdir(directory):
                os.mkdir(directory, 0o700)
    changed = _files.apply(writes, managed, p["owner"], p["group"], module.check_mode)
    changed = changed or any(entry["changed"] for entry in report)
    result = {"changed": changed, "clients": report}
    if module._diff:
        result["diff"] = {"before": "".join(diff_before), "after": "".join(diff_after)}
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
