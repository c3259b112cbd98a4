#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: tgw_connect_peer_info
short_description: Read AWS Transit Gateway Connect peers with their BGP status
version_added: 0.1.0
description:
  - Lists Connect peers by id, by Connect attachment, by transit gateway, and/or by owning cluster
    (tag C(calico_egress.aws/cluster)), with each peer's BGP sessions and their status.
  - Peers in state C(deleting) or C(deleted) are left out unless O(include_deleted=true).
author:
  - calico_egress.aws maintainers (@calico-egress)
options:
  connect_peer_ids:
    description: Peer ids.
    type: list
    elements: str
    default: []
  transit_gateway_attachment_ids:
    description: Connect attachment ids.
    type: list
    elements: str
    default: []
  transit_gateway_id:
    description: Every peer of every Connect attachment of this transit gateway.
    type: str
  cluster:
    description: Only peers owned by this cluster (tag C(calico_egress.aws/cluster)).
    type: str
  include_deleted:
    description: Also return peers in state C(deleting) or C(deleted).
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: All peers of a cluster on a transit gateway
  calico_egress.aws.tgw_connect_peer_info:
    transit_gateway_id: tgw-0123456789abcdef0
    cluster: prod-eu
  register: info

- name: Fail unless every BGP session is up
  ansible.builtin.assert:
    that: info.connect_peers | map(attribute='bgp_peers') | flatten | rejectattr('bgp_status', 'eq', 'up') | list | length == 0
"""

RETURN = r"""
connect_peers:
  description: The peers, snake_case, tags as a dict, with C(bgp_peers).
  returned: always
  type: list
  elements: dict
  contains:
    transit_gateway_connect_peer_id:
      description: Peer id.
      type: str
      sample: tgw-connect-peer-0123456789abcdef0
    transit_gateway_attachment_id:
      description: Connect attachment id.
      type: str
      sample: tgw-attach-0fedcba9876543210
    state:
      description: Peer state.
      type: str
      sample: available
    creation_time:
      description: Creation time.
      type: str
      sample: "2026-01-01T00:00:00+00:00"
    connect_peer_configuration:
      description: GRE and BGP configuration, snake_case.
      type: dict
      sample: {"peer_address": "10.0.1.10", "transit_gateway_address": "10.99.0.1", "inside_cidr_blocks": ["169.254.6.0/29"]}
    bgp_peers:
      description: One entry per BGP session (TGW address, node address, ASNs, status).
      type: list
      elements: dict
      sample: [{"transit_gateway_address": "169.254.6.2", "peer_address": "169.254.6.1",
                "transit_gateway_asn": 64513, "peer_asn": 64512, "bgp_status": "up"}]
    tags:
      description: Tags.
      type: dict
      sample: {"calico_egress.aws/cluster": "prod-eu", "calico_egress.aws/node": "node-a"}
"""

from ansible_collections.calico_egress.aws.plugins.module_utils.connect_manager import ConnectPeerInfo
from ansible_collections.calico_egress.aws.plugins.module_utils.tgw_module import run_tgw_module


def main():
    argument_spec = dict(
        connect_peer_ids=dict(type="list", elements="str", default=[]),
        transit_gateway_attachment_ids=dict(type="list", elements="str", default=[]),
        transit_gateway_id=dict(type="str"),
        cluster=dict(type="str"),
        include_deleted=dict(type="bool", default=False),
    )
    run_tgw_module(
        argument_spec,
        lambda module, client: ConnectPeerInfo(module, client).run(),
    )


if __name__ == "__main__":
    main()
