#!/usr/bin/python
# Copyright: mtls.nginx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: pkcs12_bundle
short_description: PKCS#12 bundle (key, certificate, CA) for one client, in a named encryption profile
version_added: "0.1.0"
description:
  - Writes a passphrase-protected PKCS#12 bundle with the client's key, certificate and the CA
    certificate, for import into browsers, phones, Java and curl.
  - >-
    Idempotent by content: the existing bundle is opened with O(passphrase) and rebuilt only when
    its key, certificate, CA, friendly name or encryption profile differ, or the passphrase no
    longer opens it. RV(reissue_reason) says which.
author: mtls.nginx maintainers (@mtls-nginx)
extends_documentation_fragment:
  - mtls.nginx.common.ownership
  - mtls.nginx.common.attributes
options:
  path:
    description: Path of the bundle. Always written with mode V(0600).
    type: path
    required: true
  certificate_path:
    description: Path of the client certificate.
    type: path
  private_key_path:
    description: Path of the client private key (unencrypted PEM).
    type: path
  ca_certificate_path:
    description: Path of the CA certificate, added to the bundle as its chain.
    type: path
  passphrase:
    description: Passphrase that protects the bundle. Must not be empty.
    type: str
  friendly_name:
    description: Name shown by keychains and browsers; the certificate's common name when unset.
    type: str
  encryption:
    description:
      - V(modern) is AES-256-CBC with PBKDF2 (HMAC-SHA256) and a SHA-256 MAC, as OpenSSL 3 writes by default.
      - V(compatible) is PBE-SHA1-3DES for the key and the certificates with a SHA-1 MAC; macOS and iOS
        keychains, Windows Server 2016 and older, Android and older Java need it. Both open in OpenSSL 3
        without C(-legacy).
    type: str
    choices: [modern, compatible]
    default: modern
  state:
    description: V(absent) removes the bundle.
    type: str
    choices: [present, absent]
    default: present
notes:
  - O(certificate_path), O(private_key_path), O(ca_certificate_path) and O(passphrase) are required
    when O(state=present).
"""

EXAMPLES = r"""
---
- name: Bundle for alice's iPhone
  mtls.nginx.pkcs12_bundle:
    path: /srv/pki/clients/alice/alice.p12
    certificate_path: /srv/pki/clients/alice/alice.crt
    private_key_path: /srv/pki/clients/alice/alice.key
    ca_certificate_path: /srv/pki/ca/ca.crt
    passphrase: "{{ vault_alice_p12 }}"
    encryption: compatible
"""

RETURN = r"""
subject:
  description: Subject of the certificate in the bundle.
  returned: when O(state=present)
  type: str
friendly_name:
  description: Friendly name of the bundle's certificate and key.
  returned: when O(state=present)
  type: str
encryption:
  description: Encryption profile of the bundle.
  returned: when O(state=present)
  type: str
reissue_reason:
  description:
    - Why the bundle was (or in check mode would be) written. One of V(missing), V(key changed),
      V(certificate changed), V(CA chain changed), V(friendly name changed), V(encryption changed),
      V(passphrase changed or bundle unreadable).
  returned: when it was
  type: str
"""

from ansible_collections.mtls.nginx.plugins.module_utils._backends import pkcs12_bundle
from ansible_collections.mtls.nginx.plugins.module_utils._module import main as run_module


def main():
    run_module(pkcs12_bundle)


if __name__ == "__main__":
    main()
