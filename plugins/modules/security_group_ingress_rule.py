#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: security_group_ingress_rule
short_description: Ensure one IPv4 ingress rule of a security group is present or absent, leaving every other rule alone
version_added: 0.1.0
description:
  - Adds, re-describes or removes B(one) ingress rule (O(protocol), O(cidr_ip), ports for tcp/udp/icmp) of an
    existing security group, for example GRE (IP protocol 47) from the transit gateway CIDR block to the nodes.
  - M(amazon.aws.ec2_security_group) adds such a rule with C(purge_rules=false) but removes one only by restating
    every other rule of the group; this module removes exactly one.
  - With O(state=absent) and O(description), the rule is removed only when its description is exactly
    O(description), so a rule with the same source written (or taken over) by someone else stays.
author:
  - calico_egress.aws maintainers (@calico-egress)
options:
  group_id:
    description: The security group.
    type: str
    required: true
  protocol:
    description: Protocol name (V(tcp), V(udp), V(icmp), V(gre), V(all)) or IP protocol number.
    type: str
    required: true
  cidr_ip:
    description: IPv4 source CIDR block.
    type: str
    required: true
  from_port:
    description: First port (ICMP type); required for tcp, udp and icmp, not allowed otherwise.
    type: int
  to_port:
    description: Last port (ICMP code); required for tcp, udp and icmp, not allowed otherwise.
    type: int
  description:
    description: Description of the rule; with O(state=absent) only a rule with this description is removed.
    type: str
  state:
    description: Whether the rule should be in the group.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Supports C(check_mode) (no mutating call) and C(diff).
  - Uses the EC2 API actions DescribeSecurityGroups, AuthorizeSecurityGroupIngress,
    UpdateSecurityGroupRuleDescriptionsIngress and RevokeSecurityGroupIngress.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Allow GRE from the transit gateway CIDR block
  calico_egress.aws.security_group_ingress_rule:
    group_id: sg-0123456789abcdef0
    protocol: gre
    cidr_ip: 10.99.0.0/24
    description: GRE from the transit gateway (Connect peers of blue)

- name: Remove that rule again, only if it still carries our description
  calico_egress.aws.security_group_ingress_rule:
    group_id: sg-0123456789abcdef0
    protocol: gre
    cidr_ip: 10.99.0.0/24
    description: GRE from the transit gateway (Connect peers of blue)
    state: absent
"""

RETURN = r"""
group_id:
  description: The security group.
  returned: always
  type: str
  sample: sg-0123456789abcdef0
action:
  description: V(authorize), V(describe) (description changed), V(revoke) or null when nothing changes.
  returned: always
  type: str
  sample: revoke
rule:
  description: The rule after the run (null when absent).
  returned: always
  type: dict
  contains:
    protocol:
      description: IP protocol number as a string (V(-1) for all).
      type: str
      sample: "47"
    cidr_ip:
      description: Source CIDR block, normalised.
      type: str
      sample: 10.99.0.0/24
    from_port:
      description: First port (tcp, udp, icmp), else null.
      type: int
    to_port:
      description: Last port (tcp, udp, icmp), else null.
      type: int
    description:
      description: Description of the rule.
      type: str
"""

from ansible_collections.calico_egress.aws.plugins.module_utils.tgw_manager import run_security_group_ingress_rule
from ansible_collections.calico_egress.aws.plugins.module_utils.tgw_module import run_tgw_module


def main():
    argument_spec = dict(
        group_id=dict(type="str", required=True),
        protocol=dict(type="str", required=True),
        cidr_ip=dict(type="str", required=True),
        from_port=dict(type="int"),
        to_port=dict(type="int"),
        description=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    run_tgw_module(argument_spec, run_security_group_ingress_rule)


if __name__ == "__main__":
    main()
