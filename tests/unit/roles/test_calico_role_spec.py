# -*- coding: utf-8 -*-
"""Role calico: every aspect has its tag (argument specs vs defaults: tests/unit/test_role_argument_specs.py)."""

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


def test_every_aspect_has_its_tag():
    tags = set()
    for task in load("tasks", "main.yml")[0]["block"]:
        tags.update(task.get("tags", []))
    assert {"template", "bgp", "egress_gateway", "status"} <= tags
