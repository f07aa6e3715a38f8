# Private to the mtls.nginx collection: not a public API, may change without notice.
"""Certificate revocation lists: build, read, and decide when one must be reissued."""
from __future__ import annotations

import datetime
import re

from ansible_collections.mtls.nginx.plugins.module_utils._common import PkiError, days_until, utcnow
from ansible_collections.mtls.nginx.plugins.module_utils._keys import signature_hash
from ansible_collections.mtls.nginx.plugins.module_utils._x509 import BACKDATE, authority_key_identifier, serial_hex

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:  # see _x509.CRYPTOGRAPHY_IMPORT_ERROR
    pass


def load_crl(data, path):
    try:
        return x509.load_pem_x509_crl(data)
    except ValueError as exc:
        raise PkiError(f"{path} is not a readable PEM CRL") from exc


_PEM_CRL_RE = re.compile(rb"-----BEGIN X509 CRL-----.*?-----END X509 CRL-----", re.S)


def load_crls(data, source):
    """Every CRL in data: PEM (one or more, as a bundle holds them) or one DER, as CRL
    distribution points publish them."""
    blocks = _PEM_CRL_RE.findall(data or b"")
    try:
        return [x509.load_pem_x509_crl(block) for block in blocks] if blocks else [x509.load_der_x509_crl(data)]
    except ValueError as exc:
        raise PkiError(f"{source} is not a readable CRL (PEM or DER)") from exc


def dump_crl(crl):
    return crl.public_bytes(serialization.Encoding.PEM)


def crl_next_update(crl):
    return getattr(crl, "next_update_utc", None) or crl.next_update.replace(tzinfo=datetime.timezone.utc)


def next_updates(data, source):
    """{issuer name: next update} of every CRL in data (load_crls); {} when there is no file (None)."""
    return {crl.issuer: crl_next_update(crl) for crl in load_crls(data, source)} if data is not None else {}


def crl_number(crl):
    try:
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        return None


def partial_scope(crl):
    """Why a CRL is not a complete one of its issuer (a delta CRL, or one an IssuingDistributionPoint
    narrows to some certificates or reasons), or None. nginx (OpenSSL without delta support) would take
    such a CRL for the whole list: a revocation only the base lists would be lost."""
    extensions = {extension.oid: extension.value for extension in crl.extensions}
    if x509.oid.ExtensionOID.DELTA_CRL_INDICATOR in extensions:
        return f"a delta CRL (over base CRL {extensions[x509.oid.ExtensionOID.DELTA_CRL_INDICATOR].crl_number})"
    point = extensions.get(x509.oid.ExtensionOID.ISSUING_DISTRIBUTION_POINT)
    if point is not None:
        narrowed = [label for label, value in (
            ("user certificates only", point.only_contains_user_certs), ("CA certificates only", point.only_contains_ca_certs),
            ("attribute certificates only", point.only_contains_attribute_certs), ("an indirect CRL", point.indirect_crl),
            ("some reasons only", point.only_some_reasons), ("one distribution point's partition",
                                                             point.full_name or point.relative_name)) if value]
        if narrowed:
            return f"a partial CRL ({', '.join(narrowed)})"
    return None


def crl_entries(crl):
    """{serial (hex, as serial_hex): reason name} of a CRL; 'unspecified' where no reason code is given."""
    entries = {}
    for revoked in crl:
        try:
            reason = revoked.extensions.get_extension_for_class(x509.CRLReason).value.reason.name
        except x509.ExtensionNotFound:
            reason = "unspecified"
        entries[serial_hex(revoked.serial_number)] = reason
    return entries


def build_crl(ca_cert, ca_key, revoked, number, next_update_days, now=None):
    """A CRL listing revoked [{serial, revoked_at, reason}] with CRLNumber and AuthorityKeyIdentifier."""
    now = now or utcnow()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now - BACKDATE)
        .next_update(now + datetime.timedelta(days=next_update_days))
        .add_extension(authority_key_identifier(ca_cert), critical=False)
        .add_extension(x509.CRLNumber(number), critical=False)
    )
    for entry in revoked:
        item = (x509.RevokedCertificateBuilder()
                .serial_number(int(entry["serial"], 16))
                .revocation_date(datetime.datetime.fromisoformat(entry["revoked_at"])))
        # RFC 5280 5.3.1: the reason code "unspecified" is better left out.
        if entry["reason"] not in (None, "unspecified"):
            item = item.add_extension(x509.CRLReason(x509.ReasonFlags[entry["reason"]]), critical=False)
        builder = builder.add_revoked_certificate(item.build())
    return builder.sign(ca_key, signature_hash(ca_key))


def crl_reissue_reason(crl, ca_cert, wanted, refresh_before_days, now=None):
    """Why the CRL must be reissued, or None. wanted: {serial hex: reason} it must list."""
    now = now or utcnow()
    if crl.issuer != ca_cert.subject or not crl.is_signature_valid(ca_cert.public_key()):
        return "issuer changed"
    try:
        aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    except x509.ExtensionNotFound:
        aki = None
    if aki != authority_key_identifier(ca_cert) or crl_number(crl) is None:
        return "profile changed"
    if crl_entries(crl) != wanted:
        return "revocations changed"
    if crl_next_update(crl) - now <= datetime.timedelta(days=refresh_before_days):
        return "expiring"
    return None


def crl_days_left(pem, now=None):
    """Days (negative once expired) until the next update of a PEM CRL; of the one that ends first
    when the PEM holds several (the CRLs of the CAs above an imported client CA)."""
    now = now or utcnow()
    return min(days_until(crl_next_update(crl), now) for crl in load_crls(pem, "CRL"))
