#!/usr/bin/python
# Copyright: mtls.nginx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: server_certs
short_description: Server certificates for a fleet of nginx hosts, from one CA in one run
version_added: "0.2.0"
description:
  - >-
    Does for every entry of O(servers) what M(mtls.nginx.server_cert) does for one, signed by the
    CA at O(ca_certificate_path): the CA is loaded once. This is what the C(pki) role uses to give
    every host in C(nginx_mtls_servers) a certificate for its own C(mtls_server_name).
  - >-
    Files live in O(servers_dir) as C(<name>.crt) (0644) and C(<name>.key) (0600); the directory is
    created with mode 0700 when missing. A certificate is reissued with the same key when it is
    missing, unreadable, expiring, or its names, issuer or validity are no longer what was asked.
  - Certificates of servers no longer listed are left alone.
author: mtls.nginx maintainers (@mtls-nginx)
extends_documentation_fragment:
  - mtls.nginx.common.ca
  - mtls.nginx.common.ownership
  - mtls.nginx.common.key
  - mtls.nginx.common.attributes
options:
  servers_dir:
    description: Directory of the certificates and keys, one pair per server name.
    type: path
    required: true
  servers:
    description: The servers, one entry per server name.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The server name (certificate CN and first DNS name); names the files.
        type: str
        required: true
      dns_names:
        description: More DNS subject alternative names.
        type: list
        elements: str
        default: []
      ip_addresses:
        description: IP address subject alternative names.
        type: list
        elements: str
        default: []
  valid_days:
    description: Validity period of a new certificate, in days. Changing it reissues the certificates.
    type: int
    default: 365
  renew_before_days:
    description: Reissue a certificate when it expires within this many days.
    type: int
    default: 30
"""

EXAMPLES = r"""
---
- name: A certificate for each web server, from the server CA
  mtls.nginx.server_certs:
    ca_certificate_path: /srv/pki/server/ca.crt
    ca_private_key_path: /srv/pki/server/ca.key
    ca_passphrase: "{{ vault_mtls_server_ca_passphrase }}"
    servers_dir: /srv/pki/server
    servers:
      - name: web1.example.org
      - name: web2.example.org
        ip_addresses: [192.0.2.12]
"""

RETURN = r"""
servers:
  description: One entry per server, in the order of O(servers).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The server name.
      type: str
    changed:
      description: Whether this server's certificate or key was (or in check mode would be) written.
      type: bool
    serial_number:
      description: Serial number of the certificate after the run, uppercase hexadecimal.
      type: str
      returned: when the certificate exists after the run
    not_after:
      description: End of validity, ISO 8601 in UTC.
      type: str
      returned: when the certificate exists after the run
    reissue_reason:
      description: Why the certificate was (or would be) issued.
      type: str
      returned: when it was
"""

from ansible_collections.mtls.nginx.plugins.module_utils._backends import server_certs
from ansible_collections.mtls.nginx.plugins.module_utils._module import main as run_module


def main():
    run_module(server_certs)


if __name__ == "__main__":
    main()
