"""Every module documents exactly the options its argument spec takes, as ansible-doc renders them."""
import importlib
import json
import os
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *[os.pardir] * 4))
# Each module with a backend (module_utils/_backends/<name>.py: SPEC and ensure); host_files has its spec inline.
SPECS = {name: importlib.import_module(f"ansible_collections.mtls.nginx.plugins.module_utils._backends.{name}").SPEC
         for name in sorted(os.path.splitext(entry)[0] for entry in os.listdir(os.path.join(ROOT, "plugins", "module_utils", "_backends"))
                            if not entry.startswith("_") and entry.endswith(".py"))}


@pytest.fixture(scope="module")
def docs():
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": os.path.join(ROOT, ".collections"),
           "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg")}
    out = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-doc"), "--json",
                          *(f"mtls.nginx.{name}" for name in SPECS)], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout)


def compare(doc_options, spec, where):
    assert set(doc_options) == set(spec), f"{where}: documented {sorted(doc_options)} but takes {sorted(spec)}"
    for name, option in spec.items():
        doc = doc_options[name]
        assert doc.get("type", "str") == option.get("type", "str"), f"{where}.{name} type"
        assert doc.get("default") == option.get("default"), f"{where}.{name} default"
        assert bool(doc.get("required")) == bool(option.get("required")), f"{where}.{name} required"
        assert doc.get("choices") == option.get("choices"), f"{where}.{name} choices"
        assert doc.get("description"), f"{where}.{name} has no description"
        if "options" in option:
            compare(doc.get("suboptions", {}), option["options"], f"{where}.{name}")


@pytest.mark.parametrize("name", sorted(SPECS))
def test_documentation_matches_argument_spec(docs, name):
    entry = docs[f"mtls.nginx.{name}"]
    compare(entry["doc"]["options"], SPECS[name]["argument_spec"], name)
    assert entry["doc"]["attributes"]["check_mode"]["support"] == "full"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_examples_and_return_are_yaml(docs, name):
    entry = docs[f"mtls.nginx.{name}"]
    examples = yaml.safe_load(entry["examples"])
    assert examples and all(f"mtls.nginx.{name}" in task for task in examples if any(k.startswith("mtls.nginx.") for k in task))
    assert entry["return"], f"{name} documents no return values"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_each_module_runs_as_ansible_runs_it(run_module_subprocess, name):
    """The other module tests run each backend in this process (as the action plugins do on the control node):
    here each module file runs as Ansible runs it, a subprocess that prints JSON."""
    required = sorted(option for option, settings in SPECS[name]["argument_spec"].items() if settings.get("required"))
    result = run_module_subprocess(name, {}, check=True)
    assert result["failed"] and f"missing required arguments: {', '.join(required)}" in result["msg"], result


def test_a_module_as_a_subprocess_prints_no_secret(run_module_subprocess, tmp_path):
    args = {"certificate_path": str(tmp_path / "ca.crt"), "private_key_path": str(tmp_path / "ca.key"),
            "common_name": "Test CA", "passphrase": "ca-secret-passphrase"}
    made = run_module_subprocess("ca_root", args)
    assert made["changed"] and made["reissue_reason"] == "missing", made
    assert "ca-secret-passphrase" not in made["_stdout"] and "PRIVATE" not in made["_stdout"]
