# -*- coding: utf-8 -*-
"""Role calico: defaults and meta/argument_specs.yml agree; every variable carries the role prefix."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import yaml

ROLE = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))), "roles", "calico"
)


def load(*parts):
    with open(os.path.join(ROLE, *parts)) as handle:
        return yaml.safe_load(handle)


def test_defaults_and_argument_specs_agree():
    defaults = load("defaults", "main.yml")
    options = load("meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert sorted(defaults) == sorted(options)
    for name, spec in options.items():
        assert spec.get("default") == defaults[name], name
        assert spec.get("description"), name


def test_every_variable_is_prefixed_with_the_role_name():
    assert all(name.startswith("calico_") for name in load("defaults", "main.yml"))


def test_choices_hold_the_defaults():
    defaults = load("defaults", "main.yml")
    for name, spec in load("meta", "argument_specs.yml")["argument_specs"]["main"]["options"].items():
        if "choices" in spec:
            assert defaults[name] in spec["choices"], name


def test_every_aspect_has_its_tag():
    tags = set()
    for task in load("tasks", "main.yml")[0]["block"]:
        tags.update(task.get("tags", []))
    assert {"template", "bgp", "egress_gateway", "status"} <= tags
