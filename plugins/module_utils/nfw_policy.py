# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning one rule group reference inside a firewall policy (pure logic, no AWS SDK).

AWS facts: UpdateFirewallPolicy replaces the whole policy, so the plan starts from the policy as read
and touches only our reference; a policy references only stateful groups with its own rule order;
Priority exists only under STRICT_ORDER (unique, 1-65535, lower runs first); Override.Action DROP_TO_ALERT.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

DEFAULT_PRIORITY_STEP = 100
MAX_PRIORITY = 65535


class PolicyError(ValueError):
    """A reference the policy cannot take; the message says which side to change."""


def _order_name(order):
    return "strict" if order == "STRICT_ORDER" else "default"


def plan_reference(policy, group_arn, group_order, *, state="present", priority=None, override=None):
    """Return (new policy body or None when nothing changes, {'before': ref or None, 'after': ref or None}).

    policy: the FirewallPolicy structure as DescribeFirewallPolicy returns it.
    """
    body = copy.deepcopy(policy)
    policy_order = (body.get("StatefulEngineOptions") or {}).get("RuleOrder", "DEFAULT_ACTION_ORDER")
    refs = body.get("StatefulRuleGroupReferences") or []
    index = next((i for i, ref in enumerate(refs) if ref["ResourceArn"] == group_arn), None)
    before = copy.deepcopy(refs[index]) if index is not None else None
    if state == "absent":
        if index is None:
            return None, {"before": None, "after": None}
        del refs[index]
        body["StatefulRuleGroupReferences"] = refs
        return body, {"before": before, "after": None}

    if group_order != policy_order:
        raise PolicyError(
            "rule_group: the group uses rule order %s but the policy uses %s; AWS cannot change either after "
            "creation: recreate the rule group with rule_order: %s (or use a policy created with %s order)"
            % (_order_name(group_order), _order_name(policy_order), _order_name(policy_order), _order_name(group_order))
        )
    wanted = {"ResourceArn": group_arn}
    if policy_order == "STRICT_ORDER":
        if priority is None:
            priority = before["Priority"] if before else _next_priority(refs)
        if not 1 <= priority <= MAX_PRIORITY:
            raise PolicyError("priority: %d is out of range 1-%d" % (priority, MAX_PRIORITY))
        taken = [ref["ResourceArn"] for ref in refs if ref.get("Priority") == priority and ref["ResourceArn"] != group_arn]
        if taken:
            raise PolicyError("priority: %d is already used by %s in this policy; choose another" % (priority, taken[0]))
        wanted["Priority"] = priority
    elif priority is not None:
        raise PolicyError("priority: only valid when the policy uses strict rule order (this one uses default)")
    if override:
        wanted["Override"] = {"Action": override}
    elif before and before.get("Override") and override is None:
        wanted["Override"] = before["Override"]  # not asked about: keep it
    for key in ("DeepThreatInspection",):
        if before and key in before:
            wanted[key] = before[key]
    if before == wanted:
        return None, {"before": before, "after": before}
    if index is None:
        refs.append(wanted)
    else:
        refs[index] = wanted
    body["StatefulRuleGroupReferences"] = refs
    return body, {"before": before, "after": wanted}


def _next_priority(refs):
    used = [ref.get("Priority") or 0 for ref in refs]
    candidate = (max(used) // DEFAULT_PRIORITY_STEP + 1) * DEFAULT_PRIORITY_STEP if used else DEFAULT_PRIORITY_STEP
    return min(candidate, MAX_PRIORITY)
