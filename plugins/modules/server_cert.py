#!/usr/bin/python
# Copyright: mtls.nginx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: server_cert
short_description: TLS server certificate for a demo or a first rollout, self-signed or from a local CA
version_added: "0.1.0"
description:
  - >-
    Creates a private key and a server certificate (C(CA:FALSE), extendedKeyUsage C(serverAuth),
    subject alternative names), or checks that the existing ones are still what was asked for;
    the certificate is reissued with the same key when they are not.
  - >-
    With O(ca_certificate_path) and O(ca_private_key_path) (for example a small server CA made with
    M(mtls.nginx.ca_root)), the certificate is signed by that CA and also carries keyUsage
    C(digitalSignature) and the CA's key identifier; clients then trust the CA. Without them it is
    self-signed and clients trust the certificate itself (for example C(curl --cacert server.crt)).
  - For production, give the server role a certificate from a public or corporate CA instead.
author: mtls.nginx maintainers (@mtls-nginx)
extends_documentation_fragment:
  - mtls.nginx.common.ownership
  - mtls.nginx.common.key
  - mtls.nginx.common.certificate
  - mtls.nginx.common.attributes
options:
  ca_certificate_path:
    description: Path of the CA certificate that signs the server certificate; self-signed when unset.
    type: path
  ca_private_key_path:
    description: Path of that CA's private key. It is read, never written.
    type: path
  ca_passphrase:
    description: Passphrase of the CA private key, when it is encrypted.
    type: str
  certificate_path:
    description:
      - Path of the certificate (PEM).
      - Missing directories of O(certificate_path) and O(private_key_path) are created with mode V(0700).
    type: path
    required: true
  private_key_path:
    description: Path of the private key (PEM, PKCS#8, unencrypted, mode V(0600)).
    type: path
    required: true
  common_name:
    description: Common name (CN), normally the server name.
    type: str
    required: true
  dns_names:
    description: DNS subject alternative names; O(common_name) when empty.
    type: list
    elements: str
    default: []
  ip_addresses:
    description: IP address subject alternative names.
    type: list
    elements: str
    default: []
  valid_days:
    default: 365
  renew_before_days:
    default: 30
"""

EXAMPLES = r"""
---
- name: Self-signed certificate for a test server
  mtls.nginx.server_cert:
    certificate_path: /srv/pki/server/localhost.crt
    private_key_path: /srv/pki/server/localhost.key
    common_name: localhost
    dns_names: [localhost]
    ip_addresses: [127.0.0.1]

- name: Server certificate from a small server CA, which clients trust
  mtls.nginx.server_cert:
    ca_certificate_path: /srv/pki/server/ca.crt
    ca_private_key_path: /srv/pki/server/ca.key
    certificate_path: /srv/pki/server/www.example.org.crt
    private_key_path: /srv/pki/server/www.example.org.key
    common_name: www.example.org
"""

RETURN = r"""
subject:
  description: Subject of the certificate (RFC 4514).
  returned: when the certificate exists after the run
  type: str
serial_number:
  description: Serial number, uppercase hexadecimal.
  returned: when the certificate exists after the run
  type: str
fingerprint_sha256:
  description: SHA-256 fingerprint of the certificate, lowercase hexadecimal.
  returned: when the certificate exists after the run
  type: str
not_after:
  description: End of validity, ISO 8601 in UTC.
  returned: when the certificate exists after the run
  type: str
reissue_reason:
  description: Why the certificate was (or in check mode would be) issued.
  returned: when it was
  type: str
"""

from ansible_collections.mtls.nginx.plugins.module_utils._backends import server_cert
from ansible_collections.mtls.nginx.plugins.module_utils._module import main as run_module


def main():
    run_module(server_cert)


if __name__ == "__main__":
    main()
