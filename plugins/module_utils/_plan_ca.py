# Private to the mtls.nginx collection: not a public API, may change without notice.
"""ca_root's plan: a self-signed CA kept, re-signed with the same key when due, or made (see _plan)."""
from __future__ import annotations

from ansible_collections.mtls.nginx.plugins.module_utils._common import PkiError, UnreadableKeyError, utcnow
from ansible_collections.mtls.nginx.plugins.module_utils._keys import (
    dump_private_key, generate_key, key_errors, key_spec_mismatch, load_private_key, public_key_der)
from ansible_collections.mtls.nginx.plugins.module_utils._plan import KEY_MODE, Plan, _describe_or_none, _fail_on, cert_mode
from ansible_collections.mtls.nginx.plugins.module_utils._x509 import (
    build_name, ca_renewal_reason, describe, dump_certificate, issue_ca_certificate, load_certificate, name_constraints,
    subject_errors, validity_errors)


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
    if plan.after is not None:
        plan.certificate = cert
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
