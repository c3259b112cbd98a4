#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: tgw_attachment_routing
short_description: Route table association and propagations of one AWS Transit Gateway attachment
version_added: 0.1.0
description:
  - Ensures the transit gateway route table an attachment is associated with, and the route tables it propagates
    its routes to (for a Connect attachment, the prefixes learned over BGP from the nodes).
  - An attachment has at most one association. Moving it to another route table needs O(replace_association=true)
    (disassociate, then associate); otherwise the module fails naming the current one. AWS's
    C(Resource.AlreadyAssociated) is reported the same way.
  - Propagations not listed are kept unless O(purge_propagations=true).
author:
  - calico_egress.aws maintainers (@calico-egress)
options:
  transit_gateway_attachment_id:
    description: Any transit gateway attachment (VPC, Connect, ...).
    type: str
    required: true
  association:
    description: The route table to associate with. Omitted, the association is left as it is.
    type: str
  replace_association:
    description: Move an existing association to O(association).
    type: bool
    default: false
  propagations:
    description: Route tables the attachment propagates to. Omitted, propagations are left as they are.
    type: list
    elements: str
  purge_propagations:
    description: Disable propagation to route tables not in O(propagations).
    type: bool
    default: false
notes:
  - Supports C(check_mode) and C(diff).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Connect attachment associated with inspection-rt, propagating the egress pool into firewall-rt
  calico_egress.aws.tgw_attachment_routing:
    transit_gateway_attachment_id: tgw-attach-0fedcba9876543210
    association: tgw-rtb-0inspection00000000
    propagations:
      - tgw-rtb-0firewall000000000
"""

RETURN = r"""
transit_gateway_attachment_id:
  description: The attachment.
  returned: always
  type: str
  sample: tgw-attach-0fedcba9876543210
association:
  description: Route table associated after the run.
  returned: always
  type: str
  sample: tgw-rtb-0inspection00000000
propagations:
  description: Route tables propagated to after the run.
  returned: always
  type: list
  elements: str
  sample: ["tgw-rtb-0firewall000000000"]
plan:
  description: The calls made (or planned in check mode).
  returned: always
  type: dict
  sample: {"disassociate": null, "associate": "tgw-rtb-0inspection00000000", "enable": [], "disable": []}
"""

from ansible_collections.calico_egress.aws.plugins.module_utils.tgw_manager import run_attachment_routing
from ansible_collections.calico_egress.aws.plugins.module_utils.tgw_module import run_tgw_module


def main():
    argument_spec = dict(
        transit_gateway_attachment_id=dict(type="str", required=True),
        association=dict(type="str"),
        replace_association=dict(type="bool", default=False),
        propagations=dict(type="list", elements="str"),
        purge_propagations=dict(type="bool", default=False),
    )
    run_tgw_module(
        argument_spec,
        run_attachment_routing,
    )


if __name__ == "__main__":
    main()
