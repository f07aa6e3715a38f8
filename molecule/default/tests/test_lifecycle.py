"""Nobody is locked out by a routine change: a renewal, or a run against a lost PKI directory.

Every claim is a real TLS request to nginx with the certificate a user's device holds. The module
leaves the scenario as it found it: alice's certificate renewed (same key), the original CA trusted.
"""
import os
import subprocess

import pytest
from conftest import PKI_DIR, PROJECT_DIR, client_files, converge, https_get, keep_copy
from cryptography import x509


def serial_of(cert_path):
    with open(cert_path, "rb") as handle:
        return format(x509.load_pem_x509_certificate(handle.read()).serial_number, "X")


def host_state(host):
    """What the host serves from: every file the role installs, by content."""
    paths = "/etc/nginx/mtls/ca.crt /etc/nginx/mtls/crl.pem /etc/nginx/mtls/server.crt /etc/nginx/conf.d/mtls-nginx.conf"
    return host.check_output(f"sha256sum {paths}")


@pytest.fixture(scope="module")
def users(inventory):
    return inventory["mtls_clients"]


def test_a_renewal_with_the_same_key_leaves_the_certificate_on_the_device_working(inventory, users, scratch):
    port = inventory["mtls_listen_port"]
    device = keep_copy(scratch, "alice", "before-renewal")
    renewed = [{**user, "valid_days": 200} if user["name"] == "alice" else user for user in users]
    converge({"mtls_clients": renewed})
    assert serial_of(client_files(PKI_DIR, "alice")[0]) != serial_of(device[0])  # a new certificate was issued
    assert https_get(port, *device).status == 200  # the one on her device still works
    assert https_get(port, *client_files(PKI_DIR, "alice")).status == 200
    with open(os.path.join(PKI_DIR, "clients", "alice", "README.html"), encoding="utf-8") as handle:
        assert "This kit renews your certificate" in handle.read()
    # back to the inventory's validity: one more same-key renewal, and still nobody locked out
    converge({"mtls_clients": users})
    assert https_get(port, *device).status == 200


def test_a_run_against_a_lost_pki_changes_nothing_on_the_host(host, inventory, users, scratch):
    port = inventory["mtls_listen_port"]
    before = host_state(host)
    lost = os.path.join(scratch, "lost-pki")
    output = []
    converge({"mtls_pki_dir": lost, "mtls_clients": users}, expect_success=False, output=output)
    text = output[0]
    assert "a NEW CA (CN=mtls.nginx Molecule CA" in text and "restore it from your backup" in text
    assert "this run would stop trusting the client CA CN=mtls.nginx Molecule CA" in text
    assert "Nothing was changed" in text and "mtls_replace_client_ca=true" in text
    assert host_state(host) == before
    assert https_get(port, *client_files(PKI_DIR, "alice")).status == 200


def test_the_client_ca_is_replaced_only_on_purpose(host, inventory, users, scratch):
    port = inventory["mtls_listen_port"]
    other = os.path.join(scratch, "other-pki")
    converge({"mtls_pki_dir": other, "mtls_clients": users, "mtls_replace_client_ca": True})
    assert https_get(port, *client_files(PKI_DIR, "alice"), pki=other).status == 495  # the new CA never issued it
    assert https_get(port, *client_files(other, "alice"), pki=other).status == 200
    # and back, on purpose again: the original CA is trusted, alice's certificate works
    converge({"mtls_clients": users}, expect_success=False)
    converge({"mtls_clients": users, "mtls_replace_client_ca": True})
    assert https_get(port, *client_files(PKI_DIR, "alice")).status == 200


def test_the_daily_crl_job_against_another_pki_changes_nothing_on_the_host(host, inventory, scratch):
    """refresh_crl.yml with mtls_pki_dir at another team's PKI (the one the test above made): its CRLs would
    leave the CA the host trusts without a CRL, and nginx would refuse every client after nginx -t passed."""
    port = inventory["mtls_listen_port"]
    other = os.path.join(scratch, "other-pki")
    assert os.path.exists(os.path.join(other, "ca", "crl.pem"))
    before = host_state(host)
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": os.path.join(PROJECT_DIR, ".collections"),
           "ANSIBLE_CONFIG": os.path.join(PROJECT_DIR, "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    result = subprocess.run(["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "-e", f"mtls_pki_dir={other}",
                             os.path.join(PROJECT_DIR, "playbooks", "refresh_crl.yml")],
                            capture_output=True, text=True, env=env, check=False)
    text = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, text[-3000:]
    assert "/etc/nginx/mtls/crl.pem: this run would leave no CRL of the client CA CN=mtls.nginx Molecule CA" in text
    assert "Nothing was changed" in text and "mtls_replace_client_ca=true" in text
    assert host_state(host) == before
    assert https_get(port, *client_files(PKI_DIR, "alice")).status == 200


def test_no_copy_of_the_configuration_outlives_its_check(host):
    """check-site copies /etc/nginx, server key included, to test a candidate; every converge above ran it."""
    assert host.run("find /tmp -name server.key").stdout == ""
