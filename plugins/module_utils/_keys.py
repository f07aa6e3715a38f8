# Private to the mtls.nginx collection: not a public API, may change without notice.
"""Private keys: generate, check against what was asked, read, write, identify. No I/O here."""
from __future__ import annotations

import hashlib

from ansible_collections.mtls.nginx.plugins.module_utils._common import KEY_TYPES, PkiError, UnreadableKeyError

try:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
except ImportError:  # see _x509.CRYPTOGRAPHY_IMPORT_ERROR
    pass

DEFAULT_RSA_KEY_SIZE = 3072
MIN_RSA_KEY_SIZE = 2048
MAX_RSA_KEY_SIZE = 8192


def key_errors(key_type, key_size):
    if key_type not in KEY_TYPES:
        return [f"key_type must be one of {', '.join(KEY_TYPES)}, got {key_type!r}"]
    if key_type == "rsa" and key_size is not None and not MIN_RSA_KEY_SIZE <= key_size <= MAX_RSA_KEY_SIZE:
        return [f"key_size must be {MIN_RSA_KEY_SIZE} to {MAX_RSA_KEY_SIZE} for rsa keys, got {key_size}"]
    if key_type != "rsa" and key_size is not None:
        return [f"key_size applies to rsa keys only; remove it for key_type {key_type}"]
    return []


def generate_key(key_type, key_size=None):
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=key_size or DEFAULT_RSA_KEY_SIZE)
    if key_type == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise PkiError(f"key_type must be one of {', '.join(KEY_TYPES)}, got {key_type!r}")


def key_spec(key):
    """(type, size) of a private or public key; size is None where it is fixed by the type."""
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return "ec", key.curve.name
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return "rsa", key.key_size
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return "ed25519", None
    return type(key).__name__, None


def key_spec_mismatch(key, key_type, key_size=None):
    """None when the key is what was asked, else a description of the difference."""
    wanted = {"ec": ("ec", "secp256r1"), "rsa": ("rsa", key_size or DEFAULT_RSA_KEY_SIZE),
              "ed25519": ("ed25519", None)}[key_type]
    have = key_spec(key)
    if have == wanted:
        return None
    return f"it is a {describe_spec(have)} key but key_type={key_type} asks for a {describe_spec(wanted)} key"


def describe_spec(spec):
    kind, size = spec
    return kind if size is None else f"{kind} {size}"


def load_private_key(data, passphrase, path, passphrase_option="passphrase"):
    """Load a PEM key. Returns (key, encrypted). Raises PkiError naming the file and the fix."""
    password = passphrase.encode() if passphrase else None
    try:
        key = serialization.load_pem_private_key(data, password=password)
        return key, password is not None
    except TypeError as exc:
        if password is None:
            raise PkiError(f"{path} is encrypted; set {passphrase_option} to the passphrase that protects it") from exc
        # Given a passphrase for a key that has none: load it plainly, the caller re-encrypts.
        try:
            return serialization.load_pem_private_key(data, password=None), False
        except (ValueError, TypeError, UnsupportedAlgorithm):
            pass
    except ValueError as exc:
        if password is not None and b"ENCRYPTED" in data:
            raise PkiError(f"{passphrase_option} does not open {path}; give the passphrase it was encrypted with") from exc
    except UnsupportedAlgorithm:
        pass
    raise UnreadableKeyError(f"{path} is not a readable PEM private key")


def dump_private_key(key, passphrase=None):
    encryption = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def public_key_der(key):
    """The SubjectPublicKeyInfo DER of a private key, public key or certificate."""
    if isinstance(key, x509.Certificate):
        key = key.public_key()
    if hasattr(key, "public_key"):
        key = key.public_key()
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def spki_sha256(key):
    """SHA-256 of the SubjectPublicKeyInfo (lowercase hex): a key's identity in the ledger."""
    return hashlib.sha256(public_key_der(key)).hexdigest()


def signature_hash(signing_key):
    return None if isinstance(signing_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
