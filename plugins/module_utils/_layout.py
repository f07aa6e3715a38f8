# Private to the mtls.nginx collection: not a public API, may change without notice.
"""Where each file of the PKI lives under mtls_pki_dir: the one place that knows the layout.

The modules take explicit paths; the roles get theirs from here through the pki_paths filter,
so that a path changes in one place for the pki role, the server role and the modules.
"""
from __future__ import annotations

import os

TRUST_FILE = "ca.crt"  # the server's CA in a user's kit: the name the README's commands use


def ca_files(ca_dir):
    """The files of one client CA: its directory, key, certificate, CRL and ledger; for a CA imported
    from another PKI (mtls.nginx.ca_import), also the CAs above it and their CRLs."""
    return {"dir": ca_dir, "private_key": os.path.join(ca_dir, "ca.key"), "certificate": os.path.join(ca_dir, "ca.crt"),
            "crl": os.path.join(ca_dir, "crl.pem"), "ledger": os.path.join(ca_dir, "ledger.json"),
            "chain": os.path.join(ca_dir, "chain.pem"), "chain_crls": os.path.join(ca_dir, "chain-crls.pem")}


def pki_paths(pki_dir, server_name=None):
    """The PKI's shared files; with server_name, also that server's certificate and key.

    The client CA lives in ca/; during a rollover the next one in ca-next/; retired and abandoned
    CAs are moved, whole, under archive/. With two tiers, the root that signs them lives in root/
    (it outlives every rollover of the issuing CA).
    """
    ca, server_dir = ca_files(os.path.join(pki_dir, "ca")), os.path.join(pki_dir, "server")
    paths = {
        "ca_private_key": ca["private_key"],
        "ca_certificate": ca["certificate"],
        "crl": ca["crl"],
        "ledger": ca["ledger"],
        "ca_dir": ca["dir"],
        "next_ca_dir": os.path.join(pki_dir, "ca-next"),
        "root_dir": os.path.join(pki_dir, "root"),
        "archive_dir": os.path.join(pki_dir, "archive"),
        "clients_dir": os.path.join(pki_dir, "clients"),
        "passphrases_dir": os.path.join(pki_dir, "passphrases"),
        "server_ca_private_key": os.path.join(server_dir, "ca.key"),
        "server_ca_certificate": os.path.join(server_dir, "ca.crt"),
    }
    paths["server_dir"] = server_dir
    if server_name:
        paths["server_certificate"], paths["server_private_key"] = server_files(server_dir, server_name)
    return paths


def server_files(server_dir, server_name):
    """(certificate, key) of a server the pki role issues for: one pair per server name."""
    base = os.path.join(server_dir, server_name)
    return f"{base}.crt", f"{base}.key"


def client_dir(clients_dir, name):
    return os.path.join(clients_dir, name)


def passphrase_path(passphrases_dir, name):
    """A generated bundle passphrase: outside the user's directory, so that no copy of the kit carries it."""
    return os.path.join(passphrases_dir, f"{name}.p12-passphrase")


def client_files(clients_dir, name):
    """Every file of a user, by the option name the modules give it."""
    directory = client_dir(clients_dir, name)
    base = os.path.join(directory, name)
    return {"private_key_path": f"{base}.key", "certificate_path": f"{base}.crt",
            "path": f"{base}.p12", "compat_path": f"{base}-compat.p12",
            "trust_path": os.path.join(directory, TRUST_FILE), "mobileconfig_path": f"{base}.mobileconfig",
            "readme_path": os.path.join(directory, "README.html"), "zip_path": f"{base}.zip"}
