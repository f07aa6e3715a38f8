#!/usr/bin/python
# Copyright: mtls.nginx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: host_files
short_description: Put many small files on a managed host in one call
version_added: "0.2.0"
description:
  - >-
    Creates O(directories) and writes O(files) on the managed host, each only when its content,
    mode or owner differs, atomically (a temporary file in the same directory, renamed). The server
    role installs a host's certificates, CRL, private key, error pages and configuration check with
    one call of this module instead of one task (and one round trip) per file.
  - Needs nothing on the host but Python; no content is returned or shown in a diff, only paths.
author: mtls.nginx maintainers (@mtls-nginx)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The diff lists the paths that change, never their content.
options:
  directories:
    description: Directories to create (with missing parents) or fix.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path.
        type: path
        required: true
      mode:
        description: Mode as an octal string.
        type: str
        default: "0755"
  files:
    description: Files and their content.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path; its directory must exist or be in O(directories).
        type: path
        required: true
      content:
        description:
          - The content, base64-encoded (C(lookup('ansible.builtin.file', src, rstrip=false\) | b64encode)).
          - Secret (it may be a private key) and never logged.
        type: str
        required: true
      mode:
        description: Mode as an octal string.
        type: str
        default: "0644"
  owner:
    description: Owner of every directory and file (name or numeric id).
    type: str
    default: root
  group:
    description: Group of every directory and file (name or numeric id).
    type: str
    default: root
"""

EXAMPLES = r"""
---
- name: Install the TLS files of a host in one call
  mtls.nginx.host_files:
    directories:
      - path: /etc/nginx/mtls
    files:
      - path: /etc/nginx/mtls/ca.crt
        content: "{{ lookup('ansible.builtin.file', '/srv/pki/ca/ca.crt', rstrip=false) | b64encode }}"
      - path: /etc/nginx/mtls/server.key
        content: "{{ lookup('ansible.builtin.file', '/srv/pki/server/www.example.org.key', rstrip=false) | b64encode }}"
        mode: "0600"
"""

RETURN = r"""
changed_paths:
  description: The directories and files that were (or in check mode would be) created or changed.
  returned: always
  type: list
  elements: str
"""

import base64
import binascii

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mtls.nginx.plugins.module_utils._common import MtlsError
from ansible_collections.mtls.nginx.plugins.module_utils._files import octal_mode, resolve_owner, sync


def main():
    module = AnsibleModule(
        argument_spec={
            "directories": {"type": "list", "elements": "dict", "default": [], "options": {
                "path": {"type": "path", "required": True}, "mode": {"type": "str", "default": "0755"}}},
            "files": {"type": "list", "elements": "dict", "default": [], "options": {
                "path": {"type": "path", "required": True}, "content": {"type": "str", "required": True, "no_log": True},
                "mode": {"type": "str", "default": "0644"}}},
            "owner": {"type": "str", "default": "root"},
            "group": {"type": "str", "default": "root"},
        },
        supports_check_mode=True,
    )
    try:
        directories = [(d["path"], octal_mode(d["mode"], f"directories[{i}].mode")) for i, d in enumerate(module.params["directories"])]
        files = []
        for index, entry in enumerate(module.params["files"]):
            try:
                data = base64.b64decode(entry["content"], validate=True)
            except (binascii.Error, ValueError):
                raise MtlsError(f"files[{index}].content must be base64 ({entry['path']})") from None
            files.append((entry["path"], data, octal_mode(entry["mode"], f"files[{index}].mode")))
        uid, gid = resolve_owner(module.params["owner"], module.params["group"])
        changed = sync(directories, files, uid, gid, module.check_mode)
    except (MtlsError, OSError) as exc:
        module.fail_json(msg=str(exc))
    result = {"changed": bool(changed), "changed_paths": changed}
    if module._diff:
        result["diff"] = {"before": "", "after": "".join(f"{path}: changed\n" for path in changed)}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
