# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thin wrappers around the boto3 network-firewall calls this collection makes (retry + error naming the action).

No decisions here: planning lives in nfw_rules.py and nfw_policy.py. Throttling is retried with jittered
backoff; InvalidTokenException is NOT retried here (the caller must re-read and re-plan, see
with_token_retry).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from botocore.waiter import WaiterModel, create_waiter_with_client
except ImportError:  # AnsibleAWSModule reports the missing library
    WaiterModel = create_waiter_with_client = None

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

RETRY = AWSRetry.jittered_backoff(retries=10, catch_extra_error_codes=["ThrottlingException", "InternalServerError"])
TOKEN_ERROR = "InvalidTokenException"
WAITER_DELAY = 5

WAITERS = {
    "version": 2,
    "waiters": {
        "RuleGroupActive": {
            "operation": "DescribeRuleGroup",
            "delay": WAITER_DELAY,
            "maxAttempts": 60,
            "acceptors": [
                {"matcher": "path", "argument": "RuleGroupResponse.RuleGroupStatus", "expected": "ACTIVE", "state": "success"},
                {"matcher": "path", "argument": "RuleGroupResponse.RuleGroupStatus", "expected": "ERROR", "state": "failure"},
            ],
        },
        "RuleGroupDeleted": {
            "operation": "DescribeRuleGroup",
            "delay": WAITER_DELAY,
            "maxAttempts": 60,
            "acceptors": [
                {"matcher": "error", "expected": "ResourceNotFoundException", "state": "success"},
                {"matcher": "path", "argument": "RuleGroupResponse.RuleGroupStatus", "expected": "DELETING", "state": "retry"},
            ],
        },
    },
}


class NetworkFirewallErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleAWSError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("ResourceNotFoundException")


def is_token_error(error):
    cause = getattr(error, "exception", None) or error
    response = getattr(cause, "response", None) or {}
    return response.get("Error", {}).get("Code") == TOKEN_ERROR


@NetworkFirewallErrorHandler.list_error_handler("describe rule group")
@RETRY
def describe_rule_group(client, name):
    return client.describe_rule_group(RuleGroupName=name, Type="STATEFUL")


@NetworkFirewallErrorHandler.list_error_handler("describe rule group")
@RETRY
def describe_rule_group_by_arn(client, arn):
    return client.describe_rule_group(RuleGroupArn=arn)


@NetworkFirewallErrorHandler.common_error_handler("create rule group")
@RETRY
def create_rule_group(client, **params):
    return client.create_rule_group(**params)


@NetworkFirewallErrorHandler.common_error_handler("update rule group")
@RETRY
def update_rule_group(client, **params):
    return client.update_rule_group(**params)


@NetworkFirewallErrorHandler.deletion_error_handler("delete rule group")
@RETRY
def delete_rule_group(client, arn):
    return client.delete_rule_group(RuleGroupArn=arn)


@NetworkFirewallErrorHandler.common_error_handler("list rule groups")
@RETRY
def list_rule_groups(client):
    paginator = client.get_paginator("list_rule_groups")
    return paginator.paginate(Scope="ACCOUNT", Type="STATEFUL").build_full_result().get("RuleGroups", [])


@NetworkFirewallErrorHandler.list_error_handler("describe firewall policy")
@RETRY
def describe_firewall_policy(client, name=None, arn=None):
    return client.describe_firewall_policy(**({"FirewallPolicyArn": arn} if arn else {"FirewallPolicyName": name}))


@NetworkFirewallErrorHandler.common_error_handler("update firewall policy")
@RETRY
def update_firewall_policy(client, **params):
    return client.update_firewall_policy(**params)


@NetworkFirewallErrorHandler.common_error_handler("list firewall policies")
@RETRY
def list_firewall_policies(client):
    paginator = client.get_paginator("list_firewall_policies")
    return paginator.paginate().build_full_result().get("FirewallPolicies", [])


@NetworkFirewallErrorHandler.common_error_handler("tag rule group")
@RETRY
def tag_resource(client, arn, tags):
    return client.tag_resource(ResourceArn=arn, Tags=tags)


@NetworkFirewallErrorHandler.common_error_handler("untag rule group")
@RETRY
def untag_resource(client, arn, keys):
    return client.untag_resource(ResourceArn=arn, TagKeys=keys)


@NetworkFirewallErrorHandler.common_error_handler("wait for rule group")
def wait_rule_group(client, arn, waiter_name, timeout):
    waiter = create_waiter_with_client(waiter_name, WaiterModel(WAITERS), client)
    waiter.wait(RuleGroupArn=arn, WaiterConfig={"Delay": WAITER_DELAY, "MaxAttempts": max(1, timeout // WAITER_DELAY)})


@NetworkFirewallErrorHandler.common_error_handler("wait for firewall policy")
def wait_policy_active(client, arn, timeout):
    client.get_waiter("firewall_policy_active").wait(
        FirewallPolicyArn=arn, WaiterConfig={"Delay": WAITER_DELAY, "MaxAttempts": max(1, timeout // WAITER_DELAY)}
    )


def with_token_retry(attempt, max_attempts):
    """Run attempt() until it does not hit a stale UpdateToken; each attempt re-reads and re-plans.

    Returns (result, number of token conflicts). Re-raises the last token error after max_attempts.
    """
    conflicts = 0
    while True:
        try:
            return attempt(), conflicts
        except AnsibleAWSError as error:
            if not is_token_error(error) or conflicts + 1 >= max_attempts:
                raise
            conflicts += 1
