"""Bad inventory stops the rollout before anything changes, on the control node or the host."""
import hashlib
import os

import pytest
from conftest import PKI_DIR, converge

SITE = "/etc/nginx/conf.d/mtls-nginx.conf"


def pki_state():
    state = {}
    for base, _dirs, files in os.walk(PKI_DIR):
        for name in files:
            path = os.path.join(base, name)
            with open(path, "rb") as handle:
                state[path] = (hashlib.sha256(handle.read()).hexdigest(), os.stat(path).st_mtime_ns)
    return state


@pytest.mark.parametrize("bad, message", [
    ({"mtls_clients": [{"name": "../etc", "p12_passphrase": "x-secret"}]}, "mtls_clients[0].name must be letters"),
    ({"mtls_clients": [{"name": "alice", "p12_passphrase": "a-secret"}, {"name": "alice", "state": "absent"}]},
     "is used again"),
    ({"mtls_clients": [{"name": "alice", "state": "lost"}]}, "state must be one of"),
    ({"mtls_clients": [{"name": "alice", "p12_passphrase": "a-secret"}, {"name": "ALICE", "p12_passphrase": "b-secret"}]},
     "differs from mtls_clients[0] (alice) only in case"),
    ({"mtls_locations": [{"path": "/admin", "allow": ["ALICE"]}]}, "allow names 'ALICE', which is not in mtls_clients"),
    ({"mtls_client_kit_url": "javascript:alert(1)"}, "mtls_client_kit_url must be an https URL"),
    ({"mtls_ca": {"common_name": "x", "key_type": "dsa"}}, "key_type"),
    ({"mtls_clients": [{"name": "alice", "valid_days": -1, "p12_passphrase": "a-secret"}]}, "valid_days must be"),
    ({"mtls_server_name": "localhost; include /etc/passwd"}, "mtls_server_name must be a host name"),
    ({"mtls_server_name": "local host"}, "mtls_server_name must be a host name"),
    ({"mtls_listen_port": 70000}, "mtls_listen_port must be a port number"),
    ({"mtls_ca": {"common_name": "x", "country": "Netherlands"}}, "country must be a two-letter"),
    ({"mtls_stream_services": [{"name": "cache", "listen_port": 6380, "upstream": "127.0.0.1:6379", "allow": ["mallory"]}]},
     "mtls_stream_services[0].allow names 'mallory', which is not in mtls_clients"),
])
def test_bad_inventory_fails_naming_the_field_and_changes_nothing(host, bad, message):
    pki_before = pki_state()
    site_before = host.file(SITE).sha256sum
    output = []
    converge(bad, expect_success=False, output=output)
    assert message in output[0], output[0][-3000:]
    assert pki_state() == pki_before
    assert host.file(SITE).sha256sum == site_before


@pytest.mark.parametrize("path, text, message", [
    ("/etc/nginx/conf.d/00-tickets.conf", "# one key for the fleet\nssl_session_ticket_key /etc/nginx/ticket.key;\n",
     "ssl_session_ticket_key at /etc/nginx/conf.d/00-tickets.conf:2 (the http block, so every server there inherits it)"),
    ("/etc/nginx/sites-enabled/zz-other", "server {{\n    listen 127.0.0.1:{port};\n    ssl_session_cache shared:OTHER:1m;\n}}\n",
     "ssl_session_cache shared at /etc/nginx/sites-enabled/zz-other:3 (a server on port {port}"),
    ("/etc/nginx/sites-enabled/zz-other", "server {{\n    listen 127.0.0.1:9998;\n    ssl_session_cache shared:OTHER:1m;\n}}\n",
     None),
])
def test_settings_that_keep_sessions_across_a_crl_change_stop_the_rollout(host, inventory, path, text, message):
    """A fixed ticket key, or a shared cache on our port, would let a revoked client resume: refused, nothing changed.

    A shared cache of a server on another port is no concern of ours, and the run goes on."""
    port = inventory["mtls_listen_port"]
    text, message = text.format(port=port), message and message.format(port=port)
    site_before = host.file(SITE).sha256sum
    pki_before = pki_state()
    host.run_test("printf '%%s' %s > %s", text, path)
    try:
        output = []
        recap = converge({}, expect_success=message is None, output=output)
        if message:
            assert message in output[0], output[0][-3000:]
            assert "a revoked client could resume" in output[0]
        else:
            assert all("changed=0" in line for line in recap), recap
    finally:
        host.run_test("rm -f %s", path)
    assert host.file(SITE).sha256sum == site_before
    assert pki_state() == pki_before
