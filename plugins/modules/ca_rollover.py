#!/usr/bin/python
# Copyright: mtls.nginx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: ca_rollover
short_description: Move a client CA directory to the archive when a CA rollover retires or abandons it
version_added: "0.3.0"
description:
  - >-
    The client CA rollover has stages (the pki role's C(mtls_ca_rollover)): V(prepare) and
    V(migrate) keep two CAs, O(ca_dir) and O(next_ca_dir), which M(mtls.nginx.ca_root) creates
    and the other modules use; this module moves directories, whole, when a stage ends one.
  - >-
    V(retire): O(ca_dir) (key, certificate, ledger, final CRL) is moved to
    O(archive_dir)C(/<UTC time>-retired) and O(next_ca_dir) becomes O(ca_dir). A retire that was
    interrupted between the two renames finishes on the next run.
  - >-
    V(abandon) (before V(retire)): O(next_ca_dir) is moved to O(archive_dir)C(/<UTC time>-abandoned).
  - >-
    V(none) while O(next_ca_dir) exists is refused: a rollover is under way, and dropping its stage
    by mistake must not undo it.
  - Nothing is ever deleted. Idempotent; renames within one filesystem.
author: mtls.nginx maintainers (@mtls-nginx)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
options:
  stage:
    description: The rollover's stage.
    type: str
    required: true
    choices: [none, prepare, migrate, retire, abandon]
  ca_dir:
    description: The current client CA's directory.
    type: path
    required: true
  next_ca_dir:
    description: The next client CA's directory.
    type: path
    required: true
  archive_dir:
    description: Where retired and abandoned CAs go (created with mode 0700).
    type: path
    required: true
"""

EXAMPLES = r"""
---
- name: Retire the previous client CA
  mtls.nginx.ca_rollover:
    stage: retire
    ca_dir: /srv/pki/ca
    next_ca_dir: /srv/pki/ca-next
    archive_dir: /srv/pki/archive
"""

RETURN = r"""
moved:
  description: The renames done (or, in check mode, due).
  returned: always
  type: list
  elements: dict
  contains:
    from:
      description: Directory moved.
      type: str
    to:
      description: Where it went.
      type: str
archived_ledgers:
  description: The ledger of every archived CA, for M(mtls.nginx.clients)' O(mtls.nginx.clients#module:other_ledger_paths).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.mtls.nginx.plugins.module_utils._backends import ca_rollover
from ansible_collections.mtls.nginx.plugins.module_utils._module import main as run_module


def main():
    run_module(ca_rollover)


if __name__ == "__main__":
    main()
