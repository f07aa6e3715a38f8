#!/usr/bin/python
# Copyright: mtls.nginx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: ca_root
short_description: A private CA for client certificates, a root or an issuing CA under one
version_added: "0.1.0"
description:
  - Creates a private CA (key and certificate) on the control node, or checks that an existing one
    is sound and still what was asked for. The certificate is self-signed (a root), or, with
    O(issuer_certificate_path), signed by that CA (an issuing CA under a root, two tiers).
  - >-
    The certificate profile is fixed and safe: critical C(CA:TRUE) with C(pathlen) O(path_length),
    critical keyUsage C(keyCertSign, cRLSign), a subjectKeyIdentifier, a random serial number and,
    under a root, an authorityKeyIdentifier; it never ends after the root.
  - When the certificate would expire within O(renew_before_days), or its profile or validity
    period is not the requested one, it is re-signed with the B(same key), so every certificate
    the CA issued stays valid.
  - >-
    A CA key or certificate that is unreadable, does not match, or has another subject is never
    replaced on its own: that would lock out every user. The module fails and says how to fix it;
    O(force=true) creates a new CA.
author: mtls.nginx maintainers (@mtls-nginx)
extends_documentation_fragment:
  - mtls.nginx.common.ownership
  - mtls.nginx.common.key
  - mtls.nginx.common.certificate
  - mtls.nginx.common.attributes
options:
  certificate_path:
    description:
      - Path of the CA certificate (PEM).
      - Missing directories of O(certificate_path) and O(private_key_path) are created with mode V(0700).
    type: path
    required: true
  private_key_path:
    description: Path of the CA private key (PEM, PKCS#8). Always written with mode V(0600).
    type: path
    required: true
  passphrase:
    description:
      - Encrypts the private key at rest (PKCS#8 with the best available encryption).
      - Setting it on an unencrypted key, or removing it, rewrites the same key.
    type: str
  common_name:
    description: Common name (CN) of the CA.
    type: str
    required: true
  organization:
    description: Organization (O) of the CA; client certificates inherit it unless they set their own.
    type: str
  country:
    description: Two-letter country code (C) of the CA, such as V(NL).
    type: str
  permitted_names:
    description:
      - Fences the CA for devices that trust it as a root, with a critical nameConstraints extension.
        It may then vouch only for these host names (and their subdomains) and IP addresses; when no
        IP address is listed, every IP address is excluded.
      - Give it for a CA that issues server certificates and that users install as trusted (the pki
        role's server CA); leave it empty for the client CA.
      - Changing the list re-signs the certificate with the same key (C(reissue_reason=names changed));
        devices keep trusting the copy they installed until they install the new one.
    type: list
    elements: str
    default: []
  path_length:
    description:
      - How many CAs may sit below this one. V(0) (the default) signs users only; V(1) is a root above
        an issuing CA. Changing it re-signs the certificate with the same key.
    type: int
    choices: [0, 1]
    default: 0
    version_added: "0.5.0"
  issuer_certificate_path:
    description:
      - The certificate of the root that signs this CA (an issuing CA). It must be a CA that may sign
        CAs (C(pathlen) absent or at least 1). Without it the CA is self-signed.
      - A certificate signed by another CA (or self-signed) is re-signed by this one with the same key
        (C(reissue_reason=issuer changed)), so every certificate the CA issued stays valid.
    type: path
    version_added: "0.5.0"
  issuer_private_key_path:
    description:
      - The root's key. Read only when the root must sign (a new or re-signed issuing CA); otherwise
        it may be absent (kept offline), and the module fails, naming this file, only when it must sign.
    type: path
    version_added: "0.5.0"
  issuer_passphrase:
    description: Passphrase of O(issuer_private_key_path).
    type: str
    version_added: "0.5.0"
  offline:
    description:
      - The key at O(private_key_path) may be absent while the certificate needs no new signature (a root
        whose key was taken offline). The certificate is then checked, nothing is written, and the module fails,
        naming the key file, when the certificate must be re-signed.
    type: bool
    default: false
    version_added: "0.5.0"
  valid_days:
    default: 3650
  renew_before_days:
    default: 90
"""

EXAMPLES = r"""
---
- name: Create the client CA
  mtls.nginx.ca_root:
    certificate_path: /srv/pki/ca/ca.crt
    private_key_path: /srv/pki/ca/ca.key
    passphrase: "{{ vault_mtls_ca_passphrase }}"
    common_name: Example Client CA
    organization: Example Org
    country: NL

- name: A root whose key may be kept offline, and the issuing CA it signs
  mtls.nginx.ca_root:
    certificate_path: /srv/pki/root/ca.crt
    private_key_path: /srv/pki/root/ca.key
    passphrase: "{{ vault_mtls_root_ca_passphrase }}"
    common_name: Example Root CA
    path_length: 1
    valid_days: 7300
    offline: true

- name: The issuing CA under it
  mtls.nginx.ca_root:
    certificate_path: /srv/pki/ca/ca.crt
    private_key_path: /srv/pki/ca/ca.key
    passphrase: "{{ vault_mtls_ca_passphrase }}"
    common_name: Example Issuing CA
    issuer_certificate_path: /srv/pki/root/ca.crt
    issuer_private_key_path: /srv/pki/root/ca.key
    issuer_passphrase: "{{ vault_mtls_root_ca_passphrase }}"

- name: Create a server CA that users may trust only for our servers
  mtls.nginx.ca_root:
    certificate_path: /srv/pki/server/ca.crt
    private_key_path: /srv/pki/server/ca.key
    passphrase: "{{ vault_mtls_server_ca_passphrase }}"
    common_name: www.example.org server CA
    valid_days: 730
    permitted_names: [www.example.org, api.example.org, 192.0.2.10]
"""

RETURN = r"""
subject:
  description: Subject of the CA certificate (RFC 4514).
  returned: when the certificate exists after the run
  type: str
  sample: CN=Example Client CA,O=Example Org,C=NL
serial_number:
  description: Serial number of the CA certificate, uppercase hexadecimal.
  returned: when the certificate exists after the run
  type: str
fingerprint_sha256:
  description: SHA-256 fingerprint of the CA certificate, lowercase hexadecimal.
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
  sample: "2036-11-25T10:00:00+00:00"
days_left:
  description: Days until the CA certificate ends (after the run).
  returned: when the CA exists after the run
  type: float
  version_added: "0.3.0"
created:
  description:
    - Whether a new CA (a new key) was, or in check mode would be, made; false when the existing key re-signs.
    - A CA made where one was expected (a lost or mistyped directory) is trusted by no server and no device;
      the module warns when it makes one (unless O(force)).
  returned: always
  type: bool
  version_added: "0.4.0"
reissue_reason:
  description: Why the certificate was (or in check mode would be) issued or re-signed.
  returned: when it was
  type: str
  sample: expiring
"""

from ansible_collections.mtls.nginx.plugins.module_utils._backends import ca_root
from ansible_collections.mtls.nginx.plugins.module_utils._module import main as run_module


def main():
    run_module(ca_root)


if __name__ == "__main__":
    main()
