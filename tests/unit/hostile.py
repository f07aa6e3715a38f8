"""Certificate requests no honest tool makes, correctly signed: for the tests of what we refuse."""
import base64

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


def _der_length(length):
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tlv(tag, body):
    return bytes([tag]) + _der_length(len(body)) + body


def _first_element(der):
    """The first TLV inside the outer SEQUENCE of der (a request's CertificationRequestInfo)."""
    offset = 2 + (der[1] & 0x7F if der[1] & 0x80 else 0)
    length_byte = der[offset + 1]
    if length_byte & 0x80:
        count = length_byte & 0x7F
        length, header = int.from_bytes(der[offset + 2:offset + 2 + count], "big"), 2 + count
    else:
        length, header = length_byte, 2
    return der[offset:offset + header + length]


def resigned(pem, key, edit):
    """The request with edit(bytes) applied to its CertificationRequestInfo, signed again with key:
    a correctly signed request that no honest tool would make."""
    info = edit(_first_element(x509.load_pem_x509_csr(pem).public_bytes(serialization.Encoding.DER)))
    signature = key.sign(info, ec.ECDSA(hashes.SHA256()))
    algorithm = _tlv(0x30, bytes.fromhex("06082a8648ce3d040302"))  # ecdsa-with-SHA256
    der = _tlv(0x30, info + algorithm + _tlv(0x03, b"\x00" + signature))
    return "-----BEGIN CERTIFICATE REQUEST-----\n" + base64.encodebytes(der).decode() + "-----END CERTIFICATE REQUEST-----\n"
