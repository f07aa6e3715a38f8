"""Run the modules' work as Ansible does.

run_module: in this process, the way the collection's action plugins run it on the control node
(plugins/plugin_utils/_controller.py): the module's own argument spec validates the options, its
backend's ensure() does the work, no_log values are masked; "_stdout" is the JSON the module would
print, with the invocation's arguments masked as AnsibleModule masks them. A module without a
backend (host_files, which runs on the managed host) runs as a subprocess.
run_module_subprocess: the real module file as a subprocess with an arguments file, JSON on stdout
(each module's smoke test, and the tests of what a module prints).
"""
import importlib
import json
import os
import subprocess
import sys

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values

from ansible_collections.mtls.nginx.plugins.module_utils._common import MtlsError
from ansible_collections.mtls.nginx.plugins.plugin_utils._controller import mask

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *[os.pardir] * 4))
MODULES = os.path.join(ROOT, "plugins", "modules")
BACKENDS = os.path.join(ROOT, "plugins", "module_utils", "_backends")
COLLECTIONS = os.path.join(ROOT, ".collections")


def backend_of(name):
    """The module's backend (SPEC, ensure), or None for a module without one."""
    if not os.path.exists(os.path.join(BACKENDS, f"{name}.py")):
        return None
    return importlib.import_module(f"ansible_collections.mtls.nginx.plugins.module_utils._backends.{name}")


@pytest.fixture
def run_module_subprocess(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("module-args")  # outside the PKI directory the tests snapshot

    def run(name, args, check=False, diff=True):
        args_file = scratch / f"args-{name}.json"
        args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {
            **args, "_ansible_check_mode": check, "_ansible_diff": diff, "_ansible_remote_tmp": str(scratch)}}))
        proc = subprocess.run([sys.executable, os.path.join(MODULES, f"{name}.py"), str(args_file)],
                              capture_output=True, text=True, env={**os.environ, "PYTHONPATH": COLLECTIONS}, check=False)
        try:
            result = json.loads(proc.stdout)
        except ValueError:
            raise AssertionError(f"{name} printed no JSON: {proc.stdout!r} {proc.stderr!r}") from None
        result["_stdout"] = proc.stdout
        return result
    return run


@pytest.fixture
def run_module(run_module_subprocess):
    def run(name, args, check=False, diff=True):
        backend = backend_of(name)
        if backend is None:
            return run_module_subprocess(name, args, check, diff)
        spec = backend.SPEC
        validated = ArgumentSpecValidator(spec["argument_spec"], required_if=spec.get("required_if"),
                                          required_together=spec.get("required_together")).validate(args)
        if validated.error_messages:
            return {"failed": True, "msg": "; ".join(validated.error_messages), "_stdout": ""}
        try:
            outcome = backend.ensure(validated.validated_parameters, check, diff)
        except MtlsError as exc:
            outcome = {"failed": True, "msg": str(exc)}
        secrets = validated._no_log_values
        printed = {**mask(outcome, secrets),
                   "invocation": {"module_args": remove_values(validated.validated_parameters, secrets)}}
        # Through JSON, as a module's result reaches Ansible (tuples become lists, and so on).
        stdout = json.dumps(printed, default=str)
        result = json.loads(stdout)
        result.pop("invocation")
        result["_stdout"] = stdout
        return result
    return run
