"""The users' side, against the running demo (make demo): real clients read each user's kit.

Nothing here imports the collection: every check goes through a client a user would have
(OpenSSL, NSS, Java, curl, Chromium) or a library other than the one that wrote the files.
What each client reported is printed at the end of the run (`client reports`).
"""
import os
import subprocess

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
INVENTORY = os.path.join(ROOT, "examples", "inventory", "group_vars", "all")
PKI = os.path.join(ROOT, "examples", "pki")
URL = "https://localhost:8443/"
USERS = ("alice", "bob")
OUTPUT = os.path.join(ROOT, "tests", "output", "kit")

_REPORTS = []


def pytest_terminal_summary(terminalreporter):
    if _REPORTS:
        terminalreporter.section("client reports")
        for line in _REPORTS:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def report():
    """report(line): keep what a client said, for the summary at the end of the run."""
    return _REPORTS.append


@pytest.fixture(scope="session")
def passphrases():
    """alice's from the inventory's vault; bob has none there, so the pki role generated his."""
    with open(os.path.join(INVENTORY, "vault.yml"), encoding="utf-8") as handle:
        vault = yaml.safe_load(handle)
    with open(os.path.join(PKI, "passphrases", "bob.p12-passphrase"), encoding="utf-8") as handle:
        generated = handle.read().strip()
    return {"alice": vault["vault_alice_p12"], "bob": generated}


@pytest.fixture(scope="session")
def kit():
    """kit(user, file) -> path of a file of the user's kit; fails when the demo has not run."""
    def path(user, name):
        full = os.path.join(PKI, "clients", user, name.replace("NAME", user))
        assert os.path.exists(full), f"{full} is missing: run `make demo` first"
        return full
    return path


@pytest.fixture(scope="session")
def output():
    os.makedirs(OUTPUT, exist_ok=True)
    return OUTPUT


@pytest.fixture(scope="session", autouse=True)
def demo_is_up():
    status = subprocess.run(["curl", "-s", "-o", os.devnull, "-w", "%{http_code}", "--cacert",
                             os.path.join(PKI, "server", "ca.crt"), URL], capture_output=True, text=True, check=False)
    assert status.stdout == "496", f"the demo does not answer on {URL} ({status.stdout or status.stderr}): run `make demo`"


def run(*command, stdin=None, env=None):
    """Run a client; its exit status and output, for the test to judge."""
    return subprocess.run(command, input=stdin, capture_output=True, text=True, check=False, timeout=120, env=env)
