#!/usr/bin/python
# Copyright: mtls.nginx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: chain_crls
short_description: Keep a current CRL of every CA above an imported issuing CA
version_added: "0.5.0"
description:
  - Reads the CRLs that O(sources) name (paths on the control node or C(http)/C(https) URLs, PEM or
    DER), keeps the newest valid CRL of each CA in O(chain_path) (checked by name and signature)
    and writes them to O(path), which the servers check next to the issuing CA's own CRL.
  - >-
    nginx checks a CRL of every CA of a client's chain and rejects every client once one is
    missing or has expired. So a source that cannot be reached, serves something else or an
    expired CRL only adds a warning while O(path) still holds a valid CRL of that CA; the module
    fails, changing nothing, when a CA of the chain would have none.
author: mtls.nginx maintainers (@mtls-nginx)
extends_documentation_fragment:
  - mtls.nginx.common.ownership
  - mtls.nginx.common.attributes
options:
  path:
    description: The CRLs of the chain (PEM, in chain order), written with mode V(0644).
    type: path
    required: true
  chain_path:
    description: The CAs above the issuing CA (PEM), as mtls.nginx.ca_import keeps them.
    type: path
    required: true
  sources:
    description: Where the CAs of the chain publish their CRLs (paths or http(s) URLs), any order.
    type: list
    elements: str
    required: true
  timeout:
    description: Seconds to wait for each URL.
    type: int
    default: 10
"""

EXAMPLES = r"""
---
- name: Keep the company root's CRL next to our issuing CA
  mtls.nginx.chain_crls:
    path: /srv/pki/ca/chain-crls.pem
    chain_path: /srv/pki/ca/chain.pem
    sources:
      - http://pki.example.com/crl/root-ca.crl
"""

RETURN = r"""
crls:
  description: The CRL kept for each CA of the chain (issuer, CRL number, next update, days left, source or V(kept)).
  returned: always
  type: list
  elements: dict
reissue_reason:
  description: Why the file was (or in check mode would be) written (missing, newer CRLs).
  returned: when it was
  type: str
"""

from ansible_collections.mtls.nginx.plugins.module_utils._backends import chain_crls
from ansible_collections.mtls.nginx.plugins.module_utils._module import main as run_module


def main():
    run_module(chain_crls)


if __name__ == "__main__":
    main()
