"""Module and role tests against the AWS stand-in (lab/aws, fixture `aws`).

Every AWS action that shows up in the stand-in's call log during these tests must be allowed by
docs/iam-policy.json: the check runs after each test, over every call made (also those before a reset_calls).
"""

import json
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# AWS: "No permissions are required to perform this operation" (amazon.aws modules call it for the account id).
NEEDS_NO_PERMISSION = {"sts:GetCallerIdentity"}
# Called only by the tests' own set-up (the world the collection works in), never by the collection: the unit
# test tests/unit/test_iam_policy.py proves the collection's code calls nothing outside the policy.
TEST_SETUP_ONLY = {"network-firewall:CreateFirewallPolicy"}


def _policy_actions():
    with open(os.path.join(ROOT, "docs", "iam-policy.json")) as handle:
        statements = json.load(handle)["Statement"]
    actions = set()
    for statement in statements:
        listed = statement["Action"]
        actions.update([listed] if isinstance(listed, str) else listed)
    return actions


@pytest.fixture(autouse=True)
def _calls_are_allowed_by_the_iam_policy(request, monkeypatch):
    if "aws" not in request.fixturenames:
        yield
        return
    aws = request.getfixturevalue("aws")
    seen = []
    original_reset_calls, original_reset = aws.reset_calls, aws.reset

    def remember_then(reset):
        def wrapped(*args, **kwargs):
            seen.extend(aws.calls())
            return reset(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(aws, "reset_calls", remember_then(original_reset_calls))
    monkeypatch.setattr(aws, "reset", remember_then(original_reset))
    yield
    seen.extend(aws.calls())
    allowed = _policy_actions()
    # The call log's service names are the IAM action prefixes (ec2, sts, network-firewall).
    actions = {"%s:%s" % (c["service"], c["action"]) for c in seen}
    missing = sorted(actions - allowed - NEEDS_NO_PERMISSION - TEST_SETUP_ONLY)
    assert missing == [], "AWS actions called but missing from docs/iam-policy.json"
