#!/usr/bin/python
# Copyright: mtls.nginx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: ca_import
short_description: Take an issuing CA the team already has into the PKI
version_added: "0.5.0"
description:
  - Checks an existing issuing CA (its certificate, its key and the CAs above it up to a root) and
    keeps a copy where the other modules expect a client CA (C(ca/ca.crt), C(ca/ca.key) and
    C(ca/chain.pem)), so that users are issued, revoked and bundled under it as under a CA the
    collection made.
  - >-
    Refused, with nothing written, when the key is not the certificate's, the chain does not lead
    from the certificate to a self-signed root by name and signature, a CA of it may not sign
    CAs or certificates (basicConstraints, pathlen, keyUsage) or has ended, the issuing CA may not
    sign CRLs, or its name has an attribute whose form in nginx's C($ssl_client_i_dn) is not known
    (the servers match certificates by issuer and serial).
  - >-
    A certificate of the same CA (name and key) renewed by its issuer replaces the copy
    (C(reissue_reason=renewed)); another CA is refused, since every user issued under the copy
    would be locked out: move to it with a rollover.
author: mtls.nginx maintainers (@mtls-nginx)
extends_documentation_fragment:
  - mtls.nginx.common.ownership
  - mtls.nginx.common.attributes
options:
  certificate_path:
    description:
      - Where the PKI keeps the CA certificate (PEM), for example C(mtls_pki_dir/ca/ca.crt).
      - Missing directories are created with mode V(0700).
    type: path
    required: true
  private_key_path:
    description: Where the PKI keeps the CA key (PEM, PKCS#8), always written with mode V(0600).
    type: path
    required: true
  chain_path:
    description: Where the PKI keeps the CAs above the issuing CA (PEM, its issuer first, the root last).
    type: path
    required: true
  passphrase:
    description: Encrypts the copy of the key at rest; changing it rewrites the same key.
    type: str
  common_name:
    description: The common name the certificate must have (the inventory's C(mtls_ca.common_name)); unchecked when unset.
    type: str
  source_certificate:
    description: The issuing CA's certificate (PEM) on the control node.
    type: path
    required: true
  source_private_key:
    description: Its private key (PEM, PKCS#8 or traditional, encrypted or not).
    type: path
    required: true
  source_passphrase:
    description: Passphrase of O(source_private_key).
    type: str
  source_chain:
    description: The CAs above the issuing CA up to and including the root (PEM, any order).
    type: path
    required: true
  mode:
    description: Mode of the certificate file.
    type: str
    default: "0644"
"""

EXAMPLES = r"""
---
- name: Issue users under the company's issuing CA
  mtls.nginx.ca_import:
    certificate_path: /srv/pki/ca/ca.crt
    private_key_path: /srv/pki/ca/ca.key
    chain_path: /srv/pki/ca/chain.pem
    passphrase: "{{ vault_mtls_ca_passphrase }}"
    source_certificate: /secure/corp-issuing-ca.crt
    source_private_key: /secure/corp-issuing-ca.key
    source_passphrase: "{{ vault_corp_issuing_key_passphrase }}"
    source_chain: /secure/corp-root-ca.crt
"""

RETURN = r"""
subject:
  description: Subject of the issuing CA (RFC 4514).
  returned: always
  type: str
not_after:
  description: End of the issuing CA's validity, ISO 8601 in UTC.
  returned: always
  type: str
days_left:
  description: Days until the issuing CA ends.
  returned: always
  type: float
chain:
  description: The subjects of the CAs above it, its issuer first, the root last.
  returned: always
  type: list
  elements: str
reissue_reason:
  description: Why files were (or in check mode would be) written (imported, renewed, key rewritten, chain changed).
  returned: when they were
  type: str
"""

from ansible_collections.mtls.nginx.plugins.module_utils._backends import ca_import
from ansible_collections.mtls.nginx.plugins.module_utils._module import main as run_module


def main():
    run_module(ca_import)


if __name__ == "__main__":
    main()
