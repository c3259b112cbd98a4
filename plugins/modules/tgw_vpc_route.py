#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: tgw_vpc_route
short_description: Ensure one VPC route to a transit gateway is present or absent, leaving every other route alone
version_added: 0.1.0
description:
  - Adds or removes B(one) route C(destination_cidr_block -> transit_gateway_id) in a VPC route table, for example
    the route from the nodes' VPC to the transit gateway CIDR block that carries the Connect GRE tunnels.
  - Only a route to exactly this destination B(and) this transit gateway is the module's. A route to the same
    destination with another target is never replaced (V(present) fails naming it) nor deleted (V(absent) leaves it).
  - M(amazon.aws.ec2_vpc_route_table) can add such a route with C(purge_routes=false) but can remove one only by
    listing every other route of the table; this module removes exactly one.
author:
  - calico_egress.aws maintainers (@calico-egress)
options:
  route_table_id:
    description: The VPC route table.
    type: str
    required: true
  destination_cidr_block:
    description: IPv4 destination of the route.
    type: str
    required: true
  transit_gateway_id:
    description: The transit gateway the route points to.
    type: str
    required: true
  state:
    description: Whether the route should be in the table.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Supports C(check_mode) (no mutating call) and C(diff).
  - Uses the EC2 API actions DescribeRouteTables, CreateRoute and DeleteRoute.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Route the TGW CIDR block to the transit gateway
  calico_egress.aws.tgw_vpc_route:
    route_table_id: rtb-0123456789abcdef0
    destination_cidr_block: 10.99.0.0/24
    transit_gateway_id: tgw-0123456789abcdef0

- name: Remove that route again (a route to the same block via another target stays)
  calico_egress.aws.tgw_vpc_route:
    route_table_id: rtb-0123456789abcdef0
    destination_cidr_block: 10.99.0.0/24
    transit_gateway_id: tgw-0123456789abcdef0
    state: absent
"""

RETURN = r"""
route_table_id:
  description: The route table.
  returned: always
  type: str
  sample: rtb-0123456789abcdef0
action:
  description: V(create), V(delete) or null when nothing changes (what would be done, in check mode).
  returned: always
  type: str
  sample: delete
route:
  description: The route after the run (null when absent).
  returned: always
  type: dict
  contains:
    destination_cidr_block:
      description: Destination, normalised.
      type: str
      sample: 10.99.0.0/24
    transit_gateway_id:
      description: Target transit gateway.
      type: str
      sample: tgw-0123456789abcdef0
"""

from ansible_collections.calico_egress.aws.plugins.module_utils.tgw_manager import run_vpc_route
from ansible_collections.calico_egress.aws.plugins.module_utils.tgw_module import run_tgw_module


def main():
    argument_spec = dict(
        route_table_id=dict(type="str", required=True),
        destination_cidr_block=dict(type="str", required=True),
        transit_gateway_id=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    run_tgw_module(argument_spec, run_vpc_route)


if __name__ == "__main__":
    main()
