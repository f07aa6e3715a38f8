# Private to the mtls.nginx collection: not a public API, may change without notice.
"""What the clients module must write for many users in one pass: certificates, bundles, kits.

Built on the single-module plans of _plan (plan_client, plan_bundle_of); no I/O here: read(path)
gives a file's bytes or None, and the caller applies the writes.
"""
from __future__ import annotations

import dataclasses
import os

from ansible_collections.mtls.nginx.plugins.module_utils import _kit, _ledger, _pkcs12
from ansible_collections.mtls.nginx.plugins.module_utils._common import PkiError, utcnow
from ansible_collections.mtls.nginx.plugins.module_utils._keys import spki_sha256
from ansible_collections.mtls.nginx.plugins.module_utils._inventory import passphrase_errors
from ansible_collections.mtls.nginx.plugins.module_utils._layout import client_files, passphrase_path
from ansible_collections.mtls.nginx.plugins.module_utils._plan import BUNDLE_MODE, PUBLIC_MODE, Plan, plan_client
from ansible_collections.mtls.nginx.plugins.module_utils._plan_bundle import plan_bundle_of
from ansible_collections.mtls.nginx.plugins.module_utils._x509 import dump_certificate, load_certificate, not_before, serial_hex


PASSPHRASE_MODE = 0o600  # a generated bundle passphrase

# Mode of each kit file: what carries an encrypted key is the owner's only.
KIT_MODES = {"path": BUNDLE_MODE, "compat_path": BUNDLE_MODE, "mobileconfig_path": BUNDLE_MODE,
             "zip_path": BUNDLE_MODE, "trust_path": PUBLIC_MODE, "readme_path": PUBLIC_MODE}


@dataclasses.dataclass
class ClientPlans:
    """What one run does for one user: certificate, the two bundles, the rest of the kit."""
    name: str
    certificate: Plan
    bundle: Plan
    compat_bundle: Plan
    kit: Plan

    @property
    def plans(self):
        return (self.certificate, self.bundle, self.compat_bundle, self.kit)


def load_trust(p, trust_data):
    """The certificate users' devices must trust to reach the server (trust_certificate_path), or None."""
    if not p.get("trust_certificate_path"):
        return None
    if trust_data is None:
        raise PkiError(f"trust_certificate_path: {p['trust_certificate_path']} does not exist; give the CA certificate"
                       " that issued the server's certificate, or leave the option unset")
    return load_certificate(trust_data, p["trust_certificate_path"])


def plan_clients(p, ca, read, check_mode=False, now=None, ledger=None, trust=None, others=(), keep_issuer=None):
    """Certificates, bundles and kits of many clients in one pass: a list of ClientPlans.

    read(path) returns a file's bytes or None. The ledger, when given, is threaded through the
    clients; the ledger returned is the one after the run, in which every certificate of a key a
    user no longer holds is revoked as superseded (one pass over the ledger for all users).
    others: the ledgers of the PKI's other CAs (see _ledger.View.of). keep_issuer: during a CA
    rollover, the previous CA's certificate: a user's valid certificate from it is kept until it
    needs a new one for any reason (then it comes from ca).
    """
    now = now or utcnow()
    plans = []
    view = _ledger.View.of(ledger, others) if ledger is not None else None
    # Each user's certificates at the start of the run (what this run issues is each one's current).
    history = _ledger.by_name(_ledger.combine(ledger, others)) if ledger is not None else None
    for index, client in enumerate(p["clients"]):
        errors = passphrase_errors(client, f"clients[{index}] ({client['name']})")
        if errors:
            raise PkiError("; ".join(errors))
        if client.get("csr") is None and client.get("p12_passphrase") is None and not p.get("passphrases_dir"):
            raise PkiError(f"clients[{index}].p12_passphrase is not set for {client['name']}: set it, or set"
                           " passphrases_dir to keep a generated one")
    for index, client in enumerate(p["clients"]):
        files = client_files(p["clients_dir"], client["name"])
        own_key = client.get("csr") is not None
        passphrase, passphrase_writes = (None, []) if own_key else _bundle_passphrase(p, client, read, check_mode)
        cp = {**p, **client, **files, "organization": None, "country": None, "force": False, "mode": None,
              "common_name": client.get("common_name") or client["name"], "where": f"clients[{index}] ({client['name']}).csr"}
        key_data, cert_data = read(files["private_key_path"]), read(files["certificate_path"])
        cert_plan = plan_client(cp, ca, key_data, cert_data, check_mode=check_mode, now=now, ledger=view,
                                supersede=False, keep_issuer=keep_issuer)
        if own_key:
            plans.append(_plan_own_key(p, client["name"], files, cert_plan, cert_data, ca, keep_issuer, trust, read,
                                       check_mode, lambda cert: _previous_until(history, client["name"], cert)))
            continue
        if check_mode and (cert_plan.reason or passphrase is None):
            # Nothing was issued to compare with: everything made from the certificate changes.
            changes = Plan(reason="certificate changed" if cert_plan.reason else "passphrase generated")
            plans.append(ClientPlans(client["name"], cert_plan, changes, changes, changes))
            continue
        cert_data, cert, issuer = _certificate_after(cert_plan, files, cert_data, ca, keep_issuer)
        key = cert_plan.key
        chain = _kit.bundle_chain(issuer)
        bundles = {}
        for option, encryption in (("path", p["encryption"]), ("compat_path", "compatible")):
            bp = {"path": files[option], "passphrase": passphrase, "encryption": encryption, "friendly_name": None}
            bundle_data = read(files[option])
            bundle_plan = plan_bundle_of(bp, key, cert, chain, bundle_data, check_mode)
            after = bundle_plan.writes[0][1] if bundle_plan.writes else None if bundle_plan.reason else bundle_data
            bundles[option] = (bundle_plan, after)
        kit_plan = plan_kit(p, client["name"], files, cert=cert, cert_data=cert_data, ca_cert=issuer, trust=trust, read=read,
                            bundles={option: data for option, (_plan, data) in bundles.items()},
                            previous_until=_previous_until(history, client["name"], cert))
        bundles["path"][0].writes[:0] = passphrase_writes
        plans.append(ClientPlans(client["name"], cert_plan, bundles["path"][0], bundles["compat_path"][0], kit_plan))
    if view is not None:
        ledger, due = _ledger.supersede(view.ledger, now, others)
        for user in plans:
            user.certificate.superseded = [entry for entry in due if entry[1] == user.name]
    return plans, ledger


def _certificate_after(cert_plan, files, cert_data, ca, keep_issuer):
    """(bytes, certificate, issuer's certificate) of a user's certificate once cert_plan is applied:
    the issuer is the previous CA's during a rollover for a certificate kept from it, else ca's."""
    cert_data = next((data for path, data, _mode in cert_plan.writes if path == files["certificate_path"]), cert_data)
    cert = cert_plan.certificate
    issuer = keep_issuer if keep_issuer is not None and cert.issuer == keep_issuer.subject else ca[0]
    return cert_data, cert, issuer


def _previous_until(history, name, cert):
    """When the certificate a same-key renewal left valid ends (see _ledger.previous_until), or None."""
    if history is None:
        return None
    current = {"serial_number": serial_hex(cert.serial_number), "spki_sha256": spki_sha256(cert),
               "not_before": not_before(cert).isoformat()}
    return _ledger.previous_until(history.get(name, []), current)


def _plan_own_key(p, name, files, cert_plan, cert_data, ca, keep_issuer, trust, read, check_mode, previous_until):
    """A user who brings their own key: a certificate and a kit without any bundle; bundles and a
    generated passphrase from before are removed (their key is no longer the user's)."""
    stale = [files["path"], files["compat_path"]] + (
        [passphrase_path(p["passphrases_dir"], name)] if p.get("passphrases_dir") else [])
    gone = Plan(removals=[path for path in stale if read(path) is not None])
    gone.reason = "own key: bundles removed" if gone.removals else None
    if check_mode and cert_plan.reason:
        changes = Plan(reason="certificate changed")
        return ClientPlans(name, cert_plan, gone, Plan(), changes)
    cert_data, cert, issuer = _certificate_after(cert_plan, files, cert_data, ca, keep_issuer)
    kit_plan = plan_kit(p, name, files, cert=cert, cert_data=cert_data, ca_cert=issuer, trust=trust, read=read,
                        bundles=None, previous_until=previous_until(cert))
    return ClientPlans(name, cert_plan, gone, Plan(), kit_plan)


def _bundle_passphrase(p, client, read, check_mode):
    """(passphrase, writes) of a user's bundles: the inventory's, or one generated and kept 0600.

    In check mode a passphrase still to be generated is None (nothing is generated)."""
    if client.get("p12_passphrase") is not None:
        return client["p12_passphrase"], []
    path = passphrase_path(p["passphrases_dir"], client["name"])
    kept = read(path)
    if kept is not None and kept.strip():
        return kept.decode("utf-8").strip(), []
    if check_mode:
        return None, []
    generated = _pkcs12.generate_passphrase()
    return generated, [(path, f"{generated}\n".encode(), PASSPHRASE_MODE)]


_PENDING = object()  # check mode: the content depends on a bundle that is not built yet


def plan_kit(p, name, files, *, cert, cert_data, ca_cert, bundles, trust, read, previous_until=None):
    """ca.crt, the Apple profile, README.html and (when p["zip"]) the zip of one user.

    bundles: the bytes of both bundles after the run ({"path": …, "compat_path": …}), None for a
    bundle that check mode would rebuild: what contains it is reported as changing, not rendered.
    bundles=None: the user brings their own key; the kit is the certificate, ca.crt and README.html.
    trust: the certificate users' devices must trust to reach the server, or None. previous_until:
    when the certificate a same-key renewal left valid ends (README.html says so), or None.
    """
    names = {option: os.path.basename(path) for option, path in files.items()}
    own_key = bundles is None
    compat = None if own_key else bundles["compat_path"]
    wanted = {
        "trust_path": None if trust is None else dump_certificate(trust),
        "readme_path": _kit.readme_html(_kit.readme_facts(name, cert, ca_cert, names, trust, p.get("server_url"),
                                                          own_key=own_key, previous_until=previous_until)),
        "mobileconfig_path": None if own_key else _PENDING if compat is None else _kit.mobileconfig(
            name, compat, names["compat_path"], ca_cert, trust, p.get("server_url")),
        "zip_path": None,
    }
    if p.get("zip"):
        bundled = [] if own_key else [
            ("path", bundles["path"]), ("compat_path", compat), ("mobileconfig_path", wanted["mobileconfig_path"])]
        members = [("certificate_path", cert_data), *bundled] + [
            (option, wanted[option]) for option in ("trust_path", "readme_path")]
        pending = any(data is None or data is _PENDING for option, data in members if option != "trust_path")
        wanted["zip_path"] = _PENDING if pending else _kit.kit_zip(
            [(names[option], data) for option, data in members if data is not None])
    plan = Plan()
    changed = []
    for option, data in wanted.items():
        path, current = files[option], read(files[option])
        if data is None:
            if current is not None:
                plan.removals.append(path)
                changed.append(f"{names[option]} removed")
        elif data is _PENDING or current != data:
            changed.append(f"{names[option]} {'missing' if current is None else 'changed'}")
            if data is not _PENDING:
                plan.writes.append((path, data, KIT_MODES[option]))
    plan.reason = ", ".join(changed) or None
    return plan
