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
    Creates O(directories), writes O(files) and removes O(absent) on the managed host, each file
    only when its content, mode or owner differs, atomically (a temporary file in the same
    directory, renamed). The server role installs a host's certificates, CRL, private key, error
    pages, configuration check and server block, and removes the default site, with one call of
    this module instead of one task (and one or two round trips) per file.
  - >-
    A file with O(files[].validate) is written last, and only after its command accepted a
    temporary copy (like the C(validate) of M(ansible.builtin.template)). Until O(validate_needs)
    exists on the host (nginx is not installed yet), such files are not written but returned in
    RV(deferred), so that one call serves both a new host (install, then call again) and a
    no-change rerun (one call).
  - >-
    The same call reports what the caller would otherwise ask in more round trips, RV(probed) (do
    these paths exist?) and RV(process_running) (is the process in O(process.pid_file) alive?).
  - Needs nothing on the host but Python; no content is returned, and a diff shows content only for files with O(files[].diff).
author: mtls.nginx maintainers (@mtls-nginx)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff lists the paths that change; it shows content only for files with O(files[].diff).
  platform:
    platforms: posix
options:
  directories:
    description:
      - Directories to create (with missing parents), with O(directories[].mode) and the owner.
      - An existing directory is left as it is (its mode and owner are somebody's); a symbolic link is refused.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path.
        type: path
        required: true
      mode:
        description: Mode as an octal string, for a directory this call creates.
        type: str
        default: "0755"
      exclusive:
        description:
          - >-
            The directory holds only what O(files) lists: any other file or link in it is removed, after
            every file is written (the files of a site that was removed from the inventory).
            Subdirectories are left alone.
        type: bool
        default: false
  files:
    description: Files and their content.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path; its directory must exist or be in O(directories). A link in its place is replaced, never followed.
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
      validate:
        description:
          - >-
            Command (no shell) that must accept the new content before it replaces the file; C(%s)
            stands for a temporary copy's path. Not run in check mode or when the content is unchanged.
        type: str
      diff:
        description: Show this file's old and new content in diff mode (never set it for a secret).
        type: bool
        default: false
  absent:
    description: Paths to remove when they exist (files or links).
    type: list
    elements: path
    default: []
  validate_needs:
    description: A path the O(files[].validate) commands need, for example the nginx binary; see RV(deferred).
    type: path
  probe:
    description: Paths whose existence RV(probed) reports, read before anything changes.
    type: list
    elements: path
    default: []
  process:
    description: A process whose state RV(process_running) reports, read before anything changes.
    type: dict
    suboptions:
      pid_file:
        description: The process's pid file.
        type: path
        required: true
      name:
        description: Part of the name of the process's executable.
        type: str
        required: true
  trust_guard:
    description:
      - >-
        The lost-PKI guard. When O(files) would replace the file at O(trust_guard.path) (PEM
        certificates, e.g. the CAs nginx trusts for client certificates), the call fails, changing
        nothing, if the new content leaves out a certificate the host's file holds today, unless
        its SHA-256 is in O(trust_guard.retired). The message names both sets (subject and SHA-256).
    type: dict
    version_added: "0.4.0"
    suboptions:
      path:
        description: The file to guard.
        type: path
        required: true
      retired:
        description: SHA-256 fingerprints (hexadecimal) of certificates that may be dropped (CAs retired on purpose).
        type: list
        elements: str
        default: []
      hint:
        description: What the message tells the user to do.
        type: str
        default: ""
  crl_guard:
    description:
      - >-
        The lost-PKI guard for CRLs. When O(files) would replace the file at O(crl_guard.path) (PEM CRLs,
        nginx's C(ssl_crl)), the call fails, changing nothing, if the new content has no CRL of a CA in
        O(crl_guard.trust) (nginx's C(ssl_client_certificate); its new content when O(files) writes it too,
        else the host's file): nginx checks a CRL of every CA of a client's chain and would refuse every
        client under that CA. A CRL counts for a CA when its issuer is the CA's subject and, where both
        name one, its authority key identifier is the CA's subject key identifier.
    type: dict
    version_added: "0.5.0"
    suboptions:
      path:
        description: The CRL file to guard.
        type: path
        required: true
      trust:
        description: The CA certificates file whose CAs need a CRL.
        type: path
        required: true
      hint:
        description: What the message tells the user to do.
        type: str
        default: ""
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

- name: Install a server block checked by nginx -t, drop the default site, and see whether nginx runs
  mtls.nginx.host_files:
    files:
      - path: /etc/nginx/conf.d/site.conf
        content: "{{ lookup('ansible.builtin.template', 'site.conf.j2') | b64encode }}"
        validate: /usr/sbin/nginx -t -q -c %s
        diff: true
    absent: [/etc/nginx/sites-enabled/default]
    validate_needs: /usr/sbin/nginx
    probe: [/usr/sbin/nginx]
    process:
      pid_file: /run/nginx.pid
      name: nginx
  register: host
"""

RETURN = r"""
changed_paths:
  description: The directories and files that were (or in check mode would be) created, changed or removed.
  returned: always
  type: list
  elements: str
deferred:
  description: Files with O(files[].validate) that differ but were not written because O(validate_needs) does not exist.
  returned: always
  type: list
  elements: str
probed:
  description: Each path of O(probe) and whether it existed.
  returned: always
  type: dict
process_running:
  description: Whether O(process.pid_file) named a live process whose executable's name contains O(process.name).
  returned: when O(process) is given
  type: bool
"""

import base64
import binascii
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mtls.nginx.plugins.module_utils._common import MtlsError
from ansible_collections.mtls.nginx.plugins.module_utils._files import octal_mode, pid_running, read_bytes, resolve_owner, sync
from ansible_collections.mtls.nginx.plugins.module_utils._trust import crl_guard_error, guard_error


def decode(entry, index):
    try:
        data = base64.b64decode(entry["content"], validate=True)
    except (binascii.Error, ValueError):
        raise MtlsError(f"files[{index}].content must be base64 ({entry['path']})") from None
    if entry["validate"] is not None and "%s" not in entry["validate"]:
        raise MtlsError(f"files[{index}].validate must contain %s, the candidate's path ({entry['path']})")
    return entry["path"], data, octal_mode(entry["mode"], f"files[{index}].mode"), entry["validate"]


def guard_trust(guard, files):
    """Fail, before anything is written, where the new content of the guarded file drops a CA."""
    if not guard:
        return
    for path, data, _mode, _command in files:
        if path == guard["path"]:
            error = guard_error(path, read_bytes(path), data, guard["retired"], guard["hint"])
            if error:
                raise MtlsError(error)


def guard_crls(guard, files):
    """Fail, before anything is written, where the new CRL file lacks a CRL of a CA the host will trust."""
    if not guard:
        return
    written = {path: data for path, data, _mode, _command in files}
    if guard["path"] in written:
        trust = written.get(guard["trust"], read_bytes(guard["trust"]))
        error = trust is not None and crl_guard_error(guard["path"], guard["trust"], trust, written[guard["path"]], guard["hint"])
        if error:
            raise MtlsError(error)


def show(path, data):
    before = read_bytes(path)
    return {"before_header": path, "after_header": path, "before": (before or b"").decode(errors="replace"),
            "after": data.decode(errors="replace")}


def main():
    module = AnsibleModule(
        argument_spec={
            "directories": {"type": "list", "elements": "dict", "default": [], "options": {
                "path": {"type": "path", "required": True}, "mode": {"type": "str", "default": "0755"},
                "exclusive": {"type": "bool", "default": False}}},
            "files": {"type": "list", "elements": "dict", "default": [], "options": {
                "path": {"type": "path", "required": True}, "content": {"type": "str", "required": True, "no_log": True},
                "mode": {"type": "str", "default": "0644"}, "validate": {"type": "str"},
                "diff": {"type": "bool", "default": False}}},
            "absent": {"type": "list", "elements": "path", "default": []},
            "validate_needs": {"type": "path"},
            "probe": {"type": "list", "elements": "path", "default": []},
            "process": {"type": "dict", "options": {"pid_file": {"type": "path", "required": True},
                                                    "name": {"type": "str", "required": True}}},
            "trust_guard": {"type": "dict", "options": {
                "path": {"type": "path", "required": True},
                "retired": {"type": "list", "elements": "str", "default": []},
                "hint": {"type": "str", "default": ""}}},
            "crl_guard": {"type": "dict", "options": {
                "path": {"type": "path", "required": True}, "trust": {"type": "path", "required": True},
                "hint": {"type": "str", "default": ""}}},
            "owner": {"type": "str", "default": "root"},
            "group": {"type": "str", "default": "root"},
        },
        supports_check_mode=True,
    )
    params = module.params
    result = {"probed": {path: os.path.lexists(path) for path in params["probe"]}}
    if params["process"]:
        result["process_running"] = pid_running(params["process"]["pid_file"], params["process"]["name"])
    try:
        directories = [(d["path"], octal_mode(d["mode"], f"directories[{i}].mode")) for i, d in enumerate(params["directories"])]
        files = [decode(entry, index) for index, entry in enumerate(params["files"])]
        guard_trust(params["trust_guard"], files)
        guard_crls(params["crl_guard"], files)
        diffs = [show(path, data) for (path, data, _mode, _command), entry in zip(files, params["files"]) if entry["diff"]]
        uid, gid = resolve_owner(params["owner"], params["group"])
        ready = params["validate_needs"] is None or os.path.exists(params["validate_needs"])
        changed, deferred = sync(directories, files, uid, gid, module.check_mode, params["absent"],
                                 validate=module.run_command if ready else None,
                                 exclusive=[d["path"] for d in params["directories"] if d["exclusive"]])
    except (MtlsError, OSError) as exc:
        module.fail_json(msg=str(exc), **result)
    result.update(changed=bool(changed), changed_paths=changed, deferred=deferred)
    if module._diff:
        shown = [diff for diff in diffs if diff["after_header"] in changed]
        result["diff"] = [{"before": "", "after": "".join(f"{path}: changed\n" for path in changed)}] + shown
    module.exit_json(**result)


if __name__ == "__main__":
    main()
