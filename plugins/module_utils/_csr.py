# Private to the mtls.nginx collection: not a public API, may change without notice.
"""Certificate signing requests of users who bring their own key: checked, never trusted for content.

Only the request's public key is used, and only when the request's signature proves its holder
has the private key and the key meets the policy. Subject, e-mail and every extension of the
certificate come from the inventory and our profile; what the request asks for is ignored
(and named, so the run can say so).
"""
from __future__ import annotations

from ansible_collections.mtls.nginx.plugins.module_utils._common import PkiError, printable
from ansible_collections.mtls.nginx.plugins.module_utils._keys import MAX_RSA_KEY_SIZE, MIN_RSA_KEY_SIZE

try:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
except ImportError:  # see _x509.CRYPTOGRAPHY_IMPORT_ERROR
    pass

CURVES = ("secp256r1", "secp384r1", "secp521r1")


def load_csr(pem, where):
    """The request in pem (str or bytes); PkiError naming where (e.g. "mtls_clients[2] (carol).csr")."""
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        return x509.load_pem_x509_csr(data)
    except x509.InvalidVersion as exc:
        raise PkiError(f"{where}: {printable(exc)} (a request is version 1, encoded 0); ask for a new request") from None
    except ValueError:
        raise PkiError(f"{where} is not a PEM certificate request (-----BEGIN CERTIFICATE REQUEST-----);"
                       " make one with: openssl req -new -key <your key> -out request.csr") from None


def checked_request(pem, where):
    """(public key, what the request asks for that is ignored), once every part of the request was
    read and checked: a request that fails here fails the run before anything is written."""
    csr = load_csr(pem, where)
    return csr_public_key(csr, where), ignored_requests(csr, where)


def csr_public_key(csr, where):
    """The request's public key, once its signature verifies and the key meets the policy."""
    try:
        key = csr.public_key()
        verified = csr.is_signature_valid
    except (ValueError, TypeError, x509.UnsupportedGeneralNameType) as exc:
        raise PkiError(f"{where}: its public key cannot be read ({printable(exc)}); ask for a new request") from None
    if not verified:
        raise PkiError(f"{where}: the request's signature does not verify (it was altered or damaged); ask for a new one")
    if isinstance(key, rsa.RSAPublicKey):
        if not MIN_RSA_KEY_SIZE <= key.key_size <= MAX_RSA_KEY_SIZE:
            raise PkiError(f"{where}: an RSA key of {key.key_size} bits is refused; RSA keys must have"
                           f" {MIN_RSA_KEY_SIZE} to {MAX_RSA_KEY_SIZE} bits (or use EC P-256): ask for a new request")
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in CURVES:
            raise PkiError(f"{where}: an EC key on {key.curve.name} is refused; use P-256, P-384 or P-521:"
                           " ask for a new request")
    elif not isinstance(key, ed25519.Ed25519PublicKey):
        raise PkiError(f"{where}: a {type(key).__name__} key is refused; use EC (P-256, P-384, P-521), RSA"
                       f" ({MIN_RSA_KEY_SIZE} bits or more) or Ed25519: ask for a new request")
    return key


def ignored_requests(csr, where):
    """What the request asks for that the certificate will not carry: subject and extensions, named
    (non-printable characters escaped: the names end up in what the run prints)."""
    try:
        asked = [f"subject {csr.subject.rfc4514_string()}"] if len(csr.subject) else []
        extensions = list(csr.extensions)
    except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as exc:
        raise PkiError(f"{where}: its subject or extensions cannot be read ({printable(exc)}); ask for a new request") from None
    for extension in extensions:
        value = extension.value
        if isinstance(value, x509.BasicConstraints):
            asked.append(f"basicConstraints CA:{str(value.ca).upper()}")
        elif isinstance(value, x509.ExtendedKeyUsage):
            asked.append("extendedKeyUsage " + ",".join(usage._name for usage in value))
        elif isinstance(value, x509.SubjectAlternativeName):
            asked.append("subjectAltName " + ",".join(str(name.value) for name in value))
        else:
            asked.append(extension.oid._name)
    return [printable(each) for each in asked]
