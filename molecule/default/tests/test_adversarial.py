"""What nginx must refuse: forged and mis-issued client certificates, each a real TLS request.

Every case gets the 495 page with OpenSSL's reason; a valid certificate gets 200 on the same
server, so the refusals are about the certificate and nothing else.
"""
import datetime

import pytest
from conftest import client_files, https_get, mint, new_key, utcnow, write_pair
from cryptography import x509
from cryptography.hazmat.primitives import serialization

DAY = datetime.timedelta(days=1)
CA_KEY_USAGE = x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                             data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                             encipher_only=False, decipher_only=False)


def self_signed(ca):
    key = new_key()
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "mallory")])
    return mint(name, key, key=key)


def foreign_ca_same_name_with_aki(ca):
    impostor = new_key()
    return mint(ca[0].subject, impostor, aki_from=impostor.public_key())


def foreign_ca_same_name_without_aki(ca):
    return mint(ca[0].subject, new_key())


def not_yet_valid(ca):
    return mint(ca[0].subject, ca[1], not_before=utcnow() + DAY, not_after=utcnow() + 2 * DAY)


def server_auth_only(ca):
    return mint(ca[0].subject, ca[1], eku=(x509.oid.ExtendedKeyUsageOID.SERVER_AUTH,))


def ca_certificate_as_client(ca):
    """Mis-issued by our own CA: CA:TRUE with a CA's key usage."""
    return mint(ca[0].subject, ca[1], ca=True, eku=(), extra=[(CA_KEY_USAGE, True)])


PURPOSE = ("unsuitable certificate purpose", "unsupported certificate purpose")
# The reasons OpenSSL gives (nginx shows them in $ssl_client_verify); wording differs between
# OpenSSL 3.0 (Debian 12) and later releases, and a CRL check may speak first.
CASES = {
    "self-signed": (self_signed, ("self-signed certificate", "unable to get certificate CRL")),
    "another CA with our CA's name, with AKI": (
        foreign_ca_same_name_with_aki, ("unable to verify the first certificate", "unable to get local issuer certificate")),
    "another CA with our CA's name, without AKI": (foreign_ca_same_name_without_aki, ("certificate signature failure",)),
    "not yet valid": (not_yet_valid, ("certificate is not yet valid",)),
    "serverAuth-only EKU from our CA": (server_auth_only, PURPOSE),
    "CA:TRUE certificate from our CA": (ca_certificate_as_client, PURPOSE),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_forged_or_misissued_certificate_gets_the_495_page(port, our_ca, scratch, case):
    make, reasons = CASES[case]
    cert, key = make(our_ca)
    response = https_get(port, *write_pair(scratch, case.replace(" ", "_").replace(":", ""), cert, key))
    assert response.status == 495, response
    assert any(f"FAILED:{reason}" in response.body for reason in reasons), response.body


def test_leaf_under_a_rogue_intermediate_is_rejected(port, our_ca, scratch):
    """Even an intermediate our CA signed (it never does: pathlen 0, verify depth 1) cannot mint clients."""
    intermediate_key = new_key()
    intermediate, _unused = mint(our_ca[0].subject, our_ca[1], subject="Rogue Intermediate", key=intermediate_key,
                                 ca=True, eku=(), extra=[(CA_KEY_USAGE, True)])
    leaf, leaf_key = mint(intermediate.subject, intermediate_key)
    cert_path, key_path = write_pair(scratch, "under_intermediate", leaf, leaf_key)
    with open(cert_path, "ab") as handle:  # send the chain: leaf, then the intermediate
        handle.write(intermediate.public_bytes(serialization.Encoding.PEM))
    response = https_get(port, cert_path, key_path)
    assert response.status == 495, response
    assert "FAILED:" in response.body


def test_corrupted_signature_is_rejected(port, pki, scratch):
    alice_cert, alice_key = client_files(pki, "alice")
    with open(alice_cert, "rb") as handle:
        der = bytearray(x509.load_pem_x509_certificate(handle.read()).public_bytes(serialization.Encoding.DER))
    der[-1] ^= 0x01  # the last byte belongs to the signature value
    with open(alice_key, "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), None)
    response = https_get(port, *write_pair(scratch, "corrupted", None, key, cert_der=bytes(der)))
    assert response.status == 495, response
    assert "FAILED:certificate signature failure" in response.body


def test_a_certificate_our_ca_signed_outside_the_ledger_gets_the_495_page(port, our_ca, scratch):
    """nginx finds the chain valid; the servers' maps, keyed by issuer and serial, do not list it."""
    cert, key = mint(our_ca[0].subject, our_ca[1], subject="alice")
    response = https_get(port, *write_pair(scratch, "unlisted", cert, key))
    assert response.status == 495, response
    assert "NOT ISSUED HERE" in response.body and "FAILED:" not in response.body


def test_a_valid_certificate_still_gets_200(port, pki):
    assert https_get(port, *client_files(pki, "alice")).status == 200


def test_error_pages_do_not_leak_html_from_the_certificate(port, our_ca, scratch):
    """The 495 page echoes the subject with SSI's entity encoding: a hostile CN stays text."""
    cert, key = mint(our_ca[0].subject, new_key(), subject="<script>alert(1)</script>")
    response = https_get(port, *write_pair(scratch, "hostile_cn", cert, key))
    assert response.status == 495
    assert "<script>" not in response.body and "&lt;script" in response.body
