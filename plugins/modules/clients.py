#!/usr/bin/python
# Copyright: mtls.nginx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: clients
short_description: Keys, client certificates and PKCS#12 bundles for many users in one pass
version_added: "0.1.0"
description:
  - >-
    Does for every entry of O(clients) what M(mtls.nginx.client_cert) and
    M(mtls.nginx.pkcs12_bundle) do for one, in a single module run: the CA is loaded once, the
    ledger is read and written once, under one lock. This is what the C(pki) role uses; with
    hundreds of users it is the difference between minutes and seconds.
  - >-
    Files live in C(<clients_dir>/<name>/): C(<name>.key) (0600), C(<name>.crt) (0644),
    C(<name>.p12) (0600); missing directories are created with mode 0700.
  - >-
    The same decisions as the single modules, per user: a certificate is reissued when it is
    missing, unreadable, revoked, expiring or no longer what was asked; a bundle is rebuilt when
    its content, passphrase or encryption profile differs. RV(clients) reports each user.
author: mtls.nginx maintainers (@mtls-nginx)
extends_documentation_fragment:
  - mtls.nginx.common.ca
  - mtls.nginx.common.ownership
  - mtls.nginx.common.key
  - mtls.nginx.common.attributes
options:
  clients_dir:
    description: Directory that holds one directory per user; created (and its missing parents) with mode V(0700).
    type: path
    required: true
  ledger_path:
    description: The CA's issuance ledger (see M(mtls.nginx.client_cert)).
    type: path
  encryption:
    description: Encryption profile of the bundles (see M(mtls.nginx.pkcs12_bundle)).
    type: str
    choices: [modern, compatible]
    default: modern
  clients:
    description: The users to issue for (all present).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Unique name, letters, digits, C(.), C(_) and C(-); names the files.
        type: str
        required: true
      common_name:
        description: Common name of the certificate; O(clients[].name) when unset.
        type: str
      email:
        description: E-mail address, added as an rfc822Name subject alternative name.
        type: str
      valid_days:
        description: Validity of a new certificate in days.
        type: int
        default: 365
      renew_before_days:
        description: Reissue the certificate when it expires within this many days.
        type: int
        default: 30
      p12_passphrase:
        description: Passphrase of the user's bundle.
        type: str
        required: true
"""

EXAMPLES = r"""
---
- name: Certificates and bundles for every user
  mtls.nginx.clients:
    ca_certificate_path: /srv/pki/ca/ca.crt
    ca_private_key_path: /srv/pki/ca/ca.key
    ca_passphrase: "{{ vault_mtls_ca_passphrase }}"
    clients_dir: /srv/pki/clients
    ledger_path: /srv/pki/ca/ledger.json
    clients:
      - name: alice
        email: alice@example.org
        p12_passphrase: "{{ vault_alice_p12 }}"
      - name: bob
        p12_passphrase: "{{ vault_bob_p12 }}"
"""

RETURN = r"""
clients:
  description: One entry per user, in the order of O(clients).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The user.
      type: str
    changed:
      description: Whether anything of this user changed (or would, in check mode).
      type: bool
    reissue_reason:
      description: Why the certificate was (would be) issued; absent when it was kept.
      type: str
    bundle_reason:
      description: Why the bundle was (would be) written; absent when it was kept.
      type: str
    serial_number:
      description: Serial number of the certificate after the run, uppercase hexadecimal.
      type: str
    fingerprint_sha256:
      description: SHA-256 fingerprint of the certificate after the run.
      type: str
    not_after:
      description: End of validity, ISO 8601 in UTC.
      type: str
    subject:
      description: Subject of the certificate (RFC 4514).
      type: str
"""

from ansible_collections.mtls.nginx.plugins.module_utils._module import main as run_module


def main():
    run_module("clients")


if __name__ == "__main__":
    main()
