#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: tgw_connect_peers
short_description: Keep one cluster's Transit Gateway Connect peers in step with its nodes
version_added: 0.1.0
description:
  - Cluster-level reconcile of AWS Transit Gateway Connect peers (GRE + BGP), one peer per node.
  - Reads every Connect attachment and peer of the transit gateway (all clusters) with a few paginated calls,
    computes a plan (peers and Connect attachments to create or delete, and why), then applies it.
  - Each node keeps its inside C(/29) across runs. New C(/29)s are allocated around every peer already on the
    transit gateway, other clusters' included, and never from the blocks AWS reserves.
  - Connect attachments are created on O(transport_attachment_id) as needed, O(peers_per_attachment) peers each
    (AWS allows 4).
  - Ownership is the tag C(calico_egress.aws/cluster=<cluster>) (and C(calico_egress.aws/node=<node name>) on
    peers). Peers and attachments without that tag value are never modified or deleted.
  - All missing peers are created first, then waited for together (one describe call per poll).
  - Connect peers are immutable in AWS. A node whose address (or requested inside CIDR) changed fails with the
    list of differences unless O(replace=true); its peer is then deleted and re-created with the same C(/29).
  - In check mode no AWS write is made; the result holds the plan and the peers as they would be.
author:
  - calico_egress.aws maintainers (@calico-egress)
options:
  cluster:
    description:
      - Name of the cluster; the value of the ownership tag C(calico_egress.aws/cluster).
    type: str
    required: true
  nodes:
    description:
      - The nodes that must each have a Connect peer. An empty list with O(purge=true) deletes every owned peer.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Node name (Kubernetes node name); key of the returned RV(peers).
        type: str
        required: true
      address:
        description: The node's IPv4 address, the GRE outer address on the node side (Connect peer address).
        type: str
        required: true
      inside_cidr:
        description:
          - Inside C(/29) for this node. Allocated when omitted. Must not overlap any other peer of the transit
            gateway nor be one of the AWS-reserved blocks.
        type: str
  transit_gateway_id:
    description: The transit gateway.
    type: str
    required: true
  transport_attachment_id:
    description:
      - The transit gateway VPC attachment of the cluster's VPC, on which Connect attachments are created.
    type: str
    required: true
  peer_asn:
    description:
      - The nodes' BGP ASN (Calico's). Must differ from the transit gateway ASN unless O(allow_ibgp=true).
    type: int
    required: true
  allow_ibgp:
    description:
      - Accept O(peer_asn) equal to the transit gateway ASN (iBGP). The transit gateway does not install routes with
        an empty AS_PATH, so Calico's routes would never be used; only for special designs.
    type: bool
    default: false
  peers_per_attachment:
    description: How many peers to place on one Connect attachment (1-4).
    type: int
    default: 4
  purge:
    description:
      - Delete owned peers of nodes no longer listed, and owned Connect attachments left empty.
    type: bool
    default: true
  replace:
    description:
      - Delete and re-create a peer whose immutable settings differ from the wanted ones (node address changed).
    type: bool
    default: false
  inside_cidr_pool:
    description:
      - The part of C(169.254.0.0/16) to allocate inside C(/29)s from (give each cluster its own slice to avoid races).
    type: str
    default: 169.254.0.0/16
  tags:
    description:
      - Extra tags for the peers and attachments created. C(Name) defaults to C(<cluster>-<node>); the ownership
        tags are always set.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags of owned peers that are neither in O(tags) nor ownership tags.
    type: bool
    default: false
  wait:
    description: Wait until created peers are C(available) and deleted objects are gone.
    type: bool
    default: true
  wait_timeout:
    description: How long to wait, in seconds, for each group of objects.
    type: int
    default: 600
notes:
  - Each new peer gets its own transit gateway GRE address (the first free one of the TGW CIDR blocks, as AWS would
    pick), so a C(/24) block serves 254 peers; add a block or use a larger one for more.
  - A converged run makes three read calls (transit gateway, Connect attachments, Connect peers) and no write.
  - New Connect attachments are always waited for (peers can only be created on available attachments), and
    deleted peers are waited for when their attachment must be deleted or their C(/29) reused.
  - Supports C(check_mode) and C(diff).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: One Connect peer per tunnel node, /29s kept across runs
  calico_egress.aws.tgw_connect_peers:
    cluster: prod-eu
    transit_gateway_id: tgw-0123456789abcdef0
    transport_attachment_id: tgw-attach-0123456789abcdef0
    peer_asn: 64512
    nodes:
      - name: ip-10-0-1-10.eu-west-1.compute.internal
        address: 10.0.1.10
      - name: ip-10-0-2-20.eu-west-1.compute.internal
        address: 10.0.2.20
  register: connect

- name: Show the node side of the first tunnel
  ansible.builtin.debug:
    msg: "{{ connect.peers['ip-10-0-1-10.eu-west-1.compute.internal'].node_inside_address }}"

- name: Node IPs changed in the autoscaling group - re-create their peers, keep their /29s
  calico_egress.aws.tgw_connect_peers:
    cluster: prod-eu
    transit_gateway_id: tgw-0123456789abcdef0
    transport_attachment_id: tgw-attach-0123456789abcdef0
    peer_asn: 64512
    replace: true
    nodes: "{{ egress_nodes }}"  # [{name: ..., address: ...}], e.g. built from an inventory group
  check_mode: true  # show the plan first
"""

RETURN = r"""
peers:
  description: The cluster's peers keyed by node name (planned values in check mode, peer_id null for new ones).
  returned: always
  type: dict
  contains:
    name:
      description: Node name.
      type: str
      sample: ip-10-0-1-10.eu-west-1.compute.internal
    cluster:
      description: Owning cluster (tag).
      type: str
      sample: prod-eu
    peer_id:
      description: Connect peer id.
      type: str
      sample: tgw-connect-peer-0123456789abcdef0
    attachment_id:
      description: Connect attachment id (C(new-N) for an attachment planned in check mode).
      type: str
      sample: tgw-attach-0fedcba9876543210
    state:
      description: Peer state (C(planned) in check mode for new peers).
      type: str
      sample: available
    inside_cidr:
      description: Inside IPv4 C(/29).
      type: str
      sample: 169.254.6.0/29
    inside_cidr_ipv6:
      description: Inside IPv6 C(/125) if any.
      type: str
      sample: null
    node_inside_address:
      description: The node's BGP address with prefix length (C(.1/29)), for the GRE interface.
      type: str
      sample: 169.254.6.1/29
    tgw_inside_addresses:
      description: The transit gateway's two BGP addresses (C(.2), C(.3)).
      type: list
      elements: str
      sample: [169.254.6.2, 169.254.6.3]
    tgw_gre_address:
      description: GRE outer address on the transit gateway side (from a TGW CIDR block).
      type: str
      sample: 10.99.0.1
    node_gre_address:
      description: GRE outer address on the node side.
      type: str
      sample: 10.0.1.10
    tgw_asn:
      description: Transit gateway ASN.
      type: int
      sample: 64513
    peer_asn:
      description: Node ASN.
      type: int
      sample: 64512
    bgp_status:
      description: BGP session status per transit gateway inside address.
      type: dict
      sample: {"169.254.6.2": "up", "169.254.6.3": "down"}
    tags:
      description: Tags of the peer.
      type: dict
      sample: {"calico_egress.aws/cluster": "prod-eu"}
plan:
  description: What was (or, in check mode, would be) done, and why.
  returned: always
  type: dict
  contains:
    create_attachments:
      description: Connect attachments to create, with the nodes placed on each.
      type: list
      elements: dict
    delete_attachments:
      description: Owned Connect attachments left empty, deleted.
      type: list
      elements: dict
    create_peers:
      description: Peers to create (node, attachment, inside CIDR, addresses, reason).
      type: list
      elements: dict
    delete_peers:
      description: Peers to delete (id, node, reason).
      type: list
      elements: dict
    keep_peers:
      description: Nodes whose peer is kept as is.
      type: list
      elements: str
    retag_peers:
      description: Kept peers whose tags change.
      type: list
      elements: dict
  sample: {"create_attachments": [], "delete_attachments": [], "create_peers": [], "delete_peers": [],
           "keep_peers": ["node-a"], "retag_peers": []}
transit_gateway_asn:
  description: The transit gateway's ASN.
  returned: always
  type: int
  sample: 64513
"""

from ansible_collections.calico_egress.aws.plugins.module_utils.connect_manager import ConnectPeersManager
from ansible_collections.calico_egress.aws.plugins.module_utils.tgw_module import (
    TAGS_ARGUMENT_SPEC,
    WAIT_ARGUMENT_SPEC,
    run_tgw_module,
)


def main():
    argument_spec = dict(
        cluster=dict(type="str", required=True),
        nodes=dict(
            type="list",
            elements="dict",
            required=True,
            options=dict(
                name=dict(type="str", required=True),
                address=dict(type="str", required=True),
                inside_cidr=dict(type="str"),
            ),
        ),
        transit_gateway_id=dict(type="str", required=True),
        transport_attachment_id=dict(type="str", required=True),
        peer_asn=dict(type="int", required=True),
        allow_ibgp=dict(type="bool", default=False),
        peers_per_attachment=dict(type="int", default=4),
        purge=dict(type="bool", default=True),
        replace=dict(type="bool", default=False),
        inside_cidr_pool=dict(type="str", default="169.254.0.0/16"),
        **TAGS_ARGUMENT_SPEC,
        **WAIT_ARGUMENT_SPEC,
    )
    run_tgw_module(
        argument_spec,
        lambda module, client: ConnectPeersManager(module, client).run(),
    )


if __name__ == "__main__":
    main()
