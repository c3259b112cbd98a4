# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan-then-apply runners behind the network_firewall_* modules.

Each runner reads the current state with a few calls (nfw_api), plans with pure functions (nfw_rules,
nfw_policy), returns in check mode before any mutating call, and otherwise applies the plan. A stale
UpdateToken (another writer changed the object between our read and our write) makes the whole
read-plan-write cycle start again, at most MAX_TOKEN_ATTEMPTS times.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)

from ansible_collections.calico_egress.aws.plugins.module_utils import nfw_api
from ansible_collections.calico_egress.aws.plugins.module_utils.nfw_policy import PolicyError, plan_reference
from ansible_collections.calico_egress.aws.plugins.module_utils.nfw_rules import (
    RULE_ORDERS,
    RuleError,
    desired_rule_group,
    plan_rule_group,
    render_suricata,
    rule_to_input,
)

MAX_TOKEN_ATTEMPTS = 5
OWNER_TAG = "calico_egress:owner"


class PlanRefused(Exception):
    """The plan cannot be applied (ownership, references): fail before writing."""


def rule_group_result(described):
    """DescribeRuleGroup answer -> snake_case result with rules in the module's input form and tags as a dict."""
    if not described:
        return {}
    response = dict(described["RuleGroupResponse"])
    tags = boto3_tag_list_to_ansible_dict(response.pop("Tags", []) or [])
    result = camel_dict_to_snake_dict(response)
    result["tags"] = tags
    body = described.get("RuleGroup") or {}
    source = body.get("RulesSource") or {}
    order = (body.get("StatefulRuleOptions") or {}).get("RuleOrder", "DEFAULT_ACTION_ORDER")
    result["rule_order"] = {v: k for k, v in RULE_ORDERS.items()}[order]
    result["rules"] = [rule_to_input(rule) for rule in source.get("StatefulRules") or []]
    result["suricata"] = source.get("RulesString") or "\n".join(render_suricata(r) for r in source.get("StatefulRules") or [])
    variables = body.get("RuleVariables") or {}
    result["ip_sets"] = {name: s["Definition"] for name, s in (variables.get("IPSets") or {}).items()}
    result["port_sets"] = {name: s.get("Definition", []) for name, s in (variables.get("PortSets") or {}).items()}
    result["update_token"] = described.get("UpdateToken")
    return result


def _wanted_tags(params):
    tags = dict(params.get("tags") or {})
    if params.get("owner"):
        tags[OWNER_TAG] = params["owner"]
    return tags


def _check_ownership(described, params):
    tags = boto3_tag_list_to_ansible_dict(described["RuleGroupResponse"].get("Tags") or [])
    if tags.get(OWNER_TAG) != params.get("owner"):
        raise PlanRefused(
            "rule group %s is not ours (tag %s is %r, owner is %r): mode exclusive would replace or delete other "
            "people's rules; use mode merge, or tag the group %s=%s to take it over"
            % (params["name"], OWNER_TAG, tags.get(OWNER_TAG), params.get("owner"), OWNER_TAG, params.get("owner"))
        )


def _apply_rule_group_once(module, client, desired, outcome):
    params = module.params
    current = nfw_api.describe_rule_group(client, params["name"])
    outcome["before"] = current
    plan = plan_rule_group(
        current,
        desired,
        mode=params["mode"],
        state=params["state"],
        explicit_capacity=params.get("capacity"),
        replace=params.get("replace_on_capacity_change"),
    )
    outcome["plan"] = plan
    if plan["action"] == "replace":
        if params["mode"] != "exclusive":
            raise PlanRefused("replace_on_capacity_change: a shared (mode merge) rule group is never recreated; ask its owner")
        if current["RuleGroupResponse"].get("NumberOfAssociations"):
            raise PlanRefused(
                "rule group %s needs a new capacity but is referenced by %d firewall policies; detach it first to recreate it"
                % (params["name"], current["RuleGroupResponse"]["NumberOfAssociations"])
            )
    if plan["action"] == "delete" and current["RuleGroupResponse"].get("NumberOfAssociations"):
        raise PlanRefused(
            "rule group %s is referenced by %d firewall policies: "
            "detach it first (network_firewall_policy_rule_group state=absent)"
            % (params["name"], current["RuleGroupResponse"]["NumberOfAssociations"])
        )
    tags_to_set, tags_to_unset = {}, []
    if params["state"] == "present" and current is not None and params.get("tags") is not None:
        current_tags = boto3_tag_list_to_ansible_dict(current["RuleGroupResponse"].get("Tags") or [])
        if params["mode"] == "exclusive":
            tags_to_set, tags_to_unset = compare_aws_tags(current_tags, _wanted_tags(params), params["purge_tags"])
        else:  # a shared group: set our tags, never remove anybody's, leave the owner tag alone
            tags_to_set, tags_to_unset = compare_aws_tags(current_tags, dict(params["tags"]), False)
            tags_to_set.pop(OWNER_TAG, None)
        tags_to_unset = [key for key in tags_to_unset if key != OWNER_TAG]
    outcome["tags"] = {"set": tags_to_set, "unset": tags_to_unset}
    outcome["changed"] = plan["action"] != "none" or bool(tags_to_set or tags_to_unset)
    if outcome["changed"] and current is not None and params["mode"] == "exclusive":
        _check_ownership(current, params)
    if module.check_mode or not outcome["changed"]:
        return current
    arn = current["RuleGroupResponse"]["RuleGroupArn"] if current else None
    if plan["action"] == "replace":  # capacity is immutable: delete, then create below with the new capacity
        nfw_api.delete_rule_group(client, arn)
        nfw_api.wait_rule_group(client, arn, "RuleGroupDeleted", params["wait_timeout"])
        tags_to_set, tags_to_unset = {}, []
    if plan["action"] in ("create", "replace"):
        request = {
            "RuleGroupName": params["name"],
            "Type": "STATEFUL",
            "Capacity": plan["capacity"],
            "RuleGroup": plan["body"],
            "Tags": ansible_dict_to_boto3_tag_list(_wanted_tags(params)),
        }
        if params.get("description"):
            request["Description"] = params["description"]
        dry = nfw_api.create_rule_group(client, DryRun=True, **request)
        _check_dry_run(dry, plan["capacity"], params["name"])
        arn = nfw_api.create_rule_group(client, **request)["RuleGroupResponse"]["RuleGroupArn"]
    elif plan["action"] == "update":
        request = {"RuleGroupArn": arn, "UpdateToken": current["UpdateToken"], "RuleGroup": plan["body"]}
        if params.get("description") is not None:
            request["Description"] = params["description"]
        dry = nfw_api.update_rule_group(client, DryRun=True, **request)
        _check_dry_run(dry, plan["capacity"], params["name"])
        nfw_api.update_rule_group(client, **request)
    elif plan["action"] == "delete":
        nfw_api.delete_rule_group(client, arn)
        if params["wait"]:
            nfw_api.wait_rule_group(client, arn, "RuleGroupDeleted", params["wait_timeout"])
        return None
    if tags_to_set:
        nfw_api.tag_resource(client, arn, ansible_dict_to_boto3_tag_list(tags_to_set))
    if tags_to_unset:
        nfw_api.untag_resource(client, arn, tags_to_unset)
    if params["wait"]:
        nfw_api.wait_rule_group(client, arn, "RuleGroupActive", params["wait_timeout"])
    return nfw_api.describe_rule_group_by_arn(client, arn)


def _check_dry_run(answer, capacity, name):
    needed = answer["RuleGroupResponse"].get("ConsumedCapacity")
    if needed is not None and needed > capacity:
        raise PlanRefused(
            "rule group %s: AWS computes capacity %d for these rules but the group has %d" % (name, needed, capacity)
        )


def ensure_rule_group(module, client):
    """network_firewall_rule_group: returns the module's result dict (raises nothing; fails the module)."""
    try:
        desired = (
            desired_rule_group(module.params) if module.params["state"] == "present" or module.params["mode"] == "merge" else None
        )
    except RuleError as error:
        module.fail_json(msg=str(error))
    desired = desired or {"owner": module.params.get("owner"), "owned_variables": {}}
    outcome = {}
    try:
        after, conflicts = nfw_api.with_token_retry(
            lambda: _apply_rule_group_once(module, client, desired, outcome), MAX_TOKEN_ATTEMPTS
        )
    except (RuleError, PlanRefused) as error:
        module.fail_json(msg=str(error))
    except AnsibleAWSError as error:
        if nfw_api.is_token_error(error):
            message = "rule group %s kept changing under us: gave up after %d stale update tokens"
            module.fail_json_aws(error.exception, msg=message % (module.params["name"], MAX_TOKEN_ATTEMPTS))
        module.fail_json_aws_error(error)
    plan = outcome["plan"]
    result = {
        "changed": outcome["changed"],
        "rule_group": rule_group_result(after),
        "plan": {
            "action": plan["action"],
            "changes": plan.get("changes"),
            "capacity": plan.get("capacity"),
            "needed_capacity": plan.get("needed"),
            "tags": outcome["tags"],
        },
        "token_conflicts": conflicts,
    }
    if module._diff:
        before = rule_group_result(outcome["before"])
        if module.check_mode:
            after_rules = [rule_to_input(r) for r in (plan.get("body") or {}).get("RulesSource", {}).get("StatefulRules", [])]
        else:
            after_rules = result["rule_group"].get("rules", [])
        if plan["action"] == "delete":
            after_rules = []
        result["diff"] = {
            "before": {"rules": before.get("rules", [])},
            "after": {"rules": after_rules if plan["action"] != "none" else before.get("rules", [])},
        }
    return result


def _policy_once(module, client, group, outcome):
    params = module.params
    policy = nfw_api.describe_firewall_policy(client, name=params.get("policy_name"), arn=params.get("policy_arn"))
    if policy is None:
        raise PlanRefused("firewall policy %s does not exist" % (params.get("policy_arn") or params.get("policy_name")))
    group_arn = group["RuleGroupResponse"]["RuleGroupArn"]
    group_order = (group["RuleGroup"].get("StatefulRuleOptions") or {}).get("RuleOrder", "DEFAULT_ACTION_ORDER")
    override = params.get("override")
    override = None if override is None else ("" if override == "none" else override.upper())
    body, change = plan_reference(
        policy["FirewallPolicy"],
        group_arn,
        group_order,
        state=params["state"],
        priority=params.get("priority"),
        override=override,
    )
    outcome.update(change=change, policy=policy, changed=body is not None)
    if body is None or module.check_mode:
        return policy
    arn = policy["FirewallPolicyResponse"]["FirewallPolicyArn"]
    nfw_api.update_firewall_policy(client, FirewallPolicyArn=arn, UpdateToken=policy["UpdateToken"], FirewallPolicy=body)
    if params["wait"]:
        nfw_api.wait_policy_active(client, arn, params["wait_timeout"])
    return nfw_api.describe_firewall_policy(client, arn=arn)


def ensure_policy_reference(module, client):
    params = module.params
    group = (
        nfw_api.describe_rule_group_by_arn(client, params["rule_group_arn"])
        if params.get("rule_group_arn")
        else nfw_api.describe_rule_group(client, params["rule_group_name"])
    )
    if group is None:
        if params["state"] == "absent":
            return {"changed": False, "reference": None}
        if module.check_mode and nfw_api.describe_firewall_policy(
            client, name=params.get("policy_name"), arn=params.get("policy_arn")
        ):
            # check mode after a planned (not made) creation of the group: it would be attached
            return {"changed": True, "reference": None, "msg": "the rule group does not exist yet; it would be attached"}
        module.fail_json(msg="rule_group: %s does not exist" % (params.get("rule_group_arn") or params.get("rule_group_name")))
    outcome = {}
    try:
        policy, conflicts = nfw_api.with_token_retry(lambda: _policy_once(module, client, group, outcome), MAX_TOKEN_ATTEMPTS)
    except (PolicyError, PlanRefused) as error:
        module.fail_json(msg=str(error))
    except AnsibleAWSError as error:
        module.fail_json_aws_error(error)
    response = dict(policy["FirewallPolicyResponse"])
    tags = boto3_tag_list_to_ansible_dict(response.pop("Tags", []) or [])
    firewall_policy = camel_dict_to_snake_dict(response)
    firewall_policy["tags"] = tags
    firewall_policy["stateful_rule_group_references"] = camel_dict_to_snake_dict(
        {"r": policy["FirewallPolicy"].get("StatefulRuleGroupReferences") or []}
    )["r"]
    after = outcome["change"]["after"]
    result = {
        "changed": outcome["changed"],
        "reference": camel_dict_to_snake_dict(after) if after else None,
        "firewall_policy": firewall_policy,
        "token_conflicts": conflicts,
    }
    if module._diff:
        before = outcome["change"]["before"]
        result["diff"] = {
            "before": {"reference": camel_dict_to_snake_dict(before) if before else None},
            "after": {"reference": result["reference"]},
        }
    return result


def rule_group_info(module, client):
    names = [module.params["name"]] if module.params.get("name") else [g["Name"] for g in nfw_api.list_rule_groups(client)]
    references = {}
    for entry in nfw_api.list_firewall_policies(client):
        policy = nfw_api.describe_firewall_policy(client, arn=entry["Arn"])
        for ref in (policy or {}).get("FirewallPolicy", {}).get("StatefulRuleGroupReferences") or []:
            references.setdefault(ref["ResourceArn"], []).append(
                dict(camel_dict_to_snake_dict(ref), policy_name=entry["Name"], policy_arn=entry["Arn"])
            )
    groups = []
    for name in names:
        described = nfw_api.describe_rule_group(client, name)
        if described is None:
            continue
        result = rule_group_result(described)
        result["references"] = references.get(result["rule_group_arn"], [])
        groups.append(result)
    return {"changed": False, "rule_groups": groups}
