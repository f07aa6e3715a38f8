"""The managed host's state after site.yml."""
import json
import os

import pytest

SITE = "/etc/nginx/conf.d/mtls-nginx.conf"
TLS_DIR = "/etc/nginx/mtls"


def test_nginx_package_installed(host):
    assert host.package("nginx").is_installed


def test_nginx_master_process_runs(host):
    pid = host.file("/run/nginx.pid").content_string.strip()
    assert pid.isdigit()
    assert host.file(f"/proc/{pid}/comm").content_string.strip() == "nginx"


def test_the_local_fact_reports_nginx_and_no_session_hazard(host):
    fact = json.loads(host.check_output("/etc/ansible/facts.d/mtls_nginx.fact"))
    assert host.run("nginx -v").stderr.strip() == f"nginx version: nginx/{fact['nginx_version']}"
    assert fact["stream_module"] is host.file("/usr/lib/nginx/modules/ngx_stream_module.so").exists
    assert fact["session_hazards"] == []


def test_configuration_passes_nginx_t(host):
    result = host.run("nginx -t")
    assert result.rc == 0, result.stderr


@pytest.mark.parametrize("directive", [
    f"ssl_certificate {TLS_DIR}/server.crt;",
    f"ssl_certificate_key {TLS_DIR}/server.key;",
    f"ssl_client_certificate {TLS_DIR}/ca.crt;",
    "ssl_verify_client on;",
    "ssl_verify_depth 1;",
    "ssl_protocols TLSv1.2 TLSv1.3;",
    "error_page 495 =495 /.mtls-errors/495.html;",
    "error_page 496 =496 /.mtls-errors/496.html;",
    "error_page 497 =497 /.mtls-errors/497.html;",
    "server_name localhost;",
])
def test_server_block_has_client_auth_directives(host, directive):
    assert directive in host.file(SITE).content_string


def test_default_site_disabled(host):
    assert not host.file("/etc/nginx/sites-enabled/default").exists


def test_ca_certificate_is_ours(host, pki):
    deployed = host.file(f"{TLS_DIR}/ca.crt")
    assert deployed.mode == 0o644
    with open(os.path.join(pki, "ca", "ca.crt"), encoding="ascii") as handle:
        assert deployed.content_string == handle.read()


def test_server_key_is_root_only(host):
    key = host.file(f"{TLS_DIR}/server.key")
    assert (key.user, key.group, key.mode) == ("root", "root", 0o600)


def test_no_ca_or_client_key_on_the_host(host, pki, inventory):
    """Every private key on the host is compared with the control node's CA and client keys."""
    secrets = {}
    for path in [os.path.join(pki, "ca", "ca.key")] + [
            os.path.join(pki, "clients", c["name"], f"{c['name']}.key") for c in inventory["mtls_clients"]]:
        with open(path, encoding="ascii") as handle:
            secrets[path] = handle.read().strip()
    found = host.run("grep -rlsE 'BEGIN (ENCRYPTED |EC |RSA )?PRIVATE KEY' /etc /root /home /srv /opt /tmp /var /usr/share/nginx")
    key_files = [line for line in found.stdout.splitlines() if line]
    assert f"{TLS_DIR}/server.key" in key_files
    for path in key_files:
        content = host.file(path).content_string.strip()
        assert content not in secrets.values(), f"{path} holds a key that must stay on the control node"
    names = host.run("find / -xdev \\( -name ca.key -o -name '*.p12' \\) -print").stdout.split()
    assert names == []
