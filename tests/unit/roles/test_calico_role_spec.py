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


def _tags(tasks):
    tags = set()
    for task in tasks:
        tags.update(task.get("tags", []))
        tags.update(_tags(task.get("block", [])))
    return tags


def test_every_aspect_has_its_tag():
    assert {"template", "bgp", "egress_gateway", "status", "teardown"} <= _tags(load("tasks", "main.yml"))
