"""What the scenario configured (its merged molecule.yml) and a small HTTPS client."""
import datetime
import http.client
import os
import socket
import ssl

import pytest
import yaml

PROJECT_DIR = os.environ["MOLECULE_PROJECT_DIRECTORY"]
PKI_DIR = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "pki")


def scenario_vars():
    # MOLECULE_FILE is the scenario's configuration merged with .config/molecule/config.yml.
    with open(os.environ["MOLECULE_FILE"], encoding="utf-8") as handle:
        return yaml.safe_load(handle)["provisioner"]["inventory"]["group_vars"]["all"]


@pytest.fixture(scope="session")
def inventory():
    return scenario_vars()


@pytest.fixture(scope="session")
def pki():
    return PKI_DIR


class Response:
    def __init__(self, status, body):
        self.status, self.body = status, body

    def __repr__(self):
        return f"<HTTP {self.status}: {self.body[:120]!r}>"


def https_get(port, cert=None, key=None, host="localhost", path="/", headers=None):
    """GET over TLS, trusting the scenario's self-signed server certificate."""
    context = ssl.create_default_context(cafile=os.path.join(PKI_DIR, "server", "localhost.crt"))
    if cert:
        context.load_cert_chain(cert, key)
    connection = http.client.HTTPSConnection(host, port, context=context, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return Response(response.status, response.read().decode("utf-8", "replace"))
    finally:
        connection.close()


def http_get(port, host="127.0.0.1", path="/"):
    """Plain HTTP to the TLS port."""
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return Response(response.status, response.read().decode("utf-8", "replace"))
    finally:
        connection.close()


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def port_open(port):
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) == 0
