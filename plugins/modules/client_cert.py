#!/usr/bin/python
# Copyright: mtls.nginx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: client_cert
short_description: Key and client certificate for one user, signed by the mtls.nginx CA
version_added: "0.1.0"
description:
  - Creates a private key and a client certificate signed by the CA of M(mtls.nginx.ca_root), or
    checks that the existing ones are still what was asked for.
  - The certificate is reissued (with the same key) when it is missing or unreadable, when it no
    longer matches the key, the CA, the subject, the e-mail address or the profile, when its
    validity period differs from O(valid_days), or when it expires within O(renew_before_days).
    RV(reissue_reason) says which.
  - >-
    Profile: critical C(CA:FALSE), critical keyUsage C(digitalSignature), extendedKeyUsage
    C(clientAuth), subject and authority key identifiers, a random serial, SHA-256 signatures
    (none for an Ed25519 CA).
  - An existing private key that is unreadable or of another type fails the module; O(force=true)
    replaces it.
author: mtls.nginx maintainers (@mtls-nginx)
extends_documentation_fragment:
  - mtls.nginx.common.ca
  - mtls.nginx.common.ownership
  - mtls.nginx.common.key
  - mtls.nginx.common.certificate
  - mtls.nginx.common.attributes
options:
  certificate_path:
    description: Path of the client certificate (PEM).
    type: path
    required: true
  private_key_path:
    description: Path of the client private key (PEM, PKCS#8, unencrypted, mode V(0600)).
    type: path
    required: true
  common_name:
    description: Common name (CN) of the client.
    type: str
  organization:
    description: Organization (O); the CA's when unset.
    type: str
  country:
    description: Two-letter country code (C); the CA's when unset.
    type: str
  email:
    description: E-mail address, added as an rfc822Name subject alternative name.
    type: str
  valid_days:
    default: 365
  renew_before_days:
    default: 30
  ledger_path:
    description:
      - The CA's issuance ledger (JSON). Every certificate the module issues is recorded there
        under O(name), with a serial the ledger has never seen; a certificate the ledger lists as
        revoked is reissued. M(mtls.nginx.crl) revokes by name from the same ledger.
      - The ledger is changed under a lock, so concurrent runs never lose an entry.
      - When unset, C(ledger.json) next to O(ca_certificate_path), so that every certificate the CA
        signs is recorded and M(mtls.nginx.crl) can revoke it.
    type: path
  name:
    description:
      - Name of the client in the ledger; the certificate file's name without extension when unset.
      - Letters, digits, C(.), C(_) and C(-), as O(mtls.nginx.clients#module:clients[].name).
    type: str
  state:
    description: V(absent) removes the key and the certificate (revoke them with M(mtls.nginx.crl)).
    type: str
    choices: [present, absent]
    default: present
notes:
  - O(common_name) is required when O(state=present).
"""

EXAMPLES = r"""
---
- name: Issue alice's client certificate
  mtls.nginx.client_cert:
    ca_certificate_path: /srv/pki/ca/ca.crt
    ca_private_key_path: /srv/pki/ca/ca.key
    ca_passphrase: "{{ vault_mtls_ca_passphrase }}"
    certificate_path: /srv/pki/clients/alice/alice.crt
    private_key_path: /srv/pki/clients/alice/alice.key
    common_name: Alice Example
    email: alice@example.org
  register: alice

- name: Issue bob's certificate and record it in the CA's ledger
  mtls.nginx.client_cert:
    ca_certificate_path: /srv/pki/ca/ca.crt
    ca_private_key_path: /srv/pki/ca/ca.key
    certificate_path: /srv/pki/clients/bob/bob.crt
    private_key_path: /srv/pki/clients/bob/bob.key
    common_name: bob
    ledger_path: /srv/pki/ca/ledger.json

- name: Say why it was reissued
  ansible.builtin.debug:
    msg: "{{ alice.reissue_reason | default('unchanged') }}"
"""

RETURN = r"""
subject:
  description: Subject of the certificate (RFC 4514).
  returned: when the certificate exists after the run
  type: str
  sample: CN=Alice Example,O=Example Org,C=NL
issuer:
  description: Issuer of the certificate (RFC 4514).
  returned: when the certificate exists after the run
  type: str
serial_number:
  description: Serial number, uppercase hexadecimal as nginx shows it in C($ssl_client_serial).
  returned: when the certificate exists after the run
  type: str
fingerprint_sha256:
  description: SHA-256 fingerprint of the certificate, lowercase hexadecimal.
  returned: when the certificate exists after the run
  type: str
not_before:
  description: Start of validity, ISO 8601 in UTC.
  returned: when the certificate exists after the run
  type: str
not_after:
  description: End of validity, ISO 8601 in UTC.
  returned: when the certificate exists after the run
  type: str
reissue_reason:
  description:
    - Why the certificate was (or in check mode would be) issued.
    - One of V(missing), V(forced), V(unreadable), V(key changed), V(issuer changed),
      V(subject changed), V(email changed), V(profile changed), V(validity changed),
      V(not yet valid), V(expiring), V(revoked).
  returned: when it was
  type: str
"""


from ansible_collections.mtls.nginx.plugins.module_utils._backends import client_cert
from ansible_collections.mtls.nginx.plugins.module_utils._module import main as run_module


def main():
    run_module(client_cert)


if __name__ == "__main__":
    main()
