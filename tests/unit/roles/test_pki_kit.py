"""The pki role for real on this machine: which server CA each user's kit carries, and the address.

Each case runs ansible-playbook with the role on localhost (no container needed) in a fresh
PKI directory, then a second time, which must change nothing.
"""
import os
import plistlib
import shutil
import sys

import pytest

from ansible_collections.mtls.nginx.tests.unit.roles.conftest import converge


def payload_types(kit):
    with open(kit / "alice.mobileconfig", "rb") as handle:
        return [payload["PayloadType"] for payload in plistlib.load(handle)["PayloadContent"]]


def test_the_role_server_ca_goes_into_the_kit(play, tmp_path):
    pki = tmp_path / "pki"
    converge(play, pki, mtls_listen_port=9443)
    kit = pki / "clients/alice"
    assert (kit / "ca.crt").read_bytes() == (pki / "server/ca.crt").read_bytes()
    assert payload_types(kit) == ["com.apple.security.pkcs12", "com.apple.security.root"]
    assert '<a href="https://localhost:9443/">' in (kit / "README.html").read_text()
    assert not (kit / "alice.zip").exists()


def test_own_server_certificate_with_or_without_a_private_ca(play, tmp_path):
    # A team's own certificate, from a private CA: the one the role made in another directory.
    own = tmp_path / "own"
    converge(play, own)
    server = {"mtls_server_certificate": own / "server/localhost.crt", "mtls_server_private_key": own / "server/localhost.key"}
    pki = tmp_path / "pki"
    converge(play, pki, mtls_server_ca_certificate=own / "server/ca.crt", mtls_client_zip=True,
             mtls_client_kit_url="https://www.example.org/app/", **server)
    kit = pki / "clients/alice"
    assert (kit / "ca.crt").read_bytes() == (own / "server/ca.crt").read_bytes()
    assert not (pki / "server").exists()
    assert '<a href="https://www.example.org/app/">' in (kit / "README.html").read_text()
    assert (kit / "alice.zip").exists()
    # The same certificate said to come from a public CA: no CA in the kit any more.
    converge(play, pki, **server)
    assert not (kit / "ca.crt").exists() and not (kit / "alice.zip").exists()
    assert payload_types(kit) == ["com.apple.security.pkcs12"]
    assert "ca.crt" not in (kit / "README.html").read_text()


@pytest.mark.parametrize("bad, message", [
    ({"mtls_server_ca_certificate": "/srv/ca.crt"}, "mtls_server_ca_certificate is the CA of your own server certificates"),
    ({"mtls_listen_port": 70000}, "mtls_listen_port must be a port number from 1 to 65535, got 70000"),
    # argument_specs owns the client entry's fields, types and choices
    ({"mtls_clients": [{"name": "alice", "state": "lost"}]}, "value of state must be one of: present, revoked, absent"),
    ({"mtls_clients": [{"name": "alice", "passphrase": "x"}]}, "mtls_clients.passphrase. Supported parameters include"),
    ({"mtls_clients": [{"name": "alice", "revoke_reason": "stolen"}]}, "value of revoke_reason must be one of"),
    # and client_errors what a spec cannot say
    ({"mtls_clients": [{"name": "alice"}, {"name": "Alice"}]}, "differs from mtls_clients[0] (alice) only in case"),
    ({"mtls_client_kit_url": "javascript:alert(1)"}, "mtls_client_kit_url must be an https URL"),
])
def test_bad_kit_settings_are_refused_before_anything_changes(play, tmp_path, bad, message):
    pki = tmp_path / "pki"
    proc, recap = play(pki, **bad)
    assert proc.returncode != 0 and recap[1] == 1
    assert message in proc.stdout
    assert not pki.exists()


@pytest.fixture(autouse=True)
def _needs_ansible_playbook():
    assert shutil.which("ansible-playbook", path=os.path.dirname(sys.executable)), "run from the project venv (make unit)"
