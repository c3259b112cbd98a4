"""Firewall twin: the AWS stand-in's firewall policy and stateful rule groups -> nftables in netns `firewall`.

What AWS Network Firewall does, translated to one nftables table (`inet calico_egress_lab_fw`, replaced
atomically by one `nft -f` transaction) on the forward hook of the `firewall` namespace:
- stateful: packets of flows already accepted (ct established,related) pass; rules decide on a flow's first
  packet (the client's), so `flow:to_server` / `from_client` / `not_established` hold by construction;
- DEFAULT_ACTION_ORDER: every PASS rule of every group, then DROP, then REJECT, then ALERT (log and go on);
  unmatched traffic passes (AWS allows no StatefulDefaultActions in this order);
- STRICT_ORDER: groups by Priority, rules in list order, first PASS/DROP/REJECT wins, ALERT logs and goes
  on; then StatefulDefaultActions (aws:drop_strict / aws:drop_established drop, aws:alert_* log), else pass;
- StatelessDefaultActions: aws:forward_to_sfe runs the stateful rules, aws:pass bypasses them, aws:drop drops;
- Override {Action: DROP_TO_ALERT} on a group reference turns its DROP/REJECT rules into ALERT rules;
- REJECT sends a TCP reset for TCP and drops anything else (AWS: REJECT is for TCP).

Differences from AWS, all on the strict side: aws:drop_established drops the handshake of an unmatched flow
too (AWS lets the handshake through and drops the first data packet: the client times out either way); IP
fragments are reassembled by conntrack, so StatelessFragmentDefaultActions is ignored.

Anything else (Suricata RulesString, domain lists, app-layer protocols, keywords other than sid, msg,
metadata, rev, classtype, reference and the flow directions above, stateless rule groups, custom actions,
$HOME_NET without a policy variable) raises UntranslatableRule: the twin then installs a fail-closed table.
Every rule counts its packets in a named counter whose comment is `<group>:<sid>` (see FirewallTwin.counters).
"""

import ipaddress
import json
import re

TABLE = "calico_egress_lab_fw"
DEFAULT_ORDER = "DEFAULT_ACTION_ORDER"
STRICT_ORDER = "STRICT_ORDER"
PROTOCOLS = ("TCP", "UDP", "ICMP", "IP")
PORT_PROTOCOLS = ("TCP", "UDP")
INFORMATIONAL_KEYWORDS = ("sid", "msg", "metadata", "rev", "classtype", "reference")
# flow settings that hold for the first packet of a flow, the only packet our rules see
FIRST_PACKET_FLOW_SETTINGS = ("to_server", "from_client", "not_established")
DROP_DEFAULTS = ("aws:drop_strict", "aws:drop_established")
ALERT_DEFAULTS = ("aws:alert_strict", "aws:alert_established")
ACTION_RANK = {"PASS": 0, "DROP": 1, "REJECT": 2, "ALERT": 3}  # AWS: pass, drop, reject, alert
FAIL_CLOSED_KEY = "fail-closed"
DEFAULT_DROP_KEY = "default:drop"
DEFAULT_ALERT_KEY = "default:alert"


class UntranslatableRule(ValueError):
    """A rule (or policy field) the twin cannot enforce; it fails closed instead of allowing it."""

    def __init__(self, group, sid, field, reason):
        self.group, self.sid, self.field, self.reason = group, sid, field, reason
        where = "rule group %s" % group if sid is None else "rule group %s, rule sid %s" % (group, sid)
        super().__init__("cannot translate %s, field %s: %s" % (where, field, reason))


def group_name(arn):
    return str(arn).rsplit("/", 1)[-1]


def _identifier(text):
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def _quoted(text, limit=120):
    return '"%s"' % str(text).replace('"', "'")[:limit]


# -- header fields ---------------------------------------------------------------------------------------------
def _split_items(value):
    text = str(value).strip().replace(" ", "")
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return [item for item in text.split(",") if item]


def _selection(value, variables, fail, field, kind, parse):
    """'ANY' | item | $VAR | [a,!b,$C,...] -> (positive values, negated values); ([], []) = any."""
    positive, negative = [], []
    if str(value).strip().upper() == "ANY":
        return positive, negative
    for item in _split_items(value):
        bare = item.lstrip("!")
        if bare.startswith("$"):
            if bare[1:] not in variables:
                fail(field, "%s variable %s is not defined (the twin does not know HOME_NET's VPC CIDR)" % (kind, bare))
            values = [parse(str(entry)) for entry in variables[bare[1:]]]
        elif bare.upper() == "ANY":
            fail(field, "ANY inside a list is not supported")
        else:
            values = [parse(bare)]
        (negative if item.startswith("!") else positive).extend(values)
    return positive, negative


def _addresses(value, variables, fail, field):
    def parse(text):
        try:
            return ipaddress.ip_network(text, strict=False)
        except ValueError:
            fail(field, "%r is not an IP address or CIDR block" % text)

    return _selection(value, variables, fail, field, "IP set", parse)


def _ports(value, variables, fail, field):
    def parse(text):
        low, separator, high = text.partition(":")
        try:
            bounds = (int(low) if low else 0, int(high) if high else 65535) if separator else (int(low), int(low))
        except ValueError:
            fail(field, "%r is not a port or port range" % text)
        if not 0 <= bounds[0] <= bounds[1] <= 65535:
            fail(field, "%r is out of range" % text)
        return bounds

    return _selection(value, variables, fail, field, "port set", parse)


def _nft_set(items):
    return "{ %s }" % ", ".join(items)


def _range_text(bounds):
    return str(bounds[0]) if bounds[0] == bounds[1] else "%d-%d" % bounds


def _address_match(direction, selection, family):
    positive, negative = selection
    keyword = "ip6" if family == 6 else "ip"
    parts = []
    if positive:
        parts.append("%s %s %s" % (keyword, direction, _nft_set(str(n) for n in positive)))
    if negative:
        parts.append("%s %s != %s" % (keyword, direction, _nft_set(str(n) for n in negative)))
    return parts


def _port_match(direction, selection):
    positive, negative = selection
    parts = []
    if positive:
        parts.append("th %s %s" % (direction, _nft_set(_range_text(r) for r in positive)))
    if negative:
        parts.append("th %s != %s" % (direction, _nft_set(_range_text(r) for r in negative)))
    return parts


# -- one rule ---------------------------------------------------------------------------------------------------
def translate_rule(rule, group, ip_sets, port_sets, override=None):
    """One StatefulRule -> {'sid', 'action', 'matches': [nft match text per direction]} or UntranslatableRule."""
    options = rule.get("RuleOptions") or []
    sid = None
    for option in options:
        keyword = str(option.get("Keyword", "")).strip()
        settings = option.get("Settings") or []
        if keyword == "sid" and settings:
            sid = str(settings[0]).strip()
        elif keyword.startswith("sid:"):
            sid = keyword.split(":", 1)[1].strip()

    def fail(field, reason):
        raise UntranslatableRule(group, sid, field, reason)

    if sid is None or not sid.isdigit():
        fail("RuleOptions.sid", "every stateful rule needs one numeric sid")
    action = str(rule.get("Action", "")).upper()
    if action not in ACTION_RANK:
        fail("Action", "%r is not PASS, DROP, REJECT or ALERT" % rule.get("Action"))
    if override == "DROP_TO_ALERT" and action in ("DROP", "REJECT"):
        action = "ALERT"
    flow = []
    for option in options:
        keyword = str(option.get("Keyword", "")).strip()
        if keyword.startswith("sid:") or keyword in INFORMATIONAL_KEYWORDS:
            continue
        if keyword == "flow":
            for setting in ",".join(option.get("Settings") or []).split(","):
                if setting.strip() not in FIRST_PACKET_FLOW_SETTINGS:
                    fail("RuleOptions.flow", "flow setting %r is not enforceable on a flow's first packet" % setting.strip())
                flow.append(setting.strip())
            continue
        fail("RuleOptions.%s" % keyword, "keyword %r has no nftables equivalent in the twin" % keyword)
    header = rule.get("Header") or {}
    protocol = str(header.get("Protocol", "")).upper()
    if protocol not in PROTOCOLS:
        fail(
            "Header.Protocol", "%r is an application-layer protocol (only TCP, UDP, ICMP, IP translate)" % header.get("Protocol")
        )
    source = _addresses(header.get("Source", "ANY"), ip_sets, fail, "Header.Source")
    destination = _addresses(header.get("Destination", "ANY"), ip_sets, fail, "Header.Destination")
    source_ports = _ports(header.get("SourcePort", "ANY"), port_sets, fail, "Header.SourcePort")
    destination_ports = _ports(header.get("DestinationPort", "ANY"), port_sets, fail, "Header.DestinationPort")
    if protocol not in PORT_PROTOCOLS:
        for field, selection in (("Header.SourcePort", source_ports), ("Header.DestinationPort", destination_ports)):
            if selection != ([], []):
                fail(field, "ports need protocol TCP or UDP, not %s" % protocol)
    families = {n.version for selection in (source, destination) for side in selection for n in side}
    if len(families) > 1:
        fail("Header", "mixes IPv4 and IPv6 addresses")
    family = families.pop() if families else None
    if protocol in PORT_PROTOCOLS:
        protocol_match = ["meta l4proto %s" % protocol.lower()]
    elif protocol == "ICMP":
        protocol_match = ["meta l4proto %s" % {4: "icmp", 6: "ipv6-icmp", None: "{ icmp, ipv6-icmp }"}[family]]
    else:
        protocol_match = []
    direction = str(header.get("Direction", "FORWARD")).upper()
    if direction not in ("FORWARD", "ANY"):
        fail("Header.Direction", "%r is not FORWARD or ANY" % header.get("Direction"))
    orientations = [(source, source_ports, destination, destination_ports)]
    if direction == "ANY":
        orientations.append((destination, destination_ports, source, source_ports))
    matches = []
    for src, sports, dst, dports in orientations:
        parts = list(protocol_match)
        parts += _address_match("saddr", src, family) + _address_match("daddr", dst, family)
        parts += _port_match("sport", sports) + _port_match("dport", dports)
        matches.append(" ".join(parts))
    return {"sid": int(sid), "action": action, "protocol": protocol, "matches": matches, "flow": flow}


def _verdicts(translated, counter, label):
    """nft rule lines for one translated rule."""
    lines = []
    for match in translated["matches"]:
        prefix = (match + " " if match else "") + "counter name %s" % counter
        action = translated["action"]
        if action == "PASS":
            lines.append("%s accept" % prefix)
        elif action == "DROP":
            lines.append("%s drop" % prefix)
        elif action == "REJECT":
            if translated["protocol"] in ("TCP", "IP"):
                tcp = prefix if translated["protocol"] == "TCP" else prefix.replace("counter", "meta l4proto tcp counter", 1)
                lines.append("%s reject with tcp reset" % tcp)
            if translated["protocol"] != "TCP":
                lines.append("%s drop" % prefix)
        else:
            lines.append("%s log prefix %s" % (prefix, _quoted("nfw alert %s " % label, 60)))
    return lines


# -- policy -----------------------------------------------------------------------------------------------------
def _policy_ip_sets(policy):
    variables = ((policy.get("PolicyVariables") or {}).get("RuleVariables") or {}).get("IPSets") or {}
    return {name: list(value.get("Definition") or []) for name, value in variables.items()}


def _group_variables(body, kind):
    variables = (body.get("RuleVariables") or {}).get(kind) or {}
    return {name: list(value.get("Definition") or []) for name, value in variables.items()}


def plan_rules(policy, rule_groups):
    """The policy's stateful rules in evaluation order: [(group name, translated rule)] plus the default action."""
    policy = policy or {}
    order = (policy.get("StatefulEngineOptions") or {}).get("RuleOrder") or DEFAULT_ORDER
    if policy.get("StatelessRuleGroupReferences"):
        raise UntranslatableRule("(policy)", None, "StatelessRuleGroupReferences", "stateless rule groups are not translated")
    stateless = list(policy.get("StatelessDefaultActions") or ["aws:forward_to_sfe"])
    unknown = [action for action in stateless if action not in ("aws:forward_to_sfe", "aws:pass", "aws:drop")]
    if unknown:
        raise UntranslatableRule("(policy)", None, "StatelessDefaultActions", "custom action(s) %s" % ", ".join(unknown))
    if "aws:drop" in stateless:
        return {"stateless": "drop", "rules": [], "default": "drop", "alert_default": False}
    if "aws:forward_to_sfe" not in stateless:
        return {"stateless": "pass", "rules": [], "default": "pass", "alert_default": False}
    defaults = list(policy.get("StatefulDefaultActions") or [])
    unsupported = [action for action in defaults if action not in DROP_DEFAULTS + ALERT_DEFAULTS]
    if unsupported:
        raise UntranslatableRule(
            "(policy)", None, "StatefulDefaultActions", "application-layer default(s) %s" % ", ".join(unsupported)
        )
    references = list(policy.get("StatefulRuleGroupReferences") or [])
    if order == STRICT_ORDER:
        references.sort(key=lambda reference: reference.get("Priority", 0))
    elif order != DEFAULT_ORDER:
        raise UntranslatableRule("(policy)", None, "StatefulEngineOptions.RuleOrder", "unknown rule order %r" % order)
    policy_ip_sets = _policy_ip_sets(policy)
    planned = []
    for reference in references:
        arn = reference.get("ResourceArn")
        name = group_name(arn)
        body = (rule_groups or {}).get(arn)
        if body is None:
            raise UntranslatableRule(name, None, "ResourceArn", "rule group %s was not described" % arn)
        body = body.get("RuleGroup", body)  # accept a whole DescribeRuleGroup answer too
        source = body.get("RulesSource") or {}
        kinds = [kind for kind in source if source.get(kind)]
        if kinds != ["StatefulRules"]:
            raise UntranslatableRule(
                name, None, "RulesSource.%s" % (kinds[0] if kinds else "(empty)"), "only 5-tuple StatefulRules translate"
            )
        group_order = (body.get("StatefulRuleOptions") or {}).get("RuleOrder") or DEFAULT_ORDER
        if group_order != order:
            raise UntranslatableRule(
                name, None, "StatefulRuleOptions.RuleOrder", "%s differs from the policy's %s" % (group_order, order)
            )
        ip_sets = dict(policy_ip_sets, **_group_variables(body, "IPSets"))
        port_sets = _group_variables(body, "PortSets")
        override = (reference.get("Override") or {}).get("Action")
        for rule in source["StatefulRules"]:
            planned.append((name, translate_rule(rule, name, ip_sets, port_sets, override)))
    if order == DEFAULT_ORDER:
        planned.sort(key=lambda item: ACTION_RANK[item[1]["action"]])  # stable: list order inside one action
    default = "drop" if any(action in DROP_DEFAULTS for action in defaults) else "pass"
    return {
        "stateless": "forward_to_sfe",
        "rules": planned,
        "default": default,
        "alert_default": any(a in ALERT_DEFAULTS for a in defaults),
    }


def _table(counters, chain_lines, policy="accept"):
    lines = ["table inet %s" % TABLE, "delete table inet %s" % TABLE, "table inet %s {" % TABLE]
    for name, comment in counters:
        lines.append("\tcounter %s {\n\t\tcomment %s\n\t}" % (name, _quoted(comment)))
    lines.append("\tchain forward {")
    lines.append("\t\ttype filter hook forward priority filter; policy %s;" % policy)
    lines += ["\t\t" + line for line in chain_lines]
    lines += ["\t}", "}"]
    return "\n".join(lines) + "\n"


def render_ruleset(policy, rule_groups):
    """FirewallPolicy dict + {arn: RuleGroup dict} -> one nft script (raises UntranslatableRule)."""
    plan = plan_rules(policy, rule_groups)
    counters, chain = [], []
    if plan["stateless"] == "drop":
        counters.append(("default_drop", DEFAULT_DROP_KEY))
        chain.append("counter name default_drop drop comment %s" % _quoted("StatelessDefaultActions aws:drop"))
        return _table(counters, chain)
    if plan["stateless"] == "pass":
        chain.append("accept comment %s" % _quoted("StatelessDefaultActions aws:pass: stateful rules bypassed"))
        return _table(counters, chain)
    chain.append("ct state established,related accept")
    seen = set()
    for group, translated in plan["rules"]:
        key = "%s:%d" % (group, translated["sid"])
        counter = _identifier("r_%s_%d" % (group, translated["sid"]))
        if counter not in seen:
            seen.add(counter)
            counters.append((counter, key))
        chain += _verdicts(translated, counter, key)
    if plan["alert_default"]:
        counters.append(("default_alert", DEFAULT_ALERT_KEY))
        chain.append("counter name default_alert log prefix %s" % _quoted("nfw alert default "))
    if plan["default"] == "drop":
        counters.append(("default_drop", DEFAULT_DROP_KEY))
        chain.append("counter name default_drop drop comment %s" % _quoted("StatefulDefaultActions drop"))
    return _table(counters, chain)


def render_fail_closed(reason):
    """Drop every forwarded packet (what the twin installs when it cannot translate the policy)."""
    counters = [("fail_closed", FAIL_CLOSED_KEY)]
    return _table(counters, ["counter name fail_closed drop comment %s" % _quoted("fail closed: " + reason)], policy="drop")


def parse_counters(listing):
    """`nft -j list counters table inet <TABLE>` output -> {comment key: packets}."""
    result = {}
    for item in (listing or {}).get("nftables", []):
        counter = item.get("counter")
        if counter and counter.get("table") == TABLE:
            result[counter.get("comment") or counter["name"]] = int(counter.get("packets", 0))
    return result


class FirewallTwin:
    """Keeps netns `namespace` of `host` (a lab.vm.machine.Machine) in step with the stand-in's policy."""

    def __init__(self, host, namespace="firewall", log=print):
        self.host = host
        self.namespace = namespace
        self.log = log
        self.applied = None
        self.status = {"ok": False, "error": None, "rules": 0}

    def reconcile(self, policy, rule_groups):
        """Render and apply when the text changed; returns True when it applied something."""
        try:
            text = render_ruleset(policy, rule_groups)
            status = {"ok": True, "error": None, "rules": len(plan_rules(policy, rule_groups)["rules"])}
        except UntranslatableRule as error:
            text = render_fail_closed(str(error))
            status = {"ok": False, "error": str(error), "rules": 0}
            if self.status.get("error") != status["error"]:
                self.log("FIREWALL TWIN FAILS CLOSED (all forwarded traffic dropped): %s" % error)
        self.status = status
        if text == self.applied:
            return False
        self.host.ssh("ip netns exec %s nft -f -" % self.namespace, stdin=text)
        self.applied = text
        return True

    def counters(self):
        """{'<group>:<sid>' | 'default:drop' | 'fail-closed': packets} from the live nftables counters."""
        output = self.host.ssh("ip netns exec %s nft -j list counters table inet %s" % (self.namespace, TABLE)).stdout
        return parse_counters(json.loads(output or "{}"))

    def close(self):
        self.host.ssh("ip netns exec %s nft delete table inet %s 2>/dev/null || true" % (self.namespace, TABLE), check=False)
        self.applied = None
