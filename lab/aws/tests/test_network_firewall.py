"""The Network Firewall stand-in, in-process: every answer checked against botocore's output shapes."""

import datetime

import botocore.session
import pytest
from botocore.validate import ParamValidator

from lab.aws.errors import ServiceError
from lab.aws.network_firewall import NetworkFirewallBackend

MODEL = botocore.session.get_session().get_service_model("network-firewall")


def _jsonable_to_model(value, shape):
    """Timestamps travel as epoch seconds in the JSON protocol; botocore's parser turns them into datetimes."""
    if shape.type_name == "structure":
        return {k: _jsonable_to_model(v, shape.members[k]) if k in shape.members else v for k, v in value.items()}
    if shape.type_name == "list":
        return [_jsonable_to_model(v, shape.member) for v in value]
    if shape.type_name == "map":
        return {k: _jsonable_to_model(v, shape.value) for k, v in value.items()}
    if shape.type_name == "timestamp" and isinstance(value, (int, float)):
        return datetime.datetime.fromtimestamp(value, tz=datetime.timezone.utc)
    return value


class ValidatingBackend:
    """Calls the backend and fails on any answer the service model does not accept (unknown keys included)."""

    def __init__(self):
        self.backend = NetworkFirewallBackend()
        self.validated = set()

    def __call__(self, action, **params):
        operation = MODEL.operation_model(action)
        request_report = ParamValidator().validate(params, operation.input_shape)
        assert not request_report.has_errors(), request_report.generate_report()
        result = self.backend.dispatch(action, params)
        report = ParamValidator().validate(_jsonable_to_model(result, operation.output_shape), operation.output_shape)
        assert not report.has_errors(), "%s answer does not fit the model:\n%s" % (action, report.generate_report())
        self.validated.add(action)
        return result


@pytest.fixture
def nfw():
    return ValidatingBackend()


def five_tuple(sid, *, action="PASS", source="10.10.10.0/31", destination="10.2.0.10/32", port="5432", sid_style="split"):
    option = {"Keyword": "sid:%d" % sid} if sid_style == "joined" else {"Keyword": "sid", "Settings": [str(sid)]}
    return {
        "Action": action,
        "Header": {
            "Protocol": "TCP",
            "Source": source,
            "SourcePort": "ANY",
            "Direction": "FORWARD",
            "Destination": destination,
            "DestinationPort": port,
        },
        "RuleOptions": [option],
    }


def stateful_group(rules, order="DEFAULT_ACTION_ORDER"):
    return {"RulesSource": {"StatefulRules": rules}, "StatefulRuleOptions": {"RuleOrder": order}}


def policy_body(refs=(), order="DEFAULT_ACTION_ORDER", default_actions=None):
    body = {
        "StatelessDefaultActions": ["aws:forward_to_sfe"],
        "StatelessFragmentDefaultActions": ["aws:forward_to_sfe"],
        "StatefulRuleGroupReferences": list(refs),
        "StatefulEngineOptions": {"RuleOrder": order},
    }
    if default_actions:
        body["StatefulDefaultActions"] = default_actions
    return body


def error_of(call, *args, **kwargs):
    with pytest.raises(ServiceError) as caught:
        call(*args, **kwargs)
    return caught.value


def create_group(nfw, name="egress", rules=None, capacity=10, order="DEFAULT_ACTION_ORDER", **extra):
    rules = rules if rules is not None else [five_tuple(1)]
    return nfw(
        "CreateRuleGroup", RuleGroupName=name, Type="STATEFUL", Capacity=capacity, RuleGroup=stateful_group(rules, order), **extra
    )


def test_create_describe_rule_group_arn_and_tags(nfw):
    created = create_group(nfw, Tags=[{"Key": "owner", "Value": "calico_egress"}], Description="egress gateway")
    response = created["RuleGroupResponse"]
    assert response["RuleGroupArn"] == "arn:aws:network-firewall:us-east-1:123456789012:stateful-rulegroup/egress"
    assert response["Capacity"] == 10 and response["ConsumedCapacity"] == 1
    described = nfw("DescribeRuleGroup", RuleGroupName="egress", Type="STATEFUL")
    assert described["UpdateToken"] == created["UpdateToken"]
    assert described["RuleGroupResponse"]["Tags"] == [{"Key": "owner", "Value": "calico_egress"}]
    assert described["RuleGroup"]["StatefulRuleOptions"] == {"RuleOrder": "DEFAULT_ACTION_ORDER"}
    assert nfw("DescribeRuleGroup", RuleGroupArn=response["RuleGroupArn"])["RuleGroupResponse"]["RuleGroupName"] == "egress"


def test_describe_by_name_needs_type_and_unknown_is_not_found(nfw):
    create_group(nfw)
    assert error_of(nfw, "DescribeRuleGroup", RuleGroupName="egress").code == "InvalidRequestException"
    assert error_of(nfw, "DescribeRuleGroup", RuleGroupName="other", Type="STATEFUL").code == "ResourceNotFoundException"
    assert error_of(nfw, "DescribeRuleGroup", RuleGroupName="egress", Type="STATELESS").code == "ResourceNotFoundException"


def test_sid_written_as_one_keyword_is_stored_split(nfw):
    create_group(nfw, rules=[five_tuple(7, sid_style="joined")])
    stored = nfw("DescribeRuleGroup", RuleGroupName="egress", Type="STATEFUL")["RuleGroup"]
    assert stored["RulesSource"]["StatefulRules"][0]["RuleOptions"] == [{"Keyword": "sid", "Settings": ["7"]}]


@pytest.mark.parametrize(
    "rules",
    [
        [five_tuple(1), five_tuple(1, action="DROP")],  # duplicate sid
        [dict(five_tuple(1), RuleOptions=[])],  # no sid
        [dict(five_tuple(1), Action="ALLOW")],  # unknown action
        [five_tuple(1, source="10.10.10.300/32")],  # bad address
        [five_tuple(1, port="70000")],  # port out of range
        [five_tuple(1, source="$UNDEFINED")],  # undefined variable
    ],
)
def test_bad_stateful_rules_are_invalid_requests(nfw, rules):
    assert error_of(create_group, nfw, rules=rules).code == "InvalidRequestException"
    assert nfw("ListRuleGroups")["RuleGroups"] == []


def test_capacity_is_enforced_and_immutable(nfw):
    error = error_of(create_group, nfw, rules=[five_tuple(i) for i in range(1, 4)], capacity=2)
    assert error.code == "InsufficientCapacityException" and error.documented
    token = create_group(nfw, capacity=2)["UpdateToken"]
    too_many = stateful_group([five_tuple(i) for i in range(1, 4)])
    error = error_of(nfw, "UpdateRuleGroup", RuleGroupName="egress", Type="STATEFUL", UpdateToken=token, RuleGroup=too_many)
    assert error.code == "InsufficientCapacityException"
    assert nfw("DescribeRuleGroup", RuleGroupName="egress", Type="STATEFUL")["RuleGroupResponse"]["ConsumedCapacity"] == 1


def test_dry_run_returns_needed_capacity_and_stores_nothing(nfw):
    answer = create_group(nfw, rules=[five_tuple(i) for i in range(1, 6)], capacity=1, DryRun=True)
    assert answer["RuleGroupResponse"]["ConsumedCapacity"] == 5
    assert nfw("ListRuleGroups")["RuleGroups"] == []


def test_update_token_rotates_and_stale_token_is_refused(nfw):
    first = create_group(nfw)["UpdateToken"]
    second = nfw(
        "UpdateRuleGroup", RuleGroupName="egress", Type="STATEFUL", UpdateToken=first, RuleGroup=stateful_group([five_tuple(2)])
    )
    assert second["UpdateToken"] != first
    error = error_of(
        nfw,
        "UpdateRuleGroup",
        RuleGroupName="egress",
        Type="STATEFUL",
        UpdateToken=first,
        RuleGroup=stateful_group([five_tuple(3)]),
    )
    assert error.code == "InvalidTokenException" and error.documented
    stored = nfw("DescribeRuleGroup", RuleGroupName="egress", Type="STATEFUL")
    assert stored["RuleGroup"]["RulesSource"]["StatefulRules"][0]["RuleOptions"][0]["Settings"] == ["2"]
    assert stored["UpdateToken"] == second["UpdateToken"]


def test_rule_group_order_cannot_change(nfw):
    token = create_group(nfw)["UpdateToken"]
    strict = stateful_group([five_tuple(1)], order="STRICT_ORDER")
    error = error_of(nfw, "UpdateRuleGroup", RuleGroupName="egress", Type="STATEFUL", UpdateToken=token, RuleGroup=strict)
    assert error.code == "InvalidRequestException"


def test_suricata_rules_string(nfw):
    rules = (
        'pass tcp 10.10.10.0/31 any -> 10.2.0.10 5432 (msg:"egress"; sid:1;)\n'
        "# comment\n"
        "drop tcp any any -> 10.2.0.10 5432 (sid:2;)\n"
    )
    answer = nfw("CreateRuleGroup", RuleGroupName="suricata", Type="STATEFUL", Capacity=5, Rules=rules)
    assert answer["RuleGroupResponse"]["ConsumedCapacity"] == 2
    assert nfw("DescribeRuleGroup", RuleGroupName="suricata", Type="STATEFUL")["RuleGroup"]["RulesSource"]["RulesString"] == rules
    error = error_of(nfw, "CreateRuleGroup", RuleGroupName="broken", Type="STATEFUL", Capacity=5, Rules="pass tcp nonsense")
    assert error.code == "InvalidRequestException" and not error.documented


def test_stateless_group_capacity_formula(nfw):
    rule = {
        "RuleDefinition": {
            "MatchAttributes": {
                "Sources": [{"AddressDefinition": "10.0.0.0/8"}, {"AddressDefinition": "10.1.0.0/16"}],
                "Destinations": [{"AddressDefinition": "10.2.0.0/16"}],
                "DestinationPorts": [{"FromPort": 80, "ToPort": 80}, {"FromPort": 443, "ToPort": 443}],
                "Protocols": [6],
            },
            "Actions": ["aws:forward_to_sfe"],
        },
        "Priority": 1,
    }
    body = {"RulesSource": {"StatelessRulesAndCustomActions": {"StatelessRules": [rule]}}}
    answer = nfw("CreateRuleGroup", RuleGroupName="stateless", Type="STATELESS", Capacity=10, RuleGroup=body)
    assert answer["RuleGroupResponse"]["ConsumedCapacity"] == 4
    assert answer["RuleGroupResponse"]["RuleGroupArn"].endswith(":stateless-rulegroup/stateless")


def test_list_rule_groups_paginates(nfw):
    for index in range(5):
        create_group(nfw, name="group-%d" % index)
    first = nfw("ListRuleGroups", MaxResults=2)
    second = nfw("ListRuleGroups", MaxResults=2, NextToken=first["NextToken"])
    third = nfw("ListRuleGroups", MaxResults=2, NextToken=second["NextToken"])
    names = [g["Name"] for page in (first, second, third) for g in page["RuleGroups"]]
    assert names == ["group-%d" % i for i in range(5)]
    assert "NextToken" not in third
    assert nfw("ListRuleGroups", Scope="MANAGED")["RuleGroups"] == []
    assert error_of(nfw, "ListRuleGroups", NextToken="garbage").code == "InvalidRequestException"


def test_policy_lifecycle_and_references(nfw):
    arn = create_group(nfw, capacity=50)["RuleGroupResponse"]["RuleGroupArn"]
    created = nfw("CreateFirewallPolicy", FirewallPolicyName="inspection", FirewallPolicy=policy_body([{"ResourceArn": arn}]))
    assert created["FirewallPolicyResponse"]["FirewallPolicyArn"].endswith(":firewall-policy/inspection")
    assert created["FirewallPolicyResponse"]["ConsumedStatefulRuleCapacity"] == 50
    group = nfw("DescribeRuleGroup", RuleGroupArn=arn)["RuleGroupResponse"]
    assert group["NumberOfAssociations"] == 1
    error = error_of(nfw, "DeleteRuleGroup", RuleGroupArn=arn)
    assert error.code == "InvalidOperationException" and error.documented
    described = nfw("DescribeFirewallPolicy", FirewallPolicyName="inspection")
    updated = nfw(
        "UpdateFirewallPolicy",
        FirewallPolicyName="inspection",
        UpdateToken=described["UpdateToken"],
        FirewallPolicy=policy_body(),
    )
    assert updated["UpdateToken"] != described["UpdateToken"]
    stale = error_of(
        nfw,
        "UpdateFirewallPolicy",
        FirewallPolicyName="inspection",
        UpdateToken=described["UpdateToken"],
        FirewallPolicy=policy_body(),
    )
    assert stale.code == "InvalidTokenException"
    assert nfw("DeleteRuleGroup", RuleGroupArn=arn)["RuleGroupResponse"]["RuleGroupStatus"] == "DELETING"
    assert error_of(nfw, "DescribeRuleGroup", RuleGroupArn=arn).code == "ResourceNotFoundException"
    nfw("DeleteFirewallPolicy", FirewallPolicyName="inspection")
    assert nfw("ListFirewallPolicies")["FirewallPolicies"] == []


def test_policy_refuses_rule_order_mismatch(nfw):
    arn = create_group(nfw)["RuleGroupResponse"]["RuleGroupArn"]
    body = policy_body([{"ResourceArn": arn, "Priority": 10}], order="STRICT_ORDER", default_actions=["aws:drop_established"])
    error = error_of(nfw, "CreateFirewallPolicy", FirewallPolicyName="strict", FirewallPolicy=body)
    assert error.code == "InvalidRequestException" and "rule order must match" in error.message


def test_strict_policy_priorities(nfw):
    first = create_group(nfw, name="a", order="STRICT_ORDER")["RuleGroupResponse"]["RuleGroupArn"]
    second = create_group(nfw, name="b", order="STRICT_ORDER")["RuleGroupResponse"]["RuleGroupArn"]
    missing = policy_body([{"ResourceArn": first}], order="STRICT_ORDER")
    assert (
        error_of(nfw, "CreateFirewallPolicy", FirewallPolicyName="strict", FirewallPolicy=missing).code
        == "InvalidRequestException"
    )
    duplicate = policy_body([{"ResourceArn": first, "Priority": 5}, {"ResourceArn": second, "Priority": 5}], order="STRICT_ORDER")
    assert (
        error_of(nfw, "CreateFirewallPolicy", FirewallPolicyName="strict", FirewallPolicy=duplicate).code
        == "InvalidRequestException"
    )
    good = policy_body([{"ResourceArn": first, "Priority": 5}, {"ResourceArn": second, "Priority": 1}], order="STRICT_ORDER")
    nfw("CreateFirewallPolicy", FirewallPolicyName="strict", FirewallPolicy=good)
    refs = nfw("DescribeFirewallPolicy", FirewallPolicyName="strict")["FirewallPolicy"]["StatefulRuleGroupReferences"]
    assert [(r["ResourceArn"], r["Priority"]) for r in refs] == [(first, 5), (second, 1)]
    default_with_priority = policy_body(
        [{"ResourceArn": create_group(nfw, name="c")["RuleGroupResponse"]["RuleGroupArn"], "Priority": 1}]
    )
    assert (
        error_of(nfw, "CreateFirewallPolicy", FirewallPolicyName="d", FirewallPolicy=default_with_priority).code
        == "InvalidRequestException"
    )


def test_policy_order_immutable_and_default_actions_strict_only(nfw):
    bad = policy_body(default_actions=["aws:drop_strict"])
    assert error_of(nfw, "CreateFirewallPolicy", FirewallPolicyName="p", FirewallPolicy=bad).code == "InvalidRequestException"
    token = nfw("CreateFirewallPolicy", FirewallPolicyName="p", FirewallPolicy=policy_body())["UpdateToken"]
    strict = policy_body(order="STRICT_ORDER")
    assert (
        error_of(nfw, "UpdateFirewallPolicy", FirewallPolicyName="p", UpdateToken=token, FirewallPolicy=strict).code
        == "InvalidRequestException"
    )


def test_list_firewall_policies_paginates(nfw):
    for index in range(3):
        nfw("CreateFirewallPolicy", FirewallPolicyName="p%d" % index, FirewallPolicy=policy_body())
    first = nfw("ListFirewallPolicies", MaxResults=2)
    rest = nfw("ListFirewallPolicies", MaxResults=2, NextToken=first["NextToken"])
    assert [p["Name"] for p in first["FirewallPolicies"] + rest["FirewallPolicies"]] == ["p0", "p1", "p2"]


def test_delete_firewall_releases_its_policy(nfw):
    policy_arn = nfw("CreateFirewallPolicy", FirewallPolicyName="p", FirewallPolicy=policy_body())["FirewallPolicyResponse"][
        "FirewallPolicyArn"
    ]
    nfw.backend.add_firewall("fw", policy_arn, delete_protection=True)
    assert nfw("DescribeFirewallPolicy", FirewallPolicyArn=policy_arn)["FirewallPolicyResponse"]["NumberOfAssociations"] == 1
    assert error_of(nfw, "DeleteFirewallPolicy", FirewallPolicyArn=policy_arn).code == "InvalidOperationException"
    assert error_of(nfw, "DeleteFirewall", FirewallName="fw").code == "InvalidOperationException"
    nfw.backend.firewalls[nfw.backend._arn("firewall", "fw")]["DeleteProtection"] = False
    answer = nfw("DeleteFirewall", FirewallName="fw")
    assert answer["FirewallStatus"]["Status"] == "DELETING"
    assert error_of(nfw, "DeleteFirewall", FirewallName="fw").code == "ResourceNotFoundException"
    nfw("DeleteFirewallPolicy", FirewallPolicyArn=policy_arn)


def test_unknown_action_is_unsupported():
    error = error_of(NetworkFirewallBackend().dispatch, "CreateFirewall", {})
    assert error.code == "UnsupportedOperationException" and not error.documented


def test_every_operation_validated_against_the_model():
    """Runs the whole suite's operations once more in one place so a missed action is visible."""
    nfw = ValidatingBackend()
    arn = create_group(nfw)["RuleGroupResponse"]["RuleGroupArn"]
    token = nfw("DescribeRuleGroup", RuleGroupArn=arn)["UpdateToken"]
    nfw("UpdateRuleGroup", RuleGroupArn=arn, UpdateToken=token, RuleGroup=stateful_group([five_tuple(9)]))
    nfw("ListRuleGroups")
    policy = nfw("CreateFirewallPolicy", FirewallPolicyName="p", FirewallPolicy=policy_body([{"ResourceArn": arn}]))
    nfw("DescribeFirewallPolicy", FirewallPolicyName="p")
    nfw("UpdateFirewallPolicy", FirewallPolicyName="p", UpdateToken=policy["UpdateToken"], FirewallPolicy=policy_body())
    nfw("ListFirewallPolicies")
    nfw.backend.add_firewall("fw", policy["FirewallPolicyResponse"]["FirewallPolicyArn"])
    nfw("DeleteFirewall", FirewallName="fw")
    nfw("DeleteFirewallPolicy", FirewallPolicyName="p")
    nfw("TagResource", ResourceArn=arn, Tags=[{"Key": "k", "Value": "v"}])
    nfw("UntagResource", ResourceArn=arn, TagKeys=["k"])
    nfw("DeleteRuleGroup", RuleGroupArn=arn)
    assert nfw.validated == set(NetworkFirewallBackend.ACTIONS)


def test_the_validator_rejects_keys_the_model_does_not_know():
    """Guards the guard: an answer with an extra key must fail validation."""
    shape = MODEL.operation_model("ListRuleGroups").output_shape
    report = ParamValidator().validate({"RuleGroups": [], "Extra": 1}, shape)
    assert report.has_errors() and "Unknown parameter" in report.generate_report()


def test_tag_and_untag(nfw):
    arn = create_group(nfw, Tags=[{"Key": "a", "Value": "1"}])["RuleGroupResponse"]["RuleGroupArn"]
    nfw("TagResource", ResourceArn=arn, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "3"}])
    nfw("UntagResource", ResourceArn=arn, TagKeys=["b"])
    assert nfw("DescribeRuleGroup", RuleGroupArn=arn)["RuleGroupResponse"]["Tags"] == [{"Key": "a", "Value": "3"}]
    assert (
        error_of(nfw, "TagResource", ResourceArn=arn + "x", Tags=[{"Key": "a", "Value": "1"}]).code == "ResourceNotFoundException"
    )
