"""The default scenario's helpers (converge, https_get, the PKI's paths), loaded under their own name."""
import importlib.util
import os

import pytest
import yaml

_SPEC = importlib.util.spec_from_file_location(
    "mtls_molecule_shared", os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "molecule", "default", "tests",
                                         "conftest.py"))
shared = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(shared)


@pytest.fixture(scope="session")
def fleet():
    """{host: its host_vars} of the scenario."""
    with open(os.environ["MOLECULE_FILE"], encoding="utf-8") as handle:
        return yaml.safe_load(handle)["provisioner"]["inventory"]["host_vars"]


@pytest.fixture(scope="session")
def inventory():
    return shared.scenario_vars()
