# Private to the mtls.nginx collection: not a public API, may change without notice.
"""The lost-PKI guard: a host never silently stops trusting a client CA it trusts today.

Runs on the managed host (inside mtls.nginx.host_files), where only Python's standard library is
sure to exist: certificates are read as far as needed (their SHA-256 and subject) with the small
DER reader of _der, never verified or trusted here.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re

from ansible_collections.mtls.nginx.plugins.module_utils._common import printable
from ansible_collections.mtls.nginx.plugins.module_utils._der import children, element

_PEM_RE = re.compile(rb"-----BEGIN CERTIFICATE-----\s*(.*?)\s*-----END CERTIFICATE-----", re.S)
# The subject attributes a report names, by their DER-encoded OIDs.
_ATTRIBUTES = {bytes.fromhex("550403"): "CN", bytes.fromhex("55040a"): "O", bytes.fromhex("550406"): "C"}


def certificates(pem):
    """The DER of every certificate in pem (bytes), in order; undecodable blocks are skipped."""
    found = []
    for block in _PEM_RE.findall(pem or b""):
        try:
            found.append(base64.b64decode(b"".join(block.split()), validate=True))
        except (binascii.Error, ValueError):
            continue
    return found


def fingerprint(der):
    return hashlib.sha256(der).hexdigest().upper()


def _tbs_fields(der):
    """The (tag, start, end) of each field of the certificate's tbsCertificate after the version:
    serial, signature, issuer, validity, subject, subjectPublicKeyInfo, ..."""
    _tag, cert_start, cert_end = element(der, 0)
    _tag, tbs_start, tbs_end = children(der, cert_start, cert_end)[0]
    fields = children(der, tbs_start, tbs_end)
    return fields[1:] if fields and fields[0][0] == 0xA0 else fields  # [0] version


def subject(der):
    """The certificate's subject as CN=…,O=…,C=… (non-printable characters escaped), or "?"."""
    try:
        _tag, name_start, name_end = _tbs_fields(der)[4]  # serial, signature, issuer, validity, subject
        parts = []
        for _set_tag, set_start, set_end in children(der, name_start, name_end):
            for _seq_tag, seq_start, seq_end in children(der, set_start, set_end):
                (_oid_tag, oid_start, oid_end), (_value_tag, value_start, value_end) = children(der, seq_start, seq_end)[:2]
                label = _ATTRIBUTES.get(der[oid_start:oid_end])
                if label:
                    parts.append(f"{label}={der[value_start:value_end].decode('utf-8', 'replace')}")
        return printable(",".join(reversed(parts))) or "?"  # RFC 4514 order, as the pki role prints subjects
    except (IndexError, ValueError):
        return "?"


def identity(der):
    """What makes a CA the same CA: its subject and public key (the DER of both), so that the same
    CA re-signed (renewed with its key, or moved under a root) is still the CA a host trusts. A
    certificate that cannot be read that far is only itself (its SHA-256)."""
    try:
        fields = _tbs_fields(der)
        subject_start, subject_end = fields[4][1:]
        key_start, key_end = fields[5][1:]
        return der[subject_start:subject_end] + b"/" + der[key_start:key_end]
    except (IndexError, ValueError):
        return fingerprint(der).encode()


def dropped(current_pem, new_pem, retired=()):
    """[(subject, SHA-256)] of the certificates in current_pem whose CA (subject and key) new_pem
    leaves out and that are not in retired (SHA-256s of CAs the PKI archived on purpose)."""
    kept = {identity(der) for der in certificates(new_pem)}
    retired = {each.upper() for each in retired}
    return [(subject(der), fingerprint(der)) for der in certificates(current_pem)
            if identity(der) not in kept and fingerprint(der) not in retired]


def guard_error(path, current_pem, new_pem, retired=(), hint=""):
    """Why new_pem must not replace current_pem at path (a CA the host trusts would be dropped), or None."""
    if current_pem is None:
        return None
    gone = dropped(current_pem, new_pem, retired)
    if not gone:
        return None
    named = "; ".join(f"{name} (SHA-256 {digest})" for name, digest in gone)
    instead = "; ".join(f"{subject(der)} (SHA-256 {fingerprint(der)})" for der in certificates(new_pem)) or "nothing"
    return (f"{path}: this run would stop trusting the client CA {named}, which this host trusts today, and trust"
            f" {instead} instead: every certificate the old CA issued would get 495. Nothing was changed. {hint}").rstrip()
