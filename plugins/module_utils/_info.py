# Private to the mtls.nginx collection: not a public API, may change without notice.
"""What the PKI holds and when each part ends: pki_info's report, its table and Prometheus metrics."""
from __future__ import annotations

import datetime
import os

from ansible_collections.mtls.nginx.plugins.module_utils import _ledger
from ansible_collections.mtls.nginx.plugins.module_utils._common import days_left
from ansible_collections.mtls.nginx.plugins.module_utils._crl import next_updates
from ansible_collections.mtls.nginx.plugins.module_utils._layout import ca_files, pki_paths
from ansible_collections.mtls.nginx.plugins.module_utils._rollover import archived
from ansible_collections.mtls.nginx.plugins.module_utils._x509 import load_certificate, load_certificates, not_after


def _row(role, directory, cert, updates, now):
    """A CA of the report: subject, end, and the next update of its CRL (from updates, None without one)."""
    next_update = updates.get(cert.subject)
    return {"role": role, "dir": directory, "subject": cert.subject.rfc4514_string(),
            "not_after": not_after(cert).isoformat(), "days_left": days_left(not_after(cert), now),
            "crl_next_update": next_update.isoformat() if next_update else None,
            "crl_days_left": days_left(next_update, now) if next_update else None}


def _ca(role, directory, read, now):
    """One client CA with its CRL; None when the directory has no CA."""
    files = ca_files(directory)
    data = read(files["certificate"])
    if data is None:
        return None
    return _row(role, directory, load_certificate(data, files["certificate"]), next_updates(read(files["crl"]), files["crl"]),
                now)


def _chain(role, directory, read, now):
    """The CAs above a client CA imported from another PKI (role "<role> chain"), each with the next
    update of its CRL as chain_crls keeps it (None while it has none)."""
    files = ca_files(directory)
    chain = read(files["chain"])
    if chain is None:
        return []
    updates = next_updates(read(files["chain_crls"]), files["chain_crls"])
    return [_row(f"{role} chain", directory, cert, updates, now) for cert in load_certificates(chain, files["chain"])]


def report(pki_dir, within_days, read, listdir, now, crl_within_days=3):
    """Every client CA (the root of two tiers, current, next, archived), every certificate they
    issued, the server certificates, and what of it that is still in use ends within within_days
    (an issuing CA's CRL, which lives a month and is replaced a week before its end: within
    crl_within_days; the root's, signed with a key that may be offline: within within_days)."""
    paths = pki_paths(pki_dir)
    places = [("root", paths["root_dir"]), ("current", paths["ca_dir"]), ("next", paths["next_ca_dir"])] + [
        (os.path.basename(directory).rsplit("-", 1)[-1], directory) for directory in archived(paths["archive_dir"], listdir)]
    cas, clients = [], []
    for role, directory in places:
        ca = _ca(role, directory, read, now)
        if ca is None:
            continue
        cas.append(ca)
        cas += _chain(role, directory, read, now)
        ledger = _ledger.parse(read(ca_files(directory)["ledger"]), ca_files(directory)["ledger"])
        for entry in ledger["certificates"]:
            end = datetime.datetime.fromisoformat(entry["not_after"])
            state = entry["status"] if entry["status"] == "revoked" or end > now else "expired"
            clients.append({"name": entry["name"], "state": state, "ca": ca["subject"], "ca_role": role,
                            "serial": entry["serial"], "not_after": entry["not_after"], "days_left": days_left(end, now),
                            "revoked_reason": entry["reason"]})
    try:
        server_files = sorted(name for name in listdir(paths["server_dir"]) if name.endswith(".crt"))
    except FileNotFoundError:
        server_files = []
    servers = []  # the server CA (ca.crt) first, then each server's certificate
    for name in sorted(server_files, key=lambda file_name: file_name != "ca.crt"):
        path = os.path.join(paths["server_dir"], name)
        cert = load_certificate(read(path), path)
        servers.append({"name": "server CA" if name == "ca.crt" else name[:-4], "subject": cert.subject.rfc4514_string(),
                        "not_after": not_after(cert).isoformat(), "days_left": days_left(not_after(cert), now)})
    in_use = [ca for ca in cas if ca["role"] in ("root", "current", "next", "current chain", "next chain")]
    # A root's CRL is signed with a key that may be offline: it is reported as early as a CA.
    crl_days = {"root": within_days}
    expiring = {
        "cas": [ca["subject"] for ca in in_use if ca["days_left"] <= within_days],
        "crls": [ca["subject"] for ca in in_use if ca["crl_days_left"] is not None
                 and ca["crl_days_left"] <= crl_days.get(ca["role"], crl_within_days)],
        "clients": [f"{c['name']} ({c['serial']})" for c in clients
                    if c["ca_role"] in ("current", "next") and c["state"] == "valid" and c["days_left"] <= within_days],
        "servers": [s["name"] for s in servers if s["days_left"] <= within_days],
    }
    return {"cas": cas, "clients": clients, "servers": servers, "expiring": expiring, "within_days": within_days,
            "crl_within_days": crl_within_days, "expiring_count": sum(len(items) for items in expiring.values())}


def table(info):
    """The report as aligned text lines, for a console."""
    rows = [("KIND", "NAME", "STATE", "ISSUER / ROLE", "ENDS (UTC)", "DAYS LEFT")]
    for ca in info["cas"]:
        rows.append(("client CA", ca["subject"], ca["role"], "", ca["not_after"][:16], f"{ca['days_left']:.0f}"))
        if ca["crl_next_update"]:
            rows.append(("CRL", ca["subject"], "next update", "", ca["crl_next_update"][:16], f"{ca['crl_days_left']:.1f}"))
    for client in info["clients"]:
        state = client["state"] + (f" ({client['revoked_reason']})" if client["revoked_reason"] else "")
        rows.append(("client", client["name"], state, f"{client['ca_role']}: {client['ca']}", client["not_after"][:16],
                     f"{client['days_left']:.0f}"))
    for server in info["servers"]:
        rows.append(("server", server["name"], "", "", server["not_after"][:16], f"{server['days_left']:.0f}"))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    expiring = [f"{kind}: {', '.join(items)}" for kind, items in info["expiring"].items() if items]
    lines.append(f"Ending within {info['within_days']} days (CRLs: {info['crl_within_days']}): "
                 + ("; ".join(expiring) if expiring else "nothing"))
    return lines


def _label(value):
    """A Prometheus label value: backslash, double quote and line feed escaped."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


METRICS = (
    ("mtls_crl_next_update_timestamp_seconds", "When the CRL of a client CA must be replaced (nginx rejects every client after it)."),
    ("mtls_client_ca_not_after_timestamp_seconds", "When a client CA ends (no client certificate outlives it)."),
    ("mtls_server_certificate_not_after_timestamp_seconds", "When the server's certificate ends."),
)


def metrics(cas, server):
    """node_exporter textfile: cas [(subject, not_after, crl_next_update or None)], server (name, not_after); datetimes."""
    samples = {
        METRICS[0][0]: [(f'ca="{_label(subject)}"', crl) for subject, _end, crl in cas if crl is not None],
        METRICS[1][0]: [(f'ca="{_label(subject)}"', end) for subject, end, _crl in cas],
        METRICS[2][0]: [(f'server_name="{_label(server[0])}"', server[1])],
    }
    lines = []
    for name, text in METRICS:
        lines += [f"# HELP {name} {text}", f"# TYPE {name} gauge"]
        lines += [f"{name}{{{labels}}} {int(when.timestamp())}" for labels, when in samples[name]]
    return "\n".join(lines) + "\n"
