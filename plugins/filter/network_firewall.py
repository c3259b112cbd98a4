# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja2 filters of the network_firewall role: user-level input to rules, rules to a summary (docs: one YAML file per filter)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.calico_egress.aws.plugins.module_utils import nfw_rules


def network_firewall_egress_rules(egress_rules, protected_destinations=None, default_sources=None):
    try:
        return nfw_rules.build_egress_rules(
            list(egress_rules or []), list(protected_destinations or []), list(default_sources or [])
        )
    except nfw_rules.RuleError as exc:
        raise AnsibleFilterError("network_firewall_egress_rules: %s" % to_native(exc))


def network_firewall_rule_summary(rules):
    return nfw_rules.summarise_rules(list(rules or []))


class FilterModule(object):
    def filters(self):
        return {
            "network_firewall_egress_rules": network_firewall_egress_rules,
            "network_firewall_rule_summary": network_firewall_rule_summary,
        }
