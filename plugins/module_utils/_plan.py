# Private to the mtls.nginx collection: not a public API, may change without notice.
"""What each module must write, decided from the bytes on disk and the options: no I/O here.

A plan function takes the module's parameters and the current file contents (None for a
missing file) and returns a Plan; the module reads the files, calls it and applies the writes.
In check mode nothing new is generated: the plan carries the reason but no new material.
This file holds the Plan and the leaves (client and server certificates); each other product
has its own: _plan_ca (ca_root), _plan_bundle (pkcs12_bundle), _plan_crl (crl), and
_plan_clients (the clients module's many users).
"""
from __future__ import annotations

import dataclasses

from ansible_collections.mtls.nginx.plugins.module_utils import _ledger
from ansible_collections.mtls.nginx.plugins.module_utils._files import octal_mode
from ansible_collections.mtls.nginx.plugins.module_utils._common import PkiError, UnreadableKeyError, utcnow
from ansible_collections.mtls.nginx.plugins.module_utils._csr import checked_request
from ansible_collections.mtls.nginx.plugins.module_utils._keys import (
    dump_private_key, generate_key, key_errors, key_spec_mismatch, load_private_key, public_key_der, spki_sha256)
from ansible_collections.mtls.nginx.plugins.module_utils._x509 import (
    build_name, client_extensions, describe, dump_certificate, email_errors, issue_client_certificate,
    issue_server_certificate, load_certificate, name_field, reissue_reason, serial_hex, server_extensions, subject_errors,
    validity_errors)

KEY_MODE = 0o600
BUNDLE_MODE = 0o600
LEDGER_MODE = 0o600
CRL_MODE = 0o644
PUBLIC_MODE = 0o644  # a user's ca.crt and README.html: nothing secret
DEFAULT_CERT_MODE = "0644"


def cert_mode(p):
    """The certificate file's mode from the module's mode option (an octal string)."""
    return octal_mode(p.get("mode") or DEFAULT_CERT_MODE, "mode", maximum=0o777)


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
    ignored: list = dataclasses.field(default_factory=list)  # what a certificate request asked for in vain
    # What the files hold after the run, as objects (None in check mode when they change): callers
    # build on them (bundles, kits, reports) without parsing again what the plan just made.
    key: object = None
    certificate: object = None

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


def _describe_or_none(cert_data, cert_path):
    cert = _existing_certificate(cert_data, cert_path)
    return describe(cert) if cert else None


# ---------------------------------------------------------------------------- client_cert


def client_params_errors(p):
    return (subject_errors(p["common_name"], p["organization"], p["country"])
            + key_errors(p["key_type"], p["key_size"])
            + validity_errors(p["valid_days"], p["renew_before_days"])
            + email_errors(p["email"]))


def plan_client(p, ca, key_data, cert_data, *, check_mode=False, now=None, ledger=None, supersede=True, keep_issuer=None):
    """Key and certificate of one client, signed by ca = (certificate, key) from load_ca.

    ledger: a ledger dict, or a _ledger.View that a caller planning many clients threads through
    them. With it, a key whose certificate was ever revoked is replaced by a new one (so a
    reinstated user never comes back with a compromised key), a certificate the ledger lists as
    revoked is reissued, the certificate after the run is recorded when it is not yet, and (with
    supersede) every certificate of a key the name no longer holds is revoked as superseded (one
    renewed with the same key stays valid until it ends); a key certified for another name is
    refused. plan.ledger is then the new ledger; writing it is the caller's, once for all clients. keep_issuer: see
    _plan_clients.plan_clients.
    """
    now = now or utcnow()
    _fail_on(client_params_errors(p))
    ca_cert, ca_key = ca

    def subject_under(issuer):
        return build_name(p["common_name"], p["organization"] or name_field(issuer.subject, "O"),
                          p["country"] or name_field(issuer.subject, "C"))
    subject = subject_under(ca_cert)
    view = _ledger.View.of(ledger) if isinstance(ledger, dict) else ledger

    def key_revoked(key, cert):
        if view is None:
            return None
        owner = view.owners.get(spki_sha256(key), p["name"])
        if owner != p["name"]:
            raise PkiError(f"{p.get('where') or p['name']}: this key is certified for {owner}, and a key is certified"
                           f" for one name only: give {p['name']} a key of their own")
        on_disk_revoked = (cert is not None and view.is_revoked(serial_hex(cert.serial_number))
                           and public_key_der(cert) == public_key_der(key))
        return "key revoked" if on_disk_revoked or spki_sha256(key) in view.burnt else None

    def reissue(cert, public_key):
        if view is not None and view.is_revoked(serial_hex(cert.serial_number)):
            return "revoked"

        def under(issuer):
            return reissue_reason(cert, public_key, issuer, subject_under(issuer),
                                  client_extensions(public_key, issuer, p["email"]), p["valid_days"], p["renew_before_days"], now)
        reason = under(ca_cert)
        if reason == "issuer changed" and keep_issuer is not None and under(keep_issuer) is None:
            return None  # a sound certificate of the previous CA, kept until it needs renewing
        return reason

    taken = view.known if view is not None else {}

    def issue(public_key):
        return issue_client_certificate(ca, public_key, subject, p["valid_days"], email=p["email"], now=now, taken=taken)
    if p.get("csr"):
        plan = _plan_requested(p, key_data, cert_data, check_mode, reissue=reissue, issue=issue, key_revoked=key_revoked)
    else:
        plan = _plan_leaf(p, key_data, cert_data, check_mode, "client", reissue=reissue, key_revoked=key_revoked,
                          issue=lambda key: issue(key.public_key()))
    if view is not None and plan.after and plan.after["serial_number"] not in view.known:
        # A new certificate, or one issued before the ledger existed: either way it is recorded.
        plan.ledger = view.record(plan.after, p["name"])
    if view is not None and supersede and plan.after:
        ledger_after, plan.superseded = _ledger.supersede(view.ledger, now)
        if plan.superseded:
            plan.ledger = ledger_after
    return plan


def _plan_requested(p, key_data, cert_data, check_mode, reissue, issue, key_revoked):
    """The certificate of a client who brings their own key: p["csr"] (checked) gives only its public
    key; no private key is made or kept here. One the control node held from before is removed.

    The same request is re-signed as often as needed (renewal, profile changes), never once its
    key was revoked: then only a new request (a new key) gets a certificate.
    """
    where = p.get("where") or f"clients ({p['name']}).csr"
    public_key, ignored = checked_request(p["csr"], where)
    plan = Plan(ignored=ignored)
    cert = None
    if cert_data is not None:
        plan.before = _describe_or_none(cert_data, p["certificate_path"])
        cert = _existing_certificate(cert_data, p["certificate_path"])
    if key_revoked(public_key, cert):
        raise PkiError(f"{where}: the key of this request was revoked, and a revoked key is never certified again;"
                       f" ask {p['name']} for a new request made with a new key")
    if cert is None:
        plan.reason = "missing" if cert_data is None else "unreadable"
    else:
        plan.reason = reissue(cert, public_key)
    if key_data is not None:
        plan.removals.append(p["private_key_path"])  # made here before the user brought a key
    if plan.reason is None:
        plan.after = plan.before
    elif not check_mode:
        cert = issue(public_key)
        plan.writes.append((p["certificate_path"], dump_certificate(cert), cert_mode(p)))
        plan.after = describe(cert)
    if plan.after is not None:
        plan.certificate = cert
    return plan


def _plan_leaf(p, key_data, cert_data, check_mode, what, reissue, issue, key_revoked=None):
    """Key + certificate of a leaf: the key is kept when it is sound, the certificate reissued when needed.

    key_revoked(key, cert or None) names why an existing key must never be certified again, or None;
    reissue(cert, public key) why the certificate must be issued again, or None.
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
            plan.reason = reissue(cert, key.public_key())
        if plan.reason is None:
            plan.after = plan.before
        elif check_mode:
            key = None
    if plan.reason and key is not None:
        cert = issue(key)
        plan.writes.append((cert_path, dump_certificate(cert), cert_mode(p)))
        plan.after = describe(cert)
    if plan.after is not None:
        plan.key, plan.certificate = key, cert
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
                      reissue=lambda cert, public_key: reissue_reason(
                          cert, public_key, ca_cert if ca_cert is not None else cert, subject,
                          server_extensions(public_key, dns_names, ip_addresses, ca_cert),
                          p["valid_days"], p["renew_before_days"], now),
                      issue=lambda key: issue_server_certificate(
                          key, subject, dns_names, ip_addresses, p["valid_days"], now, ca))
