#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: tgw_cidr_block
short_description: Ensure a CIDR block is present on (or absent from) an AWS Transit Gateway
version_added: 0.1.0
description:
  - Transit gateway CIDR blocks provide the transit gateway side GRE addresses of Connect peers.
    M(amazon.aws.ec2_transit_gateway) cannot manage them; this module adds or removes one block with
    C(ModifyTransitGateway) and leaves the other blocks alone.
  - IPv4 blocks must be C(/24) or larger, IPv6 C(/64) or larger; at most 5 blocks per transit gateway; a new
    block must not overlap an existing one.
  - Removing a block that still holds a Connect peer's GRE address is refused (delete the peers first).
author:
  - calico_egress.aws maintainers (@calico-egress)
options:
  transit_gateway_id:
    description: The transit gateway.
    type: str
    required: true
  cidr_block:
    description: The CIDR block.
    type: str
    required: true
  state:
    description: Whether the block should be on the transit gateway.
    type: str
    choices: [present, absent]
    default: present
  keep_in_use:
    description:
      - With O(state=absent), a block that still holds a Connect peer's GRE address is left in place (changed
        false, the addresses in RV(kept_for_gre_addresses)) instead of failing the task.
      - For a shared transit gateway whose block other clusters may use.
    type: bool
    default: false
notes:
  - Supports C(check_mode) and C(diff).
extends_documentation_fragment:
  - calico_egress.aws.tgw.wait
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Give the transit gateway a block for Connect GRE addresses
  calico_egress.aws.tgw_cidr_block:
    transit_gateway_id: tgw-0123456789abcdef0
    cidr_block: 10.99.0.0/24

- name: Remove it once no Connect peer uses it
  calico_egress.aws.tgw_cidr_block:
    transit_gateway_id: tgw-0123456789abcdef0
    cidr_block: 10.99.0.0/24
    state: absent

- name: Remove it unless another cluster's Connect peers still use it
  calico_egress.aws.tgw_cidr_block:
    transit_gateway_id: tgw-0123456789abcdef0
    cidr_block: 10.99.0.0/24
    state: absent
    keep_in_use: true
"""

RETURN = r"""
transit_gateway_id:
  description: The transit gateway.
  returned: always
  type: str
  sample: tgw-0123456789abcdef0
transit_gateway_cidr_blocks:
  description: The transit gateway's CIDR blocks after the change (as planned in check mode).
  returned: always
  type: list
  elements: str
  sample: ["10.99.0.0/24"]
kept_for_gre_addresses:
  description: With O(state=absent) and O(keep_in_use), the GRE addresses that kept the block in place.
  returned: when O(state=absent)
  type: list
  elements: str
  sample: ["10.99.0.1"]
"""

from ansible_collections.calico_egress.aws.plugins.module_utils.tgw_manager import run_cidr_block
from ansible_collections.calico_egress.aws.plugins.module_utils.tgw_module import WAIT_ARGUMENT_SPEC, run_tgw_module


def main():
    argument_spec = dict(
        transit_gateway_id=dict(type="str", required=True),
        cidr_block=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        keep_in_use=dict(type="bool", default=False),
        **WAIT_ARGUMENT_SPEC,
    )
    run_tgw_module(
        argument_spec,
        run_cidr_block,
    )


if __name__ == "__main__":
    main()
