"""The Network Firewall stand-in through the real server and a real boto3 client (botocore validates requests
and parses answers with the service model)."""

import botocore.exceptions
import pytest

from lab.aws.fidelity import check_parsed_response, check_raw_response


class WireChecker:
    """Checks every raw JSON answer key by key against the output shape (boto3's parser drops unknown keys)."""

    def __init__(self, client):
        self.problems, self.operations = [], []
        client.meta.events.register("after-call.network-firewall", self._after_call)

    def _after_call(self, http_response, parsed, model, **_):
        self.operations.append(model.name)
        if http_response.status_code < 300:
            self.problems += check_raw_response(model, http_response.content) + check_parsed_response(model, parsed)


RULES = "pass tcp 10.10.10.0/31 any -> 10.2.0.10 5432 (sid:1;)\ndrop ip any any -> 10.2.0.10 any (sid:2;)"


def code_of(call, **params):
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call(**params)
    return caught.value.response["Error"]["Code"]


def five_tuple(sid):
    header = {
        "Protocol": "TCP",
        "Source": "10.10.10.0/31",
        "SourcePort": "ANY",
        "Direction": "FORWARD",
        "Destination": "10.2.0.10",
        "DestinationPort": "5432",
    }
    return {"Action": "PASS", "Header": header, "RuleOptions": [{"Keyword": "sid:%d" % sid}]}


def test_rule_group_and_policy_lifecycle_through_boto3(aws):
    nfw = aws.client("network-firewall")
    recorder = WireChecker(nfw)
    dry = nfw.create_rule_group(RuleGroupName="g", Type="STATEFUL", Capacity=1, Rules=RULES, DryRun=True)
    assert dry["RuleGroupResponse"]["ConsumedCapacity"] == 2
    assert (
        code_of(nfw.create_rule_group, RuleGroupName="g", Type="STATEFUL", Capacity=1, Rules=RULES)
        == "InsufficientCapacityException"
    )
    created = nfw.create_rule_group(
        RuleGroupName="g", Type="STATEFUL", Capacity=10, RuleGroup={"RulesSource": {"StatefulRules": [five_tuple(7)]}}
    )
    arn = created["RuleGroupResponse"]["RuleGroupArn"]
    described = nfw.describe_rule_group(RuleGroupArn=arn)
    assert described["RuleGroup"]["RulesSource"]["StatefulRules"][0]["RuleOptions"] == [{"Keyword": "sid", "Settings": ["7"]}]
    assert described["RuleGroupResponse"]["LastModifiedTime"].year >= 2024  # parsed as a timestamp by botocore
    updated = nfw.update_rule_group(RuleGroupArn=arn, UpdateToken=described["UpdateToken"], Rules=RULES)
    assert updated["UpdateToken"] != described["UpdateToken"]
    stale = code_of(nfw.update_rule_group, RuleGroupArn=arn, UpdateToken=described["UpdateToken"], Rules=RULES)
    assert stale == "InvalidTokenException"
    nfw.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "platform"}])
    nfw.untag_resource(ResourceArn=arn, TagKeys=["team"])
    body = {
        "StatelessDefaultActions": ["aws:forward_to_sfe"],
        "StatelessFragmentDefaultActions": ["aws:forward_to_sfe"],
        "StatefulRuleGroupReferences": [{"ResourceArn": arn}],
    }
    policy = nfw.create_firewall_policy(FirewallPolicyName="p", FirewallPolicy=body)
    assert code_of(nfw.delete_rule_group, RuleGroupArn=arn) == "InvalidOperationException"
    current = nfw.describe_firewall_policy(FirewallPolicyName="p")
    assert current["FirewallPolicy"]["StatefulEngineOptions"] == {"RuleOrder": "DEFAULT_ACTION_ORDER"}
    nfw.update_firewall_policy(
        FirewallPolicyName="p", UpdateToken=policy["UpdateToken"], FirewallPolicy=dict(body, StatefulRuleGroupReferences=[])
    )
    nfw.delete_firewall_policy(FirewallPolicyName="p")
    nfw.delete_rule_group(RuleGroupArn=arn)
    assert code_of(nfw.describe_rule_group, RuleGroupArn=arn) == "ResourceNotFoundException"
    assert code_of(nfw.delete_firewall, FirewallName="none") == "ResourceNotFoundException"
    nfw.list_rule_groups()
    nfw.list_firewall_policies()
    assert recorder.problems == []
    assert set(recorder.operations) == {
        "CreateRuleGroup", "DescribeRuleGroup", "UpdateRuleGroup", "DeleteRuleGroup", "ListRuleGroups", "TagResource",
        "UntagResource", "CreateFirewallPolicy", "DescribeFirewallPolicy", "UpdateFirewallPolicy", "DeleteFirewallPolicy",
        "ListFirewallPolicies", "DeleteFirewall",
    }  # fmt: skip
    logged = {c["action"] for c in aws.calls(service="network-firewall")}
    assert {"CreateRuleGroup", "UpdateRuleGroup", "TagResource", "DeleteFirewall"} <= logged


def test_paginators_walk_every_page(aws):
    nfw = aws.client("network-firewall")
    for index in range(7):
        nfw.create_rule_group(RuleGroupName="g%d" % index, Type="STATEFUL", Capacity=5, Rules=RULES)
        body = {"StatelessDefaultActions": ["aws:pass"], "StatelessFragmentDefaultActions": ["aws:pass"]}
        nfw.create_firewall_policy(FirewallPolicyName="p%d" % index, FirewallPolicy=body)
    pages = list(nfw.get_paginator("list_rule_groups").paginate(PaginationConfig={"PageSize": 3}))
    assert [len(p["RuleGroups"]) for p in pages] == [3, 3, 1]
    assert [g["Name"] for p in pages for g in p["RuleGroups"]] == ["g%d" % i for i in range(7)]
    policies = nfw.get_paginator("list_firewall_policies").paginate(PaginationConfig={"PageSize": 4}).build_full_result()
    assert len(policies["FirewallPolicies"]) == 7
