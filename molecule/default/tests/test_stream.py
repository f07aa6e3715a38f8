"""TCP services behind the same CA: a real Redis behind nginx's stream module, a real redis-cli.

Runs after the revocation and routing tests (alphabetical order): carol was revoked there. The
upstream is Redis on the control node (host network), started from Debian's redis-tools, whose
server binary is the one Debian's redis-server package links as /usr/bin/redis-server.
"""
import os
import subprocess
import tempfile
import time

import pytest
from conftest import PKI_DIR, client_files, converge, https_get, mint, write_pair


def redis_cli(port, *options):
    """PING through redis-cli; (exit status, output)."""
    result = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), *options, "PING"],
                            capture_output=True, text=True, timeout=20, check=False)
    return result.returncode, (result.stdout + result.stderr).strip()


def tls(name=None):
    options = ["--tls", "--cacert", os.path.join(PKI_DIR, "server", "ca.crt"), "--sni", "localhost"]
    if name:
        cert, key = client_files(PKI_DIR, name)
        options += ["--cert", cert, "--key", key]
    return options


def connections_received(port):
    out = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), "INFO", "stats"], capture_output=True,
                         text=True, check=True).stdout
    return int(next(line.split(":")[1] for line in out.splitlines() if line.startswith("total_connections_received:")))


@pytest.fixture(scope="module")
def stream(inventory):
    http_port = inventory["mtls_listen_port"]
    port, upstream = http_port + 100, http_port + 7000
    with tempfile.TemporaryDirectory() as scratch:
        server = os.path.join(scratch, "redis-server")
        os.symlink("/usr/bin/redis-check-rdb", server)  # the multi-call binary runs as the server by this name
        redis = subprocess.Popen([server, "--port", str(upstream), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                  "--dir", scratch], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 20
            while redis_cli(upstream) != (0, "PONG"):  # readiness
                assert time.monotonic() < deadline and redis.poll() is None, "redis-server did not start"
                time.sleep(0.1)
            clients = {c["name"]: c for c in inventory["mtls_clients"]}
            users = [clients["alice"], clients["bob"], {**clients["carol"], "state": "revoked"}]
            services = [{"name": "cache", "listen_port": port, "upstream": f"127.0.0.1:{upstream}", "allow": ["alice", "carol"]}]
            first = converge({"mtls_clients": users, "mtls_stream_services": services})
            second = converge({"mtls_clients": users, "mtls_stream_services": services})
            yield {"port": port, "upstream": upstream, "http_port": http_port, "first": first, "second": second,
                   "users": users, "services": services}
            # Removing the services removes the stream configuration; the HTTP listener stays.
            converge({"mtls_clients": users, "mtls_stream_services": []})
        finally:
            redis.terminate()
            redis.wait(timeout=10)


def test_an_allowed_client_reaches_the_service(stream):
    assert redis_cli(stream["port"], *tls("alice")) == (0, "PONG")


@pytest.mark.parametrize("who", [None, "carol", "bob"])  # no certificate, revoked, not on the allow list
def test_others_never_reach_the_upstream(stream, who):
    before = connections_received(stream["upstream"])
    _status, output = redis_cli(stream["port"], *tls(who))
    assert "PONG" not in output, output
    assert connections_received(stream["upstream"]) == before + 1  # only our own INFO connection


def test_a_certificate_no_ledger_lists_never_reaches_the_upstream(stream, our_ca):
    """Signed by our CA, named alice (who is allowed), but outside the ledger: refused by issuer and serial."""
    with tempfile.TemporaryDirectory() as scratch:
        cert_path, key_path = write_pair(scratch, "unlisted", *mint(our_ca[0].subject, our_ca[1], subject="alice"))
        before = connections_received(stream["upstream"])
        _status, output = redis_cli(stream["port"], "--tls", "--cacert", os.path.join(PKI_DIR, "server", "ca.crt"),
                                    "--sni", "localhost", "--cert", cert_path, "--key", key_path)
    assert "PONG" not in output, output
    assert connections_received(stream["upstream"]) == before + 1


def test_the_http_listener_is_unaffected(stream):
    assert https_get(stream["http_port"], *client_files(PKI_DIR, "alice")).status == 200
    assert https_get(stream["http_port"]).status == 496


def test_the_rerun_changes_nothing(stream):
    assert stream["second"] and all("changed=0" in line for line in stream["second"]), stream["second"]
    assert any("changed=0" not in line for line in stream["first"])


def test_the_stream_log_names_the_client(host, stream):
    redis_cli(stream["port"], *tls("alice"))
    log = host.file("/var/log/nginx/mtls-stream.log").content_string
    assert f':{stream["port"]}' in log or f' {stream["port"]} ' in log
    assert '"alice"' in log
