# Private to the mtls.nginx collection: not a public API, may change without notice.
"""crl's plan: revocations from the inventory and the ledgers, and a CRL kept current (see _plan)."""
from __future__ import annotations

from ansible_collections.mtls.nginx.plugins.module_utils import _ledger
from ansible_collections.mtls.nginx.plugins.module_utils._common import REVOKE_REASONS, PkiError, utcnow
from ansible_collections.mtls.nginx.plugins.module_utils._crl import build_crl, crl_entries, crl_next_update, crl_number, crl_reissue_reason, dump_crl, load_crl
from ansible_collections.mtls.nginx.plugins.module_utils._plan import CRL_MODE, LEDGER_MODE, Plan, _fail_on
from ansible_collections.mtls.nginx.plugins.module_utils._plan_ca import load_ca, load_ca_certificate


def plan_crl(p, ca_cert_data, ca_key_data, ledger_data, crl_data, check_mode=False, now=None, others=()):
    """Revoke what the client list says (by name, from the ledger) and what the keys say (a key a
    name no longer holds, a key revoked anywhere: others are the PKI's other ledgers), and keep
    the CRL current."""
    now = now or utcnow()
    errors = []
    if p["next_update_days"] < 1:
        errors.append(f"next_update_days must be at least 1, got {p['next_update_days']}")
    elif not 0 <= p["refresh_before_days"] < p["next_update_days"]:
        errors.append(f"refresh_before_days must be 0 to next_update_days - 1 ({p['next_update_days'] - 1}),"
                      f" got {p['refresh_before_days']}")
    for index, client in enumerate(p["clients"]):
        if client.get("revoke_reason") not in (None, *REVOKE_REASONS):
            errors.append(f"clients[{index}].revoke_reason must be one of {', '.join(REVOKE_REASONS)},"
                          f" got {client['revoke_reason']!r}")
    _fail_on(errors)
    ca_cert = load_ca_certificate(ca_cert_data, p)
    ledger = _ledger.parse(ledger_data, p["ledger_path"])
    due = _ledger.revocations_due(ledger, p["clients"], p["revoke_unlisted"], now, others)
    plan = Plan(ledger=_ledger.revoke(ledger, due, now))
    revoked = _ledger.revoked(plan.ledger, now)
    wanted = {entry["serial"]: entry["reason"] or "unspecified" for entry in revoked}
    current = None
    if crl_data is None:
        plan.reason = "missing"
    else:
        try:
            current = load_crl(crl_data, p["path"])
        except PkiError:
            plan.reason = "unreadable"
        else:
            plan.reason = crl_reissue_reason(current, ca_cert, wanted, p["refresh_before_days"], now)
            plan.before = _crl_info(current, plan.ledger)
    if plan.reason:
        # The CA's key is read only to sign: a root whose key is offline has a CRL that lasts (see ca_root's offline).
        ca_key = load_ca(ca_cert_data, ca_key_data, p, plan.reason)[1]
    if plan.reason and not check_mode:
        number = max(ledger.get("crl_number", 0), (crl_number(current) or 0) if current else 0) + 1
        crl = build_crl(ca_cert, ca_key, revoked, number, p["next_update_days"], now)
        plan.ledger["crl_number"] = number
        plan.writes.append((p["path"], dump_crl(crl), CRL_MODE))
        plan.after = _crl_info(crl, plan.ledger)
    elif not plan.reason:
        plan.after = plan.before
    if plan.ledger != ledger and not check_mode:
        plan.writes.append((p["ledger_path"], _ledger.dump(plan.ledger), LEDGER_MODE))
    plan.newly_revoked = sorted({name for _serial, name, _reason in due})
    return plan


def _crl_info(crl, ledger):
    names = {entry["serial"]: entry["name"] for entry in ledger["certificates"]}
    return {
        "crl_number": crl_number(crl),
        "next_update": crl_next_update(crl).isoformat(),
        "revoked": [{"serial_number": serial, "name": names.get(serial), "reason": reason}
                    for serial, reason in sorted(crl_entries(crl).items())],
    }
