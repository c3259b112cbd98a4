"""Role network_firewall: real ansible-playbook runs against the AWS stand-in."""

import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.path.dirname(sys.executable)
DB = "10.2.0.10/32"


PLAYBOOK = """
- name: Firewall side of the egress gateway design
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/calico_egress.aws.aws:
      endpoint_url: "{endpoint}"
      region: "{region}"
      access_key: testing
      secret_key: testing
  vars:
    calico_egress_gateway_cidrs: [10.10.10.0/31]
    network_firewall_policy_name: inspection
    network_firewall_rule_order: {order}
    network_firewall_ip_sets:
      CACHE: [10.2.0.20/32]
    network_firewall_egress_rules:
      - name: egress gateway to database
        destination: {db}
        ports: [5432]
      - name: egress gateway to cache
        sources: [10.10.10.1/32]
        destination: $CACHE
        ports: [6379]
    network_firewall_protected_destinations: [{db}]
  roles:
    - calico_egress.aws.network_firewall
"""


def _play(aws, tmp_path, order="default", check=False, **extra):
    playbook = tmp_path / "site.yml"
    playbook.write_text(PLAYBOOK.format(endpoint=aws.endpoint_url, region=aws.region, order=order, db=DB))
    env = dict(os.environ, **aws.env())
    env.update(
        ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_HOME=str(tmp_path / "ansible-home"),
        PATH=BIN + os.pathsep + env.get("PATH", ""),
    )
    command = [
        os.path.join(BIN, "ansible-playbook"),
        "-i",
        "localhost,",
        "-c",
        "local",
        "-e",
        "ansible_python_interpreter=" + sys.executable,
    ]
    command.append(str(playbook))
    if extra:
        (tmp_path / "extra.json").write_text(json.dumps(extra))
        command += ["-e", "@" + str(tmp_path / "extra.json")]
    if check:
        command.append("--check")
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False, cwd=str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    recap = re.search(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)", result.stdout)
    return int(recap.group(2)), result.stdout


def _policy(aws, order):
    body = {
        "StatelessDefaultActions": ["aws:forward_to_sfe"],
        "StatelessFragmentDefaultActions": ["aws:forward_to_sfe"],
        "StatefulEngineOptions": {"RuleOrder": order},
    }
    if order == "STRICT_ORDER":
        body["StatefulDefaultActions"] = ["aws:drop_established"]
    aws.client("network-firewall").create_firewall_policy(FirewallPolicyName="inspection", FirewallPolicy=body)


@pytest.mark.parametrize(("order", "aws_order"), [("default", "DEFAULT_ACTION_ORDER"), ("strict", "STRICT_ORDER")])
def test_role_builds_attaches_and_is_idempotent(aws, tmp_path, order, aws_order):
    _policy(aws, aws_order)
    aws.reset_calls()
    changed, output = _play(aws, tmp_path, order=order, check=True)
    assert changed == 2 and aws.calls(service="network-firewall", mutating=True) == []
    assert "PASS tcp 10.10.10.0/31 -> 10.2.0.10/32 port 5432 (egress gateway to database)" in output
    changed, output = _play(aws, tmp_path, order=order)
    assert changed == 2
    nfw = aws.client("network-firewall")
    group = nfw.describe_rule_group(RuleGroupName="calico-egress", Type="STATEFUL")
    rules = group["RuleGroup"]["RulesSource"]["StatefulRules"]
    assert [(r["Action"], r["Header"]["Source"], r["Header"]["DestinationPort"]) for r in rules] == [
        ("PASS", "10.10.10.0/31", "5432"),
        ("PASS", "10.10.10.1/32", "6379"),
        ("DROP", "ANY", "ANY"),
    ]
    assert group["RuleGroup"]["StatefulRuleOptions"]["RuleOrder"] == aws_order
    assert group["RuleGroup"]["RuleVariables"]["IPSets"] == {"CACHE": {"Definition": ["10.2.0.20/32"]}}
    refs = nfw.describe_firewall_policy(FirewallPolicyName="inspection")["FirewallPolicy"]["StatefulRuleGroupReferences"]
    assert [r["ResourceArn"] for r in refs] == [group["RuleGroupResponse"]["RuleGroupArn"]]
    assert ("Priority" in refs[0]) == (order == "strict")
    aws.reset_calls()
    changed = _play(aws, tmp_path, order=order)[0]
    assert changed == 0 and aws.calls(service="network-firewall", mutating=True) == []


def _foreign_group(aws, name, tags):
    """Another team's stateful group, attached to the inspection policy beside ours."""
    nfw = aws.client("network-firewall")
    rule = {
        "Action": "PASS",
        "Header": {
            "Protocol": "TCP",
            "Source": "10.50.0.0/24",
            "SourcePort": "ANY",
            "Direction": "FORWARD",
            "Destination": "10.2.0.30/32",
            "DestinationPort": "443",
        },
        "RuleOptions": [{"Keyword": "sid", "Settings": ["9001"]}],
    }
    arn = nfw.create_rule_group(
        RuleGroupName=name,
        Type="STATEFUL",
        Capacity=10,
        RuleGroup={"RulesSource": {"StatefulRules": [rule]}},
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )["RuleGroupResponse"]["RuleGroupArn"]
    policy = nfw.describe_firewall_policy(FirewallPolicyName="inspection")
    body = policy["FirewallPolicy"]
    body["StatefulRuleGroupReferences"] = body.get("StatefulRuleGroupReferences", []) + [{"ResourceArn": arn}]
    nfw.update_firewall_policy(FirewallPolicyName="inspection", UpdateToken=policy["UpdateToken"], FirewallPolicy=body)
    return arn


def _references(aws):
    policy = aws.client("network-firewall").describe_firewall_policy(FirewallPolicyName="inspection")
    return [r["ResourceArn"] for r in policy["FirewallPolicy"].get("StatefulRuleGroupReferences", [])]


def _group_names(aws):
    return sorted(g["Name"] for g in aws.client("network-firewall").list_rule_groups()["RuleGroups"])


def test_absent_detaches_and_deletes_only_our_group(aws, tmp_path):
    _policy(aws, "DEFAULT_ACTION_ORDER")
    foreign = _foreign_group(aws, "payments-team", {"team": "payments"})
    _play(aws, tmp_path)
    assert _group_names(aws) == ["calico-egress", "payments-team"] and len(_references(aws)) == 2

    aws.reset_calls()
    changed, output = _play(aws, tmp_path, check=True, network_firewall_state="absent")
    assert changed > 0 and aws.calls(service="network-firewall", mutating=True) == []
    assert "would be deleted once detached from inspection" in output

    changed, output = _play(aws, tmp_path, network_firewall_state="absent")
    assert changed == 2, output  # detach, delete
    assert _group_names(aws) == ["payments-team"] and _references(aws) == [foreign]

    aws.reset_calls()
    changed, output = _play(aws, tmp_path, network_firewall_state="absent")
    assert changed == 0 and aws.calls(service="network-firewall", mutating=True) == []
    aws.reset_calls()
    changed, output = _play(aws, tmp_path, check=True, network_firewall_state="absent")
    assert changed == 0 and aws.calls(service="network-firewall", mutating=True) == []


def test_absent_leaves_a_same_named_group_we_do_not_own(aws, tmp_path):
    _policy(aws, "DEFAULT_ACTION_ORDER")
    foreign = _foreign_group(aws, "calico-egress", {"calico_egress:owner": "someone-else"})
    aws.reset_calls()
    changed, output = _play(aws, tmp_path, network_firewall_state="absent")
    assert changed == 0 and aws.calls(service="network-firewall", mutating=True) == []
    assert "is not tagged calico_egress:owner=calico_egress" in output
    assert _group_names(aws) == ["calico-egress"] and _references(aws) == [foreign]


def test_absent_in_merge_mode_removes_only_our_rules(aws, tmp_path):
    _policy(aws, "DEFAULT_ACTION_ORDER")
    foreign = _foreign_group(aws, "calico-egress", {"team": "shared"})
    _play(aws, tmp_path, network_firewall_mode="merge")
    nfw = aws.client("network-firewall")
    rules = nfw.describe_rule_group(RuleGroupName="calico-egress", Type="STATEFUL")["RuleGroup"]["RulesSource"]["StatefulRules"]
    assert len(rules) == 4
    changed, output = _play(aws, tmp_path, network_firewall_mode="merge", network_firewall_state="absent")
    assert changed == 1, output
    rules = nfw.describe_rule_group(RuleGroupName="calico-egress", Type="STATEFUL")["RuleGroup"]["RulesSource"]["StatefulRules"]
    assert [(r["Header"]["Source"], r["Header"]["DestinationPort"]) for r in rules] == [("10.50.0.0/24", "443")]
    assert _references(aws) == [foreign]
    changed, output = _play(aws, tmp_path, network_firewall_mode="merge", network_firewall_state="absent")
    assert changed == 0, output
