# Copyright: mtls.nginx contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over CRLs, used by the server role to refuse deploying one that is about to expire."""
from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.mtls.nginx.plugins.module_utils._common import MtlsError
from ansible_collections.mtls.nginx.plugins.module_utils._crl import crl_days_left


def _crl_days_left(pem, now=None):
    try:
        return crl_days_left(pem.encode() if isinstance(pem, str) else pem, now)
    except MtlsError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"crl_days_left": _crl_days_left}
