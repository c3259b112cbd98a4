"""Calico twin: plays calico-node (confd + BIRD 1.6, and the parts of Felix the lab needs) on the lab's node VMs.

It reads the Kubernetes stand-in's objects in-process (BGPConfiguration, BGPPeer, BGPFilter, IPPool, EgressGateway,
EgressGatewayPolicy, Pods, Namespaces, Nodes) and turns them into, per node:
- one BIRD 1.6 instance of its own (config/ctl/pid under /etc/calico-twin and /run/calico-twin) whose config is what
  open-source Calico v3.31's confd templates (bird.cfg, bird_ipam.cfg, bird_aggr.cfg) render for those objects;
- an egress gateway "pod" per EgressGateway pod scheduled on the node: netns egw-<pod>, veth cali<hash> (as Calico
  names it), the pod IP /32 inside, default via 169.254.1.1 with proxy ARP on the host side, a /32 route on the node,
  forwarding on, masquerade of client traffic to the pod IP (nftables);
- a client "pod" per namespace that selects a gateway hosted on the node: netns client-<namespace>, an IP of the
  node's block in the default pod pool, and Felix's egress steering (ip rule from the client IP -> a table whose
  routes lead to the gateway pod);
- CalicoNodeStatus from the live `birdc show protocols` (via cluster.session_reporter).

Everything below the CalicoTwin class boundary is pure (no SSH) and unit-tested in lab/twin/tests/test_calico.py.
README.md (section "Calico twin") lists which Calico behaviours are reproduced and which are not.
"""

import concurrent.futures
import copy
import hashlib
import ipaddress
import json
import re
import shlex

CONFIG_DIR = "/etc/calico-twin"
RUN_DIR = "/run/calico-twin"
STATE_DIR = RUN_DIR + "/state"
BIRD_CFG = CONFIG_DIR + "/bird.cfg"
BIRD_CTL = RUN_DIR + "/bird.ctl"
BIRD_PID = RUN_DIR + "/bird.pid"
FORWARD_BACKUP = RUN_DIR + "/ip_forward.orig"
ROUTE_PROTO = 80  # the routing protocol number Felix tags its routes with
RULE_PRIORITY = 105  # egress steering rule priority (Felix uses ~100 for its egress rules)
TABLE_BASE = 200  # first routing table of the client steering tables
POD_GATEWAY = "169.254.1.1"  # Calico's fixed next hop inside every pod (answered by proxy ARP on the host)
EGRESS_SELECTOR = "egress.projectcalico.org/selector"
EGRESS_NAMESPACE_SELECTOR = "egress.projectcalico.org/namespaceSelector"
EGRESS_POLICY = "egress.projectcalico.org/egressGatewayPolicy"
NAMESPACE_NAME_LABEL = "projectcalico.org/name"
DEFAULT_AS = 64512
CALICO_TIMERS = {"connect_delay": 2, "connect_retry": 5, "error_wait": "5,30"}  # v3.31 bgp_template
LAB_TIMERS = {"connect_delay": 1, "connect_retry": 2, "error_wait": "1,5"}  # lab: sessions up in seconds, not minutes
BGP_STATES = ("Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established", "Close")
PEER_TYPES = {"Mesh": "NodeMesh", "Node": "NodePeer", "Global": "GlobalPeer"}
MAX_BIRD_SYMBOL = 64
KINDS = (
    "bgpconfigurations",
    "bgppeers",
    "bgpfilters",
    "ippools",
    "egressgateways",
    "egressgatewaypolicies",
    "pods",
    "namespaces",
    "nodes",
)


class TwinError(Exception):
    """Something the twin cannot translate or a node refused; the message says which object or node."""


# ---- reading the stand-in ---------------------------------------------------------------------------
def snapshot(cluster):
    """The objects the twin reads, as {plural: [objects sorted by namespace/name]} (deep copies, no side effects).

    Reads cluster.objects directly under its lock instead of Cluster.list(), which would run the stand-in's read
    hooks (CalicoNodeStatus reporting) and record requests.
    """
    result = {kind: [] for kind in KINDS}
    with cluster.lock:
        for key, obj in cluster.objects.items():
            if key[1] in result:
                result[key[1]].append(copy.deepcopy(obj))
    for items in result.values():
        items.sort(key=lambda o: (o["metadata"].get("namespace") or "", o["metadata"]["name"]))
    return result


# ---- Calico selectors -------------------------------------------------------------------------------
_TERM_RE = re.compile(
    r"""^(?:
        (?P<all>all\(\))
      | (?P<notall>!\s*all\(\))
      | (?P<nothas>!\s*has\((?P<nhkey>[^)]+)\))
      | has\((?P<hkey>[^)]+)\)
      | (?P<key>[A-Za-z0-9_./-]+)\s*(?P<op>==|!=|not\s+in|in)\s*(?P<value>'[^']*'|"[^"]*"|\{[^}]*\})
    )$""",
    re.VERBOSE,
)


def _strip_quotes(text):
    text = text.strip()
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" else text


def selector_matches(selector, labels):
    """Calico selector subset: all(), !all(), has(k), !has(k), k == 'v', k != 'v', k in {..}, k not in {..}, '&&'.

    Raises TwinError for anything else ('||', parentheses): the twin refuses rather than guess.
    """
    labels = labels or {}
    selector = (selector or "").strip()
    if not selector:
        return True
    for term in (t.strip() for t in selector.split("&&")):
        match = _TERM_RE.match(term)
        if not match:
            raise TwinError("selector %r: the twin understands only all(), has(), ==, !=, in, not in and &&" % selector)
        if match.group("all"):
            continue
        if match.group("notall"):
            return False
        if match.group("nothas"):
            if match.group("nhkey").strip() in labels:
                return False
            continue
        if match.group("hkey"):
            if match.group("hkey").strip() not in labels:
                return False
            continue
        key, op, value = match.group("key"), re.sub(r"\s+", " ", match.group("op")), match.group("value")
        if op in ("in", "not in"):
            values = {_strip_quotes(v) for v in value.strip("{}").split(",") if v.strip()}
        else:
            values = {_strip_quotes(value)}
        found = key in labels and labels[key] in values
        if found != (op in ("in", "==")):
            return False
    return True


# ---- BGP model ----------------------------------------------------------------------------------------
def bgp_configuration(objects):
    """The effective global BGP settings from BGPConfiguration default (Calico's defaults when absent)."""
    spec = {}
    for obj in objects.get("bgpconfigurations", []):
        if obj["metadata"]["name"] == "default":
            spec = obj.get("spec") or {}
    mesh = spec.get("nodeToNodeMeshEnabled")
    return {
        "as_number": int(spec.get("asNumber") or DEFAULT_AS),
        "mesh": True if mesh is None else bool(mesh),
        "bind_mode": spec.get("bindMode") or "None",
        "listen_port": spec.get("listenPort"),
    }


def parse_peer_ip(text):
    """BGPPeer peerIP 'a.b.c.d' or 'a.b.c.d:port' -> (ip, port or None)."""
    host, sep, port = str(text).rpartition(":")
    if sep and "." in host and port.isdigit():
        return host, int(port)
    return str(text), None


def duration_seconds(text):
    """Go duration ('120s', '2m0s', '1h30m') -> whole seconds, as Calico passes maxRestartTime to BIRD."""
    if text in (None, ""):
        return None
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", str(text))
    if not parts or "".join(n + u for n, u in parts) != str(text):
        raise TwinError("maxRestartTime %r is not a Go duration" % (text,))
    return int(sum(float(n) * units[u] for n, u in parts))


def peers_for_node(node_name, node_labels, peers):
    """BGPPeers that apply to node_name, as confd emits them: [(prefix 'Global'|'Node', peer object)].

    Global peers (neither node nor nodeSelector) first; a node-specific peer with the same IP and port as a global
    one is skipped (confd emits the global peering only). peerSelector peers (other Calico nodes) are not
    reproduced and raise TwinError.
    """
    result, seen = [], set()
    for global_pass in (True, False):
        for peer in peers:
            spec = peer.get("spec") or {}
            is_global = not spec.get("node") and not spec.get("nodeSelector")
            if is_global != global_pass:
                continue
            if spec.get("peerSelector") or spec.get("localWorkloadSelector"):
                raise TwinError(
                    "BGPPeer %s: peerSelector/localWorkloadSelector are not reproduced by the twin" % peer["metadata"]["name"]
                )
            if not is_global:
                if spec.get("nodeSelector"):
                    if not selector_matches(spec["nodeSelector"], node_labels):
                        continue
                elif spec.get("node") != node_name:
                    continue
            key = parse_peer_ip(spec.get("peerIP", ""))
            if key in seen:
                continue
            seen.add(key)
            result.append(("Global" if is_global else "Node", peer))
    return result


def bird_symbol(name, direction):
    """confd's BGPFilterFunctionName: 'bgp_<name>_<direction>FilterV4', truncated + hashed to 64 characters."""
    pieces = ["bgp_", "", "_", direction, "FilterV", "4"]
    max_len = MAX_BIRD_SYMBOL - len("".join(pieces))
    if len(name) > max_len:
        digest = hashlib.sha256(name.encode()).hexdigest().upper()[:16]
        name = "%s_%s" % (name[: max_len - 17], digest)
    pieces[1] = name
    return "'%s'" % "".join(pieces)


_OPERATORS = {"Equal": "=", "NotEqual": "!=", "In": "~", "NotIn": "!~"}


def filter_statement(rule, where):
    """One BGPFilter rule -> one BIRD statement, as confd's filterStatement (first match wins in the function)."""
    action = rule.get("action")
    if action not in ("Accept", "Reject"):
        raise TwinError("%s: action %r is not Accept or Reject" % (where, action))
    conditions = []
    if rule.get("cidr"):
        operator = _OPERATORS.get(rule.get("matchOperator"))
        if operator is None:
            raise TwinError("%s: matchOperator %r is not Equal, NotEqual, In or NotIn" % (where, rule.get("matchOperator")))
        cidr = rule["cidr"]
        length = rule.get("prefixLength")
        if length:
            net = ipaddress.ip_network(cidr, strict=False)
            low = max(net.prefixlen, int(length.get("min", net.prefixlen)))
            high = min(net.max_prefixlen, int(length.get("max", net.max_prefixlen)))
            cidr = "[ %s{%d,%d} ]" % (rule["cidr"], low, high)
        conditions.append("(net %s %s)" % (operator, cidr))
    if rule.get("source"):
        if rule["source"] != "RemotePeers":
            raise TwinError("%s: source %r is not RemotePeers" % (where, rule["source"]))
        conditions.append("((defined(source))&&(source ~ [ RTS_BGP ]))")
    if rule.get("interface"):
        conditions.append('((defined(ifname))&&(ifname ~ "%s"))' % rule["interface"])
    unknown = set(rule) - {"action", "cidr", "matchOperator", "prefixLength", "source", "interface"}
    if unknown:
        raise TwinError("%s: %s not reproduced by the twin" % (where, ", ".join(sorted(unknown))))
    statement = "%s;" % action.lower()
    return "if (%s) then { %s }" % ("&&".join(conditions), statement) if conditions else statement


def filter_functions(filters):
    """BIRD functions of every BGPFilter's v4 rules, as confd's bgpFilterBIRDFuncs renders them."""
    lines = []
    for bgp_filter in filters:
        name = bgp_filter["metadata"]["name"]
        spec = bgp_filter.get("spec") or {}
        directions = [(d, spec.get(d + "V4")) for d in ("import", "export") if spec.get(d + "V4")]
        if not directions:
            continue
        lines.append("# v4 BGPFilter %s" % name)
        for direction, rules in directions:
            lines.append("function %s() {" % bird_symbol(name, direction))
            for index, rule in enumerate(rules):
                lines.append("  " + filter_statement(rule, "BGPFilter %s %sV4[%d]" % (name, direction, index)))
            lines.append("}")
    return lines or ["# No v4 BGPFilters configured"]


# ---- IPAM ---------------------------------------------------------------------------------------------
def ipv4_pools(objects):
    return [p for p in objects.get("ippools", []) if ":" not in (p.get("spec") or {}).get("cidr", ":")]


def block_of(ip, pool):
    """The IPAM block (the pool's blockSize) that contains ip."""
    spec = pool["spec"]
    size = int(spec.get("blockSize") or 26)
    return ipaddress.ip_network("%s/%d" % (ip, size), strict=False)


def pool_of(ip, pools):
    address = ipaddress.ip_address(ip)
    for pool in pools:
        if address in ipaddress.ip_network(pool["spec"]["cidr"]):
            return pool
    return None


def egress_pools(objects):
    """IPPools referenced by an EgressGateway (by name or CIDR), per gateway namespace: {namespace: [pool]}."""
    pools = ipv4_pools(objects)
    result = {}
    for egw in objects.get("egressgateways", []):
        for ref in (egw.get("spec") or {}).get("ipPools") or []:
            for pool in pools:
                if pool["metadata"]["name"] == ref.get("name") or pool["spec"]["cidr"] == ref.get("cidr"):
                    result.setdefault(egw["metadata"]["namespace"], []).append(pool)
    return result


def gateway_pods(objects, node_names):
    """EgressGateway pods with an IP from their gateway's pools on one of node_names, sorted by namespace/name."""
    by_namespace = egress_pools(objects)
    result = []
    for pod in objects.get("pods", []):
        meta, status = pod["metadata"], pod.get("status") or {}
        node = (pod.get("spec") or {}).get("nodeName")
        ip = status.get("podIP")
        if not ip or node not in node_names or status.get("phase") != "Running":
            continue
        pool = pool_of(ip, by_namespace.get(meta.get("namespace"), []))
        if pool is None:
            continue
        result.append(
            {
                "name": meta["name"],
                "namespace": meta["namespace"],
                "labels": dict(meta.get("labels") or {}),
                "node": node,
                "ip": ip,
                "block": str(block_of(ip, pool)),
                "pool": pool["metadata"]["name"],
            }
        )
    return result


def pod_pool(objects):
    """The pool client pods take their IPs from: the first enabled IPv4 pool that is not an egress pool."""
    egress = {p["metadata"]["name"] for pools in egress_pools(objects).values() for p in pools}
    for pool in ipv4_pools(objects):
        spec = pool["spec"]
        if pool["metadata"]["name"] in egress or spec.get("disabled") or (spec.get("nodeSelector") or "").strip() == "!all()":
            continue
        return pool
    return None


# ---- egress selection (Felix's part) ----------------------------------------------------------------
def namespace_labels(namespace):
    labels = dict(namespace["metadata"].get("labels") or {})
    labels[NAMESPACE_NAME_LABEL] = namespace["metadata"]["name"]
    return labels


def _select_gateways(selector, namespace_selector, own_namespace, gateways, namespaces):
    labels_of = {ns["metadata"]["name"]: namespace_labels(ns) for ns in namespaces}
    chosen = []
    for gateway in gateways:
        if namespace_selector:
            if not selector_matches(namespace_selector, labels_of.get(gateway["namespace"], {})):
                continue
        elif gateway["namespace"] != own_namespace:
            continue
        if selector_matches(selector, gateway["labels"]):
            chosen.append(gateway)
    return chosen


def client_rules(namespace, objects, gateways):
    """What Felix steers for a client namespace: [(destination CIDR or 'default', [gateway pods] or None)].

    None = the destination bypasses the gateways (policy rule without gateway); [] = it selects gateways and none
    exists (Felix then drops the traffic; the twin renders an unreachable route). [] overall = not a client.
    """
    annotations = namespace["metadata"].get("annotations") or {}
    name = namespace["metadata"]["name"]
    namespaces = objects.get("namespaces", [])
    if annotations.get(EGRESS_POLICY):
        policy = next(
            (p for p in objects.get("egressgatewaypolicies", []) if p["metadata"]["name"] == annotations[EGRESS_POLICY]), None
        )
        if policy is None:  # Calico blocks the namespace's traffic until the policy exists
            return [("default", [])]
        rules = []
        for rule in (policy.get("spec") or {}).get("rules") or []:
            destination = ((rule.get("destination") or {}).get("cidr")) or "default"
            gateway = rule.get("gateway")
            if not gateway:
                rules.append((destination, None))
                continue
            chosen = _select_gateways(gateway.get("selector"), gateway.get("namespaceSelector"), name, gateways, namespaces)
            rules.append((destination, chosen))
        return rules
    if annotations.get(EGRESS_SELECTOR):
        chosen = _select_gateways(
            annotations[EGRESS_SELECTOR], annotations.get(EGRESS_NAMESPACE_SELECTOR), name, gateways, namespaces
        )
        return [("default", chosen)]
    return []


def host_interface(kind, *parts):
    """cali + 11 hex characters, as Calico names workload veths (15 characters, the kernel's limit)."""
    return "cali" + hashlib.sha1("/".join((kind,) + parts).encode()).hexdigest()[:11]


# ---- the desired state of one node ------------------------------------------------------------------
def desired_node_state(node_name, nodes, objects, timers=None):
    """Everything the twin wants on node_name: {'bird': config text, 'specs': {state name: spec}, 'peers': {...}}.

    nodes: {node name: node VPC IPv4 address} of every node the twin drives (the mesh and block routes use them).
    """
    node_names = sorted(nodes)
    gateways = gateway_pods(objects, set(node_names))
    local_gateways = [g for g in gateways if g["node"] == node_name]
    specs = {}
    for gateway in local_gateways:
        netns = "egw-" + gateway["name"]
        specs[netns] = {
            "kind": "egw",
            "netns": netns,
            "ip": gateway["ip"],
            "host_if": host_interface("egw", gateway["namespace"], gateway["name"]),
        }
    pool = pod_pool(objects)
    client_namespaces = [ns for ns in objects.get("namespaces", []) if client_rules(ns, objects, gateways)]
    client_index = {ns["metadata"]["name"]: i for i, ns in enumerate(client_namespaces)}
    blocks = {}  # block -> owner node
    for gateway in gateways:
        blocks.setdefault(gateway["block"], gateway["node"])
    table = TABLE_BASE
    for namespace in client_namespaces:
        name = namespace["metadata"]["name"]
        rules = client_rules(namespace, objects, gateways)
        local_rules = [
            (dst, [g for g in chosen if g["node"] == node_name] if chosen is not None else None) for dst, chosen in rules
        ]
        if not any(chosen for _dst, chosen in local_rules):
            continue  # clients live only on nodes that host one of their gateways
        if pool is None:
            raise TwinError("namespace %s: no IPv4 pod pool to take a client address from" % name)
        node_block = list(
            ipaddress.ip_network(pool["spec"]["cidr"]).subnets(new_prefix=int(pool["spec"].get("blockSize") or 26))
        )[node_names.index(node_name)]
        ip = str(node_block[1 + client_index[name]])
        blocks.setdefault(str(node_block), node_name)
        routes = []
        for dst, chosen in local_rules:
            if chosen is None:
                routes.append({"dst": dst, "type": "throw"})
            elif not chosen:
                routes.append({"dst": dst, "type": "unreachable"})
            else:
                first = sorted(chosen, key=lambda g: g["name"])[0]
                routes.append({"dst": dst, "via": first["ip"], "dev": specs["egw-" + first["name"]]["host_if"]})
        netns = "client-" + name
        specs[netns] = {
            "kind": "client",
            "netns": netns,
            "ip": ip,
            "host_if": host_interface("client", name, node_name),
            "table": table,
            "routes": routes,
        }
        table += 1
    # Felix's routes to blocks of VXLAN pools that other nodes own (CrossSubnet on one subnet: straight via the node).
    pools = ipv4_pools(objects)
    remote = []
    for block, owner in sorted(blocks.items()):
        owning_pool = pool_of(block.split("/")[0], pools)
        vxlan = owning_pool is not None and (owning_pool["spec"].get("vxlanMode") or "Never") != "Never"
        if owner != node_name and vxlan:
            remote.append({"dst": block, "via": nodes[owner]})
    if remote:
        specs["routes"] = {"kind": "routes", "routes": remote}
    local_blocks = sorted(b for b, owner in blocks.items() if owner == node_name)
    config, peers = render_bird_config(node_name, nodes, objects, local_blocks, timers)
    return {"bird": config, "specs": specs, "peers": peers}


# ---- BIRD configuration ------------------------------------------------------------------------------
def _peer_block(name, lines):
    return ["protocol bgp %s from bgp_template {" % name] + ["  " + line for line in lines] + ["}"]


def render_bird_config(node_name, nodes, objects, local_blocks, timers=None):
    """The bird.cfg open-source Calico v3.31 confd renders for this node (bird_aggr, bird_ipam, bird.cfg in one file).

    Returns (config text, {protocol name: {'peerIP', 'type'}}). Calico fork-only statements (krt_tunnel) are left out.
    """
    timers = timers or LAB_TIMERS
    node_ip = nodes[node_name]
    bgp = bgp_configuration(objects)
    node_as = bgp["as_number"]
    pools = ipv4_pools(objects)
    filters = {f["metadata"]["name"]: f for f in objects.get("bgpfilters", [])}
    node_labels = next(
        (n["metadata"].get("labels") or {} for n in objects.get("nodes", []) if n["metadata"]["name"] == node_name), {}
    )
    calico_node_ips = set(nodes.values())
    out = ["# Generated by the lab's Calico twin (lab/twin/calico.py) for node %s; shape of Calico v3.31 confd." % node_name]
    out += ["function apply_communities ()", "{", "}", ""]
    # bird_aggr.cfg
    static = ["protocol static {"]
    static_routes = ["   route %s blackhole;" % b for b in local_blocks if not b.endswith("/32")]
    reachable = []
    peers = peers_for_node(node_name, node_labels, objects.get("bgppeers", []))
    for _prefix, peer in peers:
        spec = peer["spec"]
        if spec.get("reachableBy"):
            reachable.append("   route %s/32 via %s;" % (parse_peer_ip(spec["peerIP"])[0], spec["reachableBy"]))
    if static_routes:
        static += ["   # IP blocks for this host."] + static_routes
    if reachable:
        static += ["   # Static routes needed for BGP peers."] + reachable
    if not static_routes and not reachable:
        static.append("   # No IP blocks or static routes for this host.")
    out += static + [
        "}",
        "",
        "# Aggregation of routes on this host; export the block, nothing beneath it.",
        "function calico_aggr ()",
        "{",
    ]
    for block in local_blocks:
        out += [
            "      # Block %s is confirmed" % block,
            "      if ( net = %s ) then { accept; }" % block,
            "      if ( net ~ %s ) then { reject; }" % block,
        ]
    out += ["}", ""]
    # bird_ipam.cfg
    out += ["function reject_disabled_pools ()", "{"]
    out += ["  if ( net ~ %s ) then { reject; }" % p["spec"]["cidr"] for p in pools if p["spec"].get("disableBGPExport")]
    out += [
        "}",
        "",
        "function reject_tunnel_routes () {",
        "  # Don't export tunnel routes to other nodes, Felix programs them.",
        "  if (defined(ifname)) then {",
        '     if ((ifname ~ "*.cali") || (ifname ~ "*.calico")) then {',
        "        reject;",
        "     }",
        "  }",
        "}",
        "",
        "function reject_local_routes () {",
        "  if (defined(ifname)) then {",
        '     if (ifname ~ "bpf*.cali") then {',
        "        reject;",
        "     }",
        "  }",
        "}",
        "",
        "function calico_export_to_bgp_peers(bool internal_peer) {",
        "  reject_disabled_pools();",
        "  if (internal_peer) then {",
        "    reject_tunnel_routes();",
        "  }",
        "  reject_local_routes();",
        "  apply_communities();",
        "  calico_aggr();",
    ]
    for pool in pools:
        if pool["spec"].get("disableBGPExport"):
            out.append("  # Skip %s as BGP export is disabled for it" % pool["spec"]["cidr"])
        else:
            out += ["  if ( net ~ %s ) then {" % pool["spec"]["cidr"], "    accept;", "  }"]
    out += ["}", "", "filter calico_kernel_programming {"]
    for pool in pools:
        if (pool["spec"].get("vxlanMode") or "Never") != "Never":
            out += [
                "  if ( net ~ %s ) then {" % pool["spec"]["cidr"],
                "    # VXLAN routes are handled by Felix.",
                "    reject;",
                "  }",
            ]
        else:  # Calico's BIRD fork sets krt_tunnel here; stock BIRD has no such attribute and needs none (no IPIP)
            out += ["  if ( net ~ %s ) then {" % pool["spec"]["cidr"], "    accept;", "  }"]
    out += ["  accept;", "}", ""]
    # bird.cfg
    out.append("router id %s;" % node_ip)
    listen = ""
    if bgp["bind_mode"] == "NodeIP":
        listen += " address %s" % node_ip
    if bgp["listen_port"]:
        listen += " port %s" % bgp["listen_port"]
    if listen:
        out.append("listen bgp%s;" % listen)
    out += [
        "",
        "protocol kernel {",
        "  learn;             # Learn all alien routes from the kernel",
        "  persist;           # Don't remove routes on bird shutdown",
        "  scan time 2;       # Scan kernel routing table every 2 seconds",
        "  import all;",
        "  export filter calico_kernel_programming; # Default is export none",
        "  graceful restart;",
        "  merge paths on;    # Allow export multipath routes (ECMP)",
        "}",
        "",
        "protocol device {",
        "  debug { states };",
        "  scan time 2;    # Scan interfaces every 2 seconds",
        "}",
        "",
        "protocol direct {",
        "  debug { states };",
        '  interface -"cali*", -"kube-ipvs*", "*";',
        "}",
        "",
        "# Template for all BGP clients",
        "template bgp bgp_template {",
        "  debug { states };",
        '  description "Connection to BGP peer";',
        "  local as %d;" % node_as,
        "  gateway recursive; # This should be the default, but just in case.",
        "  add paths on;",
        "  graceful restart;",
        "  connect delay time %s;" % timers["connect_delay"],
        "  connect retry time %s;" % timers["connect_retry"],
        "  error wait time %s;" % timers["error_wait"],
        "}",
        "",
        "# -------------- BGP Filters ------------------",
    ]
    out += filter_functions(filters.values())
    out += ["", "# ------------- Node-to-node mesh -------------"]
    protocols = {}
    if bgp["mesh"]:
        for other in sorted(nodes):
            other_ip = nodes[other]
            if other_ip == node_ip:
                continue
            name = "Mesh_" + other_ip.replace(".", "_")
            port = " port %s" % bgp["listen_port"] if bgp["listen_port"] else ""
            lines = [
                "neighbor %s%s as %d;" % (other_ip, port, node_as),
                "source address %s;  # The local address we use for the TCP connection" % node_ip,
                "import all;",
                "export filter {",
                "  calico_export_to_bgp_peers(true);",
                "  reject;",
                "};",
            ]
            if other_ip > node_ip:  # confd compares the addresses as strings
                lines.append("passive on; # Mesh is unidirectional, peer will connect to us.")
            out += _peer_block(name, lines)
            protocols[name] = {"peerIP": other_ip, "type": PEER_TYPES["Mesh"]}
    else:
        out.append("# Node-to-node mesh disabled")
    for section in ("Global", "Node"):
        out += ["", "# ------------- %s peers -------------" % ("Global" if section == "Global" else "Node-specific")]
        chosen = [peer for prefix, peer in peers if prefix == section]
        for peer in chosen:
            name, lines = _peer_lines(section, peer, node_ip, node_as, filters, calico_node_ips)
            if name is None:
                out.append("# Skipping ourselves (%s)" % node_ip)
                continue
            out += _peer_block(name, lines)
            protocols[name] = {"peerIP": parse_peer_ip(peer["spec"]["peerIP"])[0], "type": PEER_TYPES[section]}
        if not chosen:
            out.append("# No %s peers configured." % ("global" if section == "Global" else "node-specific"))
    return "\n".join(out) + "\n", protocols


def _peer_lines(prefix, peer, node_ip, node_as, filters, calico_node_ips):
    """The body of one BGPPeer's protocol, in the order of v3.31's template."""
    spec = peer["spec"]
    where = "BGPPeer %s" % peer["metadata"]["name"]
    ip, port = parse_peer_ip(spec.get("peerIP", ""))
    if ip == node_ip:
        return None, []
    if spec.get("keepOriginalNextHop") and spec.get("nextHopMode"):
        raise TwinError("%s: keepOriginalNextHop and nextHopMode may not both be set (Calico refuses it)" % where)
    peer_as = int(spec["asNumber"])
    local_as = int(spec.get("localASNumber") or 0)
    effective_as = local_as or node_as
    name = "%s_%s" % (prefix, ip.replace(".", "_")) + ("_port_%d" % port if port else "")
    lines = []
    if spec.get("ttlSecurity"):
        lines += ["ttl security on;", "multihop %d;" % int(spec["ttlSecurity"])]
    else:
        lines += ["ttl security off;", "multihop;"]
    if local_as:
        lines.append("local as %d;" % local_as)
    lines.append("neighbor %s%s as %d;" % (ip, " port %d" % port if port else "", peer_as))
    if spec.get("sourceAddress", "UseNodeIP") == "UseNodeIP":  # the CRD default is UseNodeIP
        lines.append("source address %s;  # The local address we use for the TCP connection" % node_ip)
    imports, exports = [], []
    for filter_name in spec.get("filters") or []:
        bgp_filter = filters.get(filter_name)
        if bgp_filter is None:
            continue  # confd: a filter that does not exist is not called
        if (bgp_filter.get("spec") or {}).get("importV4"):
            imports.append("  %s();" % bird_symbol(filter_name, "import"))
        if (bgp_filter.get("spec") or {}).get("exportV4"):
            exports.append("  %s();" % bird_symbol(filter_name, "export"))
    lines += ["import filter {"] + imports + ["  accept; # Prior to BGP Filters Calico used import all", "};"]
    lines += ["export filter {"] + exports
    lines += ["  calico_export_to_bgp_peers(%s);" % ("true" if peer_as == effective_as else "false"), "  reject;", "};"]
    if ip in calico_node_ips and ip > node_ip:
        lines.append("passive on; # Peering is unidirectional, peer will connect to us.")
    restart = duration_seconds(spec.get("maxRestartTime"))
    if restart is not None:
        lines.append("graceful restart time %d;" % restart)
    if peer_as != effective_as and spec.get("keepOriginalNextHop"):
        lines.append("next hop keep;")
    if spec.get("nextHopMode") == "Self":
        lines.append("next hop self;")
    if spec.get("nextHopMode") == "Keep":
        lines.append("next hop keep;")
    if spec.get("numAllowedLocalASNumbers"):
        lines.append("allow local as %d;" % int(spec["numAllowedLocalASNumbers"]))
    return name, lines


# ---- node commands ------------------------------------------------------------------------------------
def state_text(spec):
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


def bird_hash(config):
    return hashlib.sha256(config.encode()).hexdigest()


OBSERVE = """\
echo '@@netns'; ip netns list 2>/dev/null | awk '{{print $1}}'
echo '@@state'; for f in {state}/*.json; do [ -e "$f" ] || continue
  printf '%s ' "$(basename "$f" .json)"; tr -d '\\n' < "$f"; echo; done
echo '@@bird'; if [ -s {pid} ] && kill -0 "$(cat {pid})" 2>/dev/null; then echo running; birdc -s {ctl} show protocols 2>&1; fi
echo '@@end'
""".format(state=STATE_DIR, pid=BIRD_PID, ctl=BIRD_CTL)


def parse_observation(text):
    """The node's state from OBSERVE's output: {'netns': set, 'state': {name: spec}, 'bird_running', 'protocols'}."""
    sections, current = {}, None
    for line in text.splitlines():
        if line.startswith("@@"):
            current = line[2:].strip()
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    if "end" not in sections:
        raise TwinError("incomplete node observation: %r" % text[-500:])
    state = {}
    for line in sections.get("state", []):
        name, _sep, body = line.partition(" ")
        try:
            state[name] = json.loads(body)
        except ValueError:
            state[name] = {"kind": "corrupt"}  # replaced on the next apply
    bird = sections.get("bird", [])
    running = bool(bird) and bird[0].strip() == "running"
    return {
        "netns": {line.strip() for line in sections.get("netns", []) if line.strip()},
        "state": state,
        "bird_running": running,
        "protocols": parse_protocols("\n".join(bird[1:])) if running else {},
    }


def parse_protocols(text):
    """`birdc show protocols` (BIRD 1.6) -> {name: {'proto', 'state', 'since', 'info'}}."""
    result = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 5 or fields[0] in ("name", "BIRD") or fields[1] not in ("BGP", "Kernel", "Device", "Direct", "Static"):
            continue
        result[fields[0]] = {
            "proto": fields[1],
            "state": fields[3],
            "since": fields[4],
            "info": " ".join(fields[5:]),
        }
    return result


def session_states(protocols, peers):
    """CalicoNodeStatus peersV4 entries from parsed protocols and the rendered peers ({name: {peerIP, type}})."""
    result = []
    for name in sorted(peers):
        proto = protocols.get(name)
        if proto is None:
            state, since = "Idle", ""
        elif proto["state"] == "up":
            state, since = "Established", proto["since"]
        else:
            word = proto["info"].split()[0] if proto["info"] else ""
            state, since = (word if word in BGP_STATES else "Idle"), proto["since"]
        result.append({"peerIP": peers[name]["peerIP"], "type": peers[name]["type"], "state": state, "since": since})
    return result


def _write_state(name, spec):
    return "printf '%%s' %s > %s/%s.json" % (shlex.quote(state_text(spec)), STATE_DIR, name)


def create_commands(name, spec):
    """Shell commands that create one recorded spec on the node (run after delete_commands of any old version)."""
    if spec["kind"] in ("egw", "client"):
        ns, dev, ip = spec["netns"], spec["host_if"], spec["ip"]
        cmds = [
            "ip netns add %s" % ns,
            "ip link add %s type veth peer name eth0 netns %s" % (dev, ns),
            # As Felix: proxy ARP answers the pod's 169.254.1.1 at once (proxy_delay 0, not up to 0.8 s).
            "sysctl -qw net.ipv4.conf.%s.proxy_arp=1 net.ipv4.neigh.%s.proxy_delay=0" % (dev, dev),
            "ip link set %s up" % dev,
            "ip -n %s link set lo up" % ns,
            "ip -n %s addr add %s/32 dev eth0" % (ns, ip),
            "ip -n %s link set eth0 up" % ns,
            "ip -n %s route add %s dev eth0 scope link" % (ns, POD_GATEWAY),
            "ip -n %s route add default via %s dev eth0" % (ns, POD_GATEWAY),
            "ip route replace %s/32 dev %s scope link proto %d" % (ip, dev, ROUTE_PROTO),
        ]
        if spec["kind"] == "egw":
            nft = (
                "table ip calico-twin { chain postrouting { type nat hook postrouting priority 100; policy accept; "
                'oifname "eth0" ip saddr != %s masquerade; }; }' % ip
            )
            cmds += [
                "ip netns exec %s sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0 "
                "net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0" % ns,
                "printf '%%s\\n' %s | ip netns exec %s nft -f -" % (shlex.quote(nft), ns),
            ]
        else:
            table = spec["table"]
            for route in spec["routes"]:
                if route.get("type") in ("throw", "unreachable"):
                    cmds.append("ip route replace %s %s table %d proto %d" % (route["type"], route["dst"], table, ROUTE_PROTO))
                else:
                    cmds.append(
                        "ip route replace %s via %s dev %s onlink table %d proto %d"
                        % (route["dst"], route["via"], route["dev"], table, ROUTE_PROTO)
                    )
            cmds.append("ip rule add pref %d from %s lookup %d" % (RULE_PRIORITY, ip, table))
    elif spec["kind"] == "routes":
        cmds = ["ip route replace %s via %s proto %d" % (r["dst"], r["via"], ROUTE_PROTO) for r in spec["routes"]]
    else:
        raise TwinError("unknown spec kind %r" % spec["kind"])
    return cmds + [_write_state(name, spec)]


def delete_commands(name, spec):
    """Shell commands that remove one recorded spec; each tolerates a half-created state."""
    kind = spec.get("kind")
    cmds = []
    if kind in ("egw", "client"):
        if kind == "client":
            cmds += [
                "ip rule del pref %d from %s lookup %d" % (RULE_PRIORITY, spec["ip"], spec["table"]),
                "ip route flush table %d" % spec["table"],
            ]
        cmds += [
            "ip route del %s/32 dev %s proto %d" % (spec["ip"], spec["host_if"], ROUTE_PROTO),
            "ip link del %s" % spec["host_if"],
            "ip netns del %s" % spec["netns"],
        ]
    elif kind == "routes":
        cmds += ["ip route del %s via %s proto %d" % (r["dst"], r["via"], ROUTE_PROTO) for r in spec["routes"]]
    return [c + " 2>/dev/null || true" for c in cmds] + ["rm -f %s/%s.json" % (STATE_DIR, name)]


_KIND_ORDER = {"client": 0, "egw": 1, "routes": 2}


def plan_node(desired, observed):
    """Commands that take the node from observed to desired: {'commands': [...], 'bird': None|'start'|'configure'}.

    Nothing to do -> {'commands': [], 'bird': None}: reconcile then runs no mutating command.
    """
    commands = []
    wanted = desired["specs"]
    recorded = {k: v for k, v in observed["state"].items() if k != "bird"}
    # Clients route through gateway veths: delete clients first, create gateways first.
    for name in sorted(recorded, key=lambda n: (_KIND_ORDER.get(recorded[n].get("kind"), 0), n)):
        spec = recorded[name]
        missing_netns = spec.get("netns") and spec["netns"] not in observed["netns"]
        if wanted.get(name) != spec or missing_netns:
            commands += delete_commands(name, spec)
    for name in sorted(wanted, key=lambda n: (-_KIND_ORDER.get(wanted[n].get("kind"), 0), n)):
        spec = wanted[name]
        missing_netns = spec.get("netns") and spec["netns"] not in observed["netns"]
        if recorded.get(name) != spec or missing_netns:
            if name not in recorded and spec.get("netns") in observed["netns"]:
                commands += delete_commands(name, spec)  # a leftover netns of ours without a record
            commands += create_commands(name, spec)
    digest = bird_hash(desired["bird"])
    bird = None
    if not observed["bird_running"]:
        bird = "start"
    elif (observed["state"].get("bird") or {}).get("sha256") != digest:
        bird = "configure"
    if commands:
        commands = ["set -eu", "install -d %s %s" % (STATE_DIR, CONFIG_DIR), *commands]
    return {"commands": commands, "bird": bird, "bird_sha256": digest}


def bird_commands(action, digest):
    """Validate the written config, then start BIRD or make it reload; record the config's hash."""
    check = "bird -p -c %s" % BIRD_CFG
    if action == "start":
        run = "rm -f %s && bird -c %s -s %s -P %s" % (BIRD_CTL, BIRD_CFG, BIRD_CTL, BIRD_PID)
    else:
        run = "birdc -s %s configure | grep -Eq 'Reconfigur' " % BIRD_CTL
    return [
        "set -e",
        "install -d %s %s" % (STATE_DIR, CONFIG_DIR),
        "test -e %s || cat /proc/sys/net/ipv4/ip_forward > %s" % (FORWARD_BACKUP, FORWARD_BACKUP),
        "sysctl -qw net.ipv4.ip_forward=1",
        check,
        run,
        _write_state("bird", {"sha256": digest}),
    ]


def close_commands(observed):
    """Everything the twin created on a node, removed: BIRD stopped (and its kernel routes), specs deleted."""
    cmds = ["test -s %s && kill $(cat %s) 2>/dev/null || true" % (BIRD_PID, BIRD_PID), "sleep 1"]
    for name in sorted(observed["state"], key=lambda n: (_KIND_ORDER.get(observed["state"][n].get("kind"), 0), n)):
        if name != "bird":
            cmds += delete_commands(name, observed["state"][name])
    cmds += [
        "ip route flush proto bird 2>/dev/null || true",
        "test -s %s && sysctl -qw net.ipv4.ip_forward=$(cat %s) || true" % (FORWARD_BACKUP, FORWARD_BACKUP),
        "rm -rf %s %s" % (RUN_DIR, CONFIG_DIR),
    ]
    return cmds


# ---- the agent ------------------------------------------------------------------------------------------
class CalicoTwin(object):
    """calico-node for the lab: reconcile() every ~2 s (idempotent), close() removes what it created.

    cluster: the Kubernetes stand-in's lab.kube.server.Cluster (read in-process);
    nodes: {kubernetes node name: (host, node VPC IPv4)}; host is a lab.vm.machine.Machine.
    While the twin exists, cluster.session_reporter serves CalicoNodeStatus from BIRD's live sessions.
    """

    def __init__(self, cluster, nodes, log=print, timers=None, report_status=True):
        self.cluster = cluster
        self.nodes = dict(nodes)
        self.log = log
        self.timers = dict(timers or LAB_TIMERS)
        self.sessions_cache = {}  # node -> peersV4 list from the last observation
        self.errors = {}  # node -> last error message (reported once per change)
        if report_status:
            cluster.session_reporter = self.sessions

    def addresses(self):
        return {name: address for name, (_host, address) in self.nodes.items()}

    def sessions(self, node_name):
        """cluster.session_reporter: the node's BGP sessions from the last observation, None before the first."""
        return self.sessions_cache.get(node_name)

    def reconcile(self):
        """One pass over every node (nodes in parallel: one SSH round trip costs seconds under TCG).

        Returns {node: 'unchanged'|'changed'|'error: ...'}.
        """
        objects = snapshot(self.cluster)
        addresses = self.addresses()
        names = sorted(self.nodes)
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:
            results = pool.map(lambda name: self._reconcile_guarded(name, addresses, objects), names)
            return dict(zip(names, results))

    def _reconcile_guarded(self, node_name, addresses, objects):
        try:
            result = self._reconcile_node(node_name, self.nodes[node_name][0], addresses, objects)
            self.errors.pop(node_name, None)
            return result
        except Exception as exc:  # one node failing must not stop the others; the message says which
            self.sessions_cache[node_name] = None  # unknown now: CalicoNodeStatus says "not reported", never stale
            message = "calico twin: node %s: %s" % (node_name, exc)
            if self.errors.get(node_name) != message:
                self.log(message)
            self.errors[node_name] = message
            return "error: %s" % exc

    def _reconcile_node(self, node_name, host, addresses, objects):
        desired = desired_node_state(node_name, addresses, objects, self.timers)
        observed = parse_observation(host.ssh(OBSERVE, timeout=60).stdout)
        if observed["bird_running"]:
            self.sessions_cache[node_name] = session_states(observed["protocols"], desired["peers"])
        else:
            self.sessions_cache[node_name] = None
        plan = plan_node(desired, observed)
        if not plan["commands"] and plan["bird"] is None:
            return "unchanged"
        if plan["commands"]:
            host.ssh("\n".join(plan["commands"]), timeout=120)
        if plan["bird"]:
            host.put(BIRD_CFG, desired["bird"])
            host.ssh("\n".join(bird_commands(plan["bird"], plan["bird_sha256"])), timeout=60)
        self.log("calico twin: node %s: %d commands, BIRD %s" % (node_name, len(plan["commands"]), plan["bird"] or "unchanged"))
        return "changed"

    def close(self):
        """Stop BIRD and delete every netns, veth, rule and route the twin recorded on each node."""
        if getattr(self.cluster, "session_reporter", None) == self.sessions:
            self.cluster.session_reporter = None
        for node_name in sorted(self.nodes):
            host = self.nodes[node_name][0]
            try:
                observed = parse_observation(host.ssh(OBSERVE, timeout=60).stdout)
                host.ssh("\n".join(close_commands(observed)), timeout=120)
            except Exception as exc:  # close the other nodes anyway
                self.log("calico twin: node %s: close failed: %s" % (node_name, exc))
        self.sessions_cache = {}
