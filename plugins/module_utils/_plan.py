# Private to the mtls.nginx collection: not a public API, may change without notice.
"""What each module must write, decided from the bytes on disk and the options: no I/O here.

A plan function takes the module's parameters and the current file contents (None for a
missing file) and returns a Plan; the module reads the files, calls it and applies the writes.
In check mode nothing new is generated: the plan carries the reason but no new material.
"""
from __future__ import annotations

import dataclasses
import os

from ansible_collections.mtls.nginx.plugins.module_utils import _kit, _ledger, _pkcs12
from ansible_collections.mtls.nginx.plugins.module_utils._layout import client_files, passphrase_path
from ansible_collections.mtls.nginx.plugins.module_utils._common import ENCRYPTIONS, REVOKE_REASONS
from ansible_collections.mtls.nginx.plugins.module_utils._x509 import (
    PkiError,
    UnreadableKeyError,
    build_crl,
    build_name,
    ca_renewal_reason,
    client_reissue_reason,
    crl_entries,
    crl_next_update,
    crl_number,
    crl_reissue_reason,
    describe,
    dump_certificate,
    dump_crl,
    dump_private_key,
    email_errors,
    generate_key,
    issue_ca_certificate,
    issue_client_certificate,
    issue_server_certificate,
    key_errors,
    key_spec_mismatch,
    load_certificate,
    load_crl,
    load_private_key,
    name_constraints,
    name_field,
    public_key_der,
    serial_hex,
    server_reissue_reason,
    spki_sha256,
    subject_errors,
    utcnow,
    validity_errors,
)

KEY_MODE = 0o600
BUNDLE_MODE = 0o600
LEDGER_MODE = 0o600
PASSPHRASE_MODE = 0o600
CRL_MODE = 0o644
PUBLIC_MODE = 0o644  # a user's ca.crt and README.html: nothing secret
DEFAULT_CERT_MODE = "0644"


def cert_mode(p):
    """The certificate file's mode from the module's mode option (an octal string)."""
    mode = p.get("mode") or DEFAULT_CERT_MODE
    try:
        value = int(str(mode), 8)
    except ValueError:
        value = -1
    if not 0 <= value <= 0o777:
        raise PkiError(f"mode must be an octal string such as \"0644\", got {mode!r}")
    return value


@dataclasses.dataclass
class Plan:
    writes: list = dataclasses.field(default_factory=list)  # (path, data, mode)
    removals: list = dataclasses.field(default_factory=list)  # paths that must not exist after the run
    reason: str | None = None  # why the certificate (or bundle) is (re)issued
    before: dict | None = None  # what the existing certificate or bundle was
    after: dict | None = None  # what it is after the run (None in check mode when it changes)
    ledger: dict | None = None  # the issuance ledger after the run, when the module keeps one
    newly_revoked: list = dataclasses.field(default_factory=list)  # names revoked by this run
    superseded: list = dataclasses.field(default_factory=list)  # (serial, name, reason) this run revokes

    def diff(self):
        return {"before": _diff_text(self.before), "after": _diff_text(self.after, self.reason)}


def _diff_text(info, reason=None):
    if not info:
        return "" if reason is None else f"(will be issued: {reason})\n"
    keys = ("subject", "serial_number", "not_after", "friendly_name", "encryption", "crl_number", "next_update", "revoked")
    lines = [f"{k}: {info[k]}" for k in keys if k in info]
    if reason:
        lines.append(f"reason: {reason}")
    return "\n".join(lines) + "\n"


def _fail_on(errors):
    if errors:
        raise PkiError("; ".join(errors))


def _existing_key(data, path, key_type, key_size, what):
    try:
        key = load_private_key(data, None, path, "private_key_path")[0]
    except UnreadableKeyError as exc:
        raise PkiError(f"private_key_path: {exc}; restore it, or set force: true to replace it"
                       f" (the {what} certificate is reissued with the new key)") from None
    mismatch = key_spec_mismatch(key, key_type, key_size)
    if mismatch:
        raise PkiError(f"private_key_path: {path}: {mismatch}; set force: true to replace the key"
                       f" (the {what} certificate is reissued with it)")
    return key


def _existing_certificate(data, path):
    """The certificate in data, or None when it is unreadable (it is public: it is reissued)."""
    try:
        return load_certificate(data, path)
    except PkiError:
        return None


# ---------------------------------------------------------------------------- ca_root

def plan_ca(p, key_data, cert_data, check_mode=False, now=None):
    now = now or utcnow()
    _fail_on(subject_errors(p["common_name"], p["organization"], p["country"])
             + key_errors(p["key_type"], p["key_size"])
             + validity_errors(p["valid_days"], p["renew_before_days"]))
    if p.get("permitted_names"):
        name_constraints(p["permitted_names"])  # fails, naming the option, before anything is generated
    key_path, cert_path, passphrase = p["private_key_path"], p["certificate_path"], p["passphrase"]
    subject = build_name(p["common_name"], p["organization"], p["country"])
    plan = Plan()

    if p["force"] or (key_data is None and cert_data is None):
        plan.reason = "forced" if p["force"] else "missing"
        if cert_data is not None:
            plan.before = _describe_or_none(cert_data, cert_path)
        key = None if check_mode else generate_key(p["key_type"], p["key_size"])
        if key is not None:
            plan.writes.append((key_path, dump_private_key(key, passphrase), KEY_MODE))
    elif key_data is None:
        raise PkiError(
            f"private_key_path: the CA certificate {cert_path} exists but its key {key_path} does not;"
            " restore the key from your backup, or set force: true to create a new CA"
            " (every client certificate must then be reissued)")
    else:
        try:
            key, encrypted = load_private_key(key_data, passphrase, key_path)
        except UnreadableKeyError as exc:
            raise PkiError(f"private_key_path: {exc}; a CA key is never replaced on its own: restore it"
                           " from your backup, or set force: true to create a new CA") from None
        mismatch = key_spec_mismatch(key, p["key_type"], p["key_size"])
        if mismatch:
            raise PkiError(f"private_key_path: {key_path}: {mismatch}; a CA key is never replaced on its own:"
                           " set key_type/key_size to match it, or force: true to create a new CA")
        if encrypted != bool(passphrase):
            plan.writes.append((key_path, dump_private_key(key, passphrase), KEY_MODE))
        if cert_data is None:
            plan.reason = "missing"
        else:
            cert = _ca_certificate(cert_data, cert_path, key_path, key, subject)
            plan.before = describe(cert)
            plan.reason = ca_renewal_reason(cert, key, p["valid_days"], p["renew_before_days"], now,
                                            p.get("permitted_names"))
            if plan.reason is None:
                plan.after = plan.before
    if plan.reason and key is not None:
        cert = issue_ca_certificate(key, subject, p["valid_days"], now, p.get("permitted_names"))
        plan.writes.append((cert_path, dump_certificate(cert), cert_mode(p)))
        plan.after = describe(cert)
    return plan


def _ca_certificate(cert_data, cert_path, key_path, key, subject):
    try:
        cert = load_certificate(cert_data, cert_path)
    except PkiError as exc:
        raise PkiError(f"certificate_path: {exc}; a CA certificate is never replaced on its own:"
                       " restore it, or remove it to re-sign one with the existing key") from None
    if public_key_der(cert) != public_key_der(key):
        raise PkiError(f"certificate_path: {cert_path} does not belong to the key {key_path};"
                       " restore the matching pair, or set force: true to create a new CA")
    if cert.subject != subject:
        raise PkiError(
            f"common_name/organization/country: the CA at {cert_path} is {cert.subject.rfc4514_string()!r}"
            f" but {subject.rfc4514_string()!r} was asked; renaming a CA breaks every certificate it issued:"
            " put the old values back, or set force: true to create a new CA")
    return cert


def _describe_or_none(cert_data, cert_path):
    cert = _existing_certificate(cert_data, cert_path)
    return describe(cert) if cert else None


# ---------------------------------------------------------------------------- client_cert

def load_ca(ca_cert_data, ca_key_data, p):
    """The CA certificate and key a client certificate is signed with."""
    if ca_cert_data is None:
        raise PkiError(f"ca_certificate_path: no CA certificate at {p['ca_certificate_path']};"
                       " create it with mtls.nginx.ca_root first")
    if ca_key_data is None:
        raise PkiError(f"ca_private_key_path: no CA key at {p['ca_private_key_path']}")
    ca_cert = load_certificate(ca_cert_data, p["ca_certificate_path"])
    ca_key = load_private_key(ca_key_data, p["ca_passphrase"], p["ca_private_key_path"], "ca_passphrase")[0]
    if public_key_der(ca_key) != public_key_der(ca_cert):
        raise PkiError(f"ca_private_key_path: {p['ca_private_key_path']} is not the key of the CA certificate"
                       f" {p['ca_certificate_path']}; point both options at the same CA")
    return ca_cert, ca_key


def client_params_errors(p):
    return (subject_errors(p["common_name"], p["organization"], p["country"])
            + key_errors(p["key_type"], p["key_size"])
            + validity_errors(p["valid_days"], p["renew_before_days"])
            + email_errors(p["email"]))


def plan_client(p, ca, key_data, cert_data, check_mode=False, now=None, ledger=None, known=None, burnt=None,
                supersede=True):
    """Key and certificate of one client, signed by ca = (certificate, key) from load_ca.

    With a ledger: a key whose certificate was ever revoked is replaced by a new one (so a
    reinstated user never comes back with a compromised key), a certificate the ledger lists as
    revoked is reissued, the certificate after the run is recorded when it is not yet, and (with
    supersede) every other valid certificate of the name is revoked as superseded. plan.ledger is
    then the new ledger; writing it is the caller's, once for all clients. known and burnt: the
    ledger's index and burnt_keys, kept up to date by a caller that plans many clients.
    """
    now = now or utcnow()
    _fail_on(client_params_errors(p))
    ca_cert, ca_key = ca
    subject = build_name(
        p["common_name"],
        p["organization"] or name_field(ca_cert.subject, "O"),
        p["country"] or name_field(ca_cert.subject, "C"),
    )
    if ledger is not None and known is None:
        known = _ledger.index(ledger)
    if ledger is not None and burnt is None:
        burnt = _ledger.burnt_keys(ledger)
    taken = known if known is not None else {}

    def key_revoked(key, cert):
        if ledger is None:
            return None
        on_disk_revoked = (cert is not None and _ledger.is_revoked(known, serial_hex(cert.serial_number))
                           and public_key_der(cert) == public_key_der(key))
        return "key revoked" if on_disk_revoked or spki_sha256(key) in burnt else None

    def reissue(cert, key):
        if ledger is not None and _ledger.is_revoked(known, serial_hex(cert.serial_number)):
            return "revoked"
        return client_reissue_reason(cert, key.public_key(), ca_cert, subject, p["email"],
                                     p["valid_days"], p["renew_before_days"], now)

    plan = _plan_leaf(p, key_data, cert_data, check_mode, "client", reissue=reissue, key_revoked=key_revoked,
                      issue=lambda key: issue_client_certificate(
                          ca_cert, ca_key, key.public_key(), subject, p["valid_days"], p["email"], now, taken))
    if ledger is not None and plan.after and plan.after["serial_number"] not in taken:
        # A new certificate, or one issued before the ledger existed: either way it is recorded.
        plan.ledger = _ledger.record(ledger, plan.after, p["name"], known)
    if ledger is not None and supersede and plan.after:
        current = plan.ledger if plan.ledger is not None else ledger
        plan.superseded = _ledger.superseded(current, {p["name"]: plan.after["serial_number"]}, now)
        if plan.superseded:
            plan.ledger = _ledger.revoke(current, plan.superseded, now)
    return plan


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


def plan_clients(p, ca, read, check_mode=False, now=None, ledger=None, trust=None):
    """Certificates, bundles and kits of many clients in one pass: a list of ClientPlans.

    read(path) returns a file's bytes or None. The ledger, when given, is threaded through the
    clients; the ledger returned is the one after the run, in which every certificate that a
    user's current one replaced is revoked as superseded (one pass over the ledger for all users).
    """
    now = now or utcnow()
    plans = []
    known = _ledger.index(ledger) if ledger is not None else None
    burnt = _ledger.burnt_keys(ledger) if ledger is not None else None
    for index, client in enumerate(p["clients"]):
        if client.get("p12_passphrase") == "":
            raise PkiError(f"clients[{index}].p12_passphrase must not be empty: it protects the private key inside"
                           f" the bundles of {client['name']}; leave it out to have one generated")
        if client.get("p12_passphrase") is None and not p.get("passphrases_dir"):
            raise PkiError(f"clients[{index}].p12_passphrase is not set for {client['name']}: set it, or set"
                           " passphrases_dir to keep a generated one")
    for client in p["clients"]:
        files = client_files(p["clients_dir"], client["name"])
        passphrase, passphrase_writes = _bundle_passphrase(p, client, read, check_mode)
        cp = {**p, **client, **files, "organization": None, "country": None, "force": False, "mode": None,
              "common_name": client.get("common_name") or client["name"]}
        key_data, cert_data = read(files["private_key_path"]), read(files["certificate_path"])
        cert_plan = plan_client(cp, ca, key_data, cert_data, check_mode, now, ledger, known, burnt, supersede=False)
        ledger = cert_plan.ledger if cert_plan.ledger is not None else ledger
        if check_mode and (cert_plan.reason or passphrase is None):
            # Nothing was issued to compare with: everything made from the certificate changes.
            changes = Plan(reason="certificate changed" if cert_plan.reason else "passphrase generated")
            plans.append(ClientPlans(client["name"], cert_plan, changes, changes, changes))
            continue
        new = {path: data for path, data, _mode in cert_plan.writes}
        cert_data = new.get(files["certificate_path"]) or cert_data
        key_data = new.get(files["private_key_path"]) or key_data
        cert = load_certificate(cert_data, files["certificate_path"])
        key = load_private_key(key_data, None, files["private_key_path"], "private_key_path")[0]
        bundles = {}
        for option, encryption in (("path", p["encryption"]), ("compat_path", "compatible")):
            bp = {"path": files[option], "passphrase": passphrase, "encryption": encryption, "friendly_name": None}
            bundle_data = read(files[option])
            # No CA certificate in a user's bundle: nginx has it, and a device could file it as a trusted root.
            bundle_plan = _plan_bundle(bp, key, cert, [], bundle_data, check_mode)
            after = bundle_plan.writes[0][1] if bundle_plan.writes else None if bundle_plan.reason else bundle_data
            bundles[option] = (bundle_plan, after)
        kit_plan = plan_kit(p, client["name"], files, cert, ca[0], cert_data,
                            {option: data for option, (_plan, data) in bundles.items()}, trust, read)
        bundles["path"][0].writes[:0] = passphrase_writes
        plans.append(ClientPlans(client["name"], cert_plan, bundles["path"][0], bundles["compat_path"][0], kit_plan))
    if ledger is not None:
        current = {user.name: user.certificate.after["serial_number"] for user in plans if user.certificate.after}
        due = _ledger.superseded(ledger, current, now)
        if due:
            ledger = _ledger.revoke(ledger, due, now)
            for user in plans:
                user.certificate.superseded = [entry for entry in due if entry[1] == user.name]
    return plans, ledger


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


def plan_kit(p, name, files, cert, ca_cert, cert_data, bundles, trust, read):
    """ca.crt, the Apple profile, README.html and (when p["zip"]) the zip of one user.

    bundles: the bytes of both bundles after the run ({"path": …, "compat_path": …}), None for a
    bundle that check mode would rebuild: what contains it is reported as changing, not rendered.
    trust: the certificate users' devices must trust to reach the server, or None.
    """
    names = {option: os.path.basename(path) for option, path in files.items()}
    compat = bundles["compat_path"]
    wanted = {
        "trust_path": None if trust is None else dump_certificate(trust),
        "readme_path": _kit.readme_html(_kit.readme_facts(name, cert, ca_cert, names, trust, p.get("server_url"))),
        "mobileconfig_path": _PENDING if compat is None else _kit.mobileconfig(
            name, compat, names["compat_path"], ca_cert, trust, p.get("server_url")),
        "zip_path": None,
    }
    if p.get("zip"):
        members = [("certificate_path", cert_data), ("path", bundles["path"]), ("compat_path", compat),
                   *((option, wanted[option]) for option in ("mobileconfig_path", "trust_path", "readme_path"))]
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


def _plan_leaf(p, key_data, cert_data, check_mode, what, reissue, issue, key_revoked=None):
    """Key + certificate of a leaf: the key is kept when it is sound, the certificate reissued when needed.

    key_revoked(key, cert or None) names why an existing key must never be certified again, or None.
    """
    key_path, cert_path = p["private_key_path"], p["certificate_path"]
    plan = Plan()
    if cert_data is not None:
        plan.before = _describe_or_none(cert_data, cert_path)
    key = cert = None
    if not p["force"] and key_data is not None:
        key = _existing_key(key_data, key_path, p["key_type"], p["key_size"], what)
        cert = None if cert_data is None else _existing_certificate(cert_data, cert_path)
        plan.reason = key_revoked(key, cert) if key_revoked else None
    if p["force"] or key_data is None or plan.reason:
        plan.reason = plan.reason or ("forced" if p["force"] else "missing")
        key = None if check_mode else generate_key(p["key_type"], p["key_size"])
        if key is not None:
            plan.writes.append((key_path, dump_private_key(key), KEY_MODE))
    else:
        if cert_data is None:
            plan.reason = "missing"
        elif cert is None:
            plan.reason = "unreadable"
        else:
            plan.reason = reissue(cert, key)
        if plan.reason is None:
            plan.after = plan.before
        elif check_mode:
            key = None
    if plan.reason and key is not None:
        cert = issue(key)
        plan.writes.append((cert_path, dump_certificate(cert), cert_mode(p)))
        plan.after = describe(cert)
    return plan


# ---------------------------------------------------------------------------- server_cert

def plan_server(p, key_data, cert_data, check_mode=False, now=None, ca=None):
    """A server certificate, self-signed or signed by ca = (certificate, key) from load_ca."""
    now = now or utcnow()
    _fail_on(subject_errors(p["common_name"]) + key_errors(p["key_type"], p["key_size"])
             + validity_errors(p["valid_days"], p["renew_before_days"]))
    subject = build_name(p["common_name"])
    dns_names, ip_addresses = p["dns_names"] or [p["common_name"]], p["ip_addresses"] or []
    ca_cert = ca[0] if ca else None
    return _plan_leaf(p, key_data, cert_data, check_mode, "server",
                      reissue=lambda cert, key: server_reissue_reason(
                          cert, key, subject, dns_names, ip_addresses, p["valid_days"], p["renew_before_days"], now, ca_cert),
                      issue=lambda key: issue_server_certificate(
                          key, subject, dns_names, ip_addresses, p["valid_days"], now, ca))


# ---------------------------------------------------------------------------- pkcs12_bundle

def plan_bundle(p, cert_data, key_data, ca_data, bundle_data, check_mode=False):
    if not p["passphrase"]:
        raise PkiError("passphrase must not be empty: it protects the private key inside the bundle")
    if p["encryption"] not in ENCRYPTIONS:
        raise PkiError(f"encryption must be one of {', '.join(ENCRYPTIONS)}, got {p['encryption']!r}")
    for option, data in (("certificate_path", cert_data), ("private_key_path", key_data), ("ca_certificate_path", ca_data)):
        if data is None:
            raise PkiError(f"{option}: {p[option]} does not exist; issue it with mtls.nginx.client_cert first")
    cert = load_certificate(cert_data, p["certificate_path"])
    key = load_private_key(key_data, None, p["private_key_path"], "private_key_path")[0]
    if public_key_der(key) != public_key_der(cert):
        raise PkiError(f"private_key_path: {p['private_key_path']} is not the key of {p['certificate_path']};"
                       " reissue the certificate with mtls.nginx.client_cert")
    return _plan_bundle(p, key, cert, [load_certificate(ca_data, p["ca_certificate_path"])], bundle_data, check_mode)


def _plan_bundle(p, key, cert, ca_certs, bundle_data, check_mode):
    friendly_name = p["friendly_name"] or name_field(cert.subject, "CN") or ""
    wanted = {"subject": cert.subject.rfc4514_string(), "friendly_name": friendly_name, "encryption": p["encryption"]}
    plan = Plan()
    if bundle_data is None:
        plan.reason = "missing"
    else:
        plan.before = {"encryption": _profile_or_unknown(bundle_data)}
        plan.reason = _pkcs12.mismatch(bundle_data, p["passphrase"], key, cert, ca_certs, friendly_name, p["encryption"])
    if plan.reason is None:
        plan.before = plan.after = wanted
    elif not check_mode:
        data = _pkcs12.build(key, cert, ca_certs, friendly_name, p["passphrase"], p["encryption"])
        plan.writes.append((p["path"], data, BUNDLE_MODE))
        plan.after = wanted
    return plan


def _profile_or_unknown(bundle_data):
    try:
        return _pkcs12.encryption_profile(bundle_data)
    except _pkcs12.BundleError:
        return "unreadable"


# ---------------------------------------------------------------------------- crl

def plan_crl(p, ca_cert_data, ca_key_data, ledger_data, crl_data, check_mode=False, now=None):
    """Revoke what the client list says (by name, from the ledger) and keep the CRL current."""
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
    ca_cert, ca_key = load_ca(ca_cert_data, ca_key_data, p)
    ledger = _ledger.parse(ledger_data, p["ledger_path"])
    due = _ledger.revocations_due(ledger, p["clients"], p["revoke_unlisted"], now)
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
