"""The stale-token retry is bounded and retries only InvalidTokenException."""

import pytest
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from botocore.exceptions import ClientError

from ansible_collections.calico_egress.aws.plugins.module_utils import nfw_api


def aws_error(code):
    return AnsibleAWSError(
        message="Failed to update rule group", exception=ClientError({"Error": {"Code": code}}, "UpdateRuleGroup")
    )


def test_token_conflicts_are_retried_then_succeed():
    attempts = []

    def attempt():
        attempts.append(1)
        if len(attempts) < 3:
            raise aws_error("InvalidTokenException")
        return "done"

    assert nfw_api.with_token_retry(attempt, 5) == ("done", 2)


def test_token_retry_is_bounded():
    attempts = []

    def attempt():
        attempts.append(1)
        raise aws_error("InvalidTokenException")

    with pytest.raises(AnsibleAWSError):
        nfw_api.with_token_retry(attempt, 5)
    assert len(attempts) == 5


def test_other_errors_are_not_retried():
    attempts = []

    def attempt():
        attempts.append(1)
        raise aws_error("InvalidRequestException")

    with pytest.raises(AnsibleAWSError):
        nfw_api.with_token_retry(attempt, 5)
    assert len(attempts) == 1
    assert not nfw_api.is_token_error(AnsibleAWSError(message="no cause"))
