#!/usr/bin/python
# Copyright: mtls.nginx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: verify_server
short_description: Prove an mTLS server with real requests, without and with a client certificate
version_added: "0.3.0"
description:
  - >-
    Requests O(url) without a client certificate and expects HTTP 496 (nginx's "no certificate")
    with O(refusal_text) in the page; then, with O(client_cert), expects HTTP 200. Each request is
    repeated, O(delay) seconds apart, until it gets its answer or O(attempts) run out: a reload
    takes a moment to reach every nginx worker.
  - >-
    Changes nothing. On the control node (C(delegate_to: localhost)) it runs in the controller
    process, with no Python started per request; the server role's verify entry point uses it.
author: mtls.nginx maintainers (@mtls-nginx)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: >-
      In check mode no request is sent, and RV(msg) says so; what the requests would prove depends on
      changes that the same run only predicts (a CA, a certificate, a reload).
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  url:
    description: The https:// URL of the server.
    type: str
    required: true
  ca_path:
    description: CA certificate (PEM) that the server's certificate must chain to; the system's CAs when unset.
    type: path
  address:
    description:
      - >-
        Connect to this host name or IP address instead of the URL's host, whose name still goes in
        TLS SNI, the certificate check and the C(Host) header (as C(curl --resolve) does): for a site
        whose name the control node cannot resolve.
    type: str
  client_cert:
    description: Client certificate (PEM) for the request that must get HTTP 200.
    type: path
  client_key:
    description: Private key of O(client_cert) (PEM, unencrypted).
    type: path
  refusal_text:
    description: Text the 496 page must contain.
    type: str
    default: ""
  attempts:
    description: How many times each request is tried before the task fails.
    type: int
    default: 10
  delay:
    description: Seconds between attempts.
    type: float
    default: 1.0
"""

EXAMPLES = r"""
---
- name: Prove the server refuses anonymous clients and accepts alice
  mtls.nginx.verify_server:
    url: https://www.example.org/
    ca_path: /srv/pki/server/ca.crt
    client_cert: /srv/pki/clients/alice/alice.crt
    client_key: /srv/pki/clients/alice/alice.key
    refusal_text: A client certificate is required
  delegate_to: localhost
"""

RETURN = r"""
refused_attempts:
  description: Attempts until the request without a certificate got the 496 page.
  returned: success, not in check mode
  type: int
accepted_attempts:
  description: Attempts until the request with O(client_cert) got HTTP 200.
  returned: success and O(client_cert) given, not in check mode
  type: int
msg:
  description: In check mode, which requests were not sent and why (shown like a debug message).
  returned: check mode
  type: str
"""

from ansible_collections.mtls.nginx.plugins.module_utils._backends import verify_server
from ansible_collections.mtls.nginx.plugins.module_utils._module import main as run_module


def main():
    run_module(verify_server)


if __name__ == "__main__":
    main()
