"""A host that brings its own server certificate from a private CA: served, proven and shipped with that CA.

The proof step (site.yml's verify play) must trust what users' devices trust for this server:
the team's CA (mtls_server_ca_certificate), not the system's store. The module leaves the scenario
as it found it: the pki role's server certificate served again.
"""
import datetime
import ipaddress
import os
import ssl

import pytest
from conftest import PKI_DIR, client_files, converge, https_get, mint, new_key, utcnow, write_pair
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID


def served_issuer(port):
    pem = ssl.get_server_certificate(("127.0.0.1", port))
    return x509.load_pem_x509_certificate(pem.encode()).issuer.rfc4514_string()


@pytest.fixture(scope="module")
def team_pki(scratch):
    """The team's own private server CA and, from it, a certificate for localhost."""
    ca_key = new_key()
    ca_name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Team Private Server CA")])
    ca, _key = mint(ca_name, ca_key, subject="Team Private Server CA", key=ca_key, ca=True, eku=(),
                    not_after=utcnow() + datetime.timedelta(days=30))
    names = x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    server, server_key = mint(ca_name, ca_key, subject="localhost", eku=(ExtendedKeyUsageOID.SERVER_AUTH,),
                              extra=[(names, False)])
    ca_path, _ca_key_path = write_pair(scratch, "team-ca", ca, ca_key)
    cert_path, key_path = write_pair(scratch, "team-server", server, server_key)
    return {"mtls_server_certificate": cert_path, "mtls_server_private_key": key_path, "mtls_server_ca_certificate": ca_path}


def test_a_host_with_its_own_private_ca_certificate_is_proven_against_that_ca(team_pki, port):
    output = []
    converge(team_pki, output=output)  # fails if the proof step trusts the system's store instead
    assert served_issuer(port) == "CN=Team Private Server CA"
    proof = output[0].split("Prove the rollout")[-1].split("PLAY RECAP")[0]
    assert "ok: [" in proof, proof[:2000]  # sent, and answered 496 then 200 through the team's CA
    # What users' devices are told to trust for this server is the same CA.
    with open(os.path.join(PKI_DIR, "clients", "alice", "ca.crt"), encoding="utf-8") as kit, \
            open(team_pki["mtls_server_ca_certificate"], encoding="utf-8") as team:
        assert kit.read() == team.read()


def test_back_on_the_pki_roles_server_certificate(team_pki, port):
    converge({})
    assert served_issuer(port) != "CN=Team Private Server CA"
    assert https_get(port, *client_files(PKI_DIR, "alice")).status == 200
