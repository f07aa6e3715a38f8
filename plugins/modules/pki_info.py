#!/usr/bin/python
# Copyright: mtls.nginx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: pki_info
short_description: Report every CA, client certificate, CRL and server certificate of an mtls.nginx PKI, and what ends soon
version_added: "0.3.0"
description:
  - >-
    Reads the PKI directory that the pki role keeps (C(mtls_pki_dir)) and reports every client CA
    (V(root) with two tiers, V(current), V(next) during a rollover, V(retired) and V(abandoned) ones from the archive), the
    next update of each CA's CRL, every certificate each CA's ledger lists (name, state, serial,
    end, days left, revocation reason), the server CA and the server certificates.
  - >-
    RV(expiring) lists what is still in use and ends within O(expiring_within_days): client CAs
    (root, current and next), valid client certificates, the server CA and certificates; and the CRLs
    that end within O(crl_expiring_within_days) (a CRL lives a month and the pki role replaces it
    a week before its end, so one this close means the daily refresh is not running). The root's
    CRL, signed with a key that may be offline, is listed within O(expiring_within_days).
  - Changes nothing; the same in check mode. On the control node it runs in the controller process.
author: mtls.nginx maintainers (@mtls-nginx)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  pki_dir:
    description: The PKI directory (the pki role's C(mtls_pki_dir)).
    type: path
    required: true
  expiring_within_days:
    description: What ends within this many days is listed in RV(expiring).
    type: int
    default: 30
  crl_expiring_within_days:
    description: A CRL that ends within this many days is listed in RV(expiring).
    type: int
    default: 3
"""

EXAMPLES = r"""
---
- name: Read the PKI
  mtls.nginx.pki_info:
    pki_dir: /srv/pki
    expiring_within_days: 30
  register: pki

- name: Fail when anything in use ends within 30 days
  ansible.builtin.assert:
    that: pki.expiring_count == 0
    fail_msg: "{{ pki.expiring }}"
"""

RETURN = r"""
cas:
  description: Every client CA, with its role (root, current, next, retired, abandoned), subject, end and CRL's next update.
  returned: always
  type: list
  elements: dict
clients:
  description: >-
    Every certificate the CAs' ledgers list - name, state (valid, revoked, expired), ca, ca_role,
    serial, not_after, days_left, revoked_reason.
  returned: always
  type: list
  elements: dict
servers:
  description: The server CA (name C(server CA)) and each server certificate the pki role issued, with their end.
  returned: always
  type: list
  elements: dict
expiring:
  description: What is in use and ends within O(expiring_within_days), by kind (cas, crls, clients, servers).
  returned: always
  type: dict
expiring_count:
  description: How many entries RV(expiring) holds in all.
  returned: always
  type: int
within_days:
  description: O(expiring_within_days).
  returned: always
  type: int
crl_within_days:
  description: O(crl_expiring_within_days).
  returned: always
  type: int
table:
  description: The report as aligned text lines, for a console.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.mtls.nginx.plugins.module_utils._backends import pki_info
from ansible_collections.mtls.nginx.plugins.module_utils._module import main as run_module


def main():
    run_module(pki_info)


if __name__ == "__main__":
    main()
