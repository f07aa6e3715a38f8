"""Run the real modules as Ansible would: a subprocess with an arguments file, JSON on stdout."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *[os.pardir] * 4))
MODULES = os.path.join(ROOT, "plugins", "modules")
COLLECTIONS = os.path.join(ROOT, ".collections")


@pytest.fixture
def run_module(tmp_path_factory):
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
