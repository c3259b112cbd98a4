#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: tgw_connect
short_description: Manage one AWS Transit Gateway Connect attachment
version_added: 0.1.0
description:
  - Create or delete a Connect attachment (protocol GRE) on a transport VPC attachment.
  - The transport is O(transport_attachment_id), or looked up from O(transit_gateway_id) and O(vpc_id).
  - The Connect attachment is found by O(connect_attachment_id) or by its C(Name) tag (O(name)) on the transport.
  - Connect attachments have no modifiable settings; only tags are updated in place.
  - AWS refuses to delete an attachment that still has Connect peers. With O(delete_peers=true) the module deletes
    them first and waits until they are gone; otherwise it fails listing them.
author:
  - calico_egress.aws maintainers (@calico-egress)
options:
  state:
    description: Whether the attachment should exist.
    type: str
    choices: [present, absent]
    default: present
  connect_attachment_id:
    description: Id of an existing Connect attachment. One of O(connect_attachment_id) and O(name) is required.
    type: str
  name:
    description: The attachment's C(Name) tag.
    type: str
  transport_attachment_id:
    description: The transit gateway VPC attachment carrying the GRE traffic.
    type: str
  transit_gateway_id:
    description: With O(vpc_id), finds the transport attachment.
    type: str
  vpc_id:
    description: With O(transit_gateway_id), finds the transport attachment.
    type: str
  delete_peers:
    description: With O(state=absent), delete the attachment's Connect peers first.
    type: bool
    default: false
notes:
  - Supports C(check_mode) and C(diff).
extends_documentation_fragment:
  - calico_egress.aws.tgw.wait
  - calico_egress.aws.tgw.tags
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Connect attachment on the cluster VPC's attachment
  calico_egress.aws.tgw_connect:
    name: prod-eu-connect
    transit_gateway_id: tgw-0123456789abcdef0
    vpc_id: vpc-0123456789abcdef0
  register: connect

- name: Delete it with its peers
  calico_egress.aws.tgw_connect:
    connect_attachment_id: "{{ connect.connect_attachment.transit_gateway_attachment_id }}"
    delete_peers: true
    state: absent
"""

RETURN = r"""
connect_attachment:
  description: The Connect attachment, snake_case (empty after deletion; C(state=planned) in check mode on creation).
  returned: always
  type: dict
  contains:
    transit_gateway_attachment_id:
      description: Connect attachment id.
      type: str
      sample: tgw-attach-0fedcba9876543210
    transport_transit_gateway_attachment_id:
      description: Transport attachment id.
      type: str
      sample: tgw-attach-0123456789abcdef0
    transit_gateway_id:
      description: Transit gateway id.
      type: str
      sample: tgw-0123456789abcdef0
    state:
      description: Attachment state.
      type: str
      sample: available
    options:
      description: Options (protocol).
      type: dict
      sample: {"protocol": "gre"}
    tags:
      description: Tags.
      type: dict
      sample: {"Name": "prod-eu-connect"}
deleted_connect_peers:
  description: Peers deleted (or to delete, in check mode) before the attachment.
  returned: when O(state=absent)
  type: list
  elements: str
  sample: ["tgw-connect-peer-0123456789abcdef0"]
"""

from ansible_collections.calico_egress.aws.plugins.module_utils.connect_manager import ConnectAttachmentManager
from ansible_collections.calico_egress.aws.plugins.module_utils.tgw_module import (
    TAGS_ARGUMENT_SPEC,
    WAIT_ARGUMENT_SPEC,
    run_tgw_module,
)


def main():
    argument_spec = dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        connect_attachment_id=dict(type="str"),
        name=dict(type="str"),
        transport_attachment_id=dict(type="str"),
        transit_gateway_id=dict(type="str"),
        vpc_id=dict(type="str"),
        delete_peers=dict(type="bool", default=False),
        **TAGS_ARGUMENT_SPEC,
        **WAIT_ARGUMENT_SPEC,
    )
    run_tgw_module(
        argument_spec,
        lambda module, client: ConnectAttachmentManager(module, client).run(),
        required_one_of=[("connect_attachment_id", "name")],
        required_together=[("transit_gateway_id", "vpc_id")],
        mutually_exclusive=[("transport_attachment_id", "vpc_id")],
    )


if __name__ == "__main__":
    main()
