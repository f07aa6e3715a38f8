# Private to the mtls.nginx collection: not a public API, may change without notice.
"""Names and certificates of the mtls.nginx PKI: validation, profiles, issuing, the reissue rule.

Pure functions over cryptography objects ("must this certificate be reissued, and why?"), so
that what a module decides can be tested without Ansible. Keys are in _keys, CRLs in _crl.
"""
from __future__ import annotations

import datetime
import ipaddress
import re
import secrets

from ansible_collections.mtls.nginx.plugins.module_utils._common import EMAIL_RE, SERVER_NAME_RE, PkiError, utcnow
from ansible_collections.mtls.nginx.plugins.module_utils._keys import public_key_der, signature_hash, spki_sha256
from ansible_collections.mtls.nginx.plugins.module_utils._trust import certificates as pem_certificates

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
except ImportError as exc:  # reported by the modules and plugins that need it
    CRYPTOGRAPHY_IMPORT_ERROR = exc
else:
    CRYPTOGRAPHY_IMPORT_ERROR = None

# New certificates start a little in the past so that a host whose clock lags the control
# node's does not see them as "not yet valid".
BACKDATE = datetime.timedelta(minutes=5)
COUNTRY_RE = re.compile(r"^[A-Z]{2}\Z")


# ---------------------------------------------------------------------------- validation

def subject_errors(common_name, organization=None, country=None):
    """Problems with the subject options, each naming its option."""
    errors = []
    if not common_name or not common_name.strip():
        errors.append("common_name must not be empty")
    elif len(common_name) > 64:
        errors.append(f"common_name is {len(common_name)} characters; X.509 allows at most 64")
    if organization is not None and not 0 < len(organization) <= 64:
        errors.append("organization must be 1 to 64 characters")
    if country is not None and not COUNTRY_RE.match(country):
        errors.append(f"country must be a two-letter ISO 3166 code such as NL, got {country!r}")
    return errors


def validity_errors(valid_days, renew_before_days):
    errors = []
    if valid_days < 1:
        errors.append(f"valid_days must be at least 1, got {valid_days}")
    if renew_before_days < 0:
        errors.append(f"renew_before_days must not be negative, got {renew_before_days}")
    elif valid_days >= 1 and renew_before_days >= valid_days:
        errors.append(
            f"renew_before_days ({renew_before_days}) must be smaller than valid_days ({valid_days}),"
            " or every run would reissue"
        )
    return errors


def email_errors(email):
    if email is not None and not EMAIL_RE.match(email):
        return [f"email must look like user@example.org, got {email!r}"]
    return []


# ---------------------------------------------------------------------------- certificates

def load_certificate(data, path):
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError as exc:
        raise PkiError(f"{path} is not a readable PEM certificate") from exc


def load_certificates(data, path):
    """Every certificate of a PEM bundle, in order."""
    try:
        return [x509.load_der_x509_certificate(der) for der in pem_certificates(data)]
    except ValueError as exc:
        raise PkiError(f"{path} holds a PEM block that is not a readable certificate") from exc


def dump_certificate(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def certificate_der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


def build_name(common_name, organization=None, country=None):
    attributes = []
    if country:
        attributes.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country))
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def name_field(name, field):
    """The CN, O or C of an x509.Name, or None."""
    oid = {"CN": NameOID.COMMON_NAME, "O": NameOID.ORGANIZATION_NAME, "C": NameOID.COUNTRY_NAME}[field]
    values = name.get_attributes_for_oid(oid)
    return values[0].value if values else None


def random_serial():
    """A positive serial with 126 random bits (RFC 5280 allows up to 20 octets)."""
    return secrets.randbits(126) | (1 << 126)


def not_before(cert):
    return getattr(cert, "not_valid_before_utc", None) or cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)


def not_after(cert):
    return getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def name_constraints(permitted):
    """Critical NameConstraints for a CA that may vouch only for the given names.

    permitted: DNS names (each also permits its subdomains; a leading "*." is dropped) and IP
    addresses (each exactly). When no IP address is permitted, every IP address is excluded, so
    that the CA cannot vouch for one (RFC 5280 leaves a name type without subtrees unconstrained).
    """
    dns, ips = set(), set()
    for name in permitted:
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            host = name[2:] if name.startswith("*.") else name
            if not isinstance(host, str) or not SERVER_NAME_RE.match(host):
                raise PkiError(f"permitted_names: {name!r} is neither a host name nor an IP address") from None
            dns.add(host.lower())
        else:
            ips.add(ipaddress.ip_network(address))
    if not dns:
        raise PkiError("permitted_names must hold at least one host name (the server's)")
    permitted_subtrees = [x509.DNSName(n) for n in sorted(dns)] + [x509.IPAddress(n) for n in sorted(ips, key=str)]
    excluded = None if ips else [x509.IPAddress(ipaddress.ip_network("0.0.0.0/0")),
                                 x509.IPAddress(ipaddress.ip_network("::/0"))]
    return x509.NameConstraints(permitted_subtrees=permitted_subtrees, excluded_subtrees=excluded)


def ca_extensions(public_key, permitted=None, path_length=0, issuer=None):
    """(extension, critical) pairs of our CA profile; with permitted names, fenced to them.

    path_length: how many CAs may sit below this one (0: it signs users only; 1: a root above an
    issuing CA). issuer: the certificate of the CA that signs this one (an issuing CA under a
    root), which the authorityKeyIdentifier names; None for a self-signed CA.
    """
    extensions = [
        (x509.BasicConstraints(ca=True, path_length=path_length), True),
        (x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                       data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                       encipher_only=False, decipher_only=False), True),
        (x509.SubjectKeyIdentifier.from_public_key(public_key), False),
    ]
    if permitted:
        extensions.append((name_constraints(permitted), True))
    if issuer is not None:
        extensions.append((authority_key_identifier(issuer), False))
    return extensions


def authority_key_identifier(ca_cert):
    try:
        ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key())


def client_extensions(public_key, ca_cert, email=None):
    """(extension, critical) pairs of our client profile."""
    extensions = [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                       data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                       encipher_only=False, decipher_only=False), True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False),
        (x509.SubjectKeyIdentifier.from_public_key(public_key), False),
        (authority_key_identifier(ca_cert), False),
    ]
    if email:
        extensions.append((x509.SubjectAlternativeName([x509.RFC822Name(email)]), False))
    return extensions


def server_extensions(public_key, dns_names, ip_addresses, ca_cert=None):
    """(extension, critical) pairs of the demo server profile, signed by ca_cert or self-signed.

    Signed by a CA: keyUsage digitalSignature and the CA's key identifier, as TLS verifiers
    (sslyze's among them) expect of a server certificate. Self-signed: no keyUsage, because
    OpenSSL only treats a self-signed certificate as its own issuer (so that clients can trust it
    directly) when keyUsage is absent or includes keyCertSign, which a CA:FALSE one must not have.
    """
    names = [x509.DNSName(n) for n in dns_names] + [x509.IPAddress(ipaddress.ip_address(a)) for a in ip_addresses]
    extensions = [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        (x509.SubjectAlternativeName(names), False),
        (x509.SubjectKeyIdentifier.from_public_key(public_key), False),
    ]
    if ca_cert is not None:
        extensions += [
            (x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                           data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                           encipher_only=False, decipher_only=False), True),
            (authority_key_identifier(ca_cert), False),
        ]
    return extensions


def _sign(subject, issuer, public_key, signing_key, extensions, valid_days, now, serial=None, cap=None):
    """cap: the issuing CA's end; a certificate never outlives the CA that signed it."""
    end = now + datetime.timedelta(days=valid_days)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(serial or random_serial())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(min(end, cap) if cap is not None else end)
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signing_key, signature_hash(signing_key))


def issue_ca_certificate(key, subject, valid_days, now=None, permitted=None, path_length=0, issuer=None):
    """A CA certificate: self-signed, or signed by issuer = (certificate, key) and ending no later than it."""
    now = now or utcnow()
    issuer_cert, issuer_key = issuer or (None, key)
    return _sign(subject, issuer_cert.subject if issuer_cert else subject, key.public_key(), issuer_key,
                 ca_extensions(key.public_key(), permitted, path_length, issuer_cert), valid_days, now,
                 cap=not_after(issuer_cert) if issuer_cert else None)


def issue_client_certificate(ca, public_key, subject, valid_days, *, email=None, now=None, taken=()):
    """A client certificate signed by ca = (certificate, key), whose serial is not among the (hex) serials in taken."""
    ca_cert, ca_key = ca
    now = now or utcnow()
    serial = random_serial()
    while serial_hex(serial) in taken:
        serial = random_serial()
    return _sign(subject, ca_cert.subject, public_key, ca_key,
                 client_extensions(public_key, ca_cert, email), valid_days, now, serial, cap=not_after(ca_cert))


def issue_server_certificate(key, subject, dns_names, ip_addresses, valid_days, now=None, ca=None):
    """Self-signed, or signed by ca = (certificate, key)."""
    now = now or utcnow()
    ca_cert, ca_key = ca if ca else (None, key)
    return _sign(subject, ca_cert.subject if ca_cert else subject, key.public_key(), ca_key,
                 server_extensions(key.public_key(), dns_names, ip_addresses, ca_cert), valid_days, now,
                 cap=not_after(ca_cert) if ca_cert else None)


def extensions_match(cert, expected):
    """True when the certificate carries exactly the expected extensions, criticality included."""
    actual = {ext.oid: ext for ext in cert.extensions}
    if set(actual) != {ext.oid for ext, _critical in expected}:
        return False
    return all(actual[ext.oid].value == ext and actual[ext.oid].critical == critical
               for ext, critical in expected)


def lifetime_days(cert):
    """The validity period asked for when the certificate was issued, in days."""
    return (not_after(cert) - not_before(cert) - BACKDATE).total_seconds() / 86400


def lifecycle_reason(cert, valid_days, renew_before_days, now, cap=None):
    """Why a certificate must be renewed on time grounds, or None.

    cap: the end of the CA that signs it. A certificate that ends with its CA and is no longer
    than asked is what a new one would be: it is not renewed while the CA lasts (renewing the CA
    moves the cap, and then it is). The pki role warns before the CA's end instead.
    """
    if not_before(cert) > now:
        return "not yet valid"
    capped = cap is not None and abs((not_after(cert) - cap).total_seconds()) < 1
    if capped:
        return "validity changed" if lifetime_days(cert) - valid_days > 0.01 else None
    if not_after(cert) - now <= datetime.timedelta(days=renew_before_days):
        return "expiring"
    if abs(lifetime_days(cert) - valid_days) > 0.01:
        return "validity changed"
    return None


def ca_renewal_reason(cert, public_key, valid_days, renew_before_days, now=None, permitted=None, path_length=0,
                      issuer=None):
    """Why the CA certificate must be re-signed (with the same key), or None.

    The caller has checked the key and the subject: those can never be fixed by a re-sign.
    issuer: the certificate of the CA that must have signed it (None: it must be self-signed).
    """
    now = now or utcnow()
    if not signed_by(cert, issuer or cert):
        return "issuer changed"
    if not extensions_match(cert, ca_extensions(public_key, permitted, path_length, issuer)):
        current = _permitted(cert)
        wanted = name_constraints(permitted).permitted_subtrees if permitted else None
        return "names changed" if current is not None and current != wanted else "profile changed"
    return lifecycle_reason(cert, valid_days, renew_before_days, now, cap=not_after(issuer) if issuer else None)


def ca_problems(cert, cas_below, crl_signer=False):
    """Why cert cannot sign on a chain with cas_below CAs under it (and, with crl_signer, sign CRLs):
    [] when it can. RFC 5280's basicConstraints, pathLenConstraint and keyUsage."""
    what = cert.subject.rfc4514_string()
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        return [f"{what} is not a CA (basicConstraints CA:TRUE)"]
    problems = []
    if constraints.path_length is not None and constraints.path_length < cas_below:
        problems.append(f"{what} allows {constraints.path_length} CA(s) below it (pathlen), the chain needs {cas_below}")
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not usage.key_cert_sign:
        problems.append(f"{what} may not sign certificates (keyUsage without keyCertSign)")
    if usage is not None and crl_signer and not usage.crl_sign:
        problems.append(f"{what} may not sign CRLs (keyUsage without cRLSign), which revocation needs")
    return problems


def build_chain(cert, candidates):
    """The CAs above cert, its issuer first and a self-signed root last, from candidates (matched by
    name and signature); raises PkiError naming the certificate whose issuer is not among them."""
    chain, current, pool = [], cert, list(candidates)
    while not (current.issuer == current.subject and signed_by(current, current)):
        issuer = next((candidate for candidate in pool if signed_by(current, candidate)), None)
        if issuer is None:
            raise PkiError(f"no certificate of the chain signed {current.subject.rfc4514_string()} (its issuer is"
                           f" {current.issuer.rfc4514_string()}): give every CA up to the root")
        chain.append(issuer)
        pool.remove(issuer)
        current = issuer
    return chain


def signed_by(cert, issuer):
    """Whether issuer's name and key signed cert."""
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def reissue_reason(cert, public_key, issuer, subject, extensions, valid_days, renew_before_days, now=None):
    """Why a leaf certificate (client or server) must be reissued, or None when it is what was asked.

    issuer: the certificate that must have signed it (itself, for a self-signed one); extensions:
    the (extension, critical) pairs of the profile it must carry exactly.
    """
    now = now or utcnow()
    if public_key_der(cert) != public_key_der(public_key):
        return "key changed"
    if not signed_by(cert, issuer):
        return "issuer changed"
    if cert.subject != subject:
        return "subject changed"
    if not extensions_match(cert, extensions):
        return _extensions_reason(cert, extensions)
    return lifecycle_reason(cert, valid_days, renew_before_days, now, cap=None if issuer is cert else not_after(issuer))


def _extensions_reason(cert, expected):
    """What differs in the extensions: the names (e-mail for a client) or the rest of the profile."""
    wanted = [ext for ext, _critical in expected if isinstance(ext, x509.SubjectAlternativeName)]
    try:
        actual = [cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value]
    except x509.ExtensionNotFound:
        actual = []
    if actual == wanted:
        return "profile changed"
    emails = [name for san in actual + wanted for name in san.get_values_for_type(x509.RFC822Name)]
    return "email changed" if emails else "names changed"


def _permitted(cert):
    try:
        return cert.extensions.get_extension_for_class(x509.NameConstraints).value.permitted_subtrees
    except x509.ExtensionNotFound:
        return None


def fingerprint_sha256(cert):
    """SHA-256 of the certificate's DER, lowercase hexadecimal without separators."""
    return cert.fingerprint(hashes.SHA256()).hex()


def serial_hex(serial):
    """Uppercase hex without separators: the form nginx gives in $ssl_client_serial."""
    return format(serial, "X")


def describe(cert):
    """What the modules return about a certificate (nothing secret)."""
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial_number": serial_hex(cert.serial_number),
        "fingerprint_sha256": fingerprint_sha256(cert),
        "spki_sha256": spki_sha256(cert),
        "not_before": not_before(cert).isoformat(),
        "not_after": not_after(cert).isoformat(),
    }
