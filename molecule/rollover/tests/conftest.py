"""The default scenario's helpers (converge, https_get, client_files), as `shared`."""
import os
import runpy
import types

import pytest

shared = types.SimpleNamespace(**runpy.run_path(
    os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "molecule", "default", "tests", "conftest.py")))


@pytest.fixture(scope="session")
def inventory():
    return shared.scenario_vars()


@pytest.fixture(scope="session")
def port(inventory):
    return inventory["mtls_listen_port"]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return str(tmp_path_factory.mktemp("rollover"))
