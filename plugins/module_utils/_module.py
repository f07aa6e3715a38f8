# Private to the mtls.nginx collection: not a public API, may change without notice.
"""Every mtls.nginx module's main(): parse the options by its backend's SPEC, run its ensure(), report."""
from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.mtls.nginx.plugins.module_utils._common import MtlsError
from ansible_collections.mtls.nginx.plugins.module_utils._x509 import CRYPTOGRAPHY_IMPORT_ERROR


def main(backend):
    """backend: the module's file under module_utils/_backends (SPEC, ensure)."""
    module = AnsibleModule(supports_check_mode=True, **backend.SPEC)
    if CRYPTOGRAPHY_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=str(CRYPTOGRAPHY_IMPORT_ERROR))
    try:
        result = backend.ensure(module.params, module.check_mode, module._diff)
    except MtlsError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)
