# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every transit gateway module does around its runner: the AnsibleAWSModule, the EC2 client, and the two
kinds of failure (bad input naming the field, AWS errors carrying the code)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

WAIT_ARGUMENT_SPEC = {
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "int", "default": 600},
}
TAGS_ARGUMENT_SPEC = {
    "tags": {"type": "dict", "aliases": ["resource_tags"]},
    "purge_tags": {"type": "bool", "default": False},
}


def run_tgw_module(argument_spec, runner, **module_options):
    """Build the module, call runner(module, ec2_client) -> result dict, exit or fail.

    Every ValueError raised by the pure logic (PlanningError, RoutingError, AddressingError) is bad input and
    names the field; it is raised before any AWS write.
    """
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True, **module_options)
    client = module.client("ec2")
    try:
        module.exit_json(**runner(module, client))
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    except AnsibleAWSError as exc:
        module.fail_json_aws_error(exc)
