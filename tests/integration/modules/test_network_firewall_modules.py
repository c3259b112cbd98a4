"""network_firewall_* modules against the AWS stand-in (real boto3 client, real AnsibleAWSModule, in-process main())."""

import pytest

from ansible_collections.calico_egress.aws.plugins.module_utils import nfw_api
from ansible_collections.calico_egress.aws.plugins.modules import (
    network_firewall_policy_rule_group,
    network_firewall_rule_group,
    network_firewall_rule_group_info,
)
from tests.support.modules import run_module

EGRESS = "10.10.10.0/31"
DATABASE = "10.2.0.10/32"
BLOG_RULES = [
    {"name": "egress gateway to database", "action": "pass", "source": EGRESS, "destination": DATABASE, "destination_port": 5432},
    {"name": "everyone else to database", "action": "drop", "protocol": "ip", "destination": DATABASE},
]


def group(aws, check_mode=False, diff=False, **args):
    return run_module(network_firewall_rule_group, dict(aws.module_args(), **args), check_mode=check_mode, diff=diff)


def policy_ref(aws, check_mode=False, **args):
    return run_module(network_firewall_policy_rule_group, dict(aws.module_args(), **args), check_mode=check_mode)


def writes(aws):
    return [c["action"] for c in aws.calls(service="network-firewall", mutating=True)]


def stored_rules(aws, name="egress"):
    client = aws.client("network-firewall")
    return client.describe_rule_group(RuleGroupName=name, Type="STATEFUL")["RuleGroup"]["RulesSource"]["StatefulRules"]


def create_policy(aws, name="inspection", order="DEFAULT_ACTION_ORDER", refs=()):
    body = {
        "StatelessDefaultActions": ["aws:forward_to_sfe"],
        "StatelessFragmentDefaultActions": ["aws:forward_to_sfe"],
        "StatefulEngineOptions": {"RuleOrder": order},
        "StatefulRuleGroupReferences": list(refs),
    }
    if order == "STRICT_ORDER":
        body["StatefulDefaultActions"] = ["aws:drop_established"]
    return aws.client("network-firewall").create_firewall_policy(FirewallPolicyName=name, FirewallPolicy=body)


def test_check_mode_create_makes_no_write(aws):
    result = group(aws, check_mode=True, diff=True, name="egress", rules=BLOG_RULES)
    assert result["changed"] and not result.get("failed"), result
    assert result["plan"]["action"] == "create" and len(result["plan"]["changes"]["added"]) == 2
    assert [r["name"] for r in result["diff"]["after"]["rules"]] == ["egress gateway to database", "everyone else to database"]
    assert writes(aws) == []
    assert aws.client("network-firewall").list_rule_groups()["RuleGroups"] == []


def test_create_then_second_run_is_unchanged(aws):
    first = group(aws, name="egress", rules=BLOG_RULES, tags={"team": "platform"})
    assert first["changed"] and first["plan"]["action"] == "create", first
    assert first["rule_group"]["capacity"] == 100 and first["rule_group"]["consumed_capacity"] == 2
    assert first["rule_group"]["tags"] == {"team": "platform", "calico_egress:owner": "calico_egress"}
    assert [r["action"] for r in first["rule_group"]["rules"]] == ["pass", "drop"]
    aws.reset_calls()
    second = group(aws, name="egress", rules=BLOG_RULES, tags={"team": "platform"})
    assert not second["changed"] and second["plan"]["action"] == "none", second
    assert writes(aws) == []


def test_sid_written_as_one_option_is_idempotent(aws):
    """community.aws #1634: AWS stores sid:N as keyword sid + setting N; our own sids must not flap either."""
    rules = [dict(BLOG_RULES[0], sid=42)]
    group(aws, name="egress", rules=rules)
    options = stored_rules(aws)[0]["RuleOptions"]
    assert {"Keyword": "sid", "Settings": ["42"]} in options
    assert not group(aws, name="egress", rules=rules)["changed"]


def test_update_diff_at_rule_level_and_delete(aws):
    group(aws, name="egress", rules=BLOG_RULES)
    changed_rules = [dict(BLOG_RULES[0], destination_port=[5432, 6432]), BLOG_RULES[1]]
    preview = group(aws, check_mode=True, diff=True, name="egress", rules=changed_rules)
    assert preview["changed"] and len(preview["plan"]["changes"]["changed"]) == 1
    assert preview["plan"]["changes"]["changed"][0]["after"]["destination_port"] == "[5432,6432]"
    update = group(aws, name="egress", rules=changed_rules)
    assert update["changed"] and update["plan"]["action"] == "update"
    assert stored_rules(aws)[0]["Header"]["DestinationPort"] == "[5432,6432]"
    assert not group(aws, name="egress", rules=changed_rules)["changed"]
    aws.reset_calls()
    assert group(aws, check_mode=True, name="egress", state="absent")["changed"]
    assert writes(aws) == []
    deleted = group(aws, name="egress", state="absent")
    assert deleted["changed"] and deleted["plan"]["action"] == "delete"
    assert not group(aws, name="egress", state="absent")["changed"]


def test_group_not_ours_is_left_alone_in_exclusive_mode(aws):
    client = aws.client("network-firewall")
    client.create_rule_group(
        RuleGroupName="foreign",
        Type="STATEFUL",
        Capacity=10,
        Rules="pass tcp any any -> 10.9.9.9 443 (sid:9;)",
    )
    result = group(aws, name="foreign", rules=BLOG_RULES)
    assert result["failed"] and "not ours" in result["msg"]
    assert group(aws, name="foreign", state="absent")["failed"]
    assert client.describe_rule_group(RuleGroupName="foreign", Type="STATEFUL")["RuleGroup"]["RulesSource"]["RulesString"]


def test_two_writers_in_merge_mode_one_hits_a_stale_token(aws, monkeypatch):
    team_a = [{"name": "a to db", "action": "pass", "source": "10.10.10.0/31", "destination": DATABASE, "destination_port": 5432}]
    team_b = [
        {
            "name": "b to cache",
            "action": "pass",
            "source": "10.10.20.0/31",
            "destination": "10.2.0.20/32",
            "destination_port": 6379,
        }
    ]
    assert group(aws, name="shared", mode="merge", owner="team-a", rules=team_a, capacity=50)["changed"]
    real_describe = nfw_api.describe_rule_group
    interleaved = []

    def describe_then_let_b_write(client, name):
        answer = real_describe(client, name)
        if not interleaved:  # B writes between A's read and A's write: A's token is now stale
            interleaved.append(None)
            interleaved[0] = group(aws, name="shared", mode="merge", owner="team-b", rules=team_b)
        return answer

    monkeypatch.setattr(nfw_api, "describe_rule_group", describe_then_let_b_write)
    changed_a = [dict(team_a[0], destination_port=[5432, 5433])]
    result = group(aws, name="shared", mode="merge", owner="team-a", rules=changed_a)
    assert interleaved[0]["changed"] and not interleaved[0].get("failed"), interleaved[0]
    assert result["changed"] and not result.get("failed"), result
    assert result["token_conflicts"] == 1
    assert "InvalidTokenException" in [c["error_code"] for c in aws.calls(service="network-firewall")]
    monkeypatch.undo()
    owners = sorted(r["owner"] for r in network_firewall_rule_group_result(aws, "shared")["rules"])
    assert owners == ["team-a", "team-b"]
    ports = {r["owner"]: r["destination_port"] for r in network_firewall_rule_group_result(aws, "shared")["rules"]}
    assert ports == {"team-a": "[5432,5433]", "team-b": "6379"}
    # merge-mode absent removes only team-b's rules
    assert group(aws, name="shared", mode="merge", owner="team-b", state="absent")["changed"]
    assert [r["owner"] for r in network_firewall_rule_group_result(aws, "shared")["rules"]] == ["team-a"]


def network_firewall_rule_group_result(aws, name):
    result = run_module(network_firewall_rule_group_info, dict(aws.module_args(), name=name))
    assert not result.get("failed"), result
    (found,) = result["rule_groups"]
    return found


def test_full_group_is_refused_before_any_write(aws):
    group(aws, name="egress", rules=BLOG_RULES, capacity=2)
    aws.reset_calls()
    third = {"name": "one more", "action": "pass", "source": EGRESS, "destination": "10.2.0.11/32", "destination_port": 443}
    result = group(aws, name="egress", rules=[*BLOG_RULES, third])
    assert result["failed"] and "capacity is 2" in result["msg"], result
    assert writes(aws) == []
    changed_capacity = group(aws, name="egress", rules=BLOG_RULES, capacity=200)
    assert changed_capacity["failed"] and "cannot change" in changed_capacity["msg"]


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ([dict(BLOG_RULES[0], source="10.10.10.300/31")], "rules[0].source"),
        ([dict(BLOG_RULES[0], destination_port=70000)], "rules[0].destination_port"),
        ([dict(BLOG_RULES[0], source="fd00::/64")], "rules[0]: source fd00::/64 is IPv6"),
        ([dict(BLOG_RULES[0], sid=5), dict(BLOG_RULES[1], sid=5)], "rules[1]: duplicate sid 5"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(aws, rules, field):
    result = group(aws, name="egress", rules=rules)
    assert result["failed"] and field in result["msg"], result
    assert aws.calls(service="network-firewall") == []


def test_unknown_action_and_bad_suricata_are_refused(aws):
    result = group(aws, name="egress", rules=[dict(BLOG_RULES[0], action="allow")])
    assert result["failed"] and "action" in result["msg"]
    result = group(aws, name="egress", suricata="pass tcp 10.10.10.0/31 any 10.2.0.10 5432 (sid:1;)")
    assert result["failed"] and "suricata line 1" in result["msg"], result
    assert aws.calls(service="network-firewall") == []


def test_suricata_text_group(aws):
    text = 'pass tcp 10.10.10.0/31 any -> 10.2.0.10 5432 (msg:"egress"; sid:1;)\ndrop ip any any -> 10.2.0.10 any (sid:2;)\n'
    assert group(aws, name="suricata", suricata=text, rule_order="strict")["changed"]
    again = group(aws, name="suricata", suricata=text, rule_order="strict")
    assert not again["changed"] and again["rule_group"]["suricata"] == text


def test_policy_reference_default_order(aws):
    group(aws, name="egress", rules=BLOG_RULES)
    create_policy(aws)
    aws.reset_calls()
    preview = policy_ref(aws, check_mode=True, policy_name="inspection", rule_group_name="egress")
    assert preview["changed"] and writes(aws) == []
    attached = policy_ref(aws, policy_name="inspection", rule_group_name="egress")
    assert attached["changed"] and attached["reference"]["resource_arn"].endswith("stateful-rulegroup/egress"), attached
    assert not policy_ref(aws, policy_name="inspection", rule_group_name="egress")["changed"]
    refused = group(aws, name="egress", state="absent")
    assert refused["failed"] and "referenced by 1" in refused["msg"]
    info = network_firewall_rule_group_result(aws, "egress")
    assert [r["policy_name"] for r in info["references"]] == ["inspection"]
    strict_priority = policy_ref(aws, policy_name="inspection", rule_group_name="egress", priority=5)
    assert strict_priority["failed"] and "priority" in strict_priority["msg"]
    assert policy_ref(aws, policy_name="inspection", rule_group_name="egress", state="absent")["changed"]
    assert group(aws, name="egress", state="absent")["changed"]


def test_strict_policy_keeps_other_references_and_priorities(aws):
    client = aws.client("network-firewall")
    other = client.create_rule_group(
        RuleGroupName="other",
        Type="STATEFUL",
        Capacity=10,
        RuleGroup={
            "RulesSource": {"RulesString": "pass tcp any any -> 10.9.9.9 443 (sid:9;)"},
            "StatefulRuleOptions": {"RuleOrder": "STRICT_ORDER"},
        },
    )
    other_arn = other["RuleGroupResponse"]["RuleGroupArn"]
    create_policy(aws, name="strict", order="STRICT_ORDER", refs=[{"ResourceArn": other_arn, "Priority": 100}])
    group(aws, name="egress", rules=BLOG_RULES, rule_order="strict")
    result = policy_ref(aws, policy_name="strict", rule_group_name="egress")
    assert result["changed"] and result["reference"]["priority"] == 200, result
    refs = client.describe_firewall_policy(FirewallPolicyName="strict")["FirewallPolicy"]["StatefulRuleGroupReferences"]
    assert [(r["ResourceArn"].rsplit("/", 1)[1], r["Priority"]) for r in refs] == [("other", 100), ("egress", 200)]
    assert not policy_ref(aws, policy_name="strict", rule_group_name="egress")["changed"]
    moved = policy_ref(aws, policy_name="strict", rule_group_name="egress", priority=50)
    assert moved["changed"] and moved["reference"]["priority"] == 50
    clash = policy_ref(aws, policy_name="strict", rule_group_name="egress", priority=100)
    assert clash["failed"] and "already used" in clash["msg"]


def test_policy_refuses_rule_order_mismatch_naming_the_side(aws):
    group(aws, name="egress", rules=BLOG_RULES)
    create_policy(aws, name="strict", order="STRICT_ORDER")
    aws.reset_calls()
    result = policy_ref(aws, policy_name="strict", rule_group_name="egress")
    assert result["failed"] and "rule_order: strict" in result["msg"], result
    assert writes(aws) == []


def test_modules_ride_out_throttling(aws):
    """Half of all calls answered ThrottlingException: botocore and AWSRetry retry, results are unchanged."""
    create_policy(aws)
    aws.set_knobs(throttle_rate=0.5)
    assert group(aws, name="egress", rules=BLOG_RULES)["changed"]
    assert not group(aws, name="egress", rules=BLOG_RULES)["changed"]
    assert policy_ref(aws, policy_name="inspection", rule_group_name="egress")["changed"]
    throttled = [c for c in aws.calls(service="network-firewall") if c["error_code"] == "ThrottlingException"]
    assert len(throttled) >= 5
    aws.set_knobs(throttle_rate=0.0)
    assert len(stored_rules(aws)) == 2


def test_tags_exclusive_purges_merge_only_adds(aws):
    group(aws, name="egress", rules=BLOG_RULES, tags={"team": "platform", "cost": "1"})
    result = group(aws, name="egress", rules=BLOG_RULES, tags={"team": "network"})
    assert result["changed"] and result["plan"]["action"] == "none"
    assert result["rule_group"]["tags"] == {"team": "network", "calico_egress:owner": "calico_egress"}
    merged = group(aws, name="egress", mode="merge", owner="team-b", rules=[dict(BLOG_RULES[0], name="b")], tags={"b": "1"})
    assert merged["rule_group"]["tags"] == {"team": "network", "b": "1", "calico_egress:owner": "calico_egress"}
    foreign_tag_change = group(aws, name="egress", owner="team-b", rules=BLOG_RULES, tags={"x": "y"})
    assert foreign_tag_change["failed"] and "not ours" in foreign_tag_change["msg"]


def test_capacity_change_replaces_on_request_only_when_unreferenced(aws):
    group(aws, name="egress", rules=BLOG_RULES, capacity=2)
    third = {"name": "one more", "action": "pass", "source": EGRESS, "destination": "10.2.0.11/32", "destination_port": 443}
    aws.reset_calls()
    preview = group(aws, check_mode=True, name="egress", rules=[*BLOG_RULES, third], replace_on_capacity_change=True)
    assert preview["changed"] and preview["plan"]["action"] == "replace" and preview["plan"]["capacity"] == 100
    assert writes(aws) == []
    create_policy(aws)
    policy_ref(aws, policy_name="inspection", rule_group_name="egress")
    refused = group(aws, name="egress", rules=[*BLOG_RULES, third], replace_on_capacity_change=True)
    assert refused["failed"] and "detach it first" in refused["msg"]
    policy_ref(aws, policy_name="inspection", rule_group_name="egress", state="absent")
    replaced = group(aws, name="egress", rules=[*BLOG_RULES, third], replace_on_capacity_change=True, tags={"team": "a"})
    assert replaced["changed"] and replaced["rule_group"]["capacity"] == 100, replaced
    assert replaced["rule_group"]["tags"] == {"team": "a", "calico_egress:owner": "calico_egress"}
    assert len(replaced["rule_group"]["rules"]) == 3


def test_policy_writer_in_between_is_kept(aws, monkeypatch):
    """Another writer attaches its group between our read and our write: we re-read and keep its reference."""
    client = aws.client("network-firewall")
    group(aws, name="egress", rules=BLOG_RULES)
    other = client.create_rule_group(
        RuleGroupName="other", Type="STATEFUL", Capacity=5, Rules="pass tcp any any -> 10.9.9.9 443 (sid:9;)"
    )
    create_policy(aws)
    real_describe = nfw_api.describe_firewall_policy
    interleaved = []

    def describe_then_other_writer(client_, name=None, arn=None):
        answer = real_describe(client_, name=name, arn=arn)
        if not interleaved:
            interleaved.append(True)
            body = dict(
                answer["FirewallPolicy"],
                StatefulRuleGroupReferences=[{"ResourceArn": other["RuleGroupResponse"]["RuleGroupArn"]}],
            )
            client.update_firewall_policy(FirewallPolicyName="inspection", UpdateToken=answer["UpdateToken"], FirewallPolicy=body)
        return answer

    monkeypatch.setattr(nfw_api, "describe_firewall_policy", describe_then_other_writer)
    result = policy_ref(aws, policy_name="inspection", rule_group_name="egress")
    assert result["changed"] and result["token_conflicts"] == 1, result
    refs = client.describe_firewall_policy(FirewallPolicyName="inspection")["FirewallPolicy"]["StatefulRuleGroupReferences"]
    assert sorted(r["ResourceArn"].rsplit("/", 1)[1] for r in refs) == ["egress", "other"]
