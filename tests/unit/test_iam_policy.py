"""docs/iam-policy.json covers every EC2 action the collection's code calls (read from the source with botocore's
own method -> action mapping); the module tests against the stand-in check the call log as well."""

import glob
import json
import os
import re

import boto3
import pytest

from ansible_collections.calico_egress.aws.plugins.module_utils import tgw_api

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
    calls.pop("get_paginator", None)
    return calls


def test_no_wildcard_actions():
    assert not [a for a in policy_actions() if "*" in a]


@pytest.mark.parametrize("method", sorted(_source_calls()))
def test_every_ec2_call_in_the_code_is_allowed(method):
    client = boto3.client("ec2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    action = client.meta.method_to_api_mapping[method]
    assert "ec2:" + action in policy_actions()


def test_waiter_operations_are_allowed():
    for waiter in tgw_api._WAITER_MODEL["waiters"].values():
        assert "ec2:" + waiter["operation"] in policy_actions()
