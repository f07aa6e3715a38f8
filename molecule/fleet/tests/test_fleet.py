"""One inventory, three nginx hosts: each serves a certificate for its own name, from one CA and
one CRL; a revocation reaches every host in the same run."""
import os
import socket
import ssl

import pytest
from conftest import shared
from cryptography import x509

PKI = shared.PKI_DIR


def served_certificate(name, port):
    """The certificate a host presents for its name, verified against the server CA (name included)."""
    context = ssl.create_default_context(cafile=os.path.join(PKI, "server", "ca.crt"))
    with socket.create_connection((name, port), timeout=10) as sock:
        with context.wrap_socket(sock, server_hostname=name) as tls:
            return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))


def hosts(fleet):
    return [(host, settings["mtls_server_name"], settings["mtls_listen_port"]) for host, settings in fleet.items()]


def test_each_host_serves_a_certificate_for_its_own_name(fleet):
    for _host, name, port in hosts(fleet):
        cert = served_certificate(name, port)
        assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == name
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
        assert name in sans
    api = fleet["mtls-fleet-api"]
    assert served_certificate("api-internal.fleet.mtls.test", api["mtls_listen_port"]) is not None


def test_one_fenced_server_ca_covers_the_fleet(fleet):
    with open(os.path.join(PKI, "server", "ca.crt"), "rb") as handle:
        ca = x509.load_pem_x509_certificate(handle.read())
    permitted = {str(n.value) for n in ca.extensions.get_extension_for_class(x509.NameConstraints).value.permitted_subtrees}
    assert {settings["mtls_server_name"] for settings in fleet.values()} | {"api-internal.fleet.mtls.test"} <= permitted
    assert os.path.exists(os.path.join(PKI, "server", "web1.fleet.mtls.test.crt"))
    assert not os.path.exists(os.path.join(PKI, "server", "localhost.crt"))  # no host is called localhost


def test_every_host_refuses_no_certificate_and_accepts_alice(fleet):
    alice = shared.client_files(PKI, "alice")
    for host, name, port in hosts(fleet):
        anonymous = shared.https_get(port, host=name)
        assert anonymous.status == 496 and "A client certificate is required" in anonymous.body, (host, anonymous)
        assert shared.https_get(port, *alice, host=name).status == 200, host


@pytest.fixture(scope="module")
def bob_revoked(inventory):
    clients = {c["name"]: c for c in inventory["mtls_clients"]}
    wanted = [clients["alice"], {**clients["bob"], "state": "revoked"}, clients["carol"], clients["dave"],
              clients["erin"]]
    first = shared.converge({"mtls_clients": wanted})
    second = shared.converge({"mtls_clients": wanted})
    return first, second


def test_a_revocation_reaches_every_host_in_one_run(fleet, bob_revoked):
    bob, alice = shared.client_files(PKI, "bob"), shared.client_files(PKI, "alice")
    for host, name, port in hosts(fleet):
        response = shared.https_get(port, *bob, host=name)
        assert response.status == 495 and "certificate revoked" in response.body, (host, response)
        assert shared.https_get(port, *alice, host=name).status == 200, host
    first, second = bob_revoked
    changed_hosts = [line.split()[0] for line in first if "changed=0" not in line]
    assert set(fleet) <= set(changed_hosts), first  # every host got the new CRL in that run
    assert all("changed=0" in line for line in second), second
