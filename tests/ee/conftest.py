"""Jobs of the execution environment (make ee) run by ansible-runner in fresh containers, as AWX runs them.

A host with an SSH server (scripts/build-image.sh bookworm ssh) stands for a managed nginx server;
each job is `ansible-runner run` in its own container of the EE image, with a private data
directory (project, inventory, env/ssh_key and env/extravars, as AWX writes them) and the PKI on a
Docker volume. Host network: the host's sshd and nginx listen on 127.0.0.1.
"""
import contextlib
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

IMAGE = os.environ.get("MTLS_EE_IMAGE", "mtls-nginx-ee:latest")
HOST_IMAGE = "mtls-nginx-target:bookworm-ssh"
HOST = "mtls-ee-host"
SSH_PORT, HTTPS_PORT = 18022, 18443
JOB_UID = 1000  # the image's user, as in AWX's EEs
SECRETS = {"mtls_ca": {"common_name": "mtls.nginx EE Client CA", "organization": "mtls.nginx tests", "country": "NL",
                       "passphrase": "ee-ca-passphrase"},
           "mtls_server_ca_passphrase": "ee-server-ca-passphrase"}


def docker(*args, check=True):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check)


def user(name, **changes):
    return {"name": name, "p12_passphrase": f"{name}-ee-passphrase", **changes}


def ready(port, deadline=60):
    """Wait until something answers on 127.0.0.1:port with an SSH banner."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
                if connection.recv(64).startswith(b"SSH-"):
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"no SSH server on 127.0.0.1:{port} after {deadline}s")


@contextlib.contextmanager
def running_host():
    """The managed host: sshd on 127.0.0.1:SSH_PORT, root logs in with a key made here; yields the
    key and the host's known_hosts line, and removes the host after."""
    key = ed25519.Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    docker("rm", "-f", HOST, check=False)
    docker("run", "-d", "--name", HOST, "--network", "host", HOST_IMAGE, "sleep", "infinity")
    docker("exec", HOST, "sh", "-c", "ssh-keygen -A >/dev/null && mkdir -p /run/sshd /root/.ssh"
           f" && echo '{public}' > /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys"
           f" && /usr/sbin/sshd -p {SSH_PORT} -o ListenAddress=127.0.0.1 -o PasswordAuthentication=no")
    ready(SSH_PORT)
    host_key = docker("exec", HOST, "cat", "/etc/ssh/ssh_host_ed25519_key.pub").stdout.split()[:2]
    try:
        yield {"ssh_key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                            serialization.NoEncryption()),
               "known_hosts": f"[127.0.0.1]:{SSH_PORT} {' '.join(host_key)}\n"}
    finally:
        docker("rm", "-f", HOST, check=False)


@pytest.fixture(scope="session")
def managed_host():
    with running_host() as host:
        yield host


class Volume:
    """A Docker volume for mtls_pki_dir, owned by the job's user (a pod's fsGroup does that in AWX)."""

    def __init__(self, name):
        self.name = name
        docker("volume", "rm", "-f", name, check=False)
        docker("volume", "create", name)
        docker("run", "--rm", "--user", "0", "-v", f"{name}:/pki", "--entrypoint", "chown", IMAGE, f"{JOB_UID}:0", "/pki")
        self.path = docker("volume", "inspect", "-f", "{{.Mountpoint}}", name).stdout.strip()

    def remove(self):
        docker("volume", "rm", "-f", self.name, check=False)


@pytest.fixture(scope="session")
def volumes():
    made = []

    def make(name):
        made.append(Volume(name))
        return made[-1]
    yield make
    for volume in made:
        volume.remove()


def inventory(clients, known_hosts, pki_dir="/pki", key_file=None):
    """The job's inventory: the control node (the EE itself) and the SSH-reached host, the demo's settings."""
    server = {"ansible_host": "127.0.0.1", "ansible_port": SSH_PORT, "ansible_user": "root",
              "ansible_python_interpreter": "/usr/bin/python3",
              "ansible_ssh_common_args": f"-o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes",
              **({"ansible_ssh_private_key_file": key_file} if key_file else {})}
    return {"all": {
        "hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}},
        "children": {"nginx_mtls_servers": {"hosts": {"ee-host": server}}},
        "vars": {"mtls_pki_dir": pki_dir, "mtls_clients": clients, "mtls_server_name": "localhost",
                 "mtls_server_dns_names": ["localhost"], "mtls_server_ip_addresses": ["127.0.0.1"],
                 "mtls_listen_address": "127.0.0.1", "mtls_listen_port": HTTPS_PORT}}}


def playbook_importing(playbook):
    return f"---\n- name: The collection's playbook\n  ansible.builtin.import_playbook: mtls.nginx.{playbook}\n"


def write_files(directory, files):
    """Each file 0600 from the start (an SSH key and secrets among them)."""
    for relative, content in files.items():
        path = os.path.join(directory, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as handle:
            handle.write(content)


class Outcome:
    """What a run printed, whether it succeeded, and {host: changed} from its PLAY RECAP."""

    def __init__(self, returncode, output):
        self.output = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", output)
        self.succeeded = returncode == 0
        self.recap = {match.group(1): int(match.group(2))
                      for match in re.finditer(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", self.output, re.M)}


class Job:
    """One ansible-runner job in a fresh container: a playbook of the collection (site, or the daily
    refresh_crl a schedule runs), for these users."""

    def __init__(self, name, host, volume, clients, playbook="site", extra=None):
        self.name, self.volume, self.playbook = name, volume, playbook
        self.data = tempfile.mkdtemp(prefix=f"mtls-ee-{name}-")
        write_files(self.data, {
            f"project/{playbook}.yml": playbook_importing(playbook),
            "inventory/hosts.yml": yaml.safe_dump(inventory(clients, "/runner/known_hosts")),
            "env/extravars": json.dumps({**SECRETS, **(extra or {})}),  # what a vault or AWX credential injects
            "env/envvars": json.dumps({"ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}),
            "env/ssh_key": host["ssh_key"].decode(),  # an AWX machine credential
            "known_hosts": host["known_hosts"]})
        subprocess.run(["chown", "-R", f"{JOB_UID}:0", self.data], check=True)

    def start(self):
        docker("rm", "-f", self.name, check=False)
        self.process = subprocess.Popen(
            ["docker", "run", "--rm", "--name", self.name, "--network", "host", "-v", f"{self.volume.name}:/pki",
             "-v", f"{self.data}:/runner", IMAGE, "ansible-runner", "run", "/runner", "-p", f"{self.playbook}.yml"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return self

    def wait(self):
        output = self.process.communicate(timeout=900)[0]
        shutil.rmtree(self.data, ignore_errors=True)
        return Outcome(self.process.returncode, output)


def run_job(name, host, volume, clients, playbook="site", extra=None):
    return Job(name, host, volume, clients, playbook, extra).start().wait()


def navigator_run(host, volume, clients):
    """site.yml through `ansible-navigator run` with the EE image (--eei), as a team runs it from a
    workstation: the playbook, inventory and SSH key in one directory, the PKI volume mounted at /pki."""
    work = tempfile.mkdtemp(prefix="mtls-ee-navigator-")
    try:
        write_files(work, {"site.yml": playbook_importing("site"),
                           "hosts.yml": yaml.safe_dump(inventory(clients, f"{work}/known_hosts", key_file=f"{work}/ssh_key")),
                           "extravars.json": json.dumps(SECRETS), "ssh_key": host["ssh_key"].decode(),
                           "known_hosts": host["known_hosts"]})
        navigator = os.path.join(os.path.dirname(sys.executable), "ansible-navigator")
        result = subprocess.run(
            [navigator, "run", "site.yml", "-i", "hosts.yml", "-e", "@extravars.json", "--eei", IMAGE, "--ce", "docker",
             "--pp", "never", "-m", "stdout", "--pae", "false", "--lf", os.path.join(work, "navigator.log"),
             "--co=--network=host", "--eev", f"{volume.path}:/pki"],
            cwd=work, capture_output=True, text=True, timeout=900, check=False)
        return Outcome(result.returncode, result.stdout + result.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def https_status(pki, name=None):
    """The HTTP status the host's nginx answers, with name's certificate from the PKI (or none)."""
    context = ssl.create_default_context(cafile=os.path.join(pki, "server", "ca.crt"))
    if name:
        base = os.path.join(pki, "clients", name, name)
        context.load_cert_chain(f"{base}.crt", f"{base}.key")
    connection = http.client.HTTPSConnection("localhost", HTTPS_PORT, context=context, timeout=10)
    try:
        connection.request("GET", "/")
        return connection.getresponse().status
    finally:
        connection.close()


def host_files():
    return docker("exec", HOST, "sha256sum", "/etc/nginx/mtls/ca.crt", "/etc/nginx/mtls/crl.pem",
                  "/etc/nginx/conf.d/mtls-nginx.conf").stdout
