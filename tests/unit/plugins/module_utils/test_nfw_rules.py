"""Rule validation, AWS normal form, planning and diffing (pure logic), on AWS-shaped answers."""

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.calico_egress.aws.plugins.module_utils import nfw_rules
from ansible_collections.calico_egress.aws.plugins.module_utils.nfw_rules import RuleError

EGRESS = "10.10.10.0/31"
DB = "10.2.0.10/32"
ARN = "arn:aws:network-firewall:us-east-1:123456789012:stateful-rulegroup/egress"
TOKEN = "11111111-2222-3333-4444-555555555555"


def params(**overrides):
    base = {
        "rules": [
            {"name": "egress to db", "action": "pass", "source": EGRESS, "destination": DB, "destination_port": 5432},
            {"name": "protect db", "action": "drop", "protocol": "ip", "destination": DB},
        ],
        "rule_order": "default",
        "mode": "exclusive",
        "owner": "calico_egress",
    }
    base.update(overrides)
    return base


def aws_rule(sid, *, action="PASS", source=EGRESS, destination=DB, port="5432", options=None, protocol="TCP"):
    return {
        "Action": action,
        "Header": {
            "Protocol": protocol,
            "Source": source,
            "SourcePort": "ANY",
            "Direction": "FORWARD",
            "Destination": destination,
            "DestinationPort": port,
        },
        "RuleOptions": (options or []) + [{"Keyword": "sid", "Settings": [str(sid)]}],
    }


def described(rules, capacity=100, order="DEFAULT_ACTION_ORDER", variables=None):
    """A DescribeRuleGroup answer as botocore returns it (validated by Stubber below)."""
    body = {"RulesSource": {"StatefulRules": rules}, "StatefulRuleOptions": {"RuleOrder": order}}
    if variables:
        body["RuleVariables"] = variables
    return {
        "UpdateToken": TOKEN,
        "RuleGroup": body,
        "RuleGroupResponse": {
            "RuleGroupArn": ARN,
            "RuleGroupName": "egress",
            "RuleGroupId": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
            "Type": "STATEFUL",
            "Capacity": capacity,
            "ConsumedCapacity": len(rules),
            "RuleGroupStatus": "ACTIVE",
            "NumberOfAssociations": 0,
        },
    }


def through_botocore(answer):
    """Return the answer as a real client parses it, after Stubber checked it against the service model."""
    client = boto3.client("network-firewall", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        stubber.add_response("describe_rule_group", answer, {"RuleGroupName": "egress", "Type": "STATEFUL"})
        return client.describe_rule_group(RuleGroupName="egress", Type="STATEFUL")


def test_desired_rules_are_in_aws_normal_form():
    desired = nfw_rules.desired_rule_group(params())
    first, second = desired["rules"]
    assert first["Action"] == "PASS" and first["Header"]["Source"] == EGRESS and first["Header"]["DestinationPort"] == "5432"
    assert second["Header"] == {
        "Protocol": "IP",
        "Source": "ANY",
        "SourcePort": "ANY",
        "Direction": "FORWARD",
        "Destination": DB,
        "DestinationPort": "ANY",
    }
    assert first["RuleOptions"][0] == {"Keyword": "msg", "Settings": ['"egress to db"']}
    assert first["RuleOptions"][-2:-1] == [{"Keyword": "metadata", "Settings": ["owner calico_egress"]}]
    assert first["RuleOptions"][-1]["Keyword"] == "sid"


def test_derived_sids_are_stable_and_depend_on_owner_and_name():
    one = nfw_rules.desired_rule_group(params())["rules"]
    two = nfw_rules.desired_rule_group(params())["rules"]
    other = nfw_rules.desired_rule_group(params(owner="team-b"))["rules"]
    sids = [nfw_rules.rule_sid(r) for r in one]
    assert sids == [nfw_rules.rule_sid(r) for r in two]
    assert sids != [nfw_rules.rule_sid(r) for r in other]
    moved = params()
    moved["rules"][0]["destination_port"] = 6432
    assert nfw_rules.rule_sid(nfw_rules.desired_rule_group(moved)["rules"][0]) == sids[0]  # same name, same sid


def test_sid_written_as_one_keyword_normalises_like_aws():
    joined = aws_rule(5)
    joined["RuleOptions"] = [{"Keyword": "sid:5"}]
    assert nfw_rules.normalise_rule(joined) == nfw_rules.normalise_rule(aws_rule(5))
    assert nfw_rules.rule_sid(joined) == 5


def test_second_run_against_aws_answer_plans_nothing():
    desired = nfw_rules.desired_rule_group(params())
    current = through_botocore(described(desired["rules"]))
    plan = nfw_rules.plan_rule_group(current, desired)
    assert plan["action"] == "none"


def test_aws_case_and_spacing_differences_are_not_changes():
    desired = nfw_rules.desired_rule_group(params(rules=[{"sid": 3, "action": "pass", "source": [EGRESS, "10.10.11.0/31"]}]))
    stored = desired["rules"][0]
    stored = dict(stored, Header=dict(stored["Header"], Source="[%s, 10.10.11.0/31]" % EGRESS, DestinationPort="any"))
    current = through_botocore(described([stored]))
    assert nfw_rules.plan_rule_group(current, desired)["action"] == "none"


def test_rule_level_diff_on_update():
    desired = nfw_rules.desired_rule_group(params())
    current_rules = [dict(desired["rules"][0], Header=dict(desired["rules"][0]["Header"], DestinationPort="5433")), aws_rule(77)]
    plan = nfw_rules.plan_rule_group(through_botocore(described(current_rules)), desired)
    assert plan["action"] == "update"
    changes = plan["changes"]
    assert [r["sid"] for r in changes["removed"]] == [77]
    assert [r["name"] for r in changes["added"]] == ["protect db"]
    assert changes["changed"][0]["before"]["destination_port"] == "5433"
    assert changes["changed"][0]["after"]["destination_port"] == "5432"


def test_order_matters_only_in_strict_order():
    desired = nfw_rules.desired_rule_group(params())
    swapped = list(reversed(desired["rules"]))
    assert nfw_rules.plan_rule_group(described(swapped), desired)["action"] == "none"
    strict = nfw_rules.desired_rule_group(params(rule_order="strict"))
    plan = nfw_rules.plan_rule_group(described(list(reversed(strict["rules"])), order="STRICT_ORDER"), strict)
    assert plan["action"] == "update"
    assert [r["Action"] for r in plan["body"]["RulesSource"]["StatefulRules"]] == ["PASS", "DROP"]


def test_rule_order_change_is_refused():
    with pytest.raises(RuleError, match="rule_order: .* uses DEFAULT_ACTION_ORDER"):
        nfw_rules.plan_rule_group(described([aws_rule(1)]), nfw_rules.desired_rule_group(params(rule_order="strict")))


def test_capacity_headroom_and_immutability():
    desired = nfw_rules.desired_rule_group(params())
    assert nfw_rules.plan_rule_group(None, desired)["capacity"] == 100
    assert nfw_rules.compute_capacity(80) == 160
    assert nfw_rules.compute_capacity(20000) == 30000
    assert nfw_rules.plan_rule_group(None, desired, explicit_capacity=5)["capacity"] == 5
    with pytest.raises(RuleError, match="capacity: 1 is less than the 2 rules"):
        nfw_rules.plan_rule_group(None, desired, explicit_capacity=1)
    with pytest.raises(RuleError, match="capacity: .* has capacity 100 and AWS cannot change it"):
        nfw_rules.plan_rule_group(described([aws_rule(1)]), desired, explicit_capacity=200)
    with pytest.raises(RuleError, match="capacity is 1"):
        nfw_rules.plan_rule_group(described([aws_rule(1)], capacity=1), desired)


def test_merge_keeps_others_rules_in_place_in_strict_order():
    ours = nfw_rules.desired_rule_group(params(rule_order="strict", owner="a"))
    theirs_before, theirs_after = aws_rule(1), aws_rule(2, action="DROP")
    old_ours = dict(ours["rules"][0], Header=dict(ours["rules"][0]["Header"], DestinationPort="1"))
    current = described([theirs_before, old_ours, theirs_after], order="STRICT_ORDER")
    plan = nfw_rules.plan_rule_group(current, ours, mode="merge")
    sids = [nfw_rules.rule_sid(r) for r in plan["body"]["RulesSource"]["StatefulRules"]]
    assert sids == [1] + [nfw_rules.rule_sid(r) for r in ours["rules"]] + [2]
    assert plan["changes"]["removed"] == []


def test_merge_absent_removes_only_ours():
    ours = nfw_rules.desired_rule_group(params(owner="a", rules=[]))
    mine = nfw_rules.build_rule({"action": "pass", "destination": DB}, 0, "a")
    plan = nfw_rules.plan_rule_group(described([aws_rule(1), mine]), ours, mode="merge", state="absent")
    assert plan["action"] == "update" and [nfw_rules.rule_sid(r) for r in plan["body"]["RulesSource"]["StatefulRules"]] == [1]
    assert nfw_rules.plan_rule_group(described([aws_rule(1)]), ours, mode="merge", state="absent")["action"] == "none"


def test_merge_variables_keep_other_sets():
    current = {"IPSets": {"THEIRS": {"Definition": ["10.0.0.0/8"]}, "OURS": {"Definition": ["10.1.0.0/16"]}}}
    merged = nfw_rules.merge_variables(current, {"IPSets": {"OURS": {"Definition": [EGRESS]}}}, {"IPSets": ["OURS"]}, False)
    assert merged == {"IPSets": {"THEIRS": {"Definition": ["10.0.0.0/8"]}, "OURS": {"Definition": [EGRESS]}}}


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"action": "allow"}, r"rules\[0\]\.action: 'allow'"),
        ({"action": "pass", "source": "10.0.0.300/24"}, r"rules\[0\]\.source: '10.0.0.300/24'"),
        ({"action": "pass", "destination_port": 70000}, r"rules\[0\]\.destination_port: '70000' is out of range"),
        ({"action": "pass", "source_port": "20:10"}, r"rules\[0\]\.source_port: '20:10'"),
        ({"action": "pass", "source": "10.0.0.0/8", "destination": "fd00::/64"}, r"rules\[0\]: source 10.0.0.0/8 is IPv4"),
        ({"action": "pass", "source": ["10.0.0.0/8", "fd00::/64"]}, r"rules\[0\]\.source: mixes IPv4 and IPv6"),
        ({"action": "pass", "source": "$NOPE"}, r"rules\[0\]\.source: variable \$NOPE"),
        ({"action": "pass", "protocol": "sctp"}, r"rules\[0\]\.protocol: 'sctp'"),
        ({"action": "pass", "sid": 0}, r"rules\[0\]\.sid: 0 is out of range"),
        ({"action": "pass", "options": ["sid:4"]}, r"rules\[0\]\.options\[0\]: give the sid"),
    ],
)
def test_bad_rules_name_the_field(rule, message):
    with pytest.raises(RuleError, match=message):
        nfw_rules.desired_rule_group(params(rules=[rule]))


def test_duplicate_sid_names_both_rules():
    with pytest.raises(RuleError, match=r"rules\[1\]: duplicate sid 9 \(also rules\[0\]\)"):
        nfw_rules.desired_rule_group(params(rules=[{"action": "pass", "sid": 9}, {"action": "drop", "sid": 9}]))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pass tcp any any any any (sid:1;)", "line 1 does not parse"),
        ("allow tcp any any -> any any (sid:1;)", "line 1: action 'allow'"),
        ('pass tcp any any -> any any (msg:"x";)', "line 1: needs exactly one numeric sid"),
        ("pass tcp any any -> any any (sid:1;)\n# c\npass tcp any any -> any any (sid:1;)", "line 3: duplicate sid 1"),
        ("# only a comment", ": contains no rule"),
    ],
)
def test_bad_suricata_names_the_line(text, message):
    with pytest.raises(RuleError, match="suricata ?" + message):
        nfw_rules.desired_rule_group(params(rules=None, suricata=text))


def test_merge_needs_owner_and_5_tuple_rules():
    with pytest.raises(RuleError, match="owner: required"):
        nfw_rules.desired_rule_group(params(mode="merge", owner=""))
    with pytest.raises(RuleError, match="suricata: mode merge"):
        nfw_rules.desired_rule_group(params(mode="merge", rules=None, suricata="pass tcp any any -> any any (sid:1;)"))


def test_input_form_round_trip_and_suricata_rendering():
    rule = nfw_rules.desired_rule_group(params())["rules"][0]
    back = nfw_rules.rule_to_input(rule)
    assert back["name"] == "egress to db" and back["owner"] == "calico_egress" and back["options"] == []
    assert back["source"] == EGRESS and back["source_port"] == "any" and back["destination_port"] == "5432"
    line = nfw_rules.render_suricata(rule)
    assert line.startswith(
        'pass tcp 10.10.10.0/31 any -> 10.2.0.10/32 5432 (msg:"egress to db"; metadata:owner calico_egress; sid:'
    )
    nfw_rules.parse_suricata(line)


def test_egress_rules_pass_then_drop_with_default_sources():
    rules = nfw_rules.build_egress_rules(
        [
            {"name": "db", "destination": DB, "ports": [5432]},
            {"name": "api", "sources": ["10.10.20.0/31"], "destination": "10.3.0.0/24"},
        ],
        [DB, {"destination": "10.3.0.0/24", "ports": [443]}],
        [EGRESS],
    )
    assert [(r["action"], r["source"], r["protocol"]) for r in rules] == [
        ("pass", [EGRESS], "tcp"),
        ("pass", ["10.10.20.0/31"], "tcp"),
        ("drop", "any", "ip"),
        ("drop", "any", "tcp"),
    ]
    with pytest.raises(RuleError, match=r"network_firewall_egress_rules\[0\]\.sources: empty"):
        nfw_rules.build_egress_rules([{"name": "db", "destination": DB}], [], [])
    with pytest.raises(RuleError, match=r"network_firewall_egress_rules\[1\]\.name: 'db' is used twice"):
        nfw_rules.build_egress_rules([{"name": "db", "destination": DB}, {"name": "db", "destination": DB}], [], [EGRESS])


def test_summary_lines():
    rules = nfw_rules.build_egress_rules([{"name": "db", "destination": DB, "ports": [5432, 6432]}], [DB], [EGRESS])
    assert nfw_rules.summarise_rules(rules) == [
        "PASS tcp 10.10.10.0/31 -> 10.2.0.10/32 port 5432,6432 (db)",
        "DROP ip any -> 10.2.0.10/32 port any (protect 10.2.0.10/32)",
    ]


def test_replace_on_request_recomputes_capacity():
    desired = nfw_rules.desired_rule_group(params())
    plan = nfw_rules.plan_rule_group(described([aws_rule(1)], capacity=1), desired, replace=True)
    assert plan["action"] == "replace" and plan["capacity"] == 100 and plan["needed"] == 2
    plan = nfw_rules.plan_rule_group(described([aws_rule(1)]), desired, explicit_capacity=300, replace=True)
    assert plan["action"] == "replace" and plan["capacity"] == 300
    assert nfw_rules.plan_rule_group(described(desired["rules"]), desired, replace=True)["action"] == "none"
