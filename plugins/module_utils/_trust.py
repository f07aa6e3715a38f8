# Private to the mtls.nginx collection: not a public API, may change without notice.
"""The lost-PKI guards: a host never silently stops trusting a client CA it trusts today, and never
gets a CRL set that lacks a CRL of a CA it trusts (nginx would then refuse every client of that CA).

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
_CRL_PEM_RE = re.compile(rb"-----BEGIN X509 CRL-----\s*(.*?)\s*-----END X509 CRL-----", re.S)
# The subject attributes a report names, by their DER-encoded OIDs.
_ATTRIBUTES = {bytes.fromhex("550403"): "CN", bytes.fromhex("55040a"): "O", bytes.fromhex("550406"): "C"}
# subjectKeyIdentifier and authorityKeyIdentifier (2.5.29.14, 2.5.29.35), DER-encoded.
_SKI, _AKI = bytes.fromhex("551d0e"), bytes.fromhex("551d23")


def certificates(pem):
    """The DER of every certificate in pem (bytes), in order; undecodable blocks are skipped."""
    return _blocks(_PEM_RE, pem)


def _blocks(regex, pem):
    found = []
    for block in regex.findall(pem or b""):
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


def _extension(der, start, end, oid):
    """The extnValue (start, end) of the extension oid in the Extensions SEQUENCE at start..end, or None."""
    for _tag, ext_start, ext_end in children(der, start, end):
        parts = children(der, ext_start, ext_end)
        if parts and der[parts[0][1]:parts[0][2]] == oid:
            return parts[-1][1:]
    return None


def _ca_key(der):
    """(subject DER, subjectKeyIdentifier or None) of a CA certificate; None where it cannot be read."""
    try:
        fields = _tbs_fields(der)
        found = next(((start, end) for tag, start, end in fields if tag == 0xA3), None)  # [3] extensions
        value = found and _extension(der, *children(der, *found)[0][1:], _SKI)
        key_id = value and der[slice(*element(der, value[0])[1:])]  # an OCTET STRING in the OCTET STRING
        return der[fields[4][1]:fields[4][2]], key_id or None
    except (IndexError, ValueError):
        return None


def _crl_issuer(der):
    """(issuer DER, authorityKeyIdentifier's keyIdentifier or None) of a CRL; None where it cannot be read."""
    try:
        _tag, start, end = element(der, 0)
        _tag, tbs_start, tbs_end = children(der, start, end)[0]
        fields = children(der, tbs_start, tbs_end)
        fields = fields[1:] if fields[0][0] == 0x02 else fields  # version
        issuer = der[fields[1][1]:fields[1][2]]  # signature, issuer, ...
        key_id = None
        if fields[-1][0] == 0xA0:  # [0] crlExtensions
            value = _extension(der, *children(der, *fields[-1][1:])[0][1:], _AKI)
            if value:
                _tag, aki_start, aki_end = element(der, value[0])
                key_id = next((der[s:e] for tag, s, e in children(der, aki_start, aki_end) if tag == 0x80), None)
        return issuer, key_id
    except (IndexError, ValueError):
        return None


def without_crl(trust_pem, crl_pem):
    """[(subject, SHA-256)] of the CAs in trust_pem that no CRL in crl_pem was issued by (same issuer name,
    and the same key where both name one): nginx, which checks a CRL of every CA of a client's chain, would
    refuse every client under such a CA."""
    issuers = [found for found in map(_crl_issuer, _blocks(_CRL_PEM_RE, crl_pem)) if found]
    gaps = []
    for der in certificates(trust_pem):
        key = _ca_key(der)
        if key and not any(name == key[0] and (key[1] is None or key_id is None or key_id == key[1])
                           for name, key_id in issuers):
            gaps.append((subject(der), fingerprint(der)))
    return gaps


def crl_guard_error(path, trust_path, trust_pem, crl_pem, hint=""):
    """Why crl_pem must not become the CRL file at path of a host that trusts trust_pem (at trust_path), or None."""
    gone = without_crl(trust_pem, crl_pem)
    if not gone:
        return None
    named = "; ".join(f"{name} (SHA-256 {digest})" for name, digest in gone)
    return (f"{path}: this run would leave no CRL of the client CA {named}, which this host trusts ({trust_path}):"
            f" nginx would refuse every certificate under it. Nothing was changed. {hint}").rstrip()


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
