#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: tgw_route_info
short_description: Search the routes of an AWS Transit Gateway route table
version_added: 0.1.0
description:
  - C(SearchTransitGatewayRoutes) with friendly options, e.g. to verify that the egress gateway pool was learned
    over BGP from a Connect attachment and propagated into the firewall route table.
  - Routes in state C(active) and C(blackhole) are returned unless O(states) says otherwise.
author:
  - calico_egress.aws maintainers (@calico-egress)
options:
  transit_gateway_route_table_id:
    description: The route table.
    type: str
    required: true
  prefix:
    description: Exact match on the destination CIDR.
    type: str
  longest_prefix_match:
    description: The route that would carry this CIDR.
    type: str
  subnet_of_match:
    description: Routes whose destination is a subnet of this CIDR.
    type: str
  supernet_of_match:
    description: Routes whose destination is a supernet of this CIDR.
    type: str
  transit_gateway_attachment_id:
    description: Routes through this attachment.
    type: str
  resource_id:
    description: Routes through the attachment of this resource (VPC id, ...).
    type: str
  attachment_type:
    description: Routes through attachments of this type.
    type: str
    choices: [vpc, vpn, direct-connect-gateway, peering, connect]
  route_type:
    description: Static or propagated routes only.
    type: str
    choices: [static, propagated]
  states:
    description: Route states to return.
    type: list
    elements: str
    default: [active, blackhole]
  filters:
    description: Any other C(SearchTransitGatewayRoutes) filter, name to value(s).
    type: dict
    default: {}
  max_results:
    description: At most this many routes (AWS returns up to 1000 and says whether more exist).
    type: int
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Egress pool learned over BGP, in the firewall route table
  calico_egress.aws.tgw_route_info:
    transit_gateway_route_table_id: tgw-rtb-0firewall000000000
    prefix: 10.10.10.0/31
    attachment_type: connect
    route_type: propagated
  register: pool_route

- name: Assert it is there
  ansible.builtin.assert:
    that: pool_route.routes | length > 0
"""

RETURN = r"""
routes:
  description: Matching routes, snake_case.
  returned: always
  type: list
  elements: dict
  contains:
    destination_cidr_block:
      description: Destination.
      type: str
      sample: 10.10.10.0/31
    type:
      description: static or propagated.
      type: str
      sample: propagated
    state:
      description: active or blackhole.
      type: str
      sample: active
    transit_gateway_attachments:
      description: Attachments carrying the route.
      type: list
      elements: dict
      sample: [{"resource_type": "connect", "transit_gateway_attachment_id": "tgw-attach-0fedcba9876543210"}]
additional_routes_available:
  description: Whether more routes matched than were returned.
  returned: always
  type: bool
  sample: false
"""

from ansible_collections.calico_egress.aws.plugins.module_utils.tgw_manager import run_route_info
from ansible_collections.calico_egress.aws.plugins.module_utils.tgw_module import run_tgw_module
from ansible_collections.calico_egress.aws.plugins.module_utils.tgw_routing import ATTACHMENT_TYPES


def main():
    argument_spec = dict(
        transit_gateway_route_table_id=dict(type="str", required=True),
        prefix=dict(type="str"),
        longest_prefix_match=dict(type="str"),
        subnet_of_match=dict(type="str"),
        supernet_of_match=dict(type="str"),
        transit_gateway_attachment_id=dict(type="str"),
        resource_id=dict(type="str"),
        attachment_type=dict(type="str", choices=list(ATTACHMENT_TYPES)),
        route_type=dict(type="str", choices=["static", "propagated"]),
        states=dict(type="list", elements="str", default=["active", "blackhole"]),
        filters=dict(type="dict", default={}),
        max_results=dict(type="int"),
    )
    run_tgw_module(
        argument_spec,
        run_route_info,
    )


if __name__ == "__main__":
    main()
