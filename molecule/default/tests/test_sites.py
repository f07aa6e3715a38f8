"""Several sites on one host (mtls_sites), next to a public site of the team's on the same port.

Four sites on the scenario's port, each with its own name, checks and access log: grafana (a
WebSocket echo upstream; /live for alice and frank only), kibana (the role's page; the site for
alice and bob, /admin for bob; the port's default server), api (verify_client optional: /status
public) and legacy, included: the team's own server block for legacy.test includes the snippet of
checks (alice only). A public site the role does not own (conf.d/public.conf, the team's own
certificate, no client certificate) shares the port. Requests connect to 127.0.0.1 and name the
site by SNI and Host, as curl --resolve does.
"""
import asyncio
import hashlib
import http.client
import os
import socket
import ssl
import threading
import time

import pytest
from conftest import (PKI_DIR, client_files, converge, mint, new_key, server_ca_and_certificate, server_certificate,
                      write_pair)
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.asyncio.client import connect
from websockets.sync.server import serve

SITE_FILE = "/etc/nginx/conf.d/mtls-nginx.conf"
PUBLIC_DIR = "/etc/nginx/public-site"
PUBLIC_CONF = "/etc/nginx/conf.d/public.conf"
LEGACY_CONF = "/etc/nginx/conf.d/legacy.conf"
SHUTDOWN = 3  # mtls_worker_shutdown_timeout, seconds


def context_for(cert=None, cafile=None):
    """A client TLS context: trusting the pki role's server CA (cafile False: trusting nothing, for
    the public site's own certificate), with cert when given."""
    context = ssl.create_default_context(cafile=cafile or os.path.join(PKI_DIR, "server", "ca.crt"))
    context.check_hostname = False  # the name is checked by the tests, from the certificate served
    if cafile is False:
        context.verify_mode = ssl.CERT_NONE
    if cert:
        context.load_cert_chain(*cert)
    return context


def request(port, sni, host=None, cert=None, path="/", session=None, cafile=None, context=None):
    """GET https://host/path sent to 127.0.0.1 with SNI sni (None: no SNI). Returns (status, body,
    the served certificate's subject CN, whether the TLS session was resumed, the session)."""
    context = context or context_for(cert, cafile)
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    tls = context.wrap_socket(raw, server_hostname=sni, session=session)
    served = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))
    name = served.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    reused = tls.session_reused
    connection = http.client.HTTPConnection(host or sni or "localhost", port, timeout=10)
    connection.sock = tls
    try:
        connection.request("GET", path, headers={"Host": host or sni or "localhost"})
        response = connection.getresponse()
        body = response.read().decode("utf-8", "replace")
        return response.status, body, name, reused, tls.session
    finally:
        tls.close()


def alice():
    return client_files(PKI_DIR, "alice")


class WebSocket:
    """A WebSocket whose TLS one thread drives: websockets' asyncio client in an event loop of its own,
    used from the test's thread. (Its threaded client reads the socket in a thread of its own while
    the caller writes the Upgrade request: two threads in one OpenSSL object, which loses the request
    now and then once nginx sends TLS 1.3 session tickets; scripts/websocket-loop.py counts it.)"""

    loop = None

    def __init__(self, port, cert, path):
        if WebSocket.loop is None:
            WebSocket.loop = asyncio.new_event_loop()
            threading.Thread(target=WebSocket.loop.run_forever, daemon=True).start()
        context = ssl.create_default_context(cafile=os.path.join(PKI_DIR, "server", "ca.crt"))
        if cert:
            context.load_cert_chain(*cert)
        self.connection = self._run(connect(f"wss://grafana.test:{port}{path}", ssl=context, server_hostname="grafana.test",
                                            host="127.0.0.1", port=port, open_timeout=10, ping_interval=None, proxy=None))

    def _run(self, awaitable):
        async def run():
            return await awaitable
        return asyncio.run_coroutine_threadsafe(run(), WebSocket.loop).result()

    def send(self, message):
        self._run(self.connection.send(message))

    def recv(self, timeout):
        return self._run(asyncio.wait_for(self.connection.recv(), timeout))

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self._run(self.connection.close())


def open_socket(host, port, cert, path="/live"):
    """A WebSocket to grafana.test as cert's user. A handshake that gets no answer prints what tells the
    client's loss from the server's: whether nginx logged the request (it answered), and its error log."""
    path = f"{path}?socket={os.urandom(6).hex()}"
    try:
        return WebSocket(port, cert, path)
    except TimeoutError:
        answered = [line for line in host.file("/var/log/nginx/mtls-nginx-grafana-access.log").content_string.splitlines()
                    if f" {path} HTTP/" in line]
        print(f"no answer to {path}; nginx's access log has " + (answered[-1] if answered else "no line for it"))
        print(host.file("/var/log/nginx/error.log").content_string[-4000:])
        raise


@pytest.fixture(scope="module")
def echo(inventory):
    """A WebSocket echo server (and plain HTTP: who nginx said the client is) as grafana's upstream."""
    def process_request(connection, request):
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return connection.respond(200, f"upstream sees {request.headers.get('X-SSL-Client-Name')}\n")
        return None

    def handler(websocket):
        for message in websocket:
            websocket.send(message)

    port = inventory["mtls_listen_port"] + 7100
    with serve(handler, "127.0.0.1", port, process_request=process_request) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield port
        server.shutdown()


def write(host, path, data, mode="0644"):
    host.run_expect([0], "install -d %s && printf '%%s' %s > %s && chmod %s %s", os.path.dirname(path), data, path, mode, path)


def team_certificate(host, team_ca, name):
    """A certificate for name from the team's own CA, installed where the team's server block reads it."""
    cert, key = server_certificate(team_ca[:2], [name])
    write(host, f"{PUBLIC_DIR}/{name}.crt", cert.public_bytes(serialization.Encoding.PEM).decode())
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    write(host, f"{PUBLIC_DIR}/{name}.key", key_pem.decode(), "0600")
    return f"{PUBLIC_DIR}/{name}.crt", f"{PUBLIC_DIR}/{name}.key"


@pytest.fixture(scope="module")
def team_ca(scratch):
    """The team's own CA for the server blocks it manages: (certificate, key, its path on the control node)."""
    (ca, ca_key), _server = server_ca_and_certificate("Team test CA", ["unused.test"])
    path = os.path.join(scratch, "team-ca.crt")
    with open(path, "wb") as handle:
        handle.write(ca.public_bytes(serialization.Encoding.PEM))
    return ca, ca_key, path


@pytest.fixture(scope="module")
def public_site(host, port, team_ca):
    """The team's public site on our port: its own certificate, no client certificate asked."""
    cert, key = team_certificate(host, team_ca[:2], "public.test")
    # Written the way nginxinc.nginx_config and geerlingguy.nginx write a server block.
    write(host, PUBLIC_CONF, f"""server {{
    listen 127.0.0.1:{port} ssl;
    server_name public.test;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    location / {{
        return 200 "public content\\n";
    }}
}}
""")
    yield
    host.run_expect([0], "rm -rf %s %s", PUBLIC_CONF, PUBLIC_DIR)


# The pids of the workers that accept connections (not the old ones a reload is shutting down).
WORKERS = ("for f in /proc/[0-9]*/cmdline; do c=$(tr '\\0' ' ' < $f 2>/dev/null);"
           " case \"$c\" in 'nginx: worker process ') echo ${f#/proc/};; esac; done")


def reload(host):
    """The team's rollout: nginx -t, nginx -s reload, and then wait (a readiness check) until every worker
    that accepts connections is one the reload started: nginx -s only signals the master, and until it has
    started new workers the old ones still answer with the previous configuration."""
    old = set(host.check_output(WORKERS).split())
    host.run_expect([0], "nginx -t -q && nginx -s reload")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        current = set(host.check_output(WORKERS).split())
        if current and not current & old:
            return
        time.sleep(0.05)
    raise AssertionError(f"nginx still runs the workers {sorted(current & old)} 10 s after the reload")


def legacy_block(host, port, echo, team_ca):
    """The team's own server block for legacy.test, which includes the snippet of the included site."""
    cert, key = team_certificate(host, team_ca[:2], "legacy.test")
    write(host, LEGACY_CONF, f"""server {{
    listen 127.0.0.1:{port} ssl;
    server_name legacy.test;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    include /etc/nginx/mtls/sites/legacy.conf;
    location / {{
        proxy_pass http://127.0.0.1:{echo};
        proxy_http_version 1.1;
    }}
}}
""")
    reload(host)  # the team's own rollout


def sites(echo, team_ca):
    return [
        {"name": "grafana", "server_name": "grafana.test", "upstream": f"http://127.0.0.1:{echo}", "websocket": True,
         "locations": [{"path": "/live", "allow": ["alice", "frank"]}]},
        {"name": "kibana", "server_name": "kibana.test", "default_server": True, "allow": ["alice", "bob"],
         "locations": [{"path": "/admin", "allow": ["bob"]}]},
        {"name": "legacy", "mode": "include", "server_name": "legacy.test", "allow": ["alice"], "ca_certificate": team_ca[2]},
        {"name": "api", "server_name": "api.test", "dns_names": ["api2.test"], "verify_client": "optional",
         "locations": [{"path": "/status", "public": True}, {"path": "/private", "allow": ["alice"]}]},
        # Not for alice, the first user: site.yml's proof must request it as bob.
        {"name": "reports", "server_name": "reports.test", "allow": ["bob"]},
    ]


@pytest.fixture(scope="module")
def users(inventory):
    return [*inventory["mtls_clients"], {"name": "frank"}]


@pytest.fixture(scope="module")
def converged(host, port, echo, team_ca, public_site, users):
    extra = {"mtls_clients": users, "mtls_sites": sites(echo, team_ca), "mtls_worker_shutdown_timeout": f"{SHUTDOWN}s",
             "mtls_verify_address": "127.0.0.1"}  # the sites' names resolve nowhere
    try:
        # The first run writes the included site's snippet, and stops: no server block includes it yet.
        refused = []
        converge(extra, expect_success=False, output=refused)
        legacy_block(host, port, echo, team_ca)
        proof = []
        first = converge(extra, output=proof)
        second = converge(extra)
        yield {"refused": refused[0], "first": first, "second": second, "extra": extra, "proof": proof[0]}
    finally:
        host.run_expect([0], "rm -f %s && nginx -s reload" % LEGACY_CONF)
        converge({"mtls_clients": [*users[:-1], {"name": "frank", "state": "absent"}], "mtls_sites": []})


def test_an_included_site_that_nothing_includes_stops_the_run_and_says_what_to_add(converged):
    assert ("mtls_sites legacy (mode include): no server block includes /etc/nginx/mtls/sites/legacy.conf, so that site"
            " is NOT protected: add 'include /etc/nginx/mtls/sites/legacy.conf;'") in " ".join(converged["refused"].split())


def test_the_included_site_checks_certificates_in_the_teams_own_server_block(converged, port, team_ca):
    legacy = {"cafile": team_ca[2]}
    status, body, served, _reused, _session = request(port, "legacy.test", **legacy)
    assert (status, served) == (496, "legacy.test") and "A client certificate is required" in body
    assert request(port, "legacy.test", cert=alice(), **legacy)[:2] == (200, "upstream sees alice\n")  # identity header
    assert request(port, "legacy.test", cert=client_files(PKI_DIR, "bob"), **legacy)[0] == 403  # the site's allow list


def test_the_included_site_logs_who_did_what(converged, host, port, team_ca):
    path = f"/audit-{hashlib.sha256(os.urandom(8)).hexdigest()[:12]}"
    assert request(port, "legacy.test", cert=alice(), path=path, cafile=team_ca[2])[0] == 200
    log = host.file("/var/log/nginx/mtls-nginx-legacy-access.log").content_string
    assert [line for line in log.splitlines() if f" {path} HTTP/" in line][-1].split(" ")[1] == '"alice"'


def plain_get(port, host, path="/"):
    """GET over plain HTTP to 127.0.0.1: (status, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": host})
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def team_blocks(host, blocks):
    """The team's own configuration for legacy.test ({file: text}, replacing legacy.conf), rolled out as the
    team would (nginx -t, reload)."""
    for path, text in blocks.items():
        write(host, path, text)
    reload(host)


def test_a_team_block_that_routes_around_the_snippet_is_refused_naming_file_and_line(converged, host, port, echo, team_ca):
    """Hand-written, as a team's block grows: every way found to take a request past the snippet's checks."""
    cert, key = team_certificate(host, team_ca[:2], "legacy.test")
    plain, other = port + 7200, port + 7201
    extra_conf = "/etc/nginx/conf.d/legacy-extra.conf"
    team_blocks(host, {LEGACY_CONF: f"""server {{
    listen 127.0.0.1:{port} ssl;
    listen 127.0.0.1:{plain};
    server_name legacy.test;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    rewrite ^/old/(.*)$ /$1 last;
    error_page 403 = @fallback;
    include /etc/nginx/mtls/sites/legacy.conf;
    location / {{
        proxy_pass http://127.0.0.1:{echo};
        proxy_http_version 1.1;
        proxy_set_header Host $host;
        set $mtls_client_name root-admin;
    }}
    location @fallback {{
        proxy_pass http://127.0.0.1:{echo};
        proxy_http_version 1.1;
    }}
}}
""", extra_conf: f"""server {{
    listen 127.0.0.1:{other};
    server_name legacy.test;
    location / {{
        proxy_pass http://127.0.0.1:{echo};
        proxy_http_version 1.1;
    }}
}}
"""})
    try:
        before = host.file(SITE_FILE).content_string
        # Made harmless by the snippet itself: plain HTTP in the including block, and a client's own identity
        # headers in a location with proxy_set_header of its own (which passes none of the server level's on).
        assert plain_get(plain, "legacy.test")[0] == 496
        forged = {"X-SSL-Client-Name": "root-admin", "X-SSL-Client-Verify": "SUCCESS"}
        assert request(port, "legacy.test", cert=alice(), cafile=team_ca[2])[0] == 200
        status, body = forged_request(port, "legacy.test", forged, alice(), team_ca[2])
        assert status == 400 and "X-SSL-Client-* headers" in body
        # Not in the snippet's power: the run refuses, naming each file and line, and changes nothing.
        output = []
        converge(converged["extra"], expect_success=False, output=output)
        said = " ".join(output[0].split())
        for fragment in (f"{LEGACY_CONF}:3: the server block that includes /etc/nginx/mtls/sites/legacy.conf listens"
                         " without TLS here",
                         f"{LEGACY_CONF}:7: 'rewrite' stands before 'include /etc/nginx/mtls/sites/legacy.conf;'",
                         f"{LEGACY_CONF}:8: 'error_page 403 = @fallback' sends 403 to a named location",
                         f"{LEGACY_CONF}:14: $mtls_client_name is a variable of mtls.nginx",
                         f"{extra_conf}:1: this server block answers to legacy.test without"):
            assert fragment in said, (fragment, said[-3000:])
        assert host.file(SITE_FILE).content_string == before
    finally:
        host.run_expect([0], "rm -f %s", extra_conf)
        legacy_block(host, port, echo, team_ca)


def forged_request(port, sni, headers, cert, cafile):
    """GET / with the given headers: (status, body)."""
    tls = context_for(cert, cafile).wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname=sni)
    connection = http.client.HTTPConnection(sni, port, timeout=10)
    connection.sock = tls
    try:
        connection.request("GET", "/", headers={"Host": sni, **headers})
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        tls.close()


@pytest.mark.parametrize("style", ["nginxinc", "geerlingguy"])
def test_team_blocks_written_as_the_popular_roles_write_them_are_protected(converged, host, port, echo, team_ca, style):
    """nginxinc.nginx_config: an upstream block, proxy headers of its own in the location (which then includes
    the identity headers, as README says). geerlingguy.nginx: a port-80 block that only redirects, and a rewrite
    after the include."""
    cert, key = team_certificate(host, team_ca[:2], "legacy.test")
    plain = port + 7200
    redirect_conf = "/etc/nginx/conf.d/legacy-redirect.conf"
    blocks = {"nginxinc": {LEGACY_CONF: f"""upstream legacy_upstream {{
    server 127.0.0.1:{echo};
}}
server {{
    listen 127.0.0.1:{port} ssl;
    server_name legacy.test;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    include /etc/nginx/mtls/sites/legacy.conf;
    location / {{
        proxy_pass http://legacy_upstream;
        proxy_http_version 1.1;
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        include /etc/nginx/mtls/identity-headers.conf;
    }}
}}
"""}, "geerlingguy": {redirect_conf: f"""server {{
    listen 127.0.0.1:{plain};
    server_name legacy.test;
    return 301 https://$host$request_uri;
}}
""", LEGACY_CONF: f"""server {{
    listen 127.0.0.1:{port} ssl;
    server_name legacy.test;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    include /etc/nginx/mtls/sites/legacy.conf;
    rewrite ^/old/(.*)$ /$1 last;
    location / {{
        proxy_pass http://127.0.0.1:{echo};
        proxy_http_version 1.1;
    }}
}}
"""}}[style]
    team_blocks(host, blocks)
    try:
        assert all("changed=0" in line for line in converge(converged["extra"])), style
        legacy = {"cafile": team_ca[2]}
        assert request(port, "legacy.test", **legacy)[0] == 496
        assert request(port, "legacy.test", cert=alice(), **legacy)[:2] == (200, "upstream sees alice\n")
        carol = client_files(PKI_DIR, "carol")
        for path in ("/plain/", "/old/plain/"):
            assert request(port, "legacy.test", cert=carol, path=path, **legacy)[0] == 403, path
        status, body = forged_request(port, "legacy.test", {"X-SSL-Client-Name": "root-admin"}, alice(), team_ca[2])
        assert status == 400, body
        if style == "geerlingguy":
            assert plain_get(plain, "legacy.test")[0] == 301
    finally:
        host.run_expect([0], "rm -f %s", redirect_conf)
        legacy_block(host, port, echo, team_ca)


def test_each_site_demands_a_certificate_and_applies_its_own_allow_lists(converged, port):
    assert request(port, "grafana.test")[0] == 496
    status, body, served, _reused, _session = request(port, "grafana.test", cert=alice())
    assert (status, body, served) == (200, "upstream sees alice\n", "grafana.test")
    assert request(port, "grafana.test", cert=client_files(PKI_DIR, "bob"))[:2] == (200, "upstream sees bob\n")
    assert request(port, "grafana.test", cert=client_files(PKI_DIR, "bob"), path="/live")[0] == 403
    assert request(port, "kibana.test", cert=alice())[0] == 200
    assert request(port, "kibana.test", cert=alice(), path="/admin/")[0] == 403
    assert request(port, "kibana.test", cert=client_files(PKI_DIR, "bob"), path="/admin/")[0] == 404  # let in; no page
    status, body, _served, _reused, _session = request(port, "kibana.test", cert=client_files(PKI_DIR, "carol"))
    assert status == 403 and "carol" in body  # not on the site's allow list: our page, saying who she is
    assert request(port, "api.test")[0] == 496
    assert request(port, "api.test", path="/status")[0] == 404  # public: no certificate needed (and no page)
    assert request(port, "api.test", path="/status/x")[0] == 404  # below it too, as a path segment
    for longer in ("/status-internal", "/status.php"):  # a longer name is not the public path
        assert request(port, "api.test", path=longer)[0] == 496, longer
    assert request(port, "api2.test", cert=alice(), path="/private")[0] == 404
    assert request(port, "api.test", cert=client_files(PKI_DIR, "bob"), path="/private")[0] == 403


def test_a_bad_certificate_gets_495_on_every_site(converged, port, scratch, our_ca, team_ca):
    key = new_key()
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "mtls.nginx Molecule CA")])
    forged = mint(name, key, subject="alice")  # our CA's name, another key
    unlisted = mint(our_ca[0].subject, our_ca[1], subject="alice")  # our CA's, but in no ledger
    for label, (cert, cert_key) in (("forged", forged), ("unlisted", unlisted)):
        pair = write_pair(scratch, label, cert, cert_key)
        for site in ("grafana.test", "kibana.test", "api.test"):
            assert request(port, site, cert=pair)[0] == 495, (label, site)
        assert request(port, "legacy.test", cert=pair, cafile=team_ca[2])[0] == 495, (label, "legacy.test")


def test_site_yml_proves_each_site_as_a_user_it_admits(converged, port):
    for site, user in (("grafana.test", "alice"), ("kibana.test", "alice"), ("legacy.test", "alice"), ("reports.test", "bob")):
        assert f"https://{site}:{port}/ as {user}" in converged["proof"], site
    assert request(port, "reports.test", cert=client_files(PKI_DIR, "bob"))[0] == 200
    assert request(port, "reports.test", cert=alice())[0] == 403


def test_the_public_site_on_the_same_port_is_untouched(converged, port):
    status, body, served, _reused, _session = request(port, "public.test", cafile=False)
    assert (status, body, served) == (200, "public content\n", "public.test")


def test_the_public_sites_name_never_reaches_protected_content(converged, port):
    status, body, served, _reused, _session = request(port, "public.test", host="grafana.test", cafile=False)
    assert (served, status) == ("public.test", 421), body  # Misdirected Request: the target verifies clients
    assert "upstream sees" not in body


def test_one_sites_certificate_does_not_open_another_by_host(converged, port):
    status, body, _served, _reused, _session = request(port, "grafana.test", host="kibana.test", cert=alice(),
                                                       path="/admin/")
    assert status == 421, (status, body)  # not kibana's allow list: the handshake was grafana's


def test_a_client_without_sni_gets_the_ports_default_site(converged, port):
    status, _body, served, _reused, _session = request(port, None, cafile=False)
    assert (status, served) == (496, "kibana.test")


def test_a_session_from_the_public_site_is_not_resumed_on_a_protected_one(converged, port):
    # TLS 1.3 tickets arrive after the handshake; the first request reads its response, so it has one.
    context = context_for(cafile=False)  # a session is resumed only through the context that made it
    session = request(port, "public.test", context=context)[4]
    assert request(port, "public.test", context=context, session=session)[3] is True  # resumption works at all
    # nginx with the CVE-2025-23419 fix refuses the handshake (alert access_denied) when a session made
    # for another name is offered to a server that verifies clients; without that offer nothing is lost
    # (browsers keep tickets per host name). Either way no request gets in on the public site's session.
    try:
        status, _body, served, reused, _session = request(port, "grafana.test", context=context, session=session)
    except ssl.SSLError as refused:
        assert "TLSV1_ALERT_ACCESS_DENIED" in str(refused)
    else:
        assert (reused, status, served) == (False, 496, "grafana.test")


def test_a_websocket_echoes_for_alice_and_is_refused_without_a_certificate(converged, host, port):
    with open_socket(host, port, alice()) as websocket:
        websocket.send("hello")
        assert websocket.recv(timeout=10) == "hello"
    with pytest.raises(InvalidStatus) as refused:
        open_socket(host, port, None)
    assert refused.value.response.status_code == 496


def test_each_site_logs_who_did_what(converged, host, port):
    path = f"/audit-{hashlib.sha256(os.urandom(8)).hexdigest()[:12]}"
    assert request(port, "kibana.test", cert=alice(), path=path)[0] == 404
    with open(alice()[0], "rb") as handle:
        serial = x509.load_pem_x509_certificate(handle.read()).serial_number
    log = host.file("/var/log/nginx/mtls-nginx-kibana-access.log").content_string
    line = [line for line in log.splitlines() if f" {path} HTTP/" in line][-1].split(" ")
    assert (line[1], int(line[2], 16), line[3]) == ('"alice"', serial, "SUCCESS")
    assert path not in host.file("/var/log/nginx/mtls-nginx-grafana-access.log").content_string


def test_the_rerun_changes_nothing(converged):
    assert all("changed=0" in line for line in converged["second"]), converged["second"]


def test_revoking_a_user_closes_their_open_websocket(converged, host, port, users):
    frank = client_files(PKI_DIR, "frank")
    websocket = open_socket(host, port, frank)
    websocket.send("before")
    assert websocket.recv(timeout=10) == "before"
    converge({**converged["extra"], "mtls_clients": [*users[:-1], {"name": "frank", "state": "revoked"}]})
    deadline = time.monotonic() + SHUTDOWN + 20
    with pytest.raises(ConnectionClosed):
        while time.monotonic() < deadline:  # closed by the old worker at worker_shutdown_timeout
            websocket.send("after")
            try:
                websocket.recv(timeout=1)
            except TimeoutError:  # the echo is slow or the close is on its way: ask again
                continue
    assert time.monotonic() < deadline
    with pytest.raises(InvalidStatus) as refused:
        open_socket(host, port, frank)
    assert refused.value.response.status_code == 495


def test_removing_a_site_removes_its_files_and_nothing_else(converged, host, port, users, echo, team_ca):
    before = host.file("/var/log/nginx/mtls-nginx-api-access.log").exists
    extra = {**converged["extra"], "mtls_clients": [*users[:-1], {"name": "frank", "state": "revoked"}],
             "mtls_sites": [site for site in sites(echo, team_ca) if site["name"] != "api"]}
    converge(extra)
    assert not host.file("/etc/nginx/mtls/sites/api.crt").exists and not host.file("/etc/nginx/mtls/sites/api.key").exists
    assert host.file("/etc/nginx/mtls/sites/kibana.key").mode == 0o600
    assert "api.test" not in host.file(SITE_FILE).content_string
    assert host.file("/var/log/nginx/mtls-nginx-api-access.log").exists is before  # the audit record stays
    assert request(port, "kibana.test", cert=alice())[0] == 200
    assert request(port, "public.test", cafile=False)[0] == 200
    assert request(port, "api.test", cafile=False)[2] != "api.test"  # the port's default site answers
    assert host.file(PUBLIC_CONF).exists and host.file("/etc/nginx/mtls/sites/legacy.conf").exists


def test_a_site_whose_snippet_a_server_block_still_includes_is_not_removed(converged, host):
    before = host.file(SITE_FILE).content_string
    output = []
    converge({**converged["extra"], "mtls_sites": [site for site in converged["extra"]["mtls_sites"] if site["name"] != "legacy"]},
             expect_success=False, output=output)
    assert (f"the server block at {LEGACY_CONF}:1 includes /etc/nginx/mtls/sites/legacy.conf, the snippet of a site that"
            " mtls_sites no longer has") in " ".join(output[0].split())
    assert host.file(SITE_FILE).content_string == before and host.file("/etc/nginx/mtls/sites/legacy.conf").exists


@pytest.mark.parametrize("bad, message", [
    ([{"name": "a", "server_name": "a.test"}, {"name": "a", "server_name": "b.test"}],
     "mtls_sites[1].name a is used again"),
    ([{"name": "a", "server_name": "a.test"}, {"name": "b", "server_name": "a.test"}],
     "mtls_sites[1] (b).server_name a.test on port"),
    ([{"name": "../x", "server_name": "a.test"}], "mtls_sites[0].name must be lowercase letters"),
    ([{"name": "a", "server_name": "a.test", "locations": [{"path": "/", "allow": ["mallory"]}]}],
     "mtls_sites[0] (a).locations[0].allow names 'mallory'"),
])
def test_bad_sites_are_refused_before_anything_changes(converged, host, bad, message):
    before = host.file(SITE_FILE).content_string
    output = []
    converge({**converged["extra"], "mtls_sites": bad}, expect_success=False, output=output)
    assert message in output[0]
    assert host.file(SITE_FILE).content_string == before
