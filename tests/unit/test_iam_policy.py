"""docs/iam-policy.json covers every AWS action the collection's code calls (read from the source with botocore's
own method -> action mapping, per service); the module tests against the stand-in check the call log as well."""

import glob
import json
import os
import re

import boto3
import pytest

from ansible_collections.calico_egress.aws.plugins.module_utils import nfw_api, tgw_api

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
POLICY = os.path.join(ROOT, "docs", "iam-policy.json")


def policy_actions():
    with open(POLICY) as handle:
        policy = json.load(handle)
    actions = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        listed = statement["Action"]
        actions.update([listed] if isinstance(listed, str) else listed)
    return actions


def _source_calls():
    """(method or paginator name) -> file, for every `client.x(` and get_paginator / _paginate name in module_utils."""
    calls = {}
    for path in glob.glob(os.path.join(ROOT, "plugins", "module_utils", "*.py")):
        with open(path) as handle:
            text = handle.read()
        for name in re.findall(r"\bclient\.([a-z_]+)\(", text):
            calls[name] = os.path.basename(path)
        for name in re.findall(r"_paginate\(\s*client,\s*\"([a-z_]+)\"", text):
            calls[name] = os.path.basename(path)
        for name in re.findall(r"get_paginator\(\s*\"([a-z_]+)\"", text):
            calls[name] = os.path.basename(path)
    calls.pop("get_paginator", None)
    calls.pop("get_waiter", None)
    return calls


def test_no_wildcard_actions():
    assert not [a for a in policy_actions() if "*" in a]


# Services the collection talks to, with their IAM action prefix.
SERVICES = {"ec2": "ec2", "network-firewall": "network-firewall"}


def _iam_action(method):
    for service, prefix in SERVICES.items():
        client = boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        if method in client.meta.method_to_api_mapping:
            return "%s:%s" % (prefix, client.meta.method_to_api_mapping[method])
    raise AssertionError("%s is not a method of %s" % (method, ", ".join(SERVICES)))


@pytest.mark.parametrize("method", sorted(_source_calls()))
def test_every_call_in_the_code_is_allowed(method):
    assert _iam_action(method) in policy_actions()


def test_waiter_operations_are_allowed():
    for waiter in tgw_api._WAITER_MODEL["waiters"].values():
        assert "ec2:" + waiter["operation"] in policy_actions()
    for waiter in nfw_api.WAITERS["waiters"].values():
        assert "network-firewall:" + waiter["operation"] in policy_actions()
