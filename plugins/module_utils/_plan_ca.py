# Private to the mtls.nginx collection: not a public API, may change without notice.
"""ca_root's plan: a CA (self-signed, or under a root) kept, re-signed with the same key when due, or made (see _plan)."""
from __future__ import annotations

from ansible_collections.mtls.nginx.plugins.module_utils._common import PkiError, UnreadableKeyError, utcnow
from ansible_collections.mtls.nginx.plugins.module_utils._keys import (
    dump_private_key, generate_key, key_errors, key_spec_mismatch, load_private_key, public_key_der)
from ansible_collections.mtls.nginx.plugins.module_utils._plan import KEY_MODE, Plan, _describe_or_none, _fail_on, cert_mode
from ansible_collections.mtls.nginx.plugins.module_utils._x509 import (
    build_name, ca_problems, ca_renewal_reason, describe, dump_certificate, issue_ca_certificate, load_certificate,
    name_constraints, subject_errors, validity_errors)


def plan_ca(p, key_data, cert_data, check_mode=False, now=None, issuer_data=(None, None)):
    """A CA kept, re-signed with the same key when due, or made: self-signed, or, with
    issuer_certificate_path, signed by that CA (an issuing CA under a root).

    issuer_data: the bytes of the issuer's certificate and key (None: no such file). The issuer's
    key is needed only to sign, and this CA's own key (with offline) only to re-sign: a root whose
    key was taken offline checks its certificate and fails, naming the key file, only when it must
    sign.
    """
    now = now or utcnow()
    _fail_on(subject_errors(p["common_name"], p["organization"], p["country"])
             + key_errors(p["key_type"], p["key_size"])
             + validity_errors(p["valid_days"], p["renew_before_days"]))
    if p.get("permitted_names"):
        name_constraints(p["permitted_names"])  # fails, naming the option, before anything is generated
    key_path, cert_path, passphrase = p["private_key_path"], p["certificate_path"], p["passphrase"]
    subject = build_name(p["common_name"], p["organization"], p["country"])
    issuer = _issuer(p, issuer_data[0])
    plan = Plan()

    if p["force"] or (key_data is None and cert_data is None):
        plan.reason = "forced" if p["force"] else "missing"
        if cert_data is not None:
            plan.before = _describe_or_none(cert_data, cert_path)
        key = None if check_mode else generate_key(p["key_type"], p["key_size"])
        if key is not None:
            plan.writes.append((key_path, dump_private_key(key, passphrase), KEY_MODE))
    elif key_data is None and not p.get("offline"):
        raise PkiError(
            f"private_key_path: the CA certificate {cert_path} exists but its key {key_path} does not;"
            " restore the key from your backup, or set force: true to create a new CA"
            " (every client certificate must then be reissued)")
    elif key_data is None:  # offline: the certificate alone, as long as it needs no new signature
        cert = _ca_certificate(cert_data, cert_path, key_path, None, subject)
        plan.before = describe(cert)
        reason = _renewal_reason(p, cert, cert.public_key(), issuer, now)
        if reason:
            raise PkiError(f"private_key_path: the CA certificate {cert_path} must be re-signed ({reason}) with its key,"
                           f" which is not at {key_path} (taken offline?): bring the key back for this run (README,"
                           " \"Two tiers and your company's CA\") and run again")
        plan.after, plan.certificate = plan.before, cert
        return plan
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
            plan.reason = _renewal_reason(p, cert, key.public_key(), issuer, now)
            if plan.reason is None:
                plan.after = plan.before
    if plan.reason and key is not None:
        signer = None if issuer is None else (issuer, _issuer_key(p, issuer, issuer_data[1], plan.reason))
        cert = issue_ca_certificate(key, subject, p["valid_days"], now, p.get("permitted_names"), p.get("path_length", 0),
                                    signer)
        plan.writes.append((cert_path, dump_certificate(cert), cert_mode(p)))
        plan.after = describe(cert)
    elif plan.reason and issuer is not None:  # check mode: would the run be able to sign?
        _issuer_key(p, issuer, issuer_data[1], plan.reason)
    if plan.after is not None:
        plan.certificate = cert
    return plan


def _renewal_reason(p, cert, public_key, issuer, now):
    return ca_renewal_reason(cert, public_key, p["valid_days"], p["renew_before_days"], now, p.get("permitted_names"),
                             p.get("path_length", 0), issuer)


def _issuer(p, cert_data):
    """The certificate of the CA that signs this one (None: self-signed), checked to be able to."""
    path = p.get("issuer_certificate_path")
    if not path:
        return None
    if cert_data is None:
        raise PkiError(f"issuer_certificate_path: no CA certificate at {path}; an issuing CA is checked against its"
                       " root's certificate, which stays on the control node (only the root's key may go offline):"
                       " restore it from your backup")
    issuer = load_certificate(cert_data, path)
    problems = ca_problems(issuer, 1)
    if problems:
        raise PkiError(f"issuer_certificate_path: {path} may not sign CAs: {'; '.join(problems)}")
    return issuer


def _issuer_key(p, issuer, key_data, reason):
    """The issuer's key, to sign this CA's certificate for reason; fails, naming the file, when absent."""
    path = p.get("issuer_private_key_path")
    if key_data is None:
        raise PkiError(f"issuer_private_key_path: the CA at {p['certificate_path']} must be signed ({reason}) by"
                       f" {issuer.subject.rfc4514_string()}, whose key is not at {path} (taken offline?): bring it back"
                       " for this run (README, \"Two tiers and your company's CA\") and run again")
    key = load_private_key(key_data, p.get("issuer_passphrase"), path, "issuer_passphrase")[0]
    if public_key_der(key) != public_key_der(issuer):
        raise PkiError(f"issuer_private_key_path: {path} is not the key of {p['issuer_certificate_path']}; point both"
                       " options at the same CA")
    return key


def _ca_certificate(cert_data, cert_path, key_path, key, subject):
    try:
        cert = load_certificate(cert_data, cert_path)
    except PkiError as exc:
        raise PkiError(f"certificate_path: {exc}; a CA certificate is never replaced on its own:"
                       " restore it, or remove it to re-sign one with the existing key") from None
    if key is not None and public_key_der(cert) != public_key_der(key):
        raise PkiError(f"certificate_path: {cert_path} does not belong to the key {key_path};"
                       " restore the matching pair, or set force: true to create a new CA")
    if cert.subject != subject:
        raise PkiError(
            f"common_name/organization/country: the CA at {cert_path} is {cert.subject.rfc4514_string()!r}"
            f" but {subject.rfc4514_string()!r} was asked; renaming a CA breaks every certificate it issued:"
            " put the old values back, or set force: true to create a new CA")
    return cert


def load_ca_certificate(ca_cert_data, p):
    if ca_cert_data is None:
        raise PkiError(f"ca_certificate_path: no CA certificate at {p['ca_certificate_path']};"
                       " create it with mtls.nginx.ca_root first")
    return load_certificate(ca_cert_data, p["ca_certificate_path"])


def load_ca(ca_cert_data, ca_key_data, p, reason="it signs certificates"):
    """The CA certificate and key a certificate or CRL is signed with. reason: why a signature is
    due, said when the key is absent."""
    ca_cert = load_ca_certificate(ca_cert_data, p)
    if ca_key_data is None:
        raise PkiError(f"ca_private_key_path: no CA key at {p['ca_private_key_path']}, which must sign ({reason}):"
                       " restore it, or bring it back for this run if it was taken offline (README, \"Two tiers and"
                       " your company's CA\")")
    ca_key = load_private_key(ca_key_data, p["ca_passphrase"], p["ca_private_key_path"], "ca_passphrase")[0]
    if public_key_der(ca_key) != public_key_der(ca_cert):
        raise PkiError(f"ca_private_key_path: {p['ca_private_key_path']} is not the key of the CA certificate"
                       f" {p['ca_certificate_path']}; point both options at the same CA")
    return ca_cert, ca_key
