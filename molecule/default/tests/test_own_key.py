"""Users who bring their own key: a CSR made with openssl outside the collection gets a certificate.

grace makes her key and request with `openssl req` (asking, as an attacker might, for CA:TRUE,
serverAuth and another name); the run certifies the key for her inventory name only. Bad
requests are refused before anything changes; revoking her works as for everyone.
"""
import base64
import os
import subprocess

import pytest
from conftest import PKI_DIR, converge, https_get
from test_bad_input import pki_state


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def request(scratch, name, newkey=("ec", "-pkeyopt", "ec_paramgen_curve:P-256")):
    openssl("req", "-new", "-newkey", *newkey, "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
            "-subj", "/CN=admin", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "extendedKeyUsage=serverAuth",
            "-addext", "subjectAltName=DNS:evil.example.org", cwd=scratch)
    with open(os.path.join(scratch, f"{name}.csr"), encoding="ascii") as handle:
        return handle.read()


def tampered(pem):
    lines = pem.strip().splitlines()
    der = bytearray(base64.b64decode("".join(lines[1:-1])))
    der[-1] ^= 1
    return f"{lines[0]}\n{base64.encodebytes(bytes(der)).decode()}{lines[-1]}\n"


@pytest.fixture(scope="module")
def grace(inventory, scratch):
    users = inventory["mtls_clients"]  # everyone stays listed: the tests after this one use them
    csr = request(scratch, "grace")
    output = []
    # grace first: the proof step must request as a user whose key is on the control node (alice)
    recap = converge({"mtls_clients": [{"name": "grace", "csr": csr}] + users}, output=output)
    key = os.path.join(scratch, "grace.key")
    cert = os.path.join(PKI_DIR, "clients", "grace", "grace.crt")
    status = https_get(inventory["mtls_listen_port"], cert, key).status
    files = sorted(os.listdir(os.path.join(PKI_DIR, "clients", "grace")))
    before = pki_state()
    refused = {}
    for label, bad in (("tampered", tampered(csr)), ("rsa1024", request(scratch, "weak", ("rsa:1024",)))):
        out = []
        converge({"mtls_clients": users + [{"name": "grace", "csr": bad}]}, expect_success=False, output=out)
        refused[label] = out[0]
    unchanged = pki_state() == before
    converge({"mtls_clients": users + [{"name": "grace", "csr": csr, "state": "revoked"}]})
    return {"recap": recap, "output": output[0], "status": status, "files": files, "refused": refused,
            "unchanged": unchanged, "revoked_status": https_get(inventory["mtls_listen_port"], cert, key).status,
            "cert": cert}


def test_the_proof_step_requests_as_a_user_whose_key_is_here(grace, inventory):
    assert f"(item=https://localhost:{inventory['mtls_listen_port']}/ as alice)" in grace["output"], grace["output"][-3000:]


def test_her_own_key_and_the_issued_certificate_get_200(grace):
    assert grace["status"] == 200


def test_no_key_and_no_bundle_of_hers_is_on_the_control_node(grace):
    assert grace["files"] == ["README.html", "ca.crt", "grace.crt"]


def test_what_her_request_asked_for_is_ignored_and_said(grace):
    text = subprocess.run(["openssl", "x509", "-in", grace["cert"], "-noout", "-text"], capture_output=True, text=True,
                          check=True).stdout
    assert "CA:FALSE" in text and "TLS Web Client Authentication" in text and "Server Authentication" not in text
    assert "evil.example.org" not in text and "CN=grace" in text.replace(" = ", "=")
    assert "basicConstraints CA:TRUE" in grace["output"] and "ignored" in grace["output"]


@pytest.mark.parametrize("label, message", [("tampered", "signature does not verify"),
                                            ("rsa1024", "an RSA key of 1024 bits is refused")])
def test_bad_requests_are_refused_and_change_nothing(grace, label, message):
    assert message in grace["refused"][label] and "(grace).csr" in grace["refused"][label], grace["refused"][label][-2000:]
    assert grace["unchanged"]


def test_revoked_she_gets_495(grace):
    assert grace["revoked_status"] == 495
