"""Who did what: the server block's access log names the verified client and its certificate serial."""
import uuid

from conftest import PKI_DIR, client_files, https_get
from cryptography import x509

LOG = "/var/log/nginx/mtls-nginx-access.log"


def logged(host, path):
    """The fields of the last line logged for path: address, name, serial, verification, then the rest."""
    lines = [line for line in host.file(LOG).content_string.splitlines() if f" {path} HTTP/" in line]
    assert lines, f"no line for {path} in {LOG}"
    return lines[-1].split(" ")


def test_a_request_is_logged_with_the_verified_client_and_its_serial(host, port):
    path = f"/audit-{uuid.uuid4().hex}"
    cert, key = client_files(PKI_DIR, "alice")
    assert https_get(port, cert, key, path=path).status == 404  # the default page has no such file
    with open(cert, "rb") as handle:
        serial = x509.load_pem_x509_certificate(handle.read()).serial_number
    _address, name, logged_serial, verify = logged(host, path)[:4]
    assert (name, verify) == ('"alice"', "SUCCESS")
    assert int(logged_serial, 16) == serial


def test_a_request_without_a_certificate_is_logged_as_nobody(host, port):
    path = f"/audit-{uuid.uuid4().hex}"
    assert https_get(port, path=path).status == 496
    fields = logged(host, path)
    assert fields[1:4] == ['""', "-", "NONE"] and " 496 " in " ".join(fields)
