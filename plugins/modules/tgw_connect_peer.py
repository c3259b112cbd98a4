#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: tgw_connect_peer
short_description: Manage one AWS Transit Gateway Connect peer (GRE tunnel + two BGP sessions)
version_added: 0.1.0
description:
  - Create or delete one Connect peer on a Connect attachment.
  - The peer is found by O(connect_peer_id), or by its C(Name) tag (O(name)) on O(transit_gateway_attachment_id).
  - O(inside_cidr) is allocated when omitted (the lowest C(/29) of O(inside_cidr_pool) not used by any peer of the
    transit gateway); O(transit_gateway_address) is the first free address of the transit gateway CIDR blocks when
    omitted.
  - Connect peers are immutable in AWS. When an existing peer differs from the options, the module fails with the
    list of differences, unless O(replace=true) (then the peer is deleted and re-created). Tags are updated in place.
  - For many nodes of a cluster use M(calico_egress.aws.tgw_connect_peers), which also manages the attachments.
author:
  - calico_egress.aws maintainers (@calico-egress)
options:
  state:
    description: Whether the peer should exist.
    type: str
    choices: [present, absent]
    default: present
  connect_peer_id:
    description: Id of an existing peer. One of O(connect_peer_id) and O(name) is required.
    type: str
  name:
    description: The peer's C(Name) tag; identifies the peer on O(transit_gateway_attachment_id).
    type: str
  transit_gateway_attachment_id:
    description: The Connect attachment (not the transport VPC attachment). Required to create a peer.
    type: str
  peer_address:
    description: The appliance's (node's) IPv4 GRE outer address. Required with O(state=present).
    type: str
  transit_gateway_address:
    description: GRE outer address on the transit gateway side; must lie inside one of its CIDR blocks.
    type: str
  inside_cidr:
    description: Inside IPv4 C(/29) in C(169.254.0.0/16), not reserved, unique on the transit gateway.
    type: str
  inside_cidr_ipv6:
    description: Optional inside IPv6 C(/125) in C(fd00::/8).
    type: str
  inside_cidr_pool:
    description: Where O(inside_cidr) is allocated from when omitted.
    type: str
    default: 169.254.0.0/16
  peer_asn:
    description:
      - The appliance's BGP ASN. Refused when equal to the transit gateway ASN unless O(allow_ibgp=true) (the
        transit gateway does not install iBGP routes with an empty AS_PATH). AWS defaults it to the TGW ASN.
    type: int
  allow_ibgp:
    description: Accept O(peer_asn) equal to the transit gateway ASN.
    type: bool
    default: false
  replace:
    description: Delete and re-create the peer when an immutable setting differs.
    type: bool
    default: false
notes:
  - Supports C(check_mode) (no AWS write) and C(diff).
extends_documentation_fragment:
  - calico_egress.aws.tgw.wait
  - calico_egress.aws.tgw.tags
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Connect peer for one appliance, inside /29 and TGW address chosen for us
  calico_egress.aws.tgw_connect_peer:
    name: node-a
    transit_gateway_attachment_id: tgw-attach-0fedcba9876543210
    peer_address: 10.0.1.10
    peer_asn: 64512
  register: peer

- name: Explicit addressing
  calico_egress.aws.tgw_connect_peer:
    name: node-b
    transit_gateway_attachment_id: tgw-attach-0fedcba9876543210
    peer_address: 10.0.1.11
    inside_cidr: 169.254.6.0/29
    transit_gateway_address: 10.99.0.10
    peer_asn: 64512

- name: The node moved to another IP - re-create its peer
  calico_egress.aws.tgw_connect_peer:
    name: node-b
    transit_gateway_attachment_id: tgw-attach-0fedcba9876543210
    peer_address: 10.0.2.11
    peer_asn: 64512
    replace: true

- name: Delete it
  calico_egress.aws.tgw_connect_peer:
    connect_peer_id: "{{ peer.connect_peer.transit_gateway_connect_peer_id }}"
    state: absent
"""

RETURN = r"""
connect_peer:
  description: The peer (empty after deletion). In check mode, the planned values with C(state=planned).
  returned: always
  type: dict
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
      description: pending, available, deleting, deleted (planned in check mode).
      type: str
      sample: available
    connect_peer_configuration:
      description: GRE and BGP configuration as AWS returns it, snake_case.
      type: dict
      sample: {"peer_address": "10.0.1.10", "transit_gateway_address": "10.99.0.1",
               "inside_cidr_blocks": ["169.254.6.0/29"], "protocol": "gre"}
    bgp_peers:
      description: One entry per BGP session.
      type: list
      elements: dict
      sample: [{"transit_gateway_address": "169.254.6.2", "peer_address": "169.254.6.1",
                "transit_gateway_asn": 64513, "peer_asn": 64512, "bgp_status": "down"}]
    tags:
      description: Tags.
      type: dict
      sample: {"Name": "node-a"}
differences:
  description: Immutable settings that differ from the existing peer, each as C(field -> current -> wanted) text.
  returned: when the peer existed
  type: list
  elements: str
  sample: ["peer_address: 10.0.1.10 -> 10.0.2.10"]
"""

from ansible_collections.calico_egress.aws.plugins.module_utils.connect_manager import ConnectPeerManager
from ansible_collections.calico_egress.aws.plugins.module_utils.tgw_module import (
    TAGS_ARGUMENT_SPEC,
    WAIT_ARGUMENT_SPEC,
    run_tgw_module,
)


def main():
    argument_spec = dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        connect_peer_id=dict(type="str"),
        name=dict(type="str"),
        transit_gateway_attachment_id=dict(type="str"),
        peer_address=dict(type="str"),
        transit_gateway_address=dict(type="str"),
        inside_cidr=dict(type="str"),
        inside_cidr_ipv6=dict(type="str"),
        inside_cidr_pool=dict(type="str", default="169.254.0.0/16"),
        peer_asn=dict(type="int"),
        allow_ibgp=dict(type="bool", default=False),
        replace=dict(type="bool", default=False),
        **TAGS_ARGUMENT_SPEC,
        **WAIT_ARGUMENT_SPEC,
    )
    run_tgw_module(
        argument_spec,
        lambda module, client: ConnectPeerManager(module, client).run(),
        required_one_of=[("connect_peer_id", "name")],
        required_by={"name": "transit_gateway_attachment_id"},
        required_if=[("state", "present", ["peer_address"])],
    )


if __name__ == "__main__":
    main()
