# Private to the mtls.nginx collection: not a public API, may change without notice.
"""PKCS#12 bundles: build them in a named encryption profile and tell which profile a bundle has."""
from __future__ import annotations

import secrets

try:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
except ImportError:  # see _x509.CRYPTOGRAPHY_IMPORT_ERROR
    pass

from ansible_collections.mtls.nginx.plugins.module_utils._der import children as _children
from ansible_collections.mtls.nginx.plugins.module_utils._der import element as _tlv
from ansible_collections.mtls.nginx.plugins.module_utils._keys import public_key_der

# OpenSSL 3's default iteration count. Raising it buys nothing while the bundle's MAC, which
# cryptography always computes with 2048 iterations, lets a guess be checked without the bags:
# measured 0.1 ms per wrong guess on one core for both profiles, whatever the bags' count. The
# protection is the passphrase's strength (generate_passphrase; _common.MIN_PASSPHRASE_LENGTH).
KDF_ROUNDS = 2048
# Crockford's base32 alphabet in lower case: no i, l, o, u to misread over the phone.
PASSPHRASE_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
PASSPHRASE_GROUPS, PASSPHRASE_GROUP_LENGTH = 4, 5  # 20 symbols of 5 bits: 100 bits

_OID_DATA = "1.2.840.113549.1.7.1"
_OID_ENCRYPTED_DATA = "1.2.840.113549.1.7.6"
_OID_SHROUDED_KEY_BAG = "1.2.840.113549.1.12.10.1.2"
_OID_PBES2 = "1.2.840.113549.1.5.13"
_OID_PBKDF2 = "1.2.840.113549.1.5.12"
_OID_HMAC_SHA256 = "1.2.840.113549.2.9"
_OID_AES256_CBC = "2.16.840.1.101.3.4.1.42"
_OID_PBE_SHA1_3DES = "1.2.840.113549.1.12.1.3"
_OID_SHA1 = "1.3.14.3.2.26"
_OID_SHA256 = "2.16.840.1.101.3.4.2.1"

# What each profile looks like on the wire: (algorithm of every encrypted bag, MAC digest).
_PROFILES = {
    "modern": (("pbes2", _OID_PBKDF2, _OID_HMAC_SHA256, _OID_AES256_CBC), _OID_SHA256),
    "compatible": ((_OID_PBE_SHA1_3DES,), _OID_SHA1),
}


class BundleError(Exception):
    """A bundle cannot be parsed."""


def generate_passphrase():
    """A random passphrase of 100 bits, in groups easy to read out: 'k3f9q-7hx2m-...'."""
    return "-".join("".join(secrets.choice(PASSPHRASE_ALPHABET) for _symbol in range(PASSPHRASE_GROUP_LENGTH))
                    for _group in range(PASSPHRASE_GROUPS))


def build(key, cert, ca_certs, friendly_name, passphrase, encryption):
    if encryption == "modern":
        algorithm, mac = serialization.pkcs12.PBES.PBESv2SHA256AndAES256CBC, hashes.SHA256()
    else:
        algorithm, mac = serialization.pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC, hashes.SHA1()
    protection = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(KDF_ROUNDS)
        .key_cert_algorithm(algorithm)
        .hmac_hash(mac)
        .build(passphrase.encode())
    )
    return pkcs12.serialize_key_and_certificates(
        friendly_name.encode(), key, cert, list(ca_certs), protection
    )


def mismatch(data, passphrase, key, cert, ca_certs, friendly_name, encryption):
    """Why an existing bundle is not the one asked for, or None when it is."""
    try:
        bundle = pkcs12.load_pkcs12(data, passphrase.encode())
    except ValueError:
        return "passphrase changed or bundle unreadable"
    if bundle.key is None or public_key_der(bundle.key) != public_key_der(key):
        return "key changed"
    if bundle.cert is None or bundle.cert.certificate != cert:
        return "certificate changed"
    if [c.certificate for c in bundle.additional_certs] != list(ca_certs):
        return "CA chain changed"
    if (bundle.cert.friendly_name or b"").decode("utf-8", "replace") != friendly_name:
        return "friendly name changed"
    try:
        profile = encryption_profile(data)
    except BundleError:
        profile = None
    if profile != encryption:
        return "encryption changed"
    return None


def encryption_profile(data):
    """'modern', 'compatible' or 'other': what a DER PKCS#12 bundle is encrypted with.

    cryptography loads bundles but does not say how they were protected, so this walks the
    PFX structure (RFC 7292): the MAC digest and the algorithm of every encrypted bag.
    """
    bag_algorithms, mac_digest = _algorithms(data)
    for name, (wanted_bag, wanted_mac) in _PROFILES.items():
        if bag_algorithms and all(a == wanted_bag for a in bag_algorithms) and mac_digest == wanted_mac:
            return name
    return "other"


def _expect(item, tag):
    if item[0] != tag:
        raise BundleError(f"expected DER tag {tag:#x}, found {item[0]:#x}")
    return item


def _oid(data, item):
    start, end = _expect(item, 0x06)[1:]
    raw = data[start:end]
    first = raw[0]
    parts = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    value = 0
    for byte in raw[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(map(str, parts))


def _algorithm(data, item):
    """An AlgorithmIdentifier as a tuple: PBES2 spelled out as (pbes2, kdf, prf, cipher)."""
    start, end = _expect(item, 0x30)[1:]
    fields = _children(data, start, end)
    oid = _oid(data, fields[0])
    if oid != _OID_PBES2:
        return (oid,)
    kdf, cipher = _children(data, *_expect(fields[1], 0x30)[1:])
    kdf_fields = _children(data, *kdf[1:])
    kdf_params = _children(data, *_expect(kdf_fields[1], 0x30)[1:])
    prf = _OID_SHA1  # PBKDF2's default PRF is HMAC-SHA1
    if kdf_params and kdf_params[-1][0] == 0x30:
        prf = _oid(data, _children(data, *kdf_params[-1][1:])[0])
    return ("pbes2", _oid(data, kdf_fields[0]), prf, _oid(data, _children(data, *cipher[1:])[0]))


def _content(data, content_info):
    """(content type OID, the [0] EXPLICIT content element) of a ContentInfo."""
    fields = _children(data, *_expect(content_info, 0x30)[1:])
    inner = _children(data, *_expect(fields[1], 0xA0)[1:])
    return _oid(data, fields[0]), inner[0]


def _algorithms(data):
    try:
        pfx = _children(data, *_expect(_tlv(data, 0), 0x30)[1:])
        content_type, auth_safe = _content(data, pfx[1])
        if content_type != _OID_DATA:
            raise BundleError("PFX is not password-integrity protected")
        bag_algorithms = []
        for info in _children(data, *_expect(_children(data, *_expect(auth_safe, 0x04)[1:])[0], 0x30)[1:]):
            kind, content = _content(data, info)
            if kind == _OID_ENCRYPTED_DATA:
                encrypted_content_info = _children(data, *_expect(content, 0x30)[1:])[1]
                bag_algorithms.append(_algorithm(data, _children(data, *encrypted_content_info[1:])[1]))
            elif kind == _OID_DATA:
                safe_contents = _children(data, *_expect(content, 0x04)[1:])[0]
                for bag in _children(data, *_expect(safe_contents, 0x30)[1:]):
                    bag_fields = _children(data, *bag[1:])
                    if _oid(data, bag_fields[0]) == _OID_SHROUDED_KEY_BAG:
                        value = _children(data, *bag_fields[1][1:])[0]
                        bag_algorithms.append(_algorithm(data, _children(data, *value[1:])[0]))
                    else:
                        bag_algorithms.append(("plaintext",))
        mac_digest = None
        if len(pfx) > 2:
            digest_info = _children(data, *pfx[2][1:])[0]
            mac_digest = _oid(data, _children(data, *_children(data, *digest_info[1:])[0][1:])[0])
        return bag_algorithms, mac_digest
    except (IndexError, ValueError) as exc:
        raise BundleError(f"not a PKCS#12 bundle: {exc}") from exc
