# Private to the mtls.nginx collection: not a public API, may change without notice.
"""Run an mtls.nginx module's work in the controller process when its task targets the controller.

The PKI modules run on the control node (its keys never leave it). Shipping each task there as
a module costs a Python start, imports and a temporary directory every time, about 0.3 s; in
the controller process the same work costs milliseconds. The decision functions are the very
ones the module runs (its module_utils/_backends file); options are validated with the module's own
argument spec and no_log values are masked the same way. Any other task (another host, become,
a non-local connection) runs the module as usual.
"""
from __future__ import annotations

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from ansible_collections.mtls.nginx.plugins.module_utils._common import MtlsError
from ansible_collections.mtls.nginx.plugins.module_utils._x509 import CRYPTOGRAPHY_IMPORT_ERROR


class ControllerAction(ActionBase):
    """Base of the action plugins named after the mtls.nginx modules; backend: the module's
    module_utils/_backends file (SPEC, ensure)."""

    backend = None

    _supports_check_mode = True
    _supports_async = False

    def _in_process(self):
        # Without cryptography on the controller, the module runs and reports it.
        return (CRYPTOGRAPHY_IMPORT_ERROR is None and self._connection.transport == "local"
                and not self._play_context.become)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        if not self._in_process():
            return {**result, **self._execute_module(task_vars=task_vars, wrap_async=False)}
        spec = self.backend.SPEC
        validated = ArgumentSpecValidator(spec["argument_spec"], required_if=spec.get("required_if"),
                                          required_together=spec.get("required_together")).validate(self._task.args)
        if validated.error_messages:
            return {**result, "failed": True, "msg": "; ".join(validated.error_messages)}
        try:
            outcome = self.backend.ensure(validated.validated_parameters, self._task.check_mode, self._task.diff)
        except MtlsError as exc:
            outcome = {"failed": True, "msg": str(exc)}
        return {**result, **mask(outcome, validated._no_log_values)}


def mask(outcome, no_log_values):
    """Hide no_log values in what goes back to Ansible, at a cost linear in the result's size.

    Messages and diffs are free text and get Ansible's substring masking. The rest is data the
    modules build from certificates (one entry per client with the clients module); masking
    it by substring is quadratic (39 s for 10,000 clients, measured), so a value there is hidden
    when it is a secret itself.
    """
    masked = {key: value for key, value in outcome.items() if key not in ("msg", "diff")}
    masked = _mask_exact(masked, set(no_log_values))
    masked.update(remove_values({key: outcome[key] for key in ("msg", "diff") if key in outcome}, no_log_values))
    return masked


def _mask_exact(value, secrets):
    if isinstance(value, dict):
        return {key: _mask_exact(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask_exact(item, secrets) for item in value]
    if isinstance(value, str) and value in secrets:
        return "********"
    return value
