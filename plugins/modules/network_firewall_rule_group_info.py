#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: network_firewall_rule_group_info
short_description: Read stateful AWS Network Firewall rule groups, their rules and the policies using them
version_added: 0.1.0
description:
  - Returns one stateful rule group (O(name)) or all of the account's stateful rule groups, each with its rules
    in the input form of M(calico_egress.aws.network_firewall_rule_group) and the firewall policy references
    that point at it.
author:
  - calico_egress.aws contributors (@calico-egress)
options:
  name:
    description: Name of the rule group. All stateful rule groups when omitted.
    type: str
notes:
  - Uses the network-firewall API actions ListRuleGroups, DescribeRuleGroup, ListFirewallPolicies and
    DescribeFirewallPolicy.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the egress rule group
  calico_egress.aws.network_firewall_rule_group_info:
    name: calico-egress
  register: egress_group

- name: Show its rules as Suricata text
  ansible.builtin.debug:
    msg: "{{ egress_group.rule_groups[0].suricata }}"
"""

RETURN = r"""
rule_groups:
  description: The rule groups found (empty list when O(name) does not exist).
  returned: always
  type: list
  elements: dict
  contains:
    rule_group_arn:
      description: ARN of the group.
      type: str
    rule_group_name:
      description: Name of the group.
      type: str
    capacity:
      description: Capacity fixed at creation.
      type: int
    consumed_capacity:
      description: Capacity the rules use.
      type: int
    rule_order:
      description: V(default) or V(strict).
      type: str
    rules:
      description: 5-tuple rules in the input form of M(calico_egress.aws.network_firewall_rule_group).
      type: list
      elements: dict
    suricata:
      description: The rules as Suricata text.
      type: str
    ip_sets:
      description: IP set variables.
      type: dict
    port_sets:
      description: Port set variables.
      type: dict
    tags:
      description: Tags as a dict.
      type: dict
    references:
      description: Firewall policy references to this group (C(policy_name), C(policy_arn), C(priority), C(override)).
      type: list
      elements: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402

from ansible_collections.calico_egress.aws.plugins.module_utils.nfw_manager import rule_group_info  # noqa: E402


def main():
    module = AnsibleAWSModule(argument_spec=dict(name=dict(type="str")), supports_check_mode=True)
    client = module.client("network-firewall")
    module.exit_json(**rule_group_info(module, client))


if __name__ == "__main__":
    main()
