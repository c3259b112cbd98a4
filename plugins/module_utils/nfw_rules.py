# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stateful Network Firewall rules: validation, AWS normal form, planning and diffing (pure logic, no AWS SDK).

Facts encoded here (AWS Network Firewall API reference and developer guide):
- a 5-tuple rule is Action PASS|DROP|ALERT|REJECT, Header{Protocol, Source, SourcePort, Direction
  FORWARD|ANY, Destination, DestinationPort} and RuleOptions; exactly one option is the numeric `sid`,
  unique inside the group;
- AWS stores an option written as one keyword `sid:N` as Keyword "sid", Settings ["N"], so desired and
  current rules are compared in that normal form (community.aws issue 1634);
- a stateful rule group consumes one unit of capacity per rule; capacity is fixed at creation;
- DEFAULT_ACTION_ORDER evaluates pass, then drop, reject, alert whatever the list order; STRICT_ORDER
  evaluates the rules in list order.

Every error is a RuleError whose message names the offending field and value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re
import zlib

ACTIONS = ("pass", "drop", "alert", "reject")
PROTOCOLS = (
    "ip", "tcp", "udp", "icmp", "http", "ftp", "tls", "smb", "dns", "dcerpc", "ssh", "smtp", "imap", "msn", "krb5",
    "ikev2", "tftp", "ntp", "dhcp", "http2", "quic",
)  # fmt: skip
DIRECTIONS = ("forward", "any")
RULE_ORDERS = {"default": "DEFAULT_ACTION_ORDER", "strict": "STRICT_ORDER"}
OWNER_KEYWORD = "metadata"
OWNER_PREFIX = "owner "
NAME_KEYWORD = "msg"
DERIVED_SID_BASE = 1000000
DERIVED_SID_SPAN = 8000000
MIN_CAPACITY = 100
MAX_CAPACITY = 30000
SURICATA_LINE = re.compile(
    r"^(?P<action>\w+)\s+(?P<protocol>\S+)\s+(?P<source>\S+)\s+(?P<source_port>\S+)\s+(?P<arrow>->|<>)\s+"
    r"(?P<destination>\S+)\s+(?P<destination_port>\S+)\s+\((?P<options>.*)\)\s*$"
)
SURICATA_ACTIONS = ACTIONS + ("rejectsrc", "rejectdst", "rejectboth")


class RuleError(ValueError):
    """Bad rule input; the message names the field."""


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _network(text, field):
    try:
        return ipaddress.ip_network(str(text), strict=False)
    except ValueError:
        raise RuleError("%s: %r is not an IP address or CIDR block" % (field, text))


def _render_set(items):
    """One AWS header string from a list: 'any', a single item, or '[a,b]'."""
    if len(items) == 1:
        return items[0]
    return "[%s]" % ",".join(items)


def _address(value, field, variables):
    """Validate an address field; return (AWS string, IP version or None)."""
    items = [str(v).strip() for v in _as_list(value)] or ["any"]
    if len(items) == 1 and items[0].lower() == "any":
        return "ANY", None
    versions = set()
    rendered = []
    for item in items:
        bare = item.lstrip("!")
        if bare.startswith("$"):
            if bare[1:] not in variables and bare[1:] not in ("HOME_NET", "EXTERNAL_NET"):
                raise RuleError("%s: variable %s is not defined in ip_sets" % (field, bare))
            rendered.append(item)
            continue
        network = _network(bare, field)
        versions.add(network.version)
        rendered.append(("!" if item.startswith("!") else "") + str(network))
    if len(versions) > 1:
        raise RuleError("%s: mixes IPv4 and IPv6 (%s)" % (field, ", ".join(items)))
    return _render_set(rendered), (versions.pop() if versions else None)


def _port_item(item, field):
    bounds = item.split(":")
    try:
        numbers = [int(b) for b in bounds]
    except ValueError:
        raise RuleError("%s: %r is not a port, a port range low:high, a variable or any" % (field, item))
    if len(numbers) > 2 or any(not 0 <= n <= 65535 for n in numbers) or (len(numbers) == 2 and numbers[0] > numbers[1]):
        raise RuleError("%s: %r is out of range (ports are 0-65535, ranges low:high)" % (field, item))
    return ":".join(str(n) for n in numbers)


def _ports(value, field, variables):
    items = [str(v).strip() for v in _as_list(value)] or ["any"]
    if len(items) == 1 and items[0].lower() == "any":
        return "ANY"
    rendered = []
    for item in items:
        bare = item.lstrip("!")
        if bare.startswith("$"):
            if bare[1:] not in variables:
                raise RuleError("%s: variable %s is not defined in port_sets" % (field, bare))
            rendered.append(item)
        else:
            rendered.append(("!" if item.startswith("!") else "") + _port_item(bare, field))
    return _render_set(rendered)


def derive_sid(owner, identity):
    """A sid that depends only on the owner and the rule's identity, so every run picks the same one."""
    digest = zlib.crc32(("%s\0%s" % (owner, identity)).encode("utf-8")) & 0xFFFFFFFF
    return DERIVED_SID_BASE + digest % DERIVED_SID_SPAN


def _identity(rule):
    if rule.get("name"):
        return "name:%s" % rule["name"]
    header = rule["Header"]
    return "|".join([rule["Action"], header["Protocol"], header["Source"], header["SourcePort"], header["Direction"],
                     header["Destination"], header["DestinationPort"]])  # fmt: skip


def build_rule(rule, index, owner, ip_sets=None, port_sets=None):
    """One module rule (snake_case input form) -> AWS StatefulRule in normal form."""
    field = "rules[%d]" % index
    ip_vars = ip_sets or {}
    port_vars = port_sets or {}
    action = str(rule.get("action") or "").lower()
    if action not in ACTIONS:
        raise RuleError("%s.action: %r is not one of %s" % (field, rule.get("action"), ", ".join(ACTIONS)))
    protocol = str(rule.get("protocol") or "tcp").lower()
    if protocol not in PROTOCOLS:
        raise RuleError("%s.protocol: %r is not one of %s" % (field, rule.get("protocol"), ", ".join(PROTOCOLS)))
    direction = str(rule.get("direction") or "forward").lower()
    if direction not in DIRECTIONS:
        raise RuleError("%s.direction: %r is not forward or any" % (field, rule.get("direction")))
    source, source_version = _address(rule.get("source"), field + ".source", ip_vars)
    destination, destination_version = _address(rule.get("destination"), field + ".destination", ip_vars)
    if source_version and destination_version and source_version != destination_version:
        raise RuleError(
            "%s: source %s is IPv%s but destination %s is IPv%s"
            % (field, source, source_version, destination, destination_version)
        )
    built = {
        "Action": action.upper(),
        "Header": {
            "Protocol": protocol.upper(),
            "Source": source,
            "SourcePort": _ports(rule.get("source_port"), field + ".source_port", port_vars),
            "Direction": direction.upper(),
            "Destination": destination,
            "DestinationPort": _ports(rule.get("destination_port"), field + ".destination_port", port_vars),
        },
    }
    options = []
    if rule.get("name"):
        options.append({"Keyword": NAME_KEYWORD, "Settings": ['"%s"' % str(rule["name"]).replace('"', "'")]})
    for position, option in enumerate(_as_list(rule.get("options"))):
        keyword, settings = _option(option, "%s.options[%d]" % (field, position))
        if keyword == "sid":
            raise RuleError("%s.options[%d]: give the sid in %s.sid, not as an option" % (field, position, field))
        if keyword in (NAME_KEYWORD, OWNER_KEYWORD) and rule.get("name"):
            raise RuleError("%s.options[%d]: %s is set by the module" % (field, position, keyword))
        options.append({"Keyword": keyword, "Settings": settings} if settings else {"Keyword": keyword})
    if owner:
        options.append({"Keyword": OWNER_KEYWORD, "Settings": [OWNER_PREFIX + owner]})
    sid = rule.get("sid")
    if sid is None:
        sid = derive_sid(owner, _identity(dict(built, name=rule.get("name"))))
    try:
        sid = int(sid)
    except (TypeError, ValueError):
        raise RuleError("%s.sid: %r is not an integer" % (field, rule.get("sid")))
    if not 1 <= sid <= 4294967295:
        raise RuleError("%s.sid: %d is out of range 1-4294967295" % (field, sid))
    options.append({"Keyword": "sid", "Settings": [str(sid)]})
    built["RuleOptions"] = options
    return built


def _option(option, field):
    if isinstance(option, dict):
        keyword = str(option.get("keyword") or "").strip()
        settings = [str(s) for s in _as_list(option.get("settings"))]
    else:
        keyword, settings = str(option).strip(), []
    if not keyword:
        raise RuleError("%s.keyword is required" % field)
    if not settings and ":" in keyword:
        keyword, value = keyword.split(":", 1)
        keyword, settings = keyword.strip(), [value.strip()]
    return keyword, settings


def normalise_rule(rule):
    """AWS StatefulRule -> the normal form AWS stores (sid:N split, enums upper-case, ANY spelled upper-case)."""
    header = dict(rule.get("Header") or {})
    for key in ("Source", "SourcePort", "Destination", "DestinationPort"):
        value = str(header.get(key, "ANY")).replace(" ", "")
        header[key] = "ANY" if value.lower() == "any" else value
    for key in ("Protocol", "Direction"):
        header[key] = str(header.get(key, "")).upper()
    options = []
    for option in rule.get("RuleOptions") or []:
        keyword = option.get("Keyword", "").strip()
        settings = list(option.get("Settings") or [])
        if keyword.startswith("sid:") and not settings:
            keyword, settings = "sid", [keyword.split(":", 1)[1].strip()]
        options.append({"Keyword": keyword, "Settings": settings} if settings else {"Keyword": keyword})
    return {"Action": str(rule.get("Action", "")).upper(), "Header": header, "RuleOptions": options}


def rule_sid(rule):
    for option in rule.get("RuleOptions") or []:
        if option.get("Keyword") == "sid" and option.get("Settings"):
            return int(option["Settings"][0])
        if option.get("Keyword", "").startswith("sid:"):
            return int(option["Keyword"].split(":", 1)[1])
    return None


def rule_owner(rule):
    for option in rule.get("RuleOptions") or []:
        settings = option.get("Settings") or []
        if option.get("Keyword") == OWNER_KEYWORD and settings and settings[0].startswith(OWNER_PREFIX):
            return settings[0][len(OWNER_PREFIX) :]
    return None


def rule_to_input(rule):
    """AWS StatefulRule -> the module's input form (what rule_group_info returns)."""
    rule = normalise_rule(rule)
    header = rule["Header"]
    result = {
        "sid": rule_sid(rule),
        "action": rule["Action"].lower(),
        "protocol": header["Protocol"].lower(),
        "source": header["Source"].lower() if header["Source"] == "ANY" else header["Source"],
        "source_port": header["SourcePort"].lower() if header["SourcePort"] == "ANY" else header["SourcePort"],
        "direction": header["Direction"].lower(),
        "destination": header["Destination"].lower() if header["Destination"] == "ANY" else header["Destination"],
        "destination_port": header["DestinationPort"].lower()
        if header["DestinationPort"] == "ANY"
        else header["DestinationPort"],
        "options": [],
    }
    owner = rule_owner(rule)
    if owner:
        result["owner"] = owner
    for option in rule["RuleOptions"]:
        keyword, settings = option["Keyword"], option.get("Settings") or []
        if keyword == "sid" or (keyword == OWNER_KEYWORD and owner and settings == [OWNER_PREFIX + owner]):
            continue
        if keyword == NAME_KEYWORD and settings and "name" not in result:
            result["name"] = settings[0].strip('"')
            continue
        result["options"].append({"keyword": keyword, "settings": settings})
    return result


def render_suricata(rule):
    """One AWS StatefulRule as the Suricata line AWS generates from it (for summaries)."""
    rule = normalise_rule(rule)
    header = rule["Header"]
    arrow = "<>" if header["Direction"] == "ANY" else "->"
    options = " ".join(
        "%s:%s;" % (o["Keyword"], ",".join(o["Settings"])) if o.get("Settings") else "%s;" % o["Keyword"]
        for o in rule["RuleOptions"]
    )
    return "%s %s %s %s %s %s %s (%s)" % (
        rule["Action"].lower(),
        header["Protocol"].lower(),
        header["Source"].lower() if header["Source"] == "ANY" else header["Source"],
        header["SourcePort"].lower() if header["SourcePort"] == "ANY" else header["SourcePort"],
        arrow,
        header["Destination"].lower() if header["Destination"] == "ANY" else header["Destination"],
        header["DestinationPort"].lower() if header["DestinationPort"] == "ANY" else header["DestinationPort"],
        options,
    )


def parse_suricata(text, field="suricata"):
    """Validate Suricata rules text; return the list of sids in order. Comments and blank lines are allowed."""
    sids = []
    for number, raw in enumerate(str(text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = SURICATA_LINE.match(line)
        if not match:
            raise RuleError(
                "%s line %d does not parse as 'action proto src sport -> dst dport (options)': %s" % (field, number, line)
            )
        if match.group("action").lower() not in SURICATA_ACTIONS:
            raise RuleError(
                "%s line %d: action %r is not one of %s" % (field, number, match.group("action"), ", ".join(SURICATA_ACTIONS))
            )
        options = [o.strip() for o in match.group("options").split(";") if o.strip()]
        found = [o.split(":", 1)[1].strip() for o in options if o.replace(" ", "").startswith("sid:")]
        if len(found) != 1 or not found[0].isdigit():
            raise RuleError("%s line %d: needs exactly one numeric sid option" % (field, number))
        if int(found[0]) in sids:
            raise RuleError("%s line %d: duplicate sid %s" % (field, number, found[0]))
        sids.append(int(found[0]))
    if not sids:
        raise RuleError("%s: contains no rule" % field)
    return sids


def check_unique_sids(rules, field="rules"):
    seen = {}
    for index, rule in enumerate(rules):
        sid = rule_sid(rule)
        if sid in seen:
            raise RuleError(
                "%s[%d]: duplicate sid %d (also %s[%d]); set an explicit sid or a distinct name"
                % (field, index, sid, field, seen[sid])
            )
        seen[sid] = index


def variables(ip_sets=None, port_sets=None):
    """Module ip_sets / port_sets -> AWS RuleVariables (validated), or None when empty."""
    result = {}
    if ip_sets:
        result["IPSets"] = {}
        for name, definition in sorted(ip_sets.items()):
            items = [str(_network(item, "ip_sets.%s" % name)) for item in _as_list(definition)]
            if not items:
                raise RuleError("ip_sets.%s: needs at least one CIDR block" % name)
            result["IPSets"][name] = {"Definition": items}
    if port_sets:
        result["PortSets"] = {}
        for name, definition in sorted(port_sets.items()):
            items = [_port_item(str(item), "port_sets.%s" % name) for item in _as_list(definition)]
            if not items:
                raise RuleError("port_sets.%s: needs at least one port" % name)
            result["PortSets"][name] = {"Definition": items}
    return result or None


def compute_capacity(rule_count, explicit=None):
    """Capacity to create a group with: explicit, or twice the rules with a floor of MIN_CAPACITY (room to grow,
    since capacity can never change)."""
    if explicit is not None:
        if not 1 <= explicit <= MAX_CAPACITY:
            raise RuleError("capacity: %r is out of range 1-%d" % (explicit, MAX_CAPACITY))
        if explicit < rule_count:
            raise RuleError("capacity: %d is less than the %d rules" % (explicit, rule_count))
        return explicit
    return min(MAX_CAPACITY, max(MIN_CAPACITY, 2 * rule_count))


def merge_rules(current, desired, owner, rule_order):
    """Merge mode: keep every rule not owned by `owner`, replace ours by `desired`.

    In strict order our rules stay where our first rule was (others' rules before and after keep their
    places); in default action order position does not matter and ours go last.
    """
    others_before, others_after, seen_ours = [], [], False
    for rule in current:
        if rule_owner(rule) == owner:
            seen_ours = True
        elif seen_ours and rule_order == "STRICT_ORDER":
            others_after.append(rule)
        else:
            others_before.append(rule)
    return others_before + list(desired) + others_after


def merge_variables(current, desired, owned_names, exclusive):
    """RuleVariables: exclusive -> desired; merge -> current with our names replaced (or removed)."""
    if exclusive:
        return desired
    result = {"IPSets": dict((current or {}).get("IPSets") or {}), "PortSets": dict((current or {}).get("PortSets") or {})}
    for kind in ("IPSets", "PortSets"):
        for name in owned_names.get(kind, ()):
            result[kind].pop(name, None)
        result[kind].update(((desired or {}).get(kind)) or {})
    return {k: v for k, v in result.items() if v} or None


def _canonical(rule):
    return normalise_rule(rule)


def rules_equal(current, desired, rule_order):
    """Equal in AWS's normal form; order matters only under STRICT_ORDER."""
    left = [_canonical(r) for r in current]
    right = [_canonical(r) for r in desired]
    if rule_order != "STRICT_ORDER":
        left.sort(key=lambda r: rule_sid(r) or 0)
        right.sort(key=lambda r: rule_sid(r) or 0)
    return left == right


def diff_rules(current, desired):
    """Rule-level changes by sid: {'added': [...], 'removed': [...], 'changed': [...]} in input form."""
    before = {rule_sid(r): _canonical(r) for r in current}
    after = {rule_sid(r): _canonical(r) for r in desired}
    return {
        "added": [rule_to_input(after[s]) for s in after if s not in before],
        "removed": [rule_to_input(before[s]) for s in before if s not in after],
        "changed": [
            {"before": rule_to_input(before[s]), "after": rule_to_input(after[s])}
            for s in after
            if s in before and before[s] != after[s]
        ],
    }


def build_egress_rules(egress_rules, protected_destinations, default_sources, field="network_firewall_egress_rules"):
    """The role's user-level input -> module rules: one pass rule per egress rule, then one drop rule per
    protected destination (pass before drop is right in both rule orders)."""
    rules = []
    names = set()
    for index, entry in enumerate(egress_rules or []):
        name = entry.get("name")
        if not name:
            raise RuleError("%s[%d].name is required" % (field, index))
        if name in names:
            raise RuleError("%s[%d].name: %r is used twice" % (field, index, name))
        names.add(name)
        sources = _as_list(entry.get("sources")) or _as_list(default_sources)
        if not sources:
            raise RuleError(
                "%s[%d].sources: empty, and no egress gateway CIDRs are known (calico_egress_gateway_cidrs)" % (field, index)
            )
        if not entry.get("destination"):
            raise RuleError("%s[%d].destination is required" % (field, index))
        rules.append(
            {
                "name": name,
                "action": "pass",
                "protocol": entry.get("protocol") or "tcp",
                "source": sources,
                "destination": entry["destination"],
                "destination_port": _as_list(entry.get("ports")) or "any",
            }
        )
    for index, item in enumerate(protected_destinations or []):
        entry = item if isinstance(item, dict) else {"destination": item}
        if not entry.get("destination"):
            raise RuleError("network_firewall_protected_destinations[%d].destination is required" % index)
        ports = _as_list(entry.get("ports"))
        rules.append(
            {
                "name": entry.get("name") or "protect %s" % entry["destination"],
                "action": "drop",
                # ports only exist for port protocols: without ports, drop every protocol
                "protocol": entry.get("protocol") or ("tcp" if ports else "ip"),
                "source": "any",
                "destination": entry["destination"],
                "destination_port": ports or "any",
            }
        )
    return rules


def desired_rule_group(params):
    """Module parameters -> the desired group: {'rules' or 'rules_string', 'variables', 'rule_order', 'owner'}."""
    owner = params.get("owner") or ""
    if params.get("mode") == "merge" and not owner:
        raise RuleError("owner: required with mode merge (it marks which rules are ours)")
    if params.get("mode") == "merge" and params.get("suricata"):
        raise RuleError("suricata: mode merge needs rules (5-tuple), whose owner can be marked")
    ip_sets = params.get("ip_sets") or {}
    port_sets = params.get("port_sets") or {}
    desired = {
        "rule_order": RULE_ORDERS[params.get("rule_order") or "default"],
        "variables": variables(ip_sets, port_sets),
        "owner": owner,
        "owned_variables": {"IPSets": sorted(ip_sets), "PortSets": sorted(port_sets)},
    }
    if params.get("suricata") is not None:
        parse_suricata(params["suricata"])
        desired["rules_string"] = params["suricata"]
    else:
        rules = [build_rule(rule, index, owner, ip_sets, port_sets) for index, rule in enumerate(params.get("rules") or [])]
        check_unique_sids(rules)
        desired["rules"] = rules
    return desired


def _current_body(current):
    return (current or {}).get("RuleGroup") or {}


def plan_rule_group(current, desired, *, mode="exclusive", state="present", explicit_capacity=None, replace=False):
    """Compare the described group (DescribeRuleGroup answer or None) with the desired one.

    Returns {'action': 'create'|'update'|'replace'|'delete'|'none', 'body': RuleGroup to send, 'capacity',
    'needed', 'changes' (rule-level), 'rule_group_after'}. Raises RuleError for what AWS cannot do
    (capacity change, rule order change, group too small), before any write.
    """
    body = _current_body(current)
    response = (current or {}).get("RuleGroupResponse") or {}
    source = body.get("RulesSource") or {}
    current_rules = source.get("StatefulRules") or []
    current_order = (body.get("StatefulRuleOptions") or {}).get("RuleOrder", "DEFAULT_ACTION_ORDER")
    exclusive = mode != "merge"
    if state == "absent":
        if current is None:
            return {"action": "none", "changes": {"added": [], "removed": [], "changed": []}}
        if exclusive:
            return {"action": "delete", "changes": diff_rules(current_rules, [])}
        kept = [r for r in current_rules if rule_owner(r) != desired["owner"]]
        new_body = dict(body, RulesSource={"StatefulRules": kept})
        new_body["RuleVariables"] = merge_variables(body.get("RuleVariables"), None, desired["owned_variables"], False)
        if new_body["RuleVariables"] is None:
            new_body.pop("RuleVariables")
        if len(kept) == len(current_rules):
            return {"action": "none", "changes": diff_rules(current_rules, current_rules)}
        if not kept:
            raise RuleError(
                "rules: removing our rules would leave rule group %s empty; use mode exclusive to delete it"
                % response.get("RuleGroupName")
            )
        return {
            "action": "update",
            "body": new_body,
            "capacity": response.get("Capacity"),
            "needed": len(kept),
            "changes": diff_rules(current_rules, kept),
        }

    if current is not None and current_order != desired["rule_order"]:
        raise RuleError(
            "rule_order: rule group %s uses %s and AWS cannot change it; keep rule_order %s or delete the group first"
            % (response.get("RuleGroupName"), current_order, "strict" if current_order == "STRICT_ORDER" else "default")
        )
    if "rules_string" in desired:
        new_source = {"RulesString": desired["rules_string"]}
        needed = len(parse_suricata(desired["rules_string"]))
        rules_after = None
    else:
        rules_after = (
            desired["rules"]
            if exclusive
            else merge_rules(current_rules, desired["rules"], desired["owner"], desired["rule_order"])
        )
        check_unique_sids(rules_after, field="rules (after merging with the rules already in the group)")
        new_source = {"StatefulRules": rules_after}
        needed = len(rules_after)
        if not rules_after:
            raise RuleError("rules: a rule group needs at least one rule")
    new_body = {"RulesSource": new_source, "StatefulRuleOptions": {"RuleOrder": desired["rule_order"]}}
    new_variables = merge_variables(body.get("RuleVariables"), desired["variables"], desired["owned_variables"], exclusive)
    if new_variables:
        new_body["RuleVariables"] = new_variables
    if current is None:
        capacity = compute_capacity(needed, explicit_capacity)
        return {
            "action": "create",
            "body": new_body,
            "capacity": capacity,
            "needed": needed,
            "changes": diff_rules([], rules_after or []),
        }
    capacity = response.get("Capacity")
    wrong_capacity = explicit_capacity is not None and explicit_capacity != capacity
    if (wrong_capacity or needed > capacity) and replace:
        return {
            "action": "replace",
            "body": new_body,
            "capacity": compute_capacity(needed, explicit_capacity),
            "needed": needed,
            "changes": diff_rules(current_rules, rules_after or []),
        }
    if wrong_capacity:
        raise RuleError(
            "capacity: rule group %s has capacity %d and AWS cannot change it (asked %d); "
            "set replace_on_capacity_change to delete and recreate it"
            % (response.get("RuleGroupName"), capacity, explicit_capacity)
        )
    if needed > capacity:
        raise RuleError(
            "rules: rule group %s would hold %d rules but its capacity is %d (fixed at creation); "
            "remove rules or set replace_on_capacity_change" % (response.get("RuleGroupName"), needed, capacity)
        )
    same_source = (
        rules_equal(current_rules, rules_after, desired["rule_order"])
        if rules_after is not None and "StatefulRules" in source
        else source.get("RulesString") == new_source.get("RulesString") and "RulesString" in source
    )
    same_variables = (body.get("RuleVariables") or None) == (new_body.get("RuleVariables") or None)
    if same_source and same_variables:
        return {"action": "none", "capacity": capacity, "needed": needed, "changes": diff_rules(current_rules, current_rules)}
    return {
        "action": "update",
        "body": new_body,
        "capacity": capacity,
        "needed": needed,
        "changes": diff_rules(current_rules, rules_after or []),
        "variables_changed": not same_variables,
    }


def summarise_rules(rules):
    """Module rules (input form) -> one readable line each, e.g. 'PASS tcp 10.10.10.0/31 -> 10.2.0.10/32 port 5432 (db)'."""

    def text(value):
        items = [str(v) for v in _as_list(value)] or ["any"]
        return ",".join(items)

    lines = []
    for rule in rules or []:
        line = "%s %s %s -> %s port %s" % (
            str(rule.get("action", "")).upper(),
            rule.get("protocol") or "tcp",
            text(rule.get("source")),
            text(rule.get("destination")),
            text(rule.get("destination_port")),
        )
        if rule.get("name"):
            line += " (%s)" % rule["name"]
        lines.append(line)
    return lines
