#!/usr/bin/python
# Copyright: mtls.nginx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: crl
short_description: Revoke client certificates by name and keep the CA's CRL current
version_added: "0.1.0"
description:
  - >-
    Reads the CA's issuance ledger (kept by M(mtls.nginx.client_cert)) and revokes, by name, every
    unexpired certificate of a client whose O(clients[].state) is V(revoked) or V(absent), and,
    with O(revoke_unlisted=true), of every name the ledger knows that O(clients) no longer lists.
    Revoking needs no certificate file: the ledger has the serials.
  - Writes a CRL signed by the CA with CRLNumber (strictly increasing, also kept in the ledger),
    AuthorityKeyIdentifier and a reason code per entry (none for V(unspecified)).
  - >-
    Idempotent: a new CRL only when the revoked set changes, the CA changed, or the current CRL's
    next update is within O(refresh_before_days). An expired CRL makes nginx reject every client,
    so run this at least daily (C(playbooks/refresh_crl.yml)).
author: mtls.nginx maintainers (@mtls-nginx)
extends_documentation_fragment:
  - mtls.nginx.common.ca
  - mtls.nginx.common.ownership
  - mtls.nginx.common.attributes
options:
  path:
    description: Path of the CRL (PEM), written with mode V(0644).
    type: path
    required: true
  ledger_path:
    description: The CA's issuance ledger (JSON), changed under a lock.
    type: path
    required: true
  clients:
    description: The clients as the inventory lists them (no secrets needed).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the client in the ledger.
        type: str
        required: true
      state:
        description: V(revoked) and V(absent) revoke every unexpired certificate of the name.
        type: str
        choices: [present, revoked, absent]
        default: present
      revoke_reason:
        description: RFC 5280 reason recorded for V(revoked).
        type: str
        choices: [unspecified, key_compromise, affiliation_changed, superseded, cessation_of_operation, privilege_withdrawn]
  revoke_unlisted:
    description: Revoke the certificates of names the ledger knows and O(clients) does not list.
    type: bool
    default: true
  other_ledger_paths:
    description:
      - >-
        The ledgers of the PKI's other client CAs (during a CA rollover, the other trusted CA's, and
        every archived one's). Read only: a certificate in O(ledger_path) whose key its name no longer
        holds there (a rekey under the other CA), or whose key any of them lists as revoked, is revoked
        here too, so a replaced or revoked key stops working under every CA the servers trust.
    type: list
    elements: path
    default: []
    version_added: "0.4.0"
  next_update_days:
    description: Days from now to the CRL's next update.
    type: int
    default: 30
  refresh_before_days:
    description: Issue a new CRL when the current one's next update is this close.
    type: int
    default: 7
"""

EXAMPLES = r"""
---
- name: Revoke carol (lost laptop) and everyone no longer listed
  mtls.nginx.crl:
    path: /srv/pki/ca/crl.pem
    ca_certificate_path: /srv/pki/ca/ca.crt
    ca_private_key_path: /srv/pki/ca/ca.key
    ca_passphrase: "{{ vault_mtls_ca_passphrase }}"
    ledger_path: /srv/pki/ca/ledger.json
    clients:
      - name: alice
      - name: carol
        state: revoked
        revoke_reason: key_compromise
"""

RETURN = r"""
crl_number:
  description: CRLNumber of the CRL after the run.
  returned: when the CRL exists after the run
  type: int
next_update:
  description: When the CRL must be replaced, ISO 8601 in UTC.
  returned: when the CRL exists after the run
  type: str
revoked:
  description: Entries of the CRL.
  returned: when the CRL exists after the run
  type: list
  elements: dict
  contains:
    serial_number:
      description: Serial number, uppercase hexadecimal.
      type: str
    name:
      description: Client name from the ledger.
      type: str
    reason:
      description: Reason code.
      type: str
newly_revoked:
  description: Names whose certificates this run revoked (would revoke, in check mode).
  returned: always
  type: list
  elements: str
reissue_reason:
  description: Why a new CRL was (or in check mode would be) issued.
  returned: when it was
  type: str
  sample: revocations changed
"""

from ansible_collections.mtls.nginx.plugins.module_utils._backends import crl
from ansible_collections.mtls.nginx.plugins.module_utils._module import main as run_module


def main():
    run_module(crl)


if __name__ == "__main__":
    main()
