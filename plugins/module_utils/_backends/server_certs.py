# Private to the mtls.nginx collection: not a public API, may change without notice.
"""The server_certs module: its argument spec and what it does (plugins/modules/server_certs.py documents it)."""
from __future__ import annotations

from ansible_collections.mtls.nginx.plugins.module_utils import _plan as plan
from ansible_collections.mtls.nginx.plugins.module_utils._backends._shared import (
    CA, KEY, OWNERSHIP, apply_own_dirs, ca_made_later, leaf_files, load_ca_of, predicted_new, read)
from ansible_collections.mtls.nginx.plugins.module_utils._common import MtlsError
from ansible_collections.mtls.nginx.plugins.module_utils._inventory import fleet_errors
from ansible_collections.mtls.nginx.plugins.module_utils._layout import server_files

SPEC = {"argument_spec": {
    **CA,
    "servers_dir": {"type": "path", "required": True},
    "servers": {"type": "list", "elements": "dict", "required": True, "options": {
        "name": {"type": "str", "required": True},
        "dns_names": {"type": "list", "elements": "str", "default": []},
        "ip_addresses": {"type": "list", "elements": "str", "default": []},
    }},
    "valid_days": {"type": "int", "default": 365},
    "renew_before_days": {"type": "int", "default": 30},
    **KEY, **OWNERSHIP,
}}


def ensure(p, check_mode, diff):
    """server_cert for many servers, signed by one CA loaded once; a report per server."""
    errors = fleet_errors(p["servers"])
    if errors:
        raise MtlsError("; ".join(errors))
    if ca_made_later(p, check_mode):
        return predicted_new(diff, "servers", [server["name"] for server in p["servers"]])
    ca = load_ca_of(p)
    report, before, after = [], [], []
    for server in p["servers"]:
        cert_path, key_path = server_files(p["servers_dir"], server["name"])
        sp = {**p, "common_name": server["name"], "dns_names": list(dict.fromkeys([server["name"], *server["dns_names"]])),
              "ip_addresses": server["ip_addresses"], "certificate_path": cert_path, "private_key_path": key_path,
              "force": False, "mode": None}
        the_plan = plan.plan_server(sp, read(key_path), read(cert_path), check_mode, ca=ca)
        result = apply_own_dirs(sp, the_plan, leaf_files(sp), check_mode, diff)
        report.append({"name": server["name"], **{k: v for k, v in result.items() if k != "diff"}})
        if diff and result["changed"]:
            before.append(f"[{server['name']}]\n{result['diff']['before']}")
            after.append(f"[{server['name']}]\n{result['diff']['after']}")
    outcome = {"changed": any(entry["changed"] for entry in report), "servers": report}
    if diff:
        outcome["diff"] = {"before": "".join(before), "after": "".join(after)}
    return outcome
