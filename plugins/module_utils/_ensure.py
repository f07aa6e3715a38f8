# Private to the mtls.nginx collection: not a public API, may change without notice.
"""What each module does, as a function of (validated parameters, check mode, diff mode).

The same function runs inside the module (plugins/modules) or, for a task on the control node,
in the controller process itself (plugins/action): no AnsibleModule here. Failures raise
MtlsError with a message that names the option and the fix.
"""
from __future__ import annotations

import contextlib
import os

from ansible_collections.mtls.nginx.plugins.module_utils import _files, _https, _info, _ledger, _rollover
from ansible_collections.mtls.nginx.plugins.module_utils import _plan as plan
from ansible_collections.mtls.nginx.plugins.module_utils._plan_bundle import plan_bundle
from ansible_collections.mtls.nginx.plugins.module_utils._plan_ca import load_ca, plan_ca
from ansible_collections.mtls.nginx.plugins.module_utils._plan_crl import plan_crl
from ansible_collections.mtls.nginx.plugins.module_utils._x509 import load_certificate, not_after
from ansible_collections.mtls.nginx.plugins.module_utils import _plan_clients as plan_clients
from ansible_collections.mtls.nginx.plugins.module_utils._common import MIN_PASSPHRASE_LENGTH, MtlsError, days_left, utcnow
from ansible_collections.mtls.nginx.plugins.module_utils import _layout
from ansible_collections.mtls.nginx.plugins.module_utils._inventory import client_name_errors, fleet_errors, name_error, short_passphrases
from ansible_collections.mtls.nginx.plugins.module_utils._layout import client_files, passphrase_path, server_files
from ansible_collections.mtls.nginx.plugins.module_utils._specs import BUNDLE_INPUTS

read = _files.read_bytes


def _apply(p, the_plan, managed, check_mode, diff):
    """Write what the plan says; the result every module returns about it."""
    # In check mode new material is not generated, so the reason alone says a write is due.
    changed = _files.apply(the_plan.writes, managed, p["owner"], p["group"], check_mode) or the_plan.reason is not None
    result = {"changed": changed, **(the_plan.after or {})}
    if the_plan.reason:
        result["reissue_reason"] = the_plan.reason
    if diff:
        result["diff"] = the_plan.diff()
    return result


def _remove(paths, check_mode, diff):
    removed = _files.remove_all(paths, check_mode)
    result = {"changed": bool(removed)}
    if diff:
        result["diff"] = {"before": "".join(f"{path}: present\n" for path in removed), "after": ""}
    return result


def _ledger_lock(path):
    """The ledger's lock when the module keeps one: plan and writes happen under it."""
    return _ledger.locked(path) if path else contextlib.nullcontext()


def _load_ledger(p):
    return _ledger.parse(read(p["ledger_path"]), p["ledger_path"]) if p["ledger_path"] else None


def _load_ca(p):
    return load_ca(read(p["ca_certificate_path"]), read(p["ca_private_key_path"]), p)


def _ca_made_later(p, check_mode):
    """Check mode, and the signing CA's certificate or key is not there: ca_root, earlier in the run,
    would make it, and a new CA signs everything anew. Modules predict that instead of failing to
    load it (the roles need no check-mode guard around them)."""
    return check_mode and any(read(p[option]) is None for option in ("ca_certificate_path", "ca_private_key_path"))


NEW_CA = "new CA"


def _predicted_new(diff, key=None, names=()):
    """What a module reports in check mode when its signing CA is not made yet: everything is new
    (key: the per-item report of a many-item module, one entry per name)."""
    if key is None:
        result, text = {"changed": True, "reissue_reason": NEW_CA}, f"(will be issued: {NEW_CA})\n"
    else:
        result = {"changed": bool(names), key: [{"name": name, "changed": True, "reissue_reason": NEW_CA} for name in names]}
        text = "".join(f"[{name}]\n(will be issued: {NEW_CA})\n" for name in names)
    if diff:
        result["diff"] = {"before": "", "after": text}
    return result


def _leaf_files(p):
    return {p["private_key_path"]: plan.KEY_MODE, p["certificate_path"]: plan.cert_mode(p)}


def _apply_own_dirs(p, the_plan, managed, check_mode, diff):
    """_apply, creating the files' missing directories first (mode 0700): ca_root and server_cert own theirs."""
    if the_plan.writes and not check_mode:
        for path in managed:
            _files.make_dirs(os.path.dirname(os.path.abspath(path)))
    return _apply(p, the_plan, managed, check_mode, diff)


def ca_root(p, check_mode, diff):
    now = utcnow()
    key_data = read(p["private_key_path"])
    the_plan = plan_ca(p, key_data, read(p["certificate_path"]), check_mode, now=now)
    result = _apply_own_dirs(p, the_plan, _leaf_files(p), check_mode, diff)
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


def server_cert(p, check_mode, diff):
    if p["ca_certificate_path"] and _ca_made_later(p, check_mode):
        return _predicted_new(diff)
    ca = _load_ca(p) if p["ca_certificate_path"] else None
    the_plan = plan.plan_server(p, read(p["private_key_path"]), read(p["certificate_path"]), check_mode, ca=ca)
    return _apply_own_dirs(p, the_plan, _leaf_files(p), check_mode, diff)


def server_certs(p, check_mode, diff):
    """server_cert for many servers, signed by one CA loaded once; a report per server."""
    errors = fleet_errors(p["servers"])
    if errors:
        raise MtlsError("; ".join(errors))
    if _ca_made_later(p, check_mode):
        return _predicted_new(diff, "servers", [server["name"] for server in p["servers"]])
    ca = _load_ca(p)
    report, before, after = [], [], []
    for server in p["servers"]:
        cert_path, key_path = server_files(p["servers_dir"], server["name"])
        sp = {**p, "common_name": server["name"], "dns_names": list(dict.fromkeys([server["name"], *server["dns_names"]])),
              "ip_addresses": server["ip_addresses"], "certificate_path": cert_path, "private_key_path": key_path,
              "force": False, "mode": None}
        the_plan = plan.plan_server(sp, read(key_path), read(cert_path), check_mode, ca=ca)
        result = _apply_own_dirs(sp, the_plan, _leaf_files(sp), check_mode, diff)
        report.append({"name": server["name"], **{k: v for k, v in result.items() if k != "diff"}})
        if diff and result["changed"]:
            before.append(f"[{server['name']}]\n{result['diff']['before']}")
            after.append(f"[{server['name']}]\n{result['diff']['after']}")
    outcome = {"changed": any(entry["changed"] for entry in report), "servers": report}
    if diff:
        outcome["diff"] = {"before": "".join(before), "after": "".join(after)}
    return outcome


def client_cert(p, check_mode, diff):
    if p["state"] == "absent":
        return _remove([p["private_key_path"], p["certificate_path"]], check_mode, diff)
    managed = _leaf_files(p)
    name = p["name"] or os.path.splitext(os.path.basename(p["certificate_path"]))[0]
    error = name_error(name, "name" if p["name"] else f"name (from certificate_path {p['certificate_path']})")
    if error:
        raise MtlsError(error)
    # Every signature of the client CA is recorded, so that its CRL can revoke it.
    ledger_path = p["ledger_path"] or _layout.ca_files(os.path.dirname(os.path.abspath(p["ca_certificate_path"])))["ledger"]
    p = {**p, "name": name, "ledger_path": ledger_path}
    if _ca_made_later(p, check_mode):
        return _predicted_new(diff)
    with _ledger_lock(p["ledger_path"]):
        ledger = _load_ledger(p)
        the_plan = plan.plan_client(p, _load_ca(p), read(p["private_key_path"]), read(p["certificate_path"]),
                                    check_mode=check_mode, ledger=ledger)
        if the_plan.ledger is not None:
            the_plan.writes.append((p["ledger_path"], _ledger.dump(the_plan.ledger), plan.LEDGER_MODE))
        result = _apply(p, the_plan, managed, check_mode, diff)
    if the_plan.superseded:
        result["superseded"] = [serial for serial, _name, _reason in the_plan.superseded]
    return result


def pkcs12_bundle(p, check_mode, diff):
    if p["state"] == "absent":
        return _remove([p["path"]], check_mode, diff)
    the_plan = plan_bundle(p, *(read(p[option]) for option in (*BUNDLE_INPUTS, "path")), check_mode=check_mode)
    return _apply(p, the_plan, {p["path"]: plan.BUNDLE_MODE}, check_mode, diff)


def _other_ledgers(p):
    return [_ledger.parse(read(path), path) for path in p["other_ledger_paths"]]


def crl(p, check_mode, diff):
    if _ca_made_later(p, check_mode):
        return {**_predicted_new(diff), "newly_revoked": []}
    with _ledger_lock(p["ledger_path"]):
        the_plan = plan_crl(p, *(read(p[option]) for option in (
            "ca_certificate_path", "ca_private_key_path", "ledger_path", "path")), check_mode=check_mode,
            others=_other_ledgers(p))
        result = _apply(p, the_plan, {p["path"]: plan.CRL_MODE}, check_mode, diff)
    return {**result, "newly_revoked": the_plan.newly_revoked}


def clients(p, check_mode, diff):
    errors = client_name_errors(p["clients"])
    if errors:
        raise MtlsError("; ".join(errors))
    if _ca_made_later(p, check_mode):
        return _predicted_new(diff, "clients", [client["name"] for client in p["clients"]])
    trust = _load_trust(p, check_mode)
    with _ledger_lock(p["ledger_path"]):
        ledger = _load_ledger(p)
        plans, new_ledger = plan_clients.plan_clients(p, _load_ca(p), read, check_mode, ledger=ledger, trust=trust,
                                                      others=_other_ledgers(p), keep_issuer=_load_keep_issuer(p))
        result = _apply_clients(p, plans, new_ledger if new_ledger != ledger else None, check_mode, diff)
    warnings = [f"clients: the request of {user.name} asks for {'; '.join(user.certificate.ignored)}: ignored, the"
                " certificate carries the inventory's subject and e-mail and the client profile only"
                for user in plans if user.certificate.reason and user.certificate.ignored]
    short = short_passphrases(p["clients"])
    if short:
        warnings.append(
            f"clients: the p12_passphrase of {', '.join(short)} is shorter than {MIN_PASSPHRASE_LENGTH} characters."
            " Whoever gets a bundle can test about 10,000 guesses a second per CPU core against it, offline and"
            f" far faster on a GPU; use {MIN_PASSPHRASE_LENGTH} or more random characters, or leave it out to have"
            " one generated.")
    if warnings:
        result["warnings"] = warnings
    return result


def _load_keep_issuer(p):
    """The previous CA during a rollover (its certificates are kept until due), or None."""
    path = p["keep_issuer_certificate_path"]
    data = read(path) if path else None
    return load_certificate(data, path) if data is not None else None


def _load_trust(p, check_mode):
    """The server's CA for the kits. In check mode it may not exist yet: an earlier task would create it."""
    data = read(p["trust_certificate_path"]) if p["trust_certificate_path"] else None
    if check_mode and data is None:
        return None
    return plan_clients.load_trust(p, data)


# What each user's report calls the reason of each plan (ClientPlans.plans order).
_REASONS = ("reissue_reason", "bundle_reason", "compat_bundle_reason", "kit_reason")


def _apply_clients(p, plans, ledger, check_mode, diff):
    """Write what plan_clients decided for every user (and the ledger once); the per-user report."""
    writes, removals, managed, report, diff_before, diff_after = [], [], {}, [], [], []
    for user in plans:
        files = client_files(p["clients_dir"], user.name)
        managed.update({files["private_key_path"]: plan.KEY_MODE, files["certificate_path"]: plan.cert_mode({})})
        managed.update({files[option]: mode for option, mode in plan_clients.KIT_MODES.items()})
        if p["passphrases_dir"]:
            managed[passphrase_path(p["passphrases_dir"], user.name)] = plan_clients.PASSPHRASE_MODE
        for each in user.plans:
            writes += each.writes
            removals += each.removals
        superseded = [serial for serial, _name, _reason in user.certificate.superseded]
        entry = {"name": user.name, "changed": any(each.reason for each in user.plans) or bool(superseded),
                 **(user.certificate.after or {})}
        if superseded:
            entry["superseded"] = superseded
        entry.update({key: each.reason for key, each in zip(_REASONS, user.plans) if each.reason})
        report.append(entry)
        if entry["changed"]:
            cert_diff = user.certificate.diff()
            diff_before.append(f"[{user.name}]\n{cert_diff['before']}")
            diff_after.append(f"[{user.name}]\n{cert_diff['after']}" + "".join(
                f"{key}: {entry[key]}\n" for key in _REASONS[1:] if key in entry))
    if ledger is not None:
        writes.append((p["ledger_path"], _ledger.dump(ledger), plan.LEDGER_MODE))
    if writes and not check_mode:
        for directory in sorted({os.path.dirname(path) for path, _data, _mode in writes}):
            _files.make_dirs(directory)  # clients_dir and each user's directory: owner only
    changed = _files.apply(writes, managed, p["owner"], p["group"], check_mode)
    changed = bool(_files.remove_all(removals, check_mode)) or changed or any(entry["changed"] for entry in report)
    result = {"changed": changed, "clients": report}
    if diff:
        result["diff"] = {"before": "".join(diff_before), "after": "".join(diff_after)}
    return result


def ca_rollover(p, check_mode, diff):
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


def pki_info(p, check_mode, diff):
    """Reads only: the same in check mode."""
    if not os.path.isdir(p["pki_dir"]):
        raise MtlsError(f"pki_dir: {p['pki_dir']} is not a directory; give the mtls_pki_dir that the pki role uses")
    info = _info.report(p["pki_dir"], p["expiring_within_days"], read, os.listdir, utcnow(), p["crl_expiring_within_days"])
    return {"changed": False, **info, "table": _info.table(info)}


def verify_server(p, check_mode, diff):
    """Requests change nothing, but in check mode what they would prove depends on changes the same
    run only predicts: none is sent, and the result says so."""
    if check_mode:
        return {"changed": False, "msg": f"Check mode: the requests to {p['url']} are not sent; what they would prove"
                " depends on changes this run only predicted. Run without --check to verify the server."}
    return _https.verify_server(p)


ENSURE = {"ca_root": ca_root, "client_cert": client_cert, "server_cert": server_cert, "server_certs": server_certs,
          "pkcs12_bundle": pkcs12_bundle, "crl": crl, "clients": clients, "verify_server": verify_server,
          "ca_rollover": ca_rollover, "pki_info": pki_info}
