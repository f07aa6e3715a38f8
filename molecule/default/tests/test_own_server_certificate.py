"""A host that brings its own server certificate from a private CA: served, proven and shipped with that CA.

The proof step (site.yml's verify play) must trust what users' devices trust for this server:
the team's CA (mtls_server_ca_certificate), not the system's store. The module leaves the scenario
as it found it: the pki role's server certificate served again.
"""
import os
import ssl

import pytest
from conftest import PKI_DIR, client_files, converge, https_get, server_ca_and_certificate, write_pair
from cryptography import x509


def served_issuer(port):
    pem = ssl.get_server_certificate(("127.0.0.1", port))
    return x509.load_pem_x509_certificate(pem.encode()).issuer.rfc4514_string()


@pytest.fixture(scope="module")
def team_pki(scratch):
    """The team's own private server CA and, from it, a certificate for localhost."""
    (ca, ca_key), (server, server_key) = server_ca_and_certificate("Team Private Server CA", ["localhost", "127.0.0.1"])
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
