"""Every role's meta/argument_specs.yml agrees with its defaults/main.yml.

Argument validation runs before the role and neither sets defaults nor casts types, so the two files must say the
same thing: every default is a documented option with the same default, every optional option has a default, and
required options have none (a placeholder default would satisfy `required` and hide a missing value).
"""

import glob
import os

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPECS = glob.glob(os.path.join(ROOT, "roles", "*", "meta", "argument_specs.yml"))
ROLES = sorted(os.path.basename(os.path.dirname(os.path.dirname(p))) for p in SPECS)


def _load(role, *parts):
    path = os.path.join(ROOT, "roles", role, *parts)
    if not os.path.exists(path):
        return {}
    with open(path) as handle:
        return yaml.safe_load(handle) or {}


def test_every_role_has_argument_specs():
    roles = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "roles", "*")) if os.path.isdir(p))
    assert roles == ROLES


@pytest.mark.parametrize("role", ROLES)
def test_defaults_and_argument_specs_agree(role):
    defaults = _load(role, "defaults", "main.yml")
    options = _load(role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert sorted(set(defaults) - set(options)) == [], "defaults without an argument spec"
    for name, spec in options.items():
        assert name.startswith(role + "_"), "%s is not prefixed with the role name" % name
        assert spec.get("description"), "%s has no description" % name
        if spec.get("required"):
            assert name not in defaults, "%s is required but has a default" % name
            assert "default" not in spec
        else:
            assert name in defaults, "%s has no default in defaults/main.yml" % name
            assert spec.get("default") == defaults[name], "%s: argument spec default differs from defaults/main.yml" % name


@pytest.mark.parametrize("role", ROLES)
def test_defaults_are_among_the_choices(role):
    defaults = _load(role, "defaults", "main.yml")
    options = _load(role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    for name, spec in options.items():
        if "choices" not in spec or name not in defaults or defaults[name] is None:
            continue
        values = defaults[name] if spec.get("type") == "list" else [defaults[name]]
        assert set(values) <= set(spec["choices"]), "%s: default %r not in choices" % (name, defaults[name])
