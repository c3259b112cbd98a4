#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: network_firewall_policy_rule_group
short_description: Ensure an AWS Network Firewall policy references one stateful rule group
version_added: 0.1.0
description:
  - Adds, updates or removes B(one) stateful rule group reference in an existing firewall policy and leaves
    every other reference and setting of the policy as it is.
  - Under the policy's strict rule order the reference has a O(priority) (lower runs first). An existing
    reference keeps its priority unless O(priority) says otherwise; a new one gets the next multiple of 100
    above the highest priority in use. A priority used by another group is refused.
  - A rule group whose rule order differs from the policy's is refused, with a message saying which side to
    change (AWS cannot change either after creation).
  - A stale update token (another writer changed the policy in between) makes the module read the policy
    again, re-plan and retry, at most 5 times.
  - Check mode makes no mutating call; diff mode shows the reference before and after.
author:
  - calico_egress.aws contributors (@calico-egress)
options:
  policy_name:
    description: Name of the firewall policy. One of O(policy_name) and O(policy_arn) is required.
    type: str
  policy_arn:
    description: ARN of the firewall policy.
    type: str
  rule_group_name:
    description: Name of the stateful rule group. One of O(rule_group_name) and O(rule_group_arn) is required.
    type: str
  rule_group_arn:
    description: ARN of the stateful rule group.
    type: str
  state:
    description: V(present) adds or updates the reference, V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
  priority:
    description: Priority of the reference (1-65535) for a policy with strict rule order; not allowed otherwise.
    type: int
  override:
    description:
      - V(drop_to_alert) turns the group's drop actions into alerts; V(none) removes an override; omitted keeps
        what is there.
    type: str
    choices: [drop_to_alert, none]
notes:
  - Uses the network-firewall API actions DescribeFirewallPolicy, UpdateFirewallPolicy and DescribeRuleGroup.
extends_documentation_fragment:
  - calico_egress.aws.network_firewall.wait
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Let the inspection policy use the egress rule group
  calico_egress.aws.network_firewall_policy_rule_group:
    policy_name: inspection
    rule_group_name: calico-egress

- name: Strict-order policy, run our group first
  calico_egress.aws.network_firewall_policy_rule_group:
    policy_name: inspection-strict
    rule_group_name: calico-egress-strict
    priority: 10

- name: Detach the group
  calico_egress.aws.network_firewall_policy_rule_group:
    policy_name: inspection
    rule_group_name: calico-egress
    state: absent
"""

RETURN = r"""
reference:
  description: The reference after the run (what it would be, in check mode); null when absent.
  returned: always
  type: dict
  contains:
    resource_arn:
      description: ARN of the rule group.
      type: str
    priority:
      description: Priority (strict rule order only).
      type: int
    override:
      description: Override of the group's actions.
      type: dict
firewall_policy:
  description: The firewall policy's response data after the run, with its stateful references.
  returned: when the rule group exists
  type: dict
  contains:
    firewall_policy_arn:
      description: ARN of the policy.
      type: str
    firewall_policy_name:
      description: Name of the policy.
      type: str
    stateful_rule_group_references:
      description: All stateful rule group references of the policy.
      type: list
      elements: dict
    tags:
      description: Tags of the policy as a dict.
      type: dict
token_conflicts:
  description: How many times another writer changed the policy between our read and our write.
  returned: when the rule group exists
  type: int
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402

from ansible_collections.calico_egress.aws.plugins.module_utils.nfw_manager import ensure_policy_reference  # noqa: E402


def main():
    argument_spec = dict(
        policy_name=dict(type="str"),
        policy_arn=dict(type="str"),
        rule_group_name=dict(type="str"),
        rule_group_arn=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        priority=dict(type="int"),
        override=dict(type="str", choices=["drop_to_alert", "none"]),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=300),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_one_of=[["policy_name", "policy_arn"], ["rule_group_name", "rule_group_arn"]],
        mutually_exclusive=[["policy_name", "policy_arn"], ["rule_group_name", "rule_group_arn"]],
        supports_check_mode=True,
    )
    client = module.client("network-firewall")
    module.exit_json(**ensure_policy_reference(module, client))


if __name__ == "__main__":
    main()
