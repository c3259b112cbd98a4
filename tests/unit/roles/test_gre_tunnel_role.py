# -*- coding: utf-8 -*-
"""Static checks of roles/gre_tunnel: argument specs and defaults agree, templates render what the providers expect."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import jinja2
import yaml

ROLE = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))), "roles", "gre_tunnel"
)
SETTINGS = {
    "name": "gre-tgw",
    "local_address": "10.0.1.10",
    "remote_address": "10.99.0.1",
    "inside_address": "169.254.6.1/29",
    "inside_cidr": "169.254.6.0/29",
    "ttl": 255,
    "mtu": 8476,
}


def _load(*parts):
    with open(os.path.join(ROLE, *parts)) as handle:
        return yaml.safe_load(handle)


def test_argument_specs_and_defaults_are_in_sync():
    defaults = _load("defaults", "main.yml")
    options = _load("meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert sorted(options) == sorted(defaults)
    for name, option in options.items():
        assert option["default"] == defaults[name], name
        assert name.startswith("gre_tunnel_")
        if option.get("choices"):
            assert defaults[name] in option["choices"], name
    assert defaults["gre_tunnel_mtu"] == 8476 and defaults["gre_tunnel_ttl"] == 255


def _render(template):
    with open(os.path.join(ROLE, "templates", template)) as handle:
        return jinja2.Template(handle.read()).render(__gre_tunnel=SETTINGS, ansible_managed="Ansible managed")


def test_netplan_template_is_a_gre_tunnel():
    document = yaml.safe_load(_render("netplan.yaml.j2"))
    assert document["network"]["tunnels"] == {
        "gre-tgw": {
            "mode": "gre",
            "local": "10.0.1.10",
            "remote": "10.99.0.1",
            "ttl": 255,
            "mtu": 8476,
            "addresses": ["169.254.6.1/29"],
            "link-local": [],
        }
    }


def test_networkd_templates_describe_an_independent_gre_tunnel():
    netdev = _render("networkd.netdev.j2")
    for line in (
        "Name=gre-tgw",
        "Kind=gre",
        "MTUBytes=8476",
        "Independent=true",
        "Local=10.0.1.10",
        "Remote=10.99.0.1",
        "TTL=255",
    ):
        assert line in netdev.splitlines()
    network = _render("networkd.network.j2")
    for line in ("Name=gre-tgw", "Address=169.254.6.1/29", "ConfigureWithoutCarrier=yes"):
        assert line in network.splitlines()
