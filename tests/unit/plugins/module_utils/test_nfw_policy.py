"""Planning one rule group reference in a firewall policy (pure logic)."""

import pytest

from ansible_collections.calico_egress.aws.plugins.module_utils.nfw_policy import PolicyError, plan_reference

OURS = "arn:aws:network-firewall:us-east-1:123456789012:stateful-rulegroup/ours"
THEIRS = "arn:aws:network-firewall:us-east-1:123456789012:stateful-rulegroup/theirs"
STRICT = "STRICT_ORDER"
DEFAULT = "DEFAULT_ACTION_ORDER"


def policy(order=DEFAULT, refs=()):
    return {
        "StatelessDefaultActions": ["aws:forward_to_sfe"],
        "StatelessFragmentDefaultActions": ["aws:forward_to_sfe"],
        "StatefulEngineOptions": {"RuleOrder": order},
        "StatefulRuleGroupReferences": list(refs),
    }


def test_adds_reference_without_touching_others():
    body, change = plan_reference(policy(refs=[{"ResourceArn": THEIRS}]), OURS, DEFAULT)
    assert body["StatefulRuleGroupReferences"] == [{"ResourceArn": THEIRS}, {"ResourceArn": OURS}]
    assert change == {"before": None, "after": {"ResourceArn": OURS}}
    assert body["StatelessDefaultActions"] == ["aws:forward_to_sfe"]


def test_present_reference_is_no_change():
    assert plan_reference(policy(refs=[{"ResourceArn": OURS}]), OURS, DEFAULT)[0] is None


def test_strict_priority_next_free_kept_and_moved():
    body, change = plan_reference(policy(STRICT, [{"ResourceArn": THEIRS, "Priority": 150}]), OURS, STRICT)
    assert change["after"]["Priority"] == 200
    existing = policy(STRICT, [{"ResourceArn": THEIRS, "Priority": 150}, {"ResourceArn": OURS, "Priority": 7}])
    assert plan_reference(existing, OURS, STRICT)[0] is None
    body, change = plan_reference(existing, OURS, STRICT, priority=9)
    assert [r.get("Priority") for r in body["StatefulRuleGroupReferences"]] == [150, 9]


def test_strict_priority_clash_and_range():
    taken = policy(STRICT, [{"ResourceArn": THEIRS, "Priority": 10}])
    with pytest.raises(PolicyError, match="priority: 10 is already used by .*theirs"):
        plan_reference(taken, OURS, STRICT, priority=10)
    with pytest.raises(PolicyError, match="priority: 0 is out of range"):
        plan_reference(taken, OURS, STRICT, priority=0)


def test_priority_refused_in_default_order():
    with pytest.raises(PolicyError, match="priority: only valid"):
        plan_reference(policy(), OURS, DEFAULT, priority=5)


def test_rule_order_mismatch_says_which_side_to_change():
    with pytest.raises(PolicyError, match="group uses rule order default but the policy uses strict.*rule_order: strict"):
        plan_reference(policy(STRICT), OURS, DEFAULT)


def test_override_set_kept_and_removed():
    body = plan_reference(policy(), OURS, DEFAULT, override="DROP_TO_ALERT")[0]
    assert body["StatefulRuleGroupReferences"][0]["Override"] == {"Action": "DROP_TO_ALERT"}
    with_override = policy(refs=[{"ResourceArn": OURS, "Override": {"Action": "DROP_TO_ALERT"}}])
    assert plan_reference(with_override, OURS, DEFAULT)[0] is None
    body = plan_reference(with_override, OURS, DEFAULT, override="")[0]
    assert body["StatefulRuleGroupReferences"] == [{"ResourceArn": OURS}]


def test_absent_removes_only_ours():
    body, change = plan_reference(policy(refs=[{"ResourceArn": THEIRS}, {"ResourceArn": OURS}]), OURS, DEFAULT, state="absent")
    assert body["StatefulRuleGroupReferences"] == [{"ResourceArn": THEIRS}]
    assert change["after"] is None
    assert plan_reference(policy(), OURS, DEFAULT, state="absent")[0] is None
