"""AWS Network Firewall stand-in: rule groups, firewall policies and DeleteFirewall (JSON protocol).

Pure Python, no network. The server routes `X-Amz-Target: NetworkFirewall_20201112.<Action>` here through
`NetworkFirewallBackend().dispatch(action, params)`; errors are `ServiceError`s.

Each raised error says whether AWS documents that code for that situation (`documented=True`: the API
reference or the Network Firewall developer guide names it) or whether the code is our best guess
(`documented=False`: AWS refuses the request, but we have not seen which code it uses).

Semantics emulated (AWS's documented behaviour unless marked "best guess"):
- UpdateToken rotates on every change; a stale token on Update* -> InvalidTokenException.
- Rule group Capacity is fixed at creation; more rules than capacity -> InsufficientCapacityException.
- DryRun=True validates and returns what the call would return (ConsumedCapacity = capacity needed)
  without storing anything.
- A 5-tuple rule option written as one keyword `sid:N` is stored as Keyword "sid", Settings ["N"]
  (community.aws issue 1634 shows AWS answering that way); every rule needs a unique integer sid.
- A policy's StatefulEngineOptions.RuleOrder must equal the RuleOrder of every stateful group it references.
- Deleting a rule group a policy references, or a policy a firewall uses -> InvalidOperationException.
- List* are paginated with MaxResults / NextToken (opaque tokens).
- TagResource / UntagResource on rule groups, policies and firewalls.

Not emulated: Create/Describe/UpdateFirewall (firewalls are seeded with add_firewall() so DeleteFirewall and
policy-in-use checks can be tested), AWS managed rule groups, AnalyzeRuleGroup, TLS inspection, the lingering
DELETING state (deleted objects vanish at once), traffic evaluation. ARNs use the backend's region and account
(the server makes one backend, so every region answers with us-east-1 ARNs).
"""

import base64
import copy
import ipaddress
import re
import threading
import time
import uuid

from lab.aws.errors import ServiceError

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"
MAX_CAPACITY = 30000  # documented: a rule group's capacity is at most 30,000
MAX_STATEFUL_GROUPS_PER_POLICY = 20  # documented quota (adjustable in AWS, fixed here)
STATEFUL_ACTIONS = ("PASS", "DROP", "ALERT", "REJECT")
DEFAULT_ORDER = "DEFAULT_ACTION_ORDER"
STRICT_ORDER = "STRICT_ORDER"
STATELESS_ACTIONS = ("aws:pass", "aws:drop", "aws:forward_to_sfe")
STATEFUL_DEFAULT_ACTIONS = (
    "aws:drop_strict",
    "aws:drop_established",
    "aws:alert_strict",
    "aws:alert_established",
    "aws:drop_established_app_layer",
    "aws:alert_established_app_layer",
)
SURICATA_RULE = re.compile(
    r"^(?P<action>pass|drop|alert|reject|rejectsrc|rejectdst|rejectboth)\s+(?P<proto>\S+)\s+(?P<src>\S+)\s+(?P<sport>\S+)\s+"
    r"(?:->|<>)\s+(?P<dst>\S+)\s+(?P<dport>\S+)\s+\((?P<options>.*)\)\s*$"
)
SID_OPTION = re.compile(r"(?:^|;)\s*sid\s*:\s*(\d+)\s*(?=;|$)")


def _error(code, message, documented=True, status=400):
    return ServiceError(code, message, status=status, documented=documented)


def _invalid(message, documented=True):
    return _error("InvalidRequestException", message, documented=documented)


def _not_found(what):
    # documented: ResourceNotFoundException for an unknown ARN or name
    return _error("ResourceNotFoundException", "%s not found" % what)


def _token():
    return str(uuid.uuid4())


class NetworkFirewallBackend:
    """In-memory Network Firewall control plane. Thread-safe: one lock around every call."""

    def __init__(self, region=DEFAULT_REGION, account_id=DEFAULT_ACCOUNT, clock=time.time):
        self.region = region
        self.account_id = account_id
        self.clock = clock
        self._lock = threading.RLock()
        self.reset()

    def reset(self):
        with self._lock:
            self.rule_groups = {}  # arn -> record
            self.policies = {}  # arn -> record
            self.firewalls = {}  # arn -> record

    # ---- dispatch -------------------------------------------------------------------------------------------

    ACTIONS = {
        "CreateRuleGroup": "create_rule_group",
        "DescribeRuleGroup": "describe_rule_group",
        "UpdateRuleGroup": "update_rule_group",
        "DeleteRuleGroup": "delete_rule_group",
        "ListRuleGroups": "list_rule_groups",
        "CreateFirewallPolicy": "create_firewall_policy",
        "DescribeFirewallPolicy": "describe_firewall_policy",
        "UpdateFirewallPolicy": "update_firewall_policy",
        "DeleteFirewallPolicy": "delete_firewall_policy",
        "ListFirewallPolicies": "list_firewall_policies",
        "DeleteFirewall": "delete_firewall",
        "TagResource": "tag_resource",
        "UntagResource": "untag_resource",
    }

    def dispatch(self, action, params):
        method = self.ACTIONS.get(action)
        if method is None:
            # best guess: the JSON protocol's generic answer for an action the endpoint does not serve
            raise _error("UnsupportedOperationException", "The stand-in does not implement %s" % action, documented=False)
        with self._lock:
            return getattr(self, method)(copy.deepcopy(params or {}))

    # ---- ARNs and lookups -----------------------------------------------------------------------------------

    def _arn(self, kind, name):
        return "arn:aws:network-firewall:%s:%s:%s/%s" % (self.region, self.account_id, kind, name)

    def rule_group_arn(self, name, group_type="STATEFUL"):
        kind = {"STATEFUL": "stateful-rulegroup", "STATELESS": "stateless-rulegroup", "STATEFUL_DOMAIN": "stateful-rulegroup"}
        return self._arn(kind[group_type], name)

    def _find_rule_group(self, params):
        arn = params.get("RuleGroupArn")
        name = params.get("RuleGroupName")
        if arn:
            record = self.rule_groups.get(arn)
            if record is None or (name and record["RuleGroupName"] != name):
                raise _not_found("Rule group %s" % arn)
            return record
        if not name:
            raise _invalid("Either RuleGroupArn or RuleGroupName must be specified")
        group_type = params.get("Type")
        if not group_type:
            # documented: Type is required when the request names the group instead of giving its ARN
            raise _invalid("Type is required when RuleGroupArn is not specified")
        record = self.rule_groups.get(self.rule_group_arn(name, group_type))
        if record is None or record["Type"] != group_type:
            raise _not_found("Rule group %s" % name)
        return record

    def _find_policy(self, params):
        arn = params.get("FirewallPolicyArn")
        name = params.get("FirewallPolicyName")
        if not arn and not name:
            raise _invalid("Either FirewallPolicyArn or FirewallPolicyName must be specified")
        record = self.policies.get(arn or self._arn("firewall-policy", name))
        if record is None or (name and record["FirewallPolicyName"] != name):
            raise _not_found("Firewall policy %s" % (arn or name))
        return record

    # ---- rule group validation and capacity ---------------------------------------------------------------

    @staticmethod
    def _normalise_options(options, index):
        normalised = []
        for option in options:
            keyword = option.get("Keyword", "")
            settings = list(option.get("Settings") or [])
            stripped = keyword.strip()
            if stripped.startswith("sid:") and not settings:
                # documented by behaviour (community.aws #1634): AWS splits "sid:N" into keyword + setting
                keyword, settings = "sid", [stripped.split(":", 1)[1].strip()]
            entry = {"Keyword": keyword}
            if settings:
                entry["Settings"] = settings
            normalised.append(entry)
        sids = [o["Settings"] for o in normalised if o["Keyword"] == "sid"]
        if len(sids) != 1 or len(sids[0]) != 1 or not sids[0][0].isdigit() or int(sids[0][0]) < 1:
            # documented: every stateful rule needs exactly one numeric sid
            raise _invalid(
                "StatefulRules[%d]: each rule needs exactly one RuleOption with Keyword sid and one numeric setting" % index
            )
        return normalised, int(sids[0][0])

    @staticmethod
    def _check_address(value, variables, field):
        if value.upper() == "ANY":
            return
        for raw in value.strip("[]").split(","):
            item = raw.strip().lstrip("!")
            if item.startswith("$"):
                if item[1:] not in variables and item[1:] not in ("HOME_NET", "EXTERNAL_NET"):
                    # best guess: AWS refuses undefined variables at create time with this code
                    raise _invalid("%s references undefined IP set variable %s" % (field, item), documented=False)
                continue
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                # best guess code for a malformed 5-tuple address
                raise _invalid("%s: %r is not an IP address, CIDR block, variable or ANY" % (field, value), documented=False)

    @staticmethod
    def _check_port(value, variables, field):
        if value.upper() == "ANY":
            return
        for raw in value.strip("[]").split(","):
            item = raw.strip().lstrip("!")
            if item.startswith("$"):
                if item[1:] not in variables:
                    raise _invalid("%s references undefined port set variable %s" % (field, item), documented=False)
                continue
            bounds = item.split(":")
            if len(bounds) > 2 or not all(b.isdigit() and 0 <= int(b) <= 65535 for b in bounds if b) or not any(bounds):
                raise _invalid("%s: %r is not a port, port range, variable or ANY" % (field, value), documented=False)

    def _normalise_rule_group(self, group_type, rule_group, rules_string):
        """Validate, normalise the way AWS stores it, and return (rule_group, capacity_needed)."""
        if rule_group is None and rules_string is None:
            raise _invalid("You must specify either RuleGroup or Rules")
        if rule_group is not None and rules_string is not None:
            raise _invalid("Specify only one of RuleGroup and Rules")
        if rule_group is None:
            rule_group = {"RulesSource": {"RulesString": rules_string}}
        source = rule_group.get("RulesSource") or {}
        kinds = [k for k in ("RulesString", "RulesSourceList", "StatefulRules", "StatelessRulesAndCustomActions") if k in source]
        if len(kinds) != 1:
            raise _invalid(
                "RulesSource must contain exactly one of RulesString, RulesSourceList, StatefulRules, "
                "StatelessRulesAndCustomActions"
            )
        kind = kinds[0]
        if group_type == "STATELESS" and kind != "StatelessRulesAndCustomActions":
            raise _invalid("A STATELESS rule group needs StatelessRulesAndCustomActions")
        if group_type != "STATELESS" and kind == "StatelessRulesAndCustomActions":
            raise _invalid("StatelessRulesAndCustomActions is only valid in a STATELESS rule group")
        if group_type == "STATEFUL_DOMAIN" and kind != "RulesSourceList":
            raise _invalid("A STATEFUL_DOMAIN rule group needs RulesSourceList")
        if group_type == "STATELESS" and (rule_group.get("RuleVariables") or rule_group.get("StatefulRuleOptions")):
            raise _invalid("RuleVariables and StatefulRuleOptions are only valid in stateful rule groups")
        variables = rule_group.get("RuleVariables") or {}
        ip_sets = variables.get("IPSets") or {}
        port_sets = variables.get("PortSets") or {}
        for set_name, ip_set in ip_sets.items():
            for item in ip_set.get("Definition") or []:
                self._check_address(item, {}, "RuleVariables.IPSets.%s" % set_name)
        for set_name, port_set in port_sets.items():
            for item in port_set.get("Definition") or []:
                self._check_port(item, {}, "RuleVariables.PortSets.%s" % set_name)
        if kind == "StatefulRules":
            needed = self._normalise_stateful_rules(source["StatefulRules"], ip_sets, port_sets)
        elif kind == "RulesString":
            needed = self._check_rules_string(source["RulesString"])
        elif kind == "RulesSourceList":
            # documented: a domain list consumes one unit per target domain
            needed = len(source["RulesSourceList"].get("Targets") or [])
        else:
            needed = self._stateless_capacity(source["StatelessRulesAndCustomActions"])
        order = (rule_group.get("StatefulRuleOptions") or {}).get("RuleOrder")
        if group_type != "STATELESS":
            rule_group["StatefulRuleOptions"] = {"RuleOrder": order or DEFAULT_ORDER}
        return rule_group, needed

    def _normalise_stateful_rules(self, rules, ip_sets, port_sets):
        seen = set()
        for index, rule in enumerate(rules):
            if rule.get("Action") not in STATEFUL_ACTIONS:
                raise _invalid("StatefulRules[%d].Action must be one of %s" % (index, ", ".join(STATEFUL_ACTIONS)))
            header = rule.get("Header") or {}
            missing = [
                f
                for f in ("Protocol", "Source", "SourcePort", "Direction", "Destination", "DestinationPort")
                if not header.get(f)
            ]
            if missing:
                raise _invalid("StatefulRules[%d].Header is missing %s" % (index, ", ".join(missing)))
            self._check_address(header["Source"], ip_sets, "StatefulRules[%d].Header.Source" % index)
            self._check_address(header["Destination"], ip_sets, "StatefulRules[%d].Header.Destination" % index)
            self._check_port(header["SourcePort"], port_sets, "StatefulRules[%d].Header.SourcePort" % index)
            self._check_port(header["DestinationPort"], port_sets, "StatefulRules[%d].Header.DestinationPort" % index)
            rule["RuleOptions"], sid = self._normalise_options(rule.get("RuleOptions") or [], index)
            if sid in seen:
                # best guess code: Suricata refuses duplicate signature ids, AWS reports it as an invalid request
                raise _invalid("StatefulRules[%d]: duplicate sid %d" % (index, sid), documented=False)
            seen.add(sid)
        # documented: a stateful rule group consumes one unit of capacity per rule
        return len(rules)

    @staticmethod
    def _check_rules_string(text):
        seen = set()
        count = 0
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            match = SURICATA_RULE.match(line)
            sid = SID_OPTION.search(match.group("options")) if match else None
            if not match or not sid:
                # best guess code: AWS parses Suricata text at create/update and refuses what does not parse
                raise _invalid(
                    "RulesString line %d is not a Suricata rule with a sid: %s" % (number, line[:80]), documented=False
                )
            if sid.group(1) in seen:
                raise _invalid("RulesString line %d: duplicate sid %s" % (number, sid.group(1)), documented=False)
            seen.add(sid.group(1))
            count += 1
        return count

    @staticmethod
    def _stateless_capacity(section):
        # documented formula: per rule, (sources) x (destinations) x (source ports) x (destination ports) x
        # (protocols) x (TCP flag masks), each factor at least 1
        total = 0
        for rule in section.get("StatelessRules") or []:
            match = (rule.get("RuleDefinition") or {}).get("MatchAttributes") or {}
            product = 1
            for key in ("Sources", "Destinations", "SourcePorts", "DestinationPorts", "Protocols", "TCPFlags"):
                product *= max(1, len(match.get(key) or []))
            total += product
        return total

    # ---- rule groups ----------------------------------------------------------------------------------------

    def _rule_group_response(self, record):
        response = {
            key: copy.deepcopy(record[key])
            for key in (
                "RuleGroupArn",
                "RuleGroupName",
                "RuleGroupId",
                "Description",
                "Type",
                "Capacity",
                "RuleGroupStatus",
                "Tags",
                "ConsumedCapacity",
                "EncryptionConfiguration",
                "LastModifiedTime",
            )
            if record.get(key) not in (None, [])  # the model wants Tags absent, not empty
        }
        response["NumberOfAssociations"] = sum(
            record["RuleGroupArn"] in self._referenced_group_arns(policy) for policy in self.policies.values()
        )
        return response

    @staticmethod
    def _referenced_group_arns(policy):
        body = policy["FirewallPolicy"]
        refs = (body.get("StatefulRuleGroupReferences") or []) + (body.get("StatelessRuleGroupReferences") or [])
        return [ref["ResourceArn"] for ref in refs]

    def create_rule_group(self, params):
        name = params.get("RuleGroupName")
        group_type = params.get("Type")
        capacity = params.get("Capacity")
        if not name or not re.match(r"^[a-zA-Z0-9-]{1,128}$", name):
            raise _invalid("RuleGroupName must be 1-128 characters of a-z, A-Z, 0-9 and -")
        if group_type not in ("STATELESS", "STATEFUL", "STATEFUL_DOMAIN"):
            raise _invalid("Type must be STATELESS, STATEFUL or STATEFUL_DOMAIN")
        if not isinstance(capacity, int) or not 1 <= capacity <= MAX_CAPACITY:
            raise _invalid("Capacity must be an integer from 1 to %d" % MAX_CAPACITY)
        rule_group, needed = self._normalise_rule_group(group_type, params.get("RuleGroup"), params.get("Rules"))
        arn = self.rule_group_arn(name, group_type)
        if not params.get("DryRun"):
            if arn in self.rule_groups:
                # best guess code: AWS refuses a second group of the same name and type
                raise _invalid("A resource with the specified name already exists: %s" % name, documented=False)
            if needed > capacity:
                raise _error(
                    "InsufficientCapacityException", "Rule group %s needs capacity %d, has %d" % (name, needed, capacity)
                )
        record = {
            "RuleGroupArn": arn,
            "RuleGroupName": name,
            "RuleGroupId": str(uuid.uuid4()),
            "Description": params.get("Description"),
            "Type": group_type,
            "Capacity": capacity,
            "RuleGroupStatus": "ACTIVE",
            "Tags": params.get("Tags") or [],
            "ConsumedCapacity": needed,
            "EncryptionConfiguration": params.get("EncryptionConfiguration") or {"Type": "AWS_OWNED_KMS_KEY"},
            "LastModifiedTime": self.clock(),
            "RuleGroup": rule_group,
            "UpdateToken": _token(),
        }
        if not params.get("DryRun"):
            self.rule_groups[arn] = record
        return {"UpdateToken": record["UpdateToken"], "RuleGroupResponse": self._rule_group_response(record)}

    def describe_rule_group(self, params):
        record = self._find_rule_group(params)
        return {
            "UpdateToken": record["UpdateToken"],
            "RuleGroup": copy.deepcopy(record["RuleGroup"]),
            "RuleGroupResponse": self._rule_group_response(record),
        }

    def update_rule_group(self, params):
        record = self._find_rule_group(params)
        if params.get("UpdateToken") != record["UpdateToken"]:
            # documented: optimistic locking; re-read the group and retry
            raise _error("InvalidTokenException", "Update token is invalid or has expired: describe the rule group again")
        if params.get("Type") and params["Type"] != record["Type"]:
            raise _invalid("Type of rule group %s cannot be changed" % record["RuleGroupName"], documented=False)
        rule_group, needed = self._normalise_rule_group(record["Type"], params.get("RuleGroup"), params.get("Rules"))
        old_order = (record["RuleGroup"].get("StatefulRuleOptions") or {}).get("RuleOrder")
        new_order = (rule_group.get("StatefulRuleOptions") or {}).get("RuleOrder")
        if old_order != new_order:
            # documented: the rule order of a stateful rule group is set at creation and cannot change
            raise _invalid("StatefulRuleOptions.RuleOrder cannot be changed after creation (is %s)" % old_order)
        if needed > record["Capacity"] and not params.get("DryRun"):
            raise _error(
                "InsufficientCapacityException",
                "Rule group %s needs capacity %d, has %d (capacity cannot be changed)"
                % (record["RuleGroupName"], needed, record["Capacity"]),
            )
        if params.get("DryRun"):
            preview = dict(record, RuleGroup=rule_group, ConsumedCapacity=needed)
            return {"UpdateToken": record["UpdateToken"], "RuleGroupResponse": self._rule_group_response(preview)}
        record.update(RuleGroup=rule_group, ConsumedCapacity=needed, UpdateToken=_token(), LastModifiedTime=self.clock())
        if "Description" in params:
            record["Description"] = params["Description"]
        if params.get("EncryptionConfiguration"):
            record["EncryptionConfiguration"] = params["EncryptionConfiguration"]
        return {"UpdateToken": record["UpdateToken"], "RuleGroupResponse": self._rule_group_response(record)}

    def delete_rule_group(self, params):
        record = self._find_rule_group(params)
        users = [
            p["FirewallPolicyName"] for p in self.policies.values() if record["RuleGroupArn"] in self._referenced_group_arns(p)
        ]
        if users:
            # documented: a rule group that a firewall policy references cannot be deleted
            raise _error(
                "InvalidOperationException",
                "Rule group %s is referenced by firewall policies: %s" % (record["RuleGroupName"], ", ".join(users)),
            )
        response = self._rule_group_response(record)
        response["RuleGroupStatus"] = "DELETING"
        del self.rule_groups[record["RuleGroupArn"]]
        return {"RuleGroupResponse": response}

    @staticmethod
    def _page(items, params):
        max_results = params.get("MaxResults") or 100
        if not isinstance(max_results, int) or not 1 <= max_results <= 100:
            raise _invalid("MaxResults must be from 1 to 100")
        start = 0
        if params.get("NextToken"):
            try:
                start = int(base64.b64decode(params["NextToken"]).decode().split(":", 1)[1])
            except (ValueError, IndexError, UnicodeDecodeError):
                # documented code for a malformed pagination token
                raise _invalid("Invalid NextToken")
        page = items[start : start + max_results]
        next_token = None
        if start + max_results < len(items):
            next_token = base64.b64encode(("offset:%d" % (start + max_results)).encode()).decode()
        return page, next_token

    def list_rule_groups(self, params):
        if params.get("Scope", "ACCOUNT") == "MANAGED":
            groups = []  # no AWS managed rule groups in the stand-in
        else:
            groups = sorted(self.rule_groups.values(), key=lambda r: (r["RuleGroupName"], r["Type"]))
        if params.get("Type"):
            groups = [g for g in groups if g["Type"] == params["Type"]]
        page, next_token = self._page([{"Name": g["RuleGroupName"], "Arn": g["RuleGroupArn"]} for g in groups], params)
        result = {"RuleGroups": page}
        if next_token:
            result["NextToken"] = next_token
        return result

    # ---- firewall policies ----------------------------------------------------------------------------------

    def _validate_policy(self, body):
        for key in ("StatelessDefaultActions", "StatelessFragmentDefaultActions"):
            if not body.get(key):
                raise _invalid("FirewallPolicy.%s is required" % key)
        custom = {c.get("ActionName") for c in body.get("StatelessCustomActions") or []}
        for key in ("StatelessDefaultActions", "StatelessFragmentDefaultActions"):
            for action in body[key]:
                if action not in STATELESS_ACTIONS and action not in custom:
                    raise _invalid("FirewallPolicy.%s: unknown action %s" % (key, action))
        engine = body.setdefault("StatefulEngineOptions", {})
        order = engine.setdefault("RuleOrder", DEFAULT_ORDER)
        if order == DEFAULT_ORDER and body.get("StatefulDefaultActions"):
            # documented: stateful default actions exist only with strict rule order
            raise _invalid("StatefulDefaultActions are only valid with StatefulEngineOptions.RuleOrder STRICT_ORDER")
        for action in body.get("StatefulDefaultActions") or []:
            if action not in STATEFUL_DEFAULT_ACTIONS:
                raise _invalid("FirewallPolicy.StatefulDefaultActions: unknown action %s" % action)
        refs = body.get("StatefulRuleGroupReferences") or []
        if len(refs) > MAX_STATEFUL_GROUPS_PER_POLICY:
            raise _error("LimitExceededException", "At most %d stateful rule groups per policy" % MAX_STATEFUL_GROUPS_PER_POLICY)
        priorities = set()
        stateful_capacity = 0
        for index, ref in enumerate(refs):
            group = self.rule_groups.get(ref.get("ResourceArn"))
            if group is None or group["Type"] == "STATELESS":
                # best guess: AWS answers an unknown or wrong-type reference with this code
                raise _invalid(
                    "StatefulRuleGroupReferences[%d]: %s is not a stateful rule group" % (index, ref.get("ResourceArn")),
                    documented=False,
                )
            group_order = group["RuleGroup"]["StatefulRuleOptions"]["RuleOrder"]
            if group_order != order:
                # documented: a policy can only reference stateful rule groups with its own rule order
                raise _invalid(
                    "Rule group %s uses %s but the policy uses %s: rule order must match"
                    % (group["RuleGroupName"], group_order, order)
                )
            priority = ref.get("Priority")
            if order == STRICT_ORDER:
                if priority is None:
                    raise _invalid("StatefulRuleGroupReferences[%d].Priority is required with STRICT_ORDER" % index)
                if priority in priorities:
                    raise _invalid("StatefulRuleGroupReferences[%d]: duplicate Priority %d" % (index, priority), documented=False)
                priorities.add(priority)
            elif priority is not None:
                raise _invalid("StatefulRuleGroupReferences[%d].Priority is only valid with STRICT_ORDER" % index)
            stateful_capacity += group["Capacity"]
        stateless_capacity = 0
        for index, ref in enumerate(body.get("StatelessRuleGroupReferences") or []):
            group = self.rule_groups.get(ref.get("ResourceArn"))
            if group is None or group["Type"] != "STATELESS":
                raise _invalid(
                    "StatelessRuleGroupReferences[%d]: %s is not a stateless rule group" % (index, ref.get("ResourceArn")),
                    documented=False,
                )
            stateless_capacity += group["Capacity"]
        if stateful_capacity > MAX_CAPACITY or stateless_capacity > MAX_CAPACITY:
            # documented: a policy holds at most 30,000 units of stateful and of stateless capacity
            raise _error("InsufficientCapacityException", "Firewall policy capacity exceeds %d" % MAX_CAPACITY)
        return stateful_capacity, stateless_capacity

    def _policy_response(self, record):
        response = {
            key: copy.deepcopy(record[key])
            for key in (
                "FirewallPolicyName",
                "FirewallPolicyArn",
                "FirewallPolicyId",
                "Description",
                "FirewallPolicyStatus",
                "Tags",
                "ConsumedStatelessRuleCapacity",
                "ConsumedStatefulRuleCapacity",
                "EncryptionConfiguration",
                "LastModifiedTime",
            )
            if record.get(key) not in (None, [])  # the model wants Tags absent, not empty
        }
        response["NumberOfAssociations"] = sum(
            f["FirewallPolicyArn"] == record["FirewallPolicyArn"] for f in self.firewalls.values()
        )
        return response

    def create_firewall_policy(self, params):
        name = params.get("FirewallPolicyName")
        if not name or not re.match(r"^[a-zA-Z0-9-]{1,128}$", name):
            raise _invalid("FirewallPolicyName must be 1-128 characters of a-z, A-Z, 0-9 and -")
        body = params.get("FirewallPolicy")
        if not body:
            raise _invalid("FirewallPolicy is required")
        stateful, stateless = self._validate_policy(body)
        arn = self._arn("firewall-policy", name)
        if arn in self.policies and not params.get("DryRun"):
            raise _invalid("A resource with the specified name already exists: %s" % name, documented=False)
        record = {
            "FirewallPolicyName": name,
            "FirewallPolicyArn": arn,
            "FirewallPolicyId": str(uuid.uuid4()),
            "Description": params.get("Description"),
            "FirewallPolicyStatus": "ACTIVE",
            "Tags": params.get("Tags") or [],
            "ConsumedStatelessRuleCapacity": stateless,
            "ConsumedStatefulRuleCapacity": stateful,
            "EncryptionConfiguration": params.get("EncryptionConfiguration") or {"Type": "AWS_OWNED_KMS_KEY"},
            "LastModifiedTime": self.clock(),
            "FirewallPolicy": body,
            "UpdateToken": _token(),
        }
        if not params.get("DryRun"):
            self.policies[arn] = record
        return {"UpdateToken": record["UpdateToken"], "FirewallPolicyResponse": self._policy_response(record)}

    def describe_firewall_policy(self, params):
        record = self._find_policy(params)
        return {
            "UpdateToken": record["UpdateToken"],
            "FirewallPolicyResponse": self._policy_response(record),
            "FirewallPolicy": copy.deepcopy(record["FirewallPolicy"]),
        }

    def update_firewall_policy(self, params):
        record = self._find_policy(params)
        if params.get("UpdateToken") != record["UpdateToken"]:
            raise _error("InvalidTokenException", "Update token is invalid or has expired: describe the firewall policy again")
        body = params.get("FirewallPolicy")
        if not body:
            raise _invalid("FirewallPolicy is required")
        old_order = record["FirewallPolicy"]["StatefulEngineOptions"]["RuleOrder"]
        stateful, stateless = self._validate_policy(body)
        if body["StatefulEngineOptions"]["RuleOrder"] != old_order:
            # documented: a policy's stateful rule order is set at creation
            raise _invalid("StatefulEngineOptions.RuleOrder cannot be changed after creation (is %s)" % old_order)
        if params.get("DryRun"):
            return {"UpdateToken": record["UpdateToken"], "FirewallPolicyResponse": self._policy_response(record)}
        record.update(
            FirewallPolicy=body,
            ConsumedStatefulRuleCapacity=stateful,
            ConsumedStatelessRuleCapacity=stateless,
            UpdateToken=_token(),
            LastModifiedTime=self.clock(),
        )
        if "Description" in params:
            record["Description"] = params["Description"]
        return {"UpdateToken": record["UpdateToken"], "FirewallPolicyResponse": self._policy_response(record)}

    def delete_firewall_policy(self, params):
        record = self._find_policy(params)
        users = [f["FirewallName"] for f in self.firewalls.values() if f["FirewallPolicyArn"] == record["FirewallPolicyArn"]]
        if users:
            # documented: a policy in use by a firewall cannot be deleted
            raise _error(
                "InvalidOperationException",
                "Firewall policy %s is in use by: %s" % (record["FirewallPolicyName"], ", ".join(users)),
            )
        response = self._policy_response(record)
        response["FirewallPolicyStatus"] = "DELETING"
        del self.policies[record["FirewallPolicyArn"]]
        return {"FirewallPolicyResponse": response}

    def list_firewall_policies(self, params):
        policies = sorted(self.policies.values(), key=lambda r: r["FirewallPolicyName"])
        page, next_token = self._page(
            [{"Name": p["FirewallPolicyName"], "Arn": p["FirewallPolicyArn"]} for p in policies], params
        )
        result = {"FirewallPolicies": page}
        if next_token:
            result["NextToken"] = next_token
        return result

    # ---- tags -------------------------------------------------------------------------------------------------

    def _tagged(self, arn):
        for store in (self.rule_groups, self.policies, self.firewalls):
            if arn in store:
                return store[arn]
        raise _not_found("Resource %s" % arn)

    def tag_resource(self, params):
        record = self._tagged(params.get("ResourceArn"))
        tags = {t["Key"]: t["Value"] for t in record.get("Tags") or []}
        tags.update({t["Key"]: t["Value"] for t in params.get("Tags") or []})
        record["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        return {}

    def untag_resource(self, params):
        record = self._tagged(params.get("ResourceArn"))
        record["Tags"] = [t for t in record.get("Tags") or [] if t["Key"] not in (params.get("TagKeys") or [])]
        return {}

    # ---- firewalls (only what deletion needs; CreateFirewall is not emulated) -------------------------------

    def add_firewall(
        self, name, policy_arn, vpc_id="vpc-0123456789abcdef0", subnet_ids=("subnet-0123456789abcdef0",), delete_protection=False
    ):
        """Seed a firewall that uses a policy (test helper, not an AWS action)."""
        with self._lock:
            if policy_arn not in self.policies:
                raise _not_found("Firewall policy %s" % policy_arn)
            arn = self._arn("firewall", name)
            self.firewalls[arn] = {
                "FirewallName": name,
                "FirewallArn": arn,
                "FirewallPolicyArn": policy_arn,
                "VpcId": vpc_id,
                "SubnetMappings": [{"SubnetId": s, "IPAddressType": "IPV4"} for s in subnet_ids],
                "DeleteProtection": delete_protection,
                "SubnetChangeProtection": False,
                "FirewallPolicyChangeProtection": False,
                "FirewallId": str(uuid.uuid4()),
                "EncryptionConfiguration": {"Type": "AWS_OWNED_KMS_KEY"},
            }
            return arn

    def delete_firewall(self, params):
        arn = params.get("FirewallArn")
        name = params.get("FirewallName")
        if not arn and not name:
            raise _invalid("Either FirewallArn or FirewallName must be specified")
        record = self.firewalls.get(arn or self._arn("firewall", name))
        if record is None or (name and record["FirewallName"] != name):
            raise _not_found("Firewall %s" % (arn or name))
        if record["DeleteProtection"]:
            # documented: DeleteProtection must be turned off first
            raise _error("InvalidOperationException", "Firewall %s has delete protection enabled" % record["FirewallName"])
        del self.firewalls[record["FirewallArn"]]
        firewall = copy.deepcopy(record)
        firewall["NumberOfAssociations"] = 0
        return {"Firewall": firewall, "FirewallStatus": {"Status": "DELETING", "ConfigurationSyncStateSummary": "IN_SYNC"}}
