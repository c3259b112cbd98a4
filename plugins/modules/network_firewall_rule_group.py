#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: network_firewall_rule_group
short_description: Manage a stateful AWS Network Firewall rule group, exactly and beside other writers
version_added: 0.1.0
description:
  - Creates, updates and deletes a B(stateful) AWS Network Firewall rule group from 5-tuple O(rules) or
    Suricata O(suricata) text, with IP set and port set variables.
  - Compares rules in the normal form AWS stores (a C(sid:N) option becomes keyword C(sid) with setting C(N)),
    so a second run with the same input reports no change.
  - Every rule carries a C(sid); when O(rules[].sid) is omitted it is derived from the O(owner) and the rule's
    O(rules[].name) (or its 5-tuple), so it stays the same from run to run.
  - O(mode=exclusive) makes the group exactly O(rules). O(mode=merge) manages only the rules marked with our
    O(owner) (a C(metadata:owner <owner>) rule option) and keeps every other rule in place.
  - Updates use the group's update token. When another writer changed the group in between, AWS answers
    C(InvalidTokenException); the module then reads the group again, re-plans and retries (at most 5 times),
    so in merge mode nobody's rules are lost.
  - Capacity is fixed by AWS at creation. It is O(capacity) or, when omitted, twice the number of rules with a
    floor of 100. A change of O(capacity), or more rules than the capacity, is refused before any write.
  - Before each write the request is sent with C(DryRun) to let AWS validate it and compute the capacity.
  - Check mode returns the plan without any mutating call; diff mode shows the rules before and after.
  - Deleting (O(state=absent), O(mode=exclusive)) only happens for a group tagged C(calico_egress:owner=<owner>)
    and not referenced by any firewall policy.
author:
  - calico_egress.aws contributors (@calico-egress)
options:
  name:
    description: Name of the rule group (letters, digits and hyphens).
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the group (in merge mode, our rules in it).
      - V(absent) deletes the group (exclusive mode) or removes only our rules from it (merge mode).
    type: str
    choices: [present, absent]
    default: present
  rules:
    description:
      - 5-tuple stateful rules. Mutually exclusive with O(suricata).
      - Under O(rule_order=strict) they are evaluated in this order; under O(rule_order=default) AWS evaluates
        pass rules first, then drop, reject and alert rules, whatever the order here.
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - Name of the rule, stored as its C(msg) option and used to derive a stable sid.
        type: str
      sid:
        description:
          - Suricata signature id, unique in the group. Derived from O(owner) and the name (or the 5-tuple) when
            omitted.
        type: int
      action:
        description: What to do with matching traffic.
        type: str
        required: true
        choices: [pass, drop, alert, reject]
      protocol:
        description: Protocol, as AWS names it (C(ip) matches every protocol).
        type: str
        default: tcp
      source:
        description: Source CIDR block(s), IP address(es), C($VARIABLE) from O(ip_sets), or C(any). A list is allowed.
        type: raw
        default: any
      source_port:
        description: Source port(s), ranges C(low:high), C($VARIABLE) from O(port_sets), or C(any).
        type: raw
        default: any
      direction:
        description: V(forward) matches source to destination only; V(any) matches both directions.
        type: str
        choices: [forward, any]
        default: forward
      destination:
        description: Destination, in the same forms as O(rules[].source).
        type: raw
        default: any
      destination_port:
        description: Destination port(s), in the same forms as O(rules[].source_port).
        type: raw
        default: any
      options:
        description:
          - Further Suricata options, each C({keyword, settings}) or a string such as C(flow:to_server).
          - Do not give C(sid) here; use O(rules[].sid).
        type: list
        elements: raw
  suricata:
    description:
      - Suricata rules text (one rule per line, each with a sid). Mutually exclusive with O(rules).
      - Only with O(mode=exclusive).
    type: str
  ip_sets:
    description: IP set variables, name to list of CIDR blocks, usable as C($name) in rules.
    type: dict
  port_sets:
    description: Port set variables, name to list of ports or ranges, usable as C($name) in rules.
    type: dict
  rule_order:
    description:
      - V(default) is AWS's DEFAULT_ACTION_ORDER, V(strict) its STRICT_ORDER. It must match the rule order of the
        firewall policies that reference the group, and AWS cannot change it after creation.
    type: str
    choices: [default, strict]
    default: default
  capacity:
    description:
      - Capacity at creation (1-30000). AWS cannot change it later; a different value for an existing group
        is refused unless O(replace_on_capacity_change=true). Default is twice the number of rules, at least 100.
    type: int
  replace_on_capacity_change:
    description:
      - When O(capacity) differs from the group's, or the rules no longer fit, delete the group and create it again
        with the new capacity instead of failing.
      - Only for a group of ours (O(mode=exclusive)) that no firewall policy references (AWS refuses to delete a
        referenced group; detach it first with M(calico_egress.aws.network_firewall_policy_rule_group)).
    type: bool
    default: false
  mode:
    description:
      - V(exclusive) makes the group exactly what is given and requires the group to be ours (tag
        C(calico_egress:owner)).
      - V(merge) changes only the rules that carry our O(owner) mark, and the O(ip_sets)/O(port_sets) named here.
    type: str
    choices: [exclusive, merge]
    default: exclusive
  owner:
    description: Owner key marking our rules (rule option C(metadata:owner <owner>)) and our groups (tag).
    type: str
    default: calico_egress
  description:
    description: Description of the rule group.
    type: str
notes:
  - Only stateful rule groups are managed. The module uses the network-firewall API actions DescribeRuleGroup,
    CreateRuleGroup, UpdateRuleGroup, DeleteRuleGroup, TagResource and UntagResource.
  - The tag C(calico_egress:owner) is never removed by O(purge_tags).
extends_documentation_fragment:
  - calico_egress.aws.network_firewall.wait
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Only the egress gateway reaches the database (the blog's rule set)
  calico_egress.aws.network_firewall_rule_group:
    name: calico-egress
    rules:
      - name: egress gateway to database
        action: pass
        protocol: tcp
        source: 10.10.10.0/31
        destination: 10.2.0.10/32
        destination_port: 5432
      - name: everyone else to database
        action: drop
        protocol: ip
        destination: 10.2.0.10/32
    tags:
      team: platform

- name: Add our rules to a group shared with another team, keeping theirs
  calico_egress.aws.network_firewall_rule_group:
    name: shared-egress
    mode: merge
    owner: payments
    ip_sets:
      PAYMENTS_EGRESS: [10.10.20.0/31]
    rules:
      - name: payments to card vault
        action: pass
        source: $PAYMENTS_EGRESS
        destination: 10.3.0.0/24
        destination_port: [443, 8443]

- name: Suricata text
  calico_egress.aws.network_firewall_rule_group:
    name: from-suricata
    rule_order: strict
    suricata: |
      pass tcp 10.10.10.0/31 any -> 10.2.0.10 5432 (msg:"egress"; sid:1;)
      drop ip any any -> 10.2.0.10 any (sid:2;)

- name: Remove the group
  calico_egress.aws.network_firewall_rule_group:
    name: calico-egress
    state: absent
"""

RETURN = r"""
rule_group:
  description: The rule group after the run (before it, in check mode); empty when it does not exist.
  returned: always
  type: dict
  contains:
    rule_group_arn:
      description: ARN of the group.
      type: str
      sample: arn:aws:network-firewall:eu-west-1:123456789012:stateful-rulegroup/calico-egress
    rule_group_name:
      description: Name of the group.
      type: str
    capacity:
      description: Capacity fixed at creation.
      type: int
    consumed_capacity:
      description: Capacity the rules use.
      type: int
    number_of_associations:
      description: How many firewall policies reference the group.
      type: int
    rule_order:
      description: V(default) or V(strict).
      type: str
    rules:
      description: The 5-tuple rules in this module's input form (with C(sid), and C(owner) when marked).
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
    update_token:
      description: The group's current update token.
      type: str
plan:
  description: What the run did, or would do in check mode.
  returned: always
  type: dict
  contains:
    action:
      description: V(create), V(update), V(replace) (delete and create for a new capacity), V(delete) or V(none).
      type: str
    changes:
      description: Rule-level changes by sid, with C(added), C(removed) and C(changed) (each C(before)/C(after)).
      type: dict
    capacity:
      description: Capacity of the group (chosen one, for a creation).
      type: int
    needed_capacity:
      description: Capacity the rules need.
      type: int
    tags:
      description: Tags to C(set) and keys to C(unset).
      type: dict
token_conflicts:
  description: How many times another writer changed the group between our read and our write.
  returned: always
  type: int
  sample: 0
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402

from ansible_collections.calico_egress.aws.plugins.module_utils.nfw_manager import ensure_rule_group  # noqa: E402

RULE_SPEC = dict(
    name=dict(type="str"),
    sid=dict(type="int"),
    action=dict(type="str", required=True, choices=["pass", "drop", "alert", "reject"]),
    protocol=dict(type="str", default="tcp"),
    source=dict(type="raw", default="any"),
    source_port=dict(type="raw", default="any"),
    direction=dict(type="str", choices=["forward", "any"], default="forward"),
    destination=dict(type="raw", default="any"),
    destination_port=dict(type="raw", default="any"),
    options=dict(type="list", elements="raw"),
)


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        rules=dict(type="list", elements="dict", options=RULE_SPEC),
        suricata=dict(type="str"),
        ip_sets=dict(type="dict"),
        port_sets=dict(type="dict"),
        rule_order=dict(type="str", choices=["default", "strict"], default="default"),
        capacity=dict(type="int"),
        replace_on_capacity_change=dict(type="bool", default=False),
        mode=dict(type="str", choices=["exclusive", "merge"], default="exclusive"),
        owner=dict(type="str", default="calico_egress"),
        description=dict(type="str"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=300),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        mutually_exclusive=[["rules", "suricata"]],
        required_if=[["state", "present", ["rules", "suricata"], True]],
        supports_check_mode=True,
    )
    client = module.client("network-firewall")
    module.exit_json(**ensure_rule_group(module, client))


if __name__ == "__main__":
    main()
