# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Calico objects for TGW Connect peering and egress gateways (pure logic, no Kubernetes client).

build_manifests(config) validates the whole input first and only then returns the objects, so a caller
that applies the result never writes anything when the input is wrong. config keys are the role's
variables without the ``calico_`` prefix; every error names the role variable (``calico_<key>``).

What the objects encode (see the collection's docs/calico-example.md for a rendered example):
- BGPConfiguration ``default``: the nodes' ASN, which must differ from the TGW ASN (AS_PATH trap), the
  node mesh kept (gateway routes must reach the peering nodes), bindMode never NodeIP (BIRD would not
  answer the TGW on 169.254.x.1).
- two BGPPeers per tunnel node (TGW .2 and .3): eBGP to the TGW ASN, next hop kept (the TGW must send
  return traffic to the node that hosts the gateway), sourceAddress None (the session leaves from the
  tunnel's .1), no ttlSecurity (TGW Connect is multihop TTL 2), one BGPFilter.
- BGPFilter: export only the egress pool(s); import nothing unless prefixes are listed.
- egress IPPool(s): blockSize 31/32, nodeSelector "!all()", natOutgoing false, BGP export on.
- FelixConfiguration ``default``: egressIPSupport and awsSrcDstCheck only (applied server-side, so the
  other fields keep their owners and values).
- EgressGateway (operator.tigera.io/v1), optional EgressGatewayPolicy, namespace annotations.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.calico_egress.aws.plugins.module_utils import connect_addressing

try:
    import netaddr

    HAS_NETADDR = True
except ImportError:  # pragma: no cover - connect_addressing reports the missing library
    HAS_NETADDR = False

CALICO_API_VERSION = "projectcalico.org/v3"
OPERATOR_API_VERSION = "operator.tigera.io/v1"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "calico_egress.aws"
INSTANCE_LABEL = "calico-egress.aws/instance"
NODE_LABEL = "calico-egress.aws/node"
EGW_LABEL = "projectcalico.org/egw"
NEXT_HOP_FIELDS = ("keepOriginalNextHop", "nextHopMode")
VARIANTS = ("enterprise", "oss")
ENCAPSULATIONS = {
    "None": ("Never", "Never"),
    "IPIP": ("Always", "Never"),
    "IPIPCrossSubnet": ("CrossSubnet", "Never"),
    "VXLAN": ("Never", "Always"),
    "VXLANCrossSubnet": ("Never", "CrossSubnet"),
}
EGRESS_IP_SUPPORT = ("Disabled", "EnabledPerNamespace", "EnabledPerNamespaceOrPerPod")
AWS_SRC_DST_CHECK = ("DoNothing", "Enable", "Disable")
# BGPPeer fields the role sets itself or that break TGW Connect peering; refused in bgp_peer_extra_spec.
FORBIDDEN_PEER_EXTRA = {
    "node": "the role sets it from the tunnel node group",
    "peerIP": "the role sets it from the Connect peer's inside addresses",
    "asNumber": "the role sets it to the TGW ASN",
    "nodeSelector": "TGW peers are per node",
    "peerSelector": "TGW peers are not Calico nodes",
    "sourceAddress": "must stay None so BIRD sources the session from the tunnel's .1, not the node IP",
    "ttlSecurity": "BIRD would send TTL 255 and demand it back; TGW Connect BGP is multihop TTL 2",
    "keepOriginalNextHop": "set bgp_next_hop_field instead",
    "nextHopMode": "set bgp_next_hop_field instead",
    "filters": "the role attaches its own BGPFilter",
}
NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


class CalicoManifestError(ValueError):
    """Bad input for the Calico objects; the message names the role variable."""


def _field(name):
    return "calico_%s" % name


def _fail(name, message):
    raise CalicoManifestError("%s: %s" % (_field(name), message))


def _name(value, name):
    if not isinstance(value, str) or len(value) > 253 or not NAME_RE.match(value):
        _fail(name, "%r is not a valid Kubernetes object name (lower case alphanumerics, '-' and '.')" % (value,))
    return value


def _choice(value, choices, name):
    if value not in choices:
        _fail(name, "%r is not one of %s" % (value, ", ".join(str(c) for c in choices)))
    return value


def _int(value, name, low=None, high=None):
    if isinstance(value, bool):
        _fail(name, "%r is not an integer" % (value,))
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        _fail(name, "%r is not an integer" % (value,))
    if (low is not None and number < low) or (high is not None and number > high):
        _fail(name, "%s is out of range %s-%s" % (value, low, high))
    return number


def _ipv4_cidr(value, name):
    try:
        net = netaddr.IPNetwork(value) if isinstance(value, str) and "/" in value else None
    except (netaddr.AddrFormatError, ValueError, TypeError):
        net = None
    if net is None:
        _fail(name, "%r is not a CIDR (expected a.b.c.d/len)" % (value,))
    if net.version != 4:
        _fail(name, "%s is not IPv4 (egress pools advertised to the TGW Connect peers are IPv4)" % value)
    if net.ip != net.network:
        _fail(name, "%s is not a network address (did you mean %s?)" % (value, net.cidr))
    return net


def _any_cidr(value, name):
    if not isinstance(value, str) or "/" not in value:
        _fail(name, "%r is not a CIDR" % (value,))
    try:
        return netaddr.IPNetwork(value)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        _fail(name, "%r is not a CIDR" % (value,))


def _addressing(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except connect_addressing.AddressingError as exc:
        raise CalicoManifestError(str(exc))


def owner_labels(instance):
    """Labels that mark an object as created by this collection (instance = one role invocation)."""
    return {MANAGED_BY_LABEL: MANAGED_BY, INSTANCE_LABEL: instance}


def owner_selector(instance):
    """Label selector of every object this instance owns (for listing and pruning)."""
    return "%s=%s,%s=%s" % (MANAGED_BY_LABEL, MANAGED_BY, INSTANCE_LABEL, instance)


def dns_label(text):
    """Lower-case, '-'-separated fragment usable in an object name."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


def bgp_peer_name(prefix, node, peer_ip):
    return "%s-%s-%s" % (prefix, dns_label(node), dns_label(peer_ip))


def _normalise_nodes(nodes, config):
    """Validate the per-node Connect peer facts; return them sorted by node name."""
    if not isinstance(nodes, list) or not nodes:
        _fail("tunnel_nodes", "no tunnel node has a calico_egress_connect_peer fact (run the tgw_connect role first)")
    allow_ibgp = bool(config.get("allow_ibgp", False))
    node_asn = config["bgp_as_number"]
    result = []
    seen = set()
    for index, node in enumerate(nodes):
        where = "tunnel_nodes[%d]" % index
        if not isinstance(node, dict):
            _fail(where, "%r is not a dict" % (node,))
        name = _name(node.get("name"), where + ".name")
        if name in seen:
            _fail(where + ".name", "%s appears twice" % name)
        seen.add(name)
        peer = node.get("peer") or {}
        for key in ("tgw_inside_addresses", "tgw_asn", "peer_asn"):
            if peer.get(key) in (None, "", []):
                _fail(where, "node %s: calico_egress_connect_peer has no %s" % (name, key))
        tgw_asn = _addressing(connect_addressing.validate_tgw_asn, peer["tgw_asn"], "%s(%s).tgw_asn" % (_field(where), name))
        peer_asn = _addressing(
            connect_addressing.check_peer_asn,
            peer["peer_asn"],
            tgw_asn,
            allow_ibgp=allow_ibgp,
            field="%s(%s).peer_asn" % (_field(where), name),
        )
        if peer_asn != node_asn:
            _fail(
                "bgp_as_number",
                "%d differs from node %s's Connect peer ASN %d: the TGW expects the node to speak as %d"
                % (node_asn, name, peer_asn, peer_asn),
            )
        addresses = peer["tgw_inside_addresses"]
        if not isinstance(addresses, list) or len(addresses) != 2:
            _fail(where, "node %s: tgw_inside_addresses %r must list the TGW's two BGP addresses" % (name, addresses))
        if peer.get("inside_cidr"):
            expected = _addressing(
                connect_addressing.inside_addresses, peer["inside_cidr"], "%s(%s).inside_cidr" % (_field(where), name)
            )
            if sorted(expected["tgw_addresses"]) != sorted(str(a) for a in addresses):
                _fail(
                    where, "node %s: tgw_inside_addresses %s do not match inside_cidr %s" % (name, addresses, peer["inside_cidr"])
                )
        for address in addresses:
            try:
                ip = netaddr.IPAddress(address)
            except (netaddr.AddrFormatError, ValueError, TypeError):
                _fail(where, "node %s: %r is not an IP address" % (name, address))
            if ip.version != 4:
                _fail(where, "node %s: %s is not IPv4" % (name, address))
        result.append({"name": name, "tgw_addresses": [str(a) for a in addresses], "tgw_asn": tgw_asn})
    return sorted(result, key=lambda item: item["name"])


def _normalise_pools(pools, pod_cidrs, block_size_default):
    if not isinstance(pools, list) or not pools:
        _fail("egress_ip_pools", "at least one egress IP pool is needed")
    result = []
    for index, pool in enumerate(pools):
        where = "egress_ip_pools[%d]" % index
        if not isinstance(pool, dict):
            _fail(where, "%r is not a dict" % (pool,))
        name = _name(pool.get("name"), where + ".name")
        net = _ipv4_cidr(pool.get("cidr"), where + ".cidr")
        block = _int(pool.get("block_size", block_size_default), where + ".block_size")
        if block not in (31, 32):
            _fail(where + ".block_size", "%d: egress pools use blockSize 31 or 32 (each gateway takes one address)" % block)
        if net.prefixlen > block:
            _fail(where + ".cidr", "%s is smaller than its blockSize /%d" % (net, block))
        for other in result:
            if net.first <= other["net"].last and other["net"].first <= net.last:
                _fail(where + ".cidr", "%s overlaps egress pool %s (%s)" % (net, other["name"], other["net"]))
        for p_index, pod in enumerate(pod_cidrs):
            pod_net = _any_cidr(pod, "pod_cidrs[%d]" % p_index)
            if pod_net.version == 4 and net.first <= pod_net.last and pod_net.first <= net.last:
                _fail(where + ".cidr", "%s overlaps the pod pool %s: egress IPs must come from a dedicated range" % (net, pod))
        result.append({"name": name, "net": net, "block_size": block})
    return result


def _prefix_rules(cidrs, name):
    rules = []
    for index, cidr in enumerate(cidrs or []):
        net = _ipv4_cidr(cidr, "%s[%d]" % (name, index))
        rules.append({"action": "Accept", "matchOperator": "In", "cidr": str(net.cidr)})
    return rules


def _metadata(name, labels, namespace=None):
    meta = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if labels is not None:
        meta["labels"] = dict(labels)
    return meta


def validate_config(config):
    """Check every input that would otherwise reach the API server; return a normalised copy."""
    if not HAS_NETADDR:
        raise CalicoManifestError("the netaddr Python library is required")
    config = dict(config or {})
    out = {}
    out["api_version"] = config.get("api_version") or CALICO_API_VERSION
    if out["api_version"] not in (CALICO_API_VERSION, "crd.projectcalico.org/v1"):
        _fail("api_version", "%r is not projectcalico.org/v3 (or crd.projectcalico.org/v1)" % (out["api_version"],))
    out["variant"] = _choice(config.get("variant", "enterprise"), VARIANTS, "variant")
    out["instance"] = _name(config.get("instance", "default"), "instance")
    out["name_prefix"] = _name(config.get("name_prefix", "tgw"), "name_prefix")
    if not isinstance(config.get("tunnel_nodes"), list) or not config["tunnel_nodes"]:
        _fail("tunnel_nodes", "no tunnel node has a calico_egress_connect_peer fact (run the tgw_connect role first)")
    out["bgp_as_number"] = _addressing(connect_addressing.validate_peer_asn, config.get("bgp_as_number"), _field("bgp_as_number"))
    config["bgp_as_number"] = out["bgp_as_number"]
    bind_mode = config.get("bgp_bind_mode") or "None"
    if bind_mode == "NodeIP":
        _fail(
            "bgp_bind_mode",
            "NodeIP makes BIRD listen on the node IP only; the TGW opens its sessions towards the tunnel's "
            "169.254.x.1 and would be refused. Use None.",
        )
    out["bgp_bind_mode"] = _choice(bind_mode, ("None",), "bgp_bind_mode")
    out["bgp_node_to_node_mesh"] = bool(config.get("bgp_node_to_node_mesh", True))
    out["bgp_next_hop_field"] = _choice(
        config.get("bgp_next_hop_field", "keepOriginalNextHop"), NEXT_HOP_FIELDS, "bgp_next_hop_field"
    )
    extra = config.get("bgp_peer_extra_spec") or {}
    if not isinstance(extra, dict):
        _fail("bgp_peer_extra_spec", "%r is not a dict" % (extra,))
    for key in sorted(extra):
        if key in FORBIDDEN_PEER_EXTRA:
            _fail("bgp_peer_extra_spec.%s" % key, "cannot be set on TGW peers: %s" % FORBIDDEN_PEER_EXTRA[key])
    out["bgp_peer_extra_spec"] = copy.deepcopy(extra)
    out["nodes"] = _normalise_nodes(config.get("tunnel_nodes"), config)
    pod_cidrs = list(config.get("pod_cidrs") or [])
    out["egress_ip_pools"] = _normalise_pools(config.get("egress_ip_pools"), pod_cidrs, config.get("egress_pool_block_size", 31))
    out["bgp_filter_name"] = _name(config.get("bgp_filter_name") or "%s-egress-only" % out["name_prefix"], "bgp_filter_name")
    out["bgp_filter_import_v4"] = _prefix_rules(config.get("bgp_filter_import_v4"), "bgp_filter_import_v4")
    out["encapsulation"] = _choice(
        config.get("egress_pool_encapsulation", "None"), sorted(ENCAPSULATIONS), "egress_pool_encapsulation"
    )
    out["felix_egress_ip_support"] = _choice(
        config.get("felix_egress_ip_support", "EnabledPerNamespaceOrPerPod"), EGRESS_IP_SUPPORT, "felix_egress_ip_support"
    )
    out["felix_aws_src_dst_check"] = _choice(
        config.get("felix_aws_src_dst_check", "Disable"), AWS_SRC_DST_CHECK, "felix_aws_src_dst_check"
    )
    gateway = config.get("egress_gateway")
    out["egress_gateway"] = _normalise_gateway(gateway, out) if gateway else None
    if out["egress_gateway"] and out["variant"] != "enterprise":
        _fail(
            "egress_gateway", "egress gateways exist only in Calico Enterprise and Calico Cloud (variant is %s)" % out["variant"]
        )
    return out


def _normalise_gateway(gateway, out):
    if not isinstance(gateway, dict):
        _fail("egress_gateway", "%r is not a dict" % (gateway,))
    result = {
        "name": _name(gateway.get("name", "egress-gateway"), "egress_gateway_name"),
        "namespace": _name(gateway.get("namespace", "default"), "egress_gateway_namespace"),
        "replicas": _int(gateway.get("replicas", 1), "egress_gateway_replicas", 0, 2147483647),
        "node_selector": dict(gateway.get("node_selector") or {}),
        "log_severity": _choice(
            gateway.get("log_severity", "Info"),
            ("Fatal", "Error", "Warn", "Info", "Debug", "Trace"),
            "egress_gateway_log_severity",
        ),
        "health_timeout_datastore_seconds": _int(
            gateway.get("health_timeout_datastore_seconds", 90), "egress_gateway_health_timeout_datastore_seconds", 1
        ),
        "icmp_probe_ips": [str(ip) for ip in gateway.get("icmp_probe_ips") or []],
        "http_probe_urls": [str(url) for url in gateway.get("http_probe_urls") or []],
        "probe_interval_seconds": _int(gateway.get("probe_interval_seconds", 10), "egress_gateway_probe_interval_seconds", 1),
        "probe_timeout_seconds": _int(gateway.get("probe_timeout_seconds", 30), "egress_gateway_probe_timeout_seconds", 1),
        "namespaces": [_name(ns, "egress_gateway_namespaces") for ns in gateway.get("namespaces") or []],
        "policy_destinations": [
            str(c.cidr)
            for c in (_any_cidr(d, "egress_gateway_policy_destinations") for d in gateway.get("policy_destinations") or [])
        ],
    }
    for index, address in enumerate(result["icmp_probe_ips"]):
        try:
            netaddr.IPAddress(address)
        except (netaddr.AddrFormatError, ValueError, TypeError):
            _fail("egress_gateway_icmp_probe_ips[%d]" % index, "%r is not an IP address" % (address,))
    return result


def gateway_selector(gateway):
    return "%s == '%s'" % (EGW_LABEL, gateway["name"])


def build_manifests(config):
    """Validate config, then return {'objects': [...], ...}; objects are in the order they must be applied."""
    cfg = validate_config(config)
    api = cfg["api_version"]
    labels = owner_labels(cfg["instance"])
    objects = []

    bgp_spec = {
        "asNumber": cfg["bgp_as_number"],
        "nodeToNodeMeshEnabled": cfg["bgp_node_to_node_mesh"],
        "bindMode": cfg["bgp_bind_mode"],
    }
    # Shared singletons (default BGPConfiguration / FelixConfiguration) carry no ownership label: the
    # collection applies a few fields server-side and never deletes them.
    objects.append({"apiVersion": api, "kind": "BGPConfiguration", "metadata": _metadata("default", None), "spec": bgp_spec})

    # "In" (prefixes inside the pool), not "Equal": Calico advertises the pool's blocks (/31, /32), not the pool.
    export_rules = [{"action": "Accept", "matchOperator": "In", "cidr": str(pool["net"].cidr)} for pool in cfg["egress_ip_pools"]]
    export_rules.append({"action": "Reject"})
    filter_spec = {"exportV4": export_rules, "importV4": cfg["bgp_filter_import_v4"] + [{"action": "Reject"}]}
    objects.append(
        {"apiVersion": api, "kind": "BGPFilter", "metadata": _metadata(cfg["bgp_filter_name"], labels), "spec": filter_spec}
    )

    ipip, vxlan = ENCAPSULATIONS[cfg["encapsulation"]]
    for pool in cfg["egress_ip_pools"]:
        spec = {
            "cidr": str(pool["net"].cidr),
            "blockSize": pool["block_size"],
            "nodeSelector": "!all()",
            "natOutgoing": False,
            "disableBGPExport": False,
            "ipipMode": ipip,
            "vxlanMode": vxlan,
        }
        objects.append({"apiVersion": api, "kind": "IPPool", "metadata": _metadata(pool["name"], labels), "spec": spec})

    peer_names = []
    for node in cfg["nodes"]:
        for address in node["tgw_addresses"]:
            name = bgp_peer_name(cfg["name_prefix"], node["name"], address)
            peer_labels = dict(labels)
            peer_labels[NODE_LABEL] = dns_label(node["name"])[:63].strip("-")
            spec = copy.deepcopy(cfg["bgp_peer_extra_spec"])
            spec.update(
                {
                    "node": node["name"],
                    "peerIP": address,
                    "asNumber": node["tgw_asn"],
                    "sourceAddress": "None",
                    "filters": [cfg["bgp_filter_name"]],
                }
            )
            if cfg["bgp_next_hop_field"] == "nextHopMode":
                spec["nextHopMode"] = "Keep"
            else:
                spec["keepOriginalNextHop"] = True
            objects.append({"apiVersion": api, "kind": "BGPPeer", "metadata": _metadata(name, peer_labels), "spec": spec})
            peer_names.append(name)

    gateway = cfg["egress_gateway"]
    if cfg["variant"] == "enterprise":
        felix_spec = {"egressIPSupport": cfg["felix_egress_ip_support"], "awsSrcDstCheck": cfg["felix_aws_src_dst_check"]}
    else:
        felix_spec = {"awsSrcDstCheck": cfg["felix_aws_src_dst_check"]}
    objects.append({"apiVersion": api, "kind": "FelixConfiguration", "metadata": _metadata("default", None), "spec": felix_spec})

    if gateway:
        objects.extend(_gateway_objects(cfg, gateway, labels, api))

    return {
        "objects": objects,
        "bgp_peer_names": peer_names,
        "egress_gateway_cidrs": [str(pool["net"].cidr) for pool in cfg["egress_ip_pools"]],
        "owner_labels": labels,
        "owner_selector": owner_selector(cfg["instance"]),
        "nodes": [{"name": n["name"], "tgw_addresses": n["tgw_addresses"]} for n in cfg["nodes"]],
        "api_version": api,
    }


def _gateway_objects(cfg, gateway, labels, api):
    objects = []
    template_spec = {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": "kubernetes.io/hostname", "operator": "In", "values": [n["name"] for n in cfg["nodes"]]}
                            ]
                        }
                    ]
                }
            }
        }
    }
    if gateway["node_selector"]:
        template_spec["nodeSelector"] = gateway["node_selector"]
    detection = {"healthTimeoutDataStoreSeconds": gateway["health_timeout_datastore_seconds"]}
    if gateway["icmp_probe_ips"]:
        detection["icmpProbe"] = {
            "ips": gateway["icmp_probe_ips"],
            "intervalSeconds": gateway["probe_interval_seconds"],
            "timeoutSeconds": gateway["probe_timeout_seconds"],
        }
    if gateway["http_probe_urls"]:
        detection["httpProbe"] = {
            "urls": gateway["http_probe_urls"],
            "intervalSeconds": gateway["probe_interval_seconds"],
            "timeoutSeconds": gateway["probe_timeout_seconds"],
        }
    spec = {
        "replicas": gateway["replicas"],
        "ipPools": [{"name": pool["name"]} for pool in cfg["egress_ip_pools"]],
        "logSeverity": gateway["log_severity"],
        "egressGatewayFailureDetection": detection,
        "template": {"metadata": {"labels": {EGW_LABEL: gateway["name"]}}, "spec": template_spec},
    }
    objects.append(
        {
            "apiVersion": OPERATOR_API_VERSION,
            "kind": "EgressGateway",
            "metadata": _metadata(gateway["name"], labels, gateway["namespace"]),
            "spec": spec,
        }
    )
    gateway_ref = {
        "selector": gateway_selector(gateway),
        "namespaceSelector": "projectcalico.org/name == '%s'" % gateway["namespace"],
    }
    annotations = {}
    if gateway["policy_destinations"]:
        rules = [{"destination": {"cidr": cidr}, "gateway": dict(gateway_ref)} for cidr in gateway["policy_destinations"]]
        objects.append(
            {
                "apiVersion": api,
                "kind": "EgressGatewayPolicy",
                "metadata": _metadata(gateway["name"], labels),
                "spec": {"rules": rules},
            }
        )
        annotations["egress.projectcalico.org/egressGatewayPolicy"] = gateway["name"]
    else:
        annotations["egress.projectcalico.org/selector"] = gateway_ref["selector"]
        annotations["egress.projectcalico.org/namespaceSelector"] = gateway_ref["namespaceSelector"]
    for namespace in gateway["namespaces"]:
        # Only the annotations are applied (server-side, under our field manager): the namespace stays the user's.
        objects.append(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "annotations": dict(annotations)}}
        )
    return objects


def calico_node_status(node, api_version=CALICO_API_VERSION, instance="default", prefix="tgw", period=5):
    """A CalicoNodeStatus asking calico-node on node to report its BGP sessions every period seconds."""
    labels = owner_labels(instance)
    return {
        "apiVersion": api_version,
        "kind": "CalicoNodeStatus",
        "metadata": _metadata("%s-status-%s" % (prefix, dns_label(node)), labels),
        "spec": {"node": node, "classes": ["BGP"], "updatePeriodSeconds": int(period)},
    }


def bgp_session_report(statuses, nodes):
    """Compare CalicoNodeStatus objects with the TGW peers every tunnel node must have Established.

    statuses: CalicoNodeStatus objects (any order); nodes: [{'name', 'tgw_addresses'}] (build_manifests()['nodes']).
    Returns {'established': bool, 'nodes': [{'node', 'established', 'peers': [{'peer_ip', 'state'}]}],
    'not_established': ['node-a 169.254.6.2: Active', ...]} ('NotReported' when calico-node has not said yet).
    """
    by_node = {}
    for status in statuses or []:
        by_node[(status.get("spec") or {}).get("node")] = status.get("status") or {}
    reports, problems = [], []
    for node in nodes or []:
        reported = {}
        for peer in ((by_node.get(node["name"]) or {}).get("bgp") or {}).get("peersV4") or []:
            reported[peer.get("peerIP")] = peer.get("state") or "Unknown"
        rows = [{"peer_ip": address, "state": reported.get(address, "NotReported")} for address in node["tgw_addresses"]]
        problems.extend(
            "%s %s: %s" % (node["name"], row["peer_ip"], row["state"]) for row in rows if row["state"] != "Established"
        )
        reports.append({"node": node["name"], "established": all(row["state"] == "Established" for row in rows), "peers": rows})
    return {"established": not problems, "nodes": reports, "not_established": problems}


def stale_objects(existing, desired_names):
    """Owned objects (from a label-selected list) whose names are no longer desired, sorted by name."""
    keep = set(desired_names)
    stale = []
    for obj in existing or []:
        meta = obj.get("metadata") or {}
        labels = meta.get("labels") or {}
        if labels.get(MANAGED_BY_LABEL) != MANAGED_BY:
            continue  # never touch what we do not own, even if the selector was too wide
        if meta.get("name") not in keep:
            stale.append(meta.get("name"))
    return sorted(stale)


def pod_pools(ippools):
    """From the cluster's IPPools, those this collection does not own: {'cidrs', 'encapsulation'}.

    encapsulation is the name (ENCAPSULATIONS key) of the first IPv4 pod pool's ipipMode/vxlanMode, None if none.
    """
    cidrs, encapsulation = [], None
    for pool in ippools or []:
        labels = (pool.get("metadata") or {}).get("labels") or {}
        spec = pool.get("spec") or {}
        if labels.get(MANAGED_BY_LABEL) == MANAGED_BY or not spec.get("cidr"):
            continue
        cidrs.append(spec["cidr"])
        if encapsulation is None and ":" not in spec["cidr"]:
            modes = (spec.get("ipipMode") or "Never", spec.get("vxlanMode") or "Never")
            encapsulation = next((name for name, value in ENCAPSULATIONS.items() if value == modes), "None")
    return {"cidrs": cidrs, "encapsulation": encapsulation}


def tunnel_node(host_vars):
    """One tunnel node from a host's variables: Kubernetes node name and its Connect peer fact."""
    host_vars = host_vars or {}
    name = host_vars.get("calico_node_name") or host_vars.get("inventory_hostname")
    return {"name": name, "peer": dict(host_vars.get("calico_egress_connect_peer") or {})}


def manifest_filename(index, obj):
    """Stable file name for render mode: order prefix, kind and name."""
    meta = obj.get("metadata") or {}
    parts = ["%02d" % index, obj["kind"].lower()]
    if meta.get("namespace"):
        parts.append(meta["namespace"])
    parts.append(meta.get("name", "unnamed"))
    return "-".join(parts) + ".yaml"


def field_managed(objects, manager):
    """Names of the objects in which field manager `manager` owns fields (server-side apply managedFields)."""
    names = []
    for obj in objects or []:
        meta = obj.get("metadata") or {}
        if any(entry.get("manager") == manager for entry in meta.get("managedFields") or []):
            names.append(meta.get("name"))
    return sorted(names)


def allocated_pools(ippools, pods):
    """Names of the pools (owned or not) in which a pod still has its IP: deleting them would strand the pod."""
    netaddr = connect_addressing.netaddr
    used = []
    addresses = [(pod.get("status") or {}).get("podIP") for pod in pods or []]
    addresses = [netaddr.IPAddress(ip) for ip in addresses if ip and (netaddr.valid_ipv4(ip) or netaddr.valid_ipv6(ip))]
    for pool in ippools or []:
        cidr = (pool.get("spec") or {}).get("cidr")
        if not cidr:
            continue
        network = netaddr.IPNetwork(cidr)
        if any(address in network for address in addresses):
            used.append((pool.get("metadata") or {}).get("name"))
    return sorted(used)
