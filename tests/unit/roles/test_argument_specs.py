"""Every public role variable is in defaults/main.yml and meta/argument_specs.yml, with the same default."""
import os

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *[os.pardir] * 3))
ROLES = ["pki", "server"]


def load(role, *parts):
    with open(os.path.join(ROOT, "roles", role, *parts), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.mark.parametrize("role", ROLES)
def test_defaults_and_argument_specs_agree(role):
    """Across the role's entry points (main, verify): same names, same defaults."""
    defaults = load(role, "defaults", "main.yml")
    optional = {}
    for entry, spec in load(role, "meta", "argument_specs.yml")["argument_specs"].items():
        for name, option in spec["options"].items():
            if not option.get("required"):
                assert option.get("default") == defaults.get(name), f"{entry}.{name}: default differs"
                optional[name] = option
    assert set(defaults) == set(optional), "defaults/main.yml and argument_specs disagree"


@pytest.mark.parametrize("role", ROLES)
def test_required_options_have_no_default(role):
    defaults = load(role, "defaults", "main.yml")
    for entry, spec in load(role, "meta", "argument_specs.yml")["argument_specs"].items():
        for name, option in spec["options"].items():
            if option.get("required"):
                assert name not in defaults and "default" not in option, f"{entry}.{name}"


@pytest.mark.parametrize("role", ROLES)
def test_every_option_is_documented_and_typed(role):
    for entry, spec in load(role, "meta", "argument_specs.yml")["argument_specs"].items():
        for name, option in spec["options"].items():
            assert option.get("type") and option.get("description"), f"{entry}.{name}"


def test_both_roles_document_shared_variables_alike():
    pki = load("pki", "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    server = load("server", "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    for name in set(pki) & set(server):
        assert (pki[name]["type"], pki[name].get("default")) == (server[name]["type"], server[name].get("default")), name
