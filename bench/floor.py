"""The floor: the same crypto as the PKI play (CA, N users with key, certificate, two bundles, CRL)
in one Python process, with no Ansible. `first` issues; `rerun` does the checks a no-change run
must do (load and verify each certificate, open each bundle with its passphrase)."""
import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def sign(subject, issuer, public_key, key, days, extensions):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
               .serial_number(x509.random_serial_number()).not_valid_before(now)
               .not_valid_after(now + datetime.timedelta(days=days)))
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical)
    return builder.sign(key, hashes.SHA256())


def ku(**flags):
    base = dict(digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False)
    return x509.KeyUsage(**{**base, **flags})


def first(directory, count):
    os.makedirs(directory, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = sign(name("Bench CA"), name("Bench CA"), ca_key.public_key(), ca_key, 3650, [
        (x509.BasicConstraints(ca=True, path_length=0), True), (ku(key_cert_sign=True, crl_sign=True), True),
        (x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)])
    write(directory, "ca.crt", ca.public_bytes(serialization.Encoding.PEM))
    write(directory, "ca.key", ca_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    protection = (serialization.PrivateFormat.PKCS12.encryption_builder().kdf_rounds(2048)
                  .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC).hmac_hash(hashes.SHA256()).build(b"pass"))
    compat = (serialization.PrivateFormat.PKCS12.encryption_builder().kdf_rounds(2048)
              .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC).hmac_hash(hashes.SHA1()).build(b"pass"))
    for index in range(count):
        user = f"user{index:05d}"
        key = ec.generate_private_key(ec.SECP256R1())
        cert = sign(name(user), ca.subject, key.public_key(), ca_key, 365, [
            (x509.BasicConstraints(ca=False, path_length=None), True), (ku(digital_signature=True), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False),
            (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False), (aki, False)])
        write(directory, f"{user}.key", key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
        write(directory, f"{user}.crt", cert.public_bytes(serialization.Encoding.PEM))
        for suffix, encryption in (("", protection), ("-compat", compat)):
            write(directory, f"{user}{suffix}.p12", pkcs12.serialize_key_and_certificates(user.encode(), key, cert, [ca], encryption))
    now = datetime.datetime.now(datetime.timezone.utc)
    crl = (x509.CertificateRevocationListBuilder().issuer_name(ca.subject).last_update(now)
           .next_update(now + datetime.timedelta(days=30)).add_extension(aki, False)
           .add_extension(x509.CRLNumber(1), False).sign(ca_key, hashes.SHA256()))
    write(directory, "crl.pem", crl.public_bytes(serialization.Encoding.PEM))


def rerun(directory, count):
    ca = x509.load_pem_x509_certificate(read(directory, "ca.crt"))
    serialization.load_pem_private_key(read(directory, "ca.key"), None)
    for index in range(count):
        user = f"user{index:05d}"
        key = serialization.load_pem_private_key(read(directory, f"{user}.key"), None)
        cert = x509.load_pem_x509_certificate(read(directory, f"{user}.crt"))
        cert.verify_directly_issued_by(ca)
        assert cert.public_key() == key.public_key()
        for suffix in ("", "-compat"):
            bundle = pkcs12.load_pkcs12(read(directory, f"{user}{suffix}.p12"), b"pass")
            assert bundle.cert.certificate == cert
    x509.load_pem_x509_crl(read(directory, "crl.pem")).is_signature_valid(ca.public_key())


def write(directory, filename, data):
    with open(os.path.join(directory, filename), "wb") as handle:
        handle.write(data)


def read(directory, filename):
    with open(os.path.join(directory, filename), "rb") as handle:
        return handle.read()


if __name__ == "__main__":
    {"first": first, "rerun": rerun}[sys.argv[1]](sys.argv[2], int(sys.argv[3]))
