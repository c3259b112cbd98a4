"""Firewall twin: rendering (pure), refusals, fail-closed reconcile, and `nft -c` on the host kernel when available."""

import json
import shutil
import subprocess

import pytest

from ansible_collections.calico_egress.aws.plugins.module_utils import nfw_rules
from lab.aws.network_firewall import NetworkFirewallBackend
from lab.twin import firewall
from lab.twin.firewall import FirewallTwin, UntranslatableRule, render_ruleset

ARN = "arn:aws:network-firewall:us-east-1:123456789012:stateful-rulegroup/calico-egress"
OTHER_ARN = "arn:aws:network-firewall:us-east-1:123456789012:stateful-rulegroup/other"


def role_rules():
    """What the network_firewall role builds from the example inventory (egress pool 10.10.10.0/31)."""
    rules = nfw_rules.build_egress_rules(
        [{"name": "egress gateway to the protected service", "destination": "10.2.0.10/32", "ports": [5432]}],
        ["10.2.0.10/32"],
        ["10.10.10.0/31"],
    )
    return [nfw_rules.build_rule(rule, index, "calico_egress") for index, rule in enumerate(rules)]


def group(rules, order="DEFAULT_ACTION_ORDER", variables=None):
    body = {"RulesSource": {"StatefulRules": rules}, "StatefulRuleOptions": {"RuleOrder": order}}
    if variables:
        body["RuleVariables"] = variables
    return body


def policy(order="DEFAULT_ACTION_ORDER", references=None, defaults=None):
    body = {
        "StatelessDefaultActions": ["aws:forward_to_sfe"],
        "StatelessFragmentDefaultActions": ["aws:forward_to_sfe"],
        "StatefulEngineOptions": {"RuleOrder": order},
        "StatefulRuleGroupReferences": references if references is not None else [{"ResourceArn": ARN}],
    }
    if defaults:
        body["StatefulDefaultActions"] = defaults
    return body


def rule(action, sid, protocol="TCP", source="ANY", source_port="ANY", destination="ANY", destination_port="ANY", **extra):
    header = {
        "Protocol": protocol,
        "Source": source,
        "SourcePort": source_port,
        "Direction": extra.pop("direction", "FORWARD"),
        "Destination": destination,
        "DestinationPort": destination_port,
    }
    options = [{"Keyword": "sid", "Settings": [str(sid)]}] + extra.pop("options", [])
    return {"Action": action, "Header": header, "RuleOptions": options}


def chain_lines(text):
    return [line.strip() for line in text.split("chain forward {", 1)[1].splitlines()[2:] if line.strip() not in ("}", "")]


def test_role_rule_group_renders_pass_then_drop_counted_by_sid():
    rules = role_rules()
    sids = [nfw_rules.rule_sid(r) for r in rules]
    text = render_ruleset(policy(), {ARN: group(rules)})
    lines = chain_lines(text)
    assert lines[0] == "ct state established,related accept"
    assert lines[1] == (
        "meta l4proto tcp ip saddr { 10.10.10.0/31 } ip daddr { 10.2.0.10/32 } th dport { 5432 } "
        "counter name r_calico_egress_%d accept" % sids[0]
    )
    assert lines[2] == "ip daddr { 10.2.0.10/32 } counter name r_calico_egress_%d drop" % sids[1]
    assert len(lines) == 3, "default action order: unmatched traffic passes (chain policy accept)"
    assert "policy accept;" in text
    assert 'comment "calico-egress:%d"' % sids[0] in text and 'comment "calico-egress:%d"' % sids[1] in text
    # one atomic transaction that replaces only our table
    assert text.startswith("table inet calico_egress_lab_fw\ndelete table inet calico_egress_lab_fw\n")


def test_default_action_order_puts_pass_before_drop_and_alert_last_whatever_the_list_order():
    rules = [
        rule("ALERT", 1, destination="10.2.0.0/16"),
        rule("REJECT", 4, destination="10.2.0.11"),
        rule("DROP", 2, destination="10.2.0.10"),
        rule("PASS", 3, source="10.10.10.0/31", destination="10.2.0.10", destination_port="5432"),
    ]
    lines = chain_lines(render_ruleset(policy(), {ARN: group(rules)}))[1:]
    assert [line.split("counter name ")[1].split()[0] for line in lines] == [
        "r_calico_egress_3",
        "r_calico_egress_2",
        "r_calico_egress_4",
        "r_calico_egress_1",
    ]
    assert lines[2].endswith("reject with tcp reset")
    assert lines[3].endswith('log prefix "nfw alert calico-egress:1 "'), "alert logs and goes on (no verdict)"


def test_strict_order_follows_group_priority_then_list_order_and_default_drop():
    first = group([rule("DROP", 10, destination="10.2.0.10"), rule("PASS", 11, destination="10.2.0.0/16")], "STRICT_ORDER")
    second = group([rule("PASS", 20, source="10.10.10.0/31")], "STRICT_ORDER")
    references = [{"ResourceArn": OTHER_ARN, "Priority": 200}, {"ResourceArn": ARN, "Priority": 100}]
    text = render_ruleset(policy("STRICT_ORDER", references, ["aws:drop_strict"]), {ARN: first, OTHER_ARN: second})
    names = [line.split("counter name ")[1].split()[0] for line in chain_lines(text)[1:]]
    assert names == ["r_calico_egress_10", "r_calico_egress_11", "r_other_20", "default_drop"]
    assert chain_lines(text)[-1].startswith("counter name default_drop drop")


def test_strict_order_without_default_action_passes_unmatched_and_alert_default_logs():
    strict = group([rule("DROP", 1, destination="10.2.0.10")], "STRICT_ORDER")
    text = render_ruleset(policy("STRICT_ORDER", [{"ResourceArn": ARN, "Priority": 1}]), {ARN: strict})
    assert "default_drop" not in text
    text = render_ruleset(policy("STRICT_ORDER", [{"ResourceArn": ARN, "Priority": 1}], ["aws:alert_strict"]), {ARN: strict})
    assert chain_lines(text)[-1] == 'counter name default_alert log prefix "nfw alert default "'


def test_variables_ranges_lists_negation_and_direction_any():
    variables = {
        "IPSets": {"EGRESS": {"Definition": ["10.10.10.0/31", "10.10.20.0/31"]}},
        "PortSets": {"DB": {"Definition": ["5432", "6000:6010"]}},
    }
    rules = [
        rule("PASS", 1, source="$EGRESS", destination="[10.2.0.0/24,!10.2.0.99]", destination_port="$DB"),
        rule("PASS", 2, protocol="UDP", source_port="[53,1000:2000,!1500]", direction="ANY", destination="10.2.0.53"),
        rule("DROP", 3, protocol="ICMP", source="10.9.0.0/16"),
    ]
    lines = chain_lines(render_ruleset(policy(), {ARN: group(rules, variables=variables)}))
    assert lines[1] == (
        "meta l4proto tcp ip saddr { 10.10.10.0/31, 10.10.20.0/31 } ip daddr { 10.2.0.0/24 } ip daddr != { 10.2.0.99/32 } "
        "th dport { 5432, 6000-6010 } counter name r_calico_egress_1 accept"
    )
    # Direction ANY: the rule in both directions, ports swapped with the addresses
    assert lines[2] == (
        "meta l4proto udp ip daddr { 10.2.0.53/32 } th sport { 53, 1000-2000 } th sport != { 1500 } "
        "counter name r_calico_egress_2 accept"
    )
    assert lines[3] == (
        "meta l4proto udp ip saddr { 10.2.0.53/32 } th dport { 53, 1000-2000 } th dport != { 1500 } "
        "counter name r_calico_egress_2 accept"
    )
    assert lines[4] == "meta l4proto icmp ip saddr { 10.9.0.0/16 } counter name r_calico_egress_3 drop"


def test_policy_home_net_variable_is_used_and_drop_to_alert_override_is_honoured():
    body = policy(references=[{"ResourceArn": ARN, "Override": {"Action": "DROP_TO_ALERT"}}])
    body["PolicyVariables"] = {"RuleVariables": {"IPSets": {"HOME_NET": {"Definition": ["10.0.0.0/8"]}}}}
    lines = chain_lines(render_ruleset(body, {ARN: group([rule("DROP", 5, source="$HOME_NET")])}))
    assert (
        lines[1]
        == 'meta l4proto tcp ip saddr { 10.0.0.0/8 } counter name r_calico_egress_5 log prefix "nfw alert calico-egress:5 "'
    )


def test_stateless_defaults_pass_bypasses_and_drop_drops_everything():
    bypass = dict(policy(), StatelessDefaultActions=["aws:pass"])
    assert chain_lines(render_ruleset(bypass, {ARN: group(role_rules())}))[0].startswith("accept")
    dropping = dict(policy(), StatelessDefaultActions=["aws:drop"])
    assert chain_lines(render_ruleset(dropping, {}))[0].startswith("counter name default_drop drop")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"RulesSource": {"RulesString": 'pass tcp any any -> any any (sid:1;)'}}, "RulesSource.RulesString"),
        ({"RulesSource": {"RulesSourceList": {"Targets": [".example.com"], "TargetTypes": ["TLS_SNI"],
                                              "GeneratedRulesType": "ALLOWLIST"}}}, "RulesSource.RulesSourceList"),
        (group([rule("PASS", 7, protocol="TLS")]), "Header.Protocol"),
        (group([rule("PASS", 7, options=[{"Keyword": "content", "Settings": ['"GET"']}])]), "RuleOptions.content"),
        (group([rule("DROP", 7, options=[{"Keyword": "flow", "Settings": ["established,to_server"]}])]), "RuleOptions.flow"),
        (group([rule("PASS", 7, source="$HOME_NET")]), "Header.Source"),
        (group([rule("PASS", 7, protocol="IP", destination_port="80")]), "Header.DestinationPort"),
        (group([rule("PASS", 7, destination_port="[80,70000]")]), "Header.DestinationPort"),
        (group([rule("PASS", 7, source_port="$NOPE")]), "Header.SourcePort"),
        (group([rule("PASS", 7, source="10.0.0.0/8", destination="fd00::/64")]), "Header"),
        (group([rule("PASS", 7)], order="STRICT_ORDER"), "StatefulRuleOptions.RuleOrder"),
    ],
)  # fmt: skip
def test_untranslatable_rules_are_refused_naming_group_sid_and_field(body, field):
    with pytest.raises(UntranslatableRule) as raised:
        render_ruleset(policy(), {ARN: body})
    assert raised.value.group == "calico-egress" and raised.value.field == field
    if field.startswith(("Header", "RuleOptions")):
        assert raised.value.sid == "7" and "sid 7" in str(raised.value)


def test_flow_settings_true_on_a_first_packet_are_accepted():
    options = [{"Keyword": "flow", "Settings": ["to_server,not_established"]}, {"Keyword": "msg", "Settings": ['"x"']}]
    assert "r_calico_egress_8 accept" in render_ruleset(policy(), {ARN: group([rule("PASS", 8, options=options)])})


def test_policy_level_refusals():
    with pytest.raises(UntranslatableRule, match="StatelessRuleGroupReferences"):
        render_ruleset(dict(policy(), StatelessRuleGroupReferences=[{"ResourceArn": "x", "Priority": 1}]), {})
    with pytest.raises(UntranslatableRule, match="ResourceArn"):
        render_ruleset(policy(), {})
    with pytest.raises(UntranslatableRule, match="StatefulDefaultActions"):
        render_ruleset(policy("STRICT_ORDER", [], ["aws:drop_established_app_layer"]), {})


def test_the_stand_ins_described_objects_render_directly():
    backend = NetworkFirewallBackend()
    created = backend.dispatch(
        "CreateRuleGroup",
        {"RuleGroupName": "calico-egress", "Type": "STATEFUL", "Capacity": 100, "RuleGroup": group(role_rules())},
    )
    arn = created["RuleGroupResponse"]["RuleGroupArn"]
    backend.dispatch(
        "CreateFirewallPolicy", {"FirewallPolicyName": "fw", "FirewallPolicy": policy(references=[{"ResourceArn": arn}])}
    )
    described = backend.dispatch("DescribeFirewallPolicy", {"FirewallPolicyName": "fw"})["FirewallPolicy"]
    groups = {arn: backend.dispatch("DescribeRuleGroup", {"RuleGroupArn": arn})["RuleGroup"]}
    assert render_ruleset(described, groups) == render_ruleset(policy(), {ARN: group(role_rules())})


class FakeHost:
    def __init__(self, outputs=None):
        self.commands = []
        self.outputs = outputs or {}

    def ssh(self, command, check=True, timeout=180, stdin=None):
        self.commands.append((command, stdin))
        return subprocess.CompletedProcess(command, 0, self.outputs.get(command, ""), "")


def test_reconcile_applies_only_changes_and_fails_closed_loudly():
    host, logged = FakeHost(), []
    twin = FirewallTwin(host, log=logged.append)
    groups = {ARN: group(role_rules())}
    assert twin.reconcile(policy(), groups) is True
    assert host.commands[0][0] == "ip netns exec firewall nft -f -"
    assert twin.status == {"ok": True, "error": None, "rules": 2}
    assert twin.reconcile(policy(), groups) is False and len(host.commands) == 1
    assert twin.reconcile(policy(), {ARN: group([rule("PASS", 9, protocol="HTTP")])}) is True
    applied = host.commands[-1][1]
    assert "policy drop;" in applied and "counter name fail_closed drop" in applied and "accept" not in applied
    assert twin.status["ok"] is False and "sid 9" in twin.status["error"] and "Header.Protocol" in twin.status["error"]
    assert logged and "FAILS CLOSED" in logged[0]


def test_counters_are_keyed_by_group_and_sid():
    listing = {
        "nftables": [
            {"metainfo": {}},
            {
                "counter": {
                    "family": "inet",
                    "name": "r_calico_egress_7",
                    "table": firewall.TABLE,
                    "comment": "calico-egress:7",
                    "packets": 3,
                }
            },
            {
                "counter": {
                    "family": "inet",
                    "name": "default_drop",
                    "table": firewall.TABLE,
                    "comment": "default:drop",
                    "packets": 0,
                }
            },
        ]
    }
    command = "ip netns exec firewall nft -j list counters table inet %s" % firewall.TABLE
    twin = FirewallTwin(FakeHost({command: json.dumps(listing)}))
    assert twin.counters() == {"calico-egress:7": 3, "default:drop": 0}


def nft_check(text):
    """`nft -c` in a throw-away network namespace: the kernel's own parser and validation, nothing applied."""
    return subprocess.run(["unshare", "-n", "nft", "-c", "-f", "-"], input=text, capture_output=True, text=True, check=False)


def test_rendered_scripts_pass_nft_check_on_the_host_kernel():
    # make vm-deps installs nftables; without it this test fails rather than skips.
    assert shutil.which("nft") and shutil.which("unshare"), "nft (Debian nftables) or unshare missing: run make vm-deps"
    probe = nft_check("table inet probe {\n}\n")
    assert probe.returncode == 0, probe.stderr
    variables = {
        "IPSets": {"EGRESS": {"Definition": ["10.10.10.0/31"]}},
        "PortSets": {"DB": {"Definition": ["5432", "6000:6010"]}},
    }
    scripts = [
        render_ruleset(policy(), {ARN: group(role_rules())}),
        render_ruleset(
            policy(),
            {
                ARN: group(
                    [
                        rule("PASS", 1, source="$EGRESS", destination="[10.2.0.0/24,!10.2.0.99]", destination_port="$DB"),
                        rule("REJECT", 2, protocol="IP", destination="10.2.0.10"),
                        rule("ALERT", 3, protocol="ICMP", direction="ANY"),
                        rule("DROP", 4, protocol="UDP", source="fd00::/64", source_port="53"),
                    ],
                    variables=variables,
                )
            },
        ),
        render_ruleset(policy("STRICT_ORDER", [{"ResourceArn": ARN, "Priority": 1}], ["aws:drop_strict", "aws:alert_strict"]),
                       {ARN: group([rule("PASS", 1)], "STRICT_ORDER")}),
        render_ruleset(dict(policy(), StatelessDefaultActions=["aws:drop"]), {}),
        firewall.render_fail_closed('bad "quoted" reason'),
    ]  # fmt: skip
    for text in scripts:
        result = nft_check(text)
        assert result.returncode == 0, "%s\n%s" % (result.stderr, text)
    # and a broken script is refused, so the check can fail
    assert nft_check(scripts[0].replace("accept", "acceptt")).returncode != 0
