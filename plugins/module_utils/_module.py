# Private to the mtls.nginx collection: not a public API, may change without notice.
"""Every mtls.nginx module's main(): parse the options, run its _ensure function, report."""
from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.mtls.nginx.plugins.module_utils._common import MtlsError
from ansible_collections.mtls.nginx.plugins.module_utils._ensure import ENSURE
from ansible_collections.mtls.nginx.plugins.module_utils._specs import SPECS
from ansible_collections.mtls.nginx.plugins.module_utils._x509 import CRYPTOGRAPHY_IMPORT_ERROR


def main(name):
    module = AnsibleModule(supports_check_mode=True, **SPECS[name])
    if CRYPTOGRAPHY_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=str(CRYPTOGRAPHY_IMPORT_ERROR))
    try:
        result = ENSURE[name](module.params, module.check_mode, module._diff)
    except MtlsError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)
