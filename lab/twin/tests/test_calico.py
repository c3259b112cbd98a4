"""The Calico twin's pure parts (rendering, selection, planning, parsing) and its agent loop against a fake node.

Inputs are the objects the calico role writes: build_manifests() (plugins/module_utils/calico_manifests.py) applied
to the Kubernetes stand-in, which also schedules the EgressGateway pods. BIRD configs are checked with the real
BIRD 1.6 parser (`bird -p`); make vm-deps installs bird on the host, and without it those tests fail and say so.
"""

import copy
import json
import os
import re
import shlex
import shutil
import subprocess
import types

import pytest
import yaml

from ansible_collections.calico_egress.aws.plugins.module_utils import calico_manifests
from lab.kube.server import APPLY_TYPE, Cluster
from lab.twin import calico

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
NODES = {"node-a": "10.0.1.10", "node-b": "10.0.1.11"}
PEERS = {
    "node-a": ("169.254.6.0/29", ["169.254.6.2", "169.254.6.3"]),
    "node-b": ("169.254.7.0/29", ["169.254.7.2", "169.254.7.3"]),
}
BIRD = shutil.which("bird") or (os.path.exists("/usr/sbin/bird") and "/usr/sbin/bird")


def example_config(**overrides):
    """The role's input from the example inventory (inventories/example/group_vars/all/calico.yml), lab nodes."""
    with open(os.path.join(ROOT, "inventories", "example", "group_vars", "all", "calico.yml")) as handle:
        variables = yaml.safe_load(handle)
    config = {key[len("calico_") :]: value for key, value in variables.items() if key.startswith("calico_")}
    config.update(variant="enterprise", egress_pool_encapsulation="VXLANCrossSubnet")
    config["egress_gateway"] = {
        "name": config["egress_gateway_name"],
        "namespace": config["egress_gateway_namespace"],
        "replicas": config["egress_gateway_replicas"],
        "namespaces": config["egress_gateway_namespaces"],
        "policy_destinations": config["egress_gateway_policy_destinations"],
    }
    config["tunnel_nodes"] = [
        {"name": name, "peer": {"inside_cidr": cidr, "tgw_inside_addresses": addresses, "tgw_asn": 64513, "peer_asn": 64512}}
        for name, (cidr, addresses) in PEERS.items()
    ]
    config.update(overrides)
    return config


def resource_for(cluster, obj):
    return next(r for r in cluster.resources.values() if r.group_version == obj["apiVersion"] and r.kind == obj["kind"])


def apply(cluster, obj):
    """Server-side apply as the role does (namespaces are created first: the role only annotates them)."""
    meta = obj["metadata"]
    if obj["kind"] == "Namespace" and ("v1", "namespaces", None, meta["name"]) not in cluster.objects:
        cluster.create(resource_for(cluster, obj), None, {"metadata": {"name": meta["name"]}})
    cluster.patch(resource_for(cluster, obj), meta.get("namespace"), meta["name"], obj, APPLY_TYPE, manager="calico-egress-aws")


def role_cluster(extra=(), **overrides):
    cluster = Cluster(nodes=tuple(NODES))
    for obj in calico_manifests.build_manifests(example_config(**overrides))["objects"]:
        apply(cluster, obj)
    for obj in extra:
        apply(cluster, obj)
    return cluster


def objects_of(**overrides):
    return calico.snapshot(role_cluster(**overrides))


def peer_block(config, name):
    match = re.search(r"^protocol bgp %s from bgp_template \{\n(.*?)^\}" % name, config, re.S | re.M)
    assert match, "no protocol %s in:\n%s" % (name, config)
    return [line.strip() for line in match.group(1).splitlines()]


def bird_parse(tmp_path, config):
    if not BIRD:
        pytest.fail("bird is not installed on this host (tools/apt-install.sh bird): BIRD's own parser did not run")
    path = tmp_path / "bird.cfg"
    path.write_text(config)
    return subprocess.run([BIRD, "-p", "-c", str(path)], capture_output=True, text=True, check=False)


def bgp_peer(name, **spec):
    return {"apiVersion": "projectcalico.org/v3", "kind": "BGPPeer", "metadata": {"name": name}, "spec": spec}


def with_objects(objects, *extra):
    objects = copy.deepcopy(objects)
    for obj in extra:
        plural = {"BGPPeer": "bgppeers", "BGPFilter": "bgpfilters", "IPPool": "ippools", "BGPConfiguration": "bgpconfigurations"}[
            obj["kind"]
        ]
        objects[plural] = [o for o in objects[plural] if o["metadata"]["name"] != obj["metadata"]["name"]] + [obj]
    return objects


# ---- the example inventory, end to end through the role's objects ---------------------------------------
def test_example_inventory_renders_what_calico_renders_for_tgw_peers(tmp_path):
    desired = calico.desired_node_state("node-a", NODES, objects_of())
    config = desired["bird"]
    assert "local as 64512;" in config
    for address in PEERS["node-a"][1]:
        lines = peer_block(config, "Node_" + address.replace(".", "_"))
        assert "neighbor %s as 64513;" % address in lines
        assert lines[:2] == ["ttl security off;", "multihop;"], "every peer multihop, as OSS since v3.25"
        assert "next hop keep;" in lines, "keepOriginalNextHop on an eBGP peer"
        assert not [line for line in lines if line.startswith("source address")], "sourceAddress None: no source address"
        assert "'bgp_tgw-egress-only_importFilterV4'();" in lines and "'bgp_tgw-egress-only_exportFilterV4'();" in lines
        assert lines.index("'bgp_tgw-egress-only_exportFilterV4'();") < lines.index("calico_export_to_bgp_peers(false);")
    # node-b's peers are not node-a's
    assert "169.254.7.2" not in config
    # The export filter accepts only prefixes inside the egress pool, the import filter nothing.
    assert (
        "function 'bgp_tgw-egress-only_exportFilterV4'() {\n  if ((net ~ 10.10.10.0/31)) then { accept; }\n  reject;\n}" in config
    )
    assert "function 'bgp_tgw-egress-only_importFilterV4'() {\n  reject;\n}" in config
    # The gateway pod's block (blockSize 31) is this node's: blackhole + aggregation, as bird_aggr.cfg renders it.
    assert "route 10.10.10.0/31 blackhole;" in config
    assert "if ( net = 10.10.10.0/31 ) then { accept; }" in config
    # Node-to-node mesh as iBGP from the node IP; the higher address waits (passive).
    mesh = peer_block(config, "Mesh_10_0_1_11")
    assert mesh[:2] == [
        "neighbor 10.0.1.11 as 64512;",
        "source address 10.0.1.10;  # The local address we use for the TCP connection",
    ]
    assert "passive on; # Mesh is unidirectional, peer will connect to us." in mesh
    assert "passive on;" not in " ".join(
        peer_block(calico.desired_node_state("node-b", NODES, objects_of())["bird"], "Mesh_10_0_1_10")
    )
    assert desired["peers"] == {
        "Mesh_10_0_1_11": {"peerIP": "10.0.1.11", "type": "NodeMesh"},
        "Node_169_254_6_2": {"peerIP": "169.254.6.2", "type": "NodePeer"},
        "Node_169_254_6_3": {"peerIP": "169.254.6.3", "type": "NodePeer"},
    }
    # Lab timers, not Calico's 2/5/5,30 (sessions must come up within seconds under TCG).
    assert "connect retry time 2;" in config and "error wait time 1,5;" in config
    result = bird_parse(tmp_path, config)
    assert result.returncode == 0, result.stderr


def test_bird_parser_check_can_fail(tmp_path):
    """The parse check above is real: BIRD refuses a config with a broken peer."""
    config = calico.desired_node_state("node-a", NODES, objects_of())["bird"].replace("next hop keep;", "next hop kept;", 1)
    result = bird_parse(tmp_path, config)
    assert result.returncode != 0 and "syntax error" in result.stderr


def test_every_field_variant_parses_in_bird(tmp_path):
    objects = with_objects(
        objects_of(),
        bgp_peer("global-rr", peerIP="10.0.1.99:1790", asNumber=64512, keepOriginalNextHop=True, maxRestartTime="2m0s"),
        bgp_peer(
            "ttl",
            nodeSelector="kubernetes.io/hostname == 'node-a'",
            peerIP="192.0.2.1",
            asNumber=65010,
            ttlSecurity=2,
            sourceAddress="UseNodeIP",
            nextHopMode="Self",
            localASNumber=65001,
            numAllowedLocalASNumbers=1,
            reachableBy="10.0.1.1",
            filters=["all-ops", "missing-filter"],
        ),
        {
            "apiVersion": "projectcalico.org/v3",
            "kind": "BGPFilter",
            "metadata": {"name": "all-ops"},
            "spec": {
                "exportV4": [
                    {"action": "Accept", "matchOperator": "Equal", "cidr": "10.10.10.0/31"},
                    {"action": "Reject", "matchOperator": "NotEqual", "cidr": "10.0.0.0/8", "source": "RemotePeers"},
                    {"action": "Accept", "matchOperator": "NotIn", "cidr": "172.16.0.0/12", "interface": "eth*"},
                    {"action": "Accept", "matchOperator": "In", "cidr": "10.20.0.0/16", "prefixLength": {"min": 24, "max": 28}},
                ],
                "importV4": [{"action": "Accept", "matchOperator": "In", "cidr": "10.2.0.0/16"}],
            },
        },
        {
            "apiVersion": "projectcalico.org/v3",
            "kind": "BGPConfiguration",
            "metadata": {"name": "default"},
            "spec": {"asNumber": 64512, "nodeToNodeMeshEnabled": True, "bindMode": "NodeIP", "listenPort": 1790},
        },
    )
    config = calico.desired_node_state("node-a", NODES, objects)["bird"]
    assert "listen bgp address 10.0.1.10 port 1790;" in config
    assert "neighbor 10.0.1.11 port 1790 as 64512;" in peer_block(config, "Mesh_10_0_1_11")
    rr = peer_block(config, "Global_10_0_1_99_port_1790")
    assert "neighbor 10.0.1.99 port 1790 as 64512;" in rr
    assert "next hop keep;" not in rr, "keepOriginalNextHop is ignored on an iBGP peer"
    assert "graceful restart time 120;" in rr
    assert "calico_export_to_bgp_peers(true);" in rr
    assert "source address 10.0.1.10;  # The local address we use for the TCP connection" in rr, "UseNodeIP is the default"
    ttl = peer_block(config, "Node_192_0_2_1")
    assert ttl[:3] == ["ttl security on;", "multihop 2;", "local as 65001;"]
    assert "source address 10.0.1.10;  # The local address we use for the TCP connection" in ttl
    assert "next hop self;" in ttl and "allow local as 1;" in ttl
    assert "'bgp_all-ops_exportFilterV4'();" in ttl and "missing-filter" not in config
    assert "route 192.0.2.1/32 via 10.0.1.1;" in config
    assert "if ((net = 10.10.10.0/31)) then { accept; }" in config
    assert "if ((net != 10.0.0.0/8)&&((defined(source))&&(source ~ [ RTS_BGP ]))) then { reject; }" in config
    assert 'if ((net !~ 172.16.0.0/12)&&((defined(ifname))&&(ifname ~ "eth*"))) then { accept; }' in config
    assert "if ((net ~ [ 10.20.0.0/16{24,28} ])) then { accept; }" in config
    # node-b: the nodeSelector peer does not apply
    assert "192.0.2.1" not in calico.desired_node_state("node-b", NODES, objects)["bird"].split("BGP Filters", maxsplit=1)[0]
    assert "Node_192_0_2_1" not in calico.desired_node_state("node-b", NODES, objects)["bird"]
    result = bird_parse(tmp_path, config)
    assert result.returncode == 0, result.stderr


def test_mesh_off_disabled_pool_and_next_hop_mode(tmp_path):
    objects = objects_of(bgp_node_to_node_mesh=False, bgp_next_hop_field="nextHopMode")
    pool = {
        "apiVersion": "projectcalico.org/v3",
        "kind": "IPPool",
        "metadata": {"name": "hidden"},
        "spec": {"cidr": "10.30.0.0/24", "blockSize": 28, "disableBGPExport": True, "ipipMode": "Never", "vxlanMode": "Never"},
    }
    config = calico.desired_node_state("node-a", NODES, with_objects(objects, pool))["bird"]
    assert "# Node-to-node mesh disabled" in config and "Mesh_" not in config
    assert "next hop keep;" in peer_block(config, "Node_169_254_6_2"), "nextHopMode Keep"
    assert "function reject_disabled_pools ()\n{\n  if ( net ~ 10.30.0.0/24 ) then { reject; }\n}" in config
    assert "# Skip 10.30.0.0/24 as BGP export is disabled for it" in config
    # A pool without encapsulation is programmed by BIRD (accept), a VXLAN one by Felix (reject).
    kernel = config.split("filter calico_kernel_programming {")[1].split("\n}")[0]
    assert "if ( net ~ 10.30.0.0/24 ) then {\n    accept;" in kernel
    assert "if ( net ~ 10.10.10.0/31 ) then {\n    # VXLAN routes are handled by Felix.\n    reject;" in kernel
    result = bird_parse(tmp_path, config)
    assert result.returncode == 0, result.stderr


def test_refusals_name_the_object():
    objects = objects_of()
    both = bgp_peer("both", node="node-a", peerIP="192.0.2.9", asNumber=65000, keepOriginalNextHop=True, nextHopMode="Keep")
    with pytest.raises(calico.TwinError, match="BGPPeer both: keepOriginalNextHop and nextHopMode"):
        calico.desired_node_state("node-a", NODES, with_objects(objects, both))
    selector = bgp_peer("rr", peerSelector="has(rr)", asNumber=64512)
    with pytest.raises(calico.TwinError, match="BGPPeer rr: peerSelector"):
        calico.desired_node_state("node-a", NODES, with_objects(objects, selector))
    with pytest.raises(calico.TwinError, match=r"BGPFilter f exportV4\[0\]: action 'Drop'"):
        calico.filter_functions([{"metadata": {"name": "f"}, "spec": {"exportV4": [{"action": "Drop"}]}}])
    with pytest.raises(calico.TwinError, match="communities not reproduced"):
        calico.filter_statement({"action": "Accept", "communities": {"values": ["1:2"]}}, "f")
    with pytest.raises(calico.TwinError, match=r"the twin understands only"):
        calico.selector_matches("a == 'x' || b == 'y'", {})


# ---- small pure pieces ------------------------------------------------------------------------------------
def test_bird_symbol_truncates_long_filter_names_as_confd():
    assert calico.bird_symbol("tgw-egress-only", "export") == "'bgp_tgw-egress-only_exportFilterV4'"
    long_name = "x" * 60
    symbol = calico.bird_symbol(long_name, "import")
    assert len(symbol) == 64 + 2 and symbol.startswith("'bgp_" + "x" * 28 + "_") and symbol.endswith("_importFilterV4'")
    assert calico.bird_symbol(long_name, "import") != calico.bird_symbol(long_name + "y", "import")


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("all()", {}, True),
        ("!all()", {"a": "b"}, False),
        ("has(a)", {"a": "1"}, True),
        ("!has(a)", {"a": "1"}, False),
        ("projectcalico.org/egw == 'egress-gateway'", {"projectcalico.org/egw": "egress-gateway"}, True),
        ("projectcalico.org/egw == 'egress-gateway'", {"projectcalico.org/egw": "other"}, False),
        ("a != 'x'", {}, True),
        ("a != 'x'", {"a": "x"}, False),
        ("a in {'x', 'y'} && b not in {'z'}", {"a": "y", "b": "q"}, True),
        ("a in {'x', 'y'} && b not in {'z'}", {"a": "y", "b": "z"}, False),
        ('kubernetes.io/hostname == "node-a"', {"kubernetes.io/hostname": "node-a"}, True),
    ],
)
def test_selector_matches(selector, labels, expected):
    assert calico.selector_matches(selector, labels) is expected


def test_blocks_and_peer_ip_and_durations():
    pool = {"spec": {"cidr": "10.10.10.0/29", "blockSize": 31}}
    assert str(calico.block_of("10.10.10.3", pool)) == "10.10.10.2/31"
    assert str(calico.block_of("192.168.3.7", {"spec": {"cidr": "192.168.0.0/16"}})) == "192.168.3.0/26", "blockSize default 26"
    assert calico.parse_peer_ip("169.254.6.2") == ("169.254.6.2", None)
    assert calico.parse_peer_ip("10.0.0.1:1790") == ("10.0.0.1", 1790)
    assert calico.duration_seconds("1h2m3s") == 3723 and calico.duration_seconds(None) is None
    with pytest.raises(calico.TwinError):
        calico.duration_seconds("soon")


def test_peers_for_node_global_first_and_no_duplicates():
    peers = [
        bgp_peer("n", node="node-a", peerIP="192.0.2.1", asNumber=65000),
        bgp_peer("g", peerIP="192.0.2.1", asNumber=65000),
        bgp_peer("other", node="node-b", peerIP="192.0.2.2", asNumber=65000),
        bgp_peer("sel", nodeSelector="zone == 'a'", peerIP="192.0.2.3", asNumber=65000),
    ]
    chosen = calico.peers_for_node("node-a", {"zone": "a"}, peers)
    assert [(prefix, p["metadata"]["name"]) for prefix, p in chosen] == [("Global", "g"), ("Node", "sel")]


# ---- gateways, clients, steering --------------------------------------------------------------------------
def test_gateway_and_client_namespaces_on_the_gateway_node_only():
    objects = objects_of()
    state_a = calico.desired_node_state("node-a", NODES, objects)
    state_b = calico.desired_node_state("node-b", NODES, objects)
    gateway = state_a["specs"]["egw-egress-gateway-0"]
    assert gateway["ip"] == "10.10.10.0" and re.match(r"^cali[0-9a-f]{11}$", gateway["host_if"])
    client = state_a["specs"]["client-app"]
    assert client["ip"] == "192.168.0.1", "node-a owns the first /26 block of the default pool"
    assert client["routes"] == [{"dst": "default", "via": "10.10.10.0", "dev": gateway["host_if"]}]
    assert client["table"] == calico.TABLE_BASE
    # node-b hosts no gateway: no client there; it reaches the VXLAN egress block straight via node-a (Felix's route).
    assert state_b["specs"] == {"routes": {"kind": "routes", "routes": [{"dst": "10.10.10.0/31", "via": "10.0.1.10"}]}}
    assert "route 10.10.10.0/31 blackhole;" not in state_b["bird"]


def test_two_replicas_spread_over_both_nodes():
    objects = objects_of(egress_gateway=dict(example_config()["egress_gateway"], replicas=2))
    state_b = calico.desired_node_state("node-b", NODES, objects)
    assert state_b["specs"]["egw-egress-gateway-1"]["ip"] == "10.10.10.1"
    assert state_b["specs"]["client-app"]["ip"] == "192.168.0.65", "node-b's block of the default pool"
    # Both gateways live in the single /31 block; the first pod's node claims it (the stand-in has no IPAM split).
    assert "route 10.10.10.0/31 blackhole;" in calico.desired_node_state("node-a", NODES, objects)["bird"]


def test_policy_rules_throw_and_unreachable():
    objects = objects_of(egress_gateway=dict(example_config()["egress_gateway"], policy_destinations=["10.2.0.0/16"]))
    policy = next(p for p in objects["egressgatewaypolicies"] if p["metadata"]["name"] == "egress-gateway")
    policy["spec"]["rules"].append({"destination": {"cidr": "10.3.0.0/16"}})
    policy["spec"]["rules"].append({"destination": {"cidr": "10.4.0.0/16"}, "gateway": {"selector": "nothing == 'here'"}})
    routes = calico.desired_node_state("node-a", NODES, objects)["specs"]["client-app"]["routes"]
    assert routes[0]["dst"] == "10.2.0.0/16" and routes[0]["via"] == "10.10.10.0"
    assert routes[1:] == [{"dst": "10.3.0.0/16", "type": "throw"}, {"dst": "10.4.0.0/16", "type": "unreachable"}]


def test_create_commands_build_calico_like_pods():
    objects = objects_of()
    specs = calico.desired_node_state("node-a", NODES, objects)["specs"]
    egw = "\n".join(calico.create_commands("egw-egress-gateway-0", specs["egw-egress-gateway-0"]))
    dev = specs["egw-egress-gateway-0"]["host_if"]
    assert "ip link add %s type veth peer name eth0 netns egw-egress-gateway-0" % dev in egw
    assert "ip -n egw-egress-gateway-0 route add default via 169.254.1.1 dev eth0" in egw
    assert "ip route replace 10.10.10.0/32 dev %s scope link proto 80" % dev in egw
    assert "masquerade" in egw and "ip saddr != 10.10.10.0" in egw
    client = "\n".join(calico.create_commands("client-app", specs["client-app"]))
    assert "ip route replace default via 10.10.10.0 dev %s onlink table 200 proto 80" % dev in client
    assert "ip rule add pref 105 from 192.168.0.1 lookup 200" in client
    delete = "\n".join(calico.delete_commands("client-app", specs["client-app"]))
    assert "ip rule del pref 105 from 192.168.0.1 lookup 200" in delete and "ip netns del client-app" in delete


# ---- planning ------------------------------------------------------------------------------------------
def observed(state=None, netns=(), running=False, protocols=None):
    return {"state": state or {}, "netns": set(netns), "bird_running": running, "protocols": protocols or {}}


def test_plan_first_run_then_nothing_then_changes():
    desired = calico.desired_node_state("node-a", NODES, objects_of())
    first = calico.plan_node(desired, observed())
    assert first["bird"] == "start"
    text = "\n".join(first["commands"])
    assert "ip netns add egw-egress-gateway-0" in text and "ip netns add client-app" in text
    applied = dict(desired["specs"], bird={"sha256": calico.bird_hash(desired["bird"])})
    steady = calico.plan_node(desired, observed(applied, ["egw-egress-gateway-0", "client-app"], True))
    assert steady == {"commands": [], "bird": None, "bird_sha256": calico.bird_hash(desired["bird"])}
    # the client netns vanished: only it is recreated
    lost = calico.plan_node(desired, observed(applied, ["egw-egress-gateway-0"], True))
    assert "ip netns add client-app" in "\n".join(lost["commands"]) and "ip netns add egw-" not in "\n".join(lost["commands"])
    # a stale gateway is removed, the config changed -> configure
    stale = dict(applied, **{"egw-old": {"kind": "egw", "netns": "egw-old", "ip": "10.10.10.1", "host_if": "cali00000000000"}})
    stale["bird"] = {"sha256": "0" * 64}
    plan = calico.plan_node(desired, observed(stale, ["egw-egress-gateway-0", "client-app", "egw-old"], True))
    assert "ip netns del egw-old 2>/dev/null || true" in plan["commands"] and plan["bird"] == "configure"


def test_bird_commands_validate_before_loading():
    start = calico.bird_commands("start", "ab")
    assert start.index("bird -p -c %s" % calico.BIRD_CFG) < next(i for i, c in enumerate(start) if "-P " + calico.BIRD_PID in c)
    assert any("configure" in c for c in calico.bird_commands("configure", "ab"))


# ---- BIRD status ------------------------------------------------------------------------------------------
SHOW_PROTOCOLS = """BIRD 1.6.8 ready.
name     proto    table    state  since       info
static1  Static   master   up     23:20:01
kernel1  Kernel   master   up     23:20:01
device1  Device   master   up     23:20:01
direct1  Direct   master   up     23:20:01
Mesh_10_0_1_11 BGP      master   start  23:20:01    Active        Socket: Connection refused
Node_169_254_6_2 BGP      master   up     23:20:05    Established
Node_169_254_6_3 BGP      master   start  23:20:01    Connect
"""


def test_session_states_from_birdc():
    peers = calico.desired_node_state("node-a", NODES, objects_of())["peers"]
    protocols = calico.parse_protocols(SHOW_PROTOCOLS)
    assert protocols["Node_169_254_6_2"] == {"proto": "BGP", "state": "up", "since": "23:20:05", "info": "Established"}
    assert calico.session_states(protocols, peers) == [
        {"peerIP": "10.0.1.11", "type": "NodeMesh", "state": "Active", "since": "23:20:01"},
        {"peerIP": "169.254.6.2", "type": "NodePeer", "state": "Established", "since": "23:20:05"},
        {"peerIP": "169.254.6.3", "type": "NodePeer", "state": "Connect", "since": "23:20:01"},
    ]
    text = '@@netns\nclient-app\n@@state\nbird {"sha256":"x"}\n@@bird\nrunning\n%s@@end\n' % SHOW_PROTOCOLS
    parsed = calico.parse_observation(text)
    assert parsed["netns"] == {"client-app"} and parsed["state"] == {"bird": {"sha256": "x"}} and parsed["bird_running"]
    with pytest.raises(calico.TwinError, match="incomplete"):
        calico.parse_observation("@@netns\n")


# ---- the agent against a fake node -------------------------------------------------------------------------
class FakeNode(object):
    """Keeps the little state OBSERVE reports (netns, state files, BIRD) by interpreting the twin's commands."""

    def __init__(self, protocols=SHOW_PROTOCOLS):
        self.netns, self.state, self.running, self.files = set(), {}, False, {}
        self.protocols = protocols
        self.commands = []

    def ssh(self, command, check=True, timeout=180, stdin=None):
        if command == calico.OBSERVE:
            lines = ["@@netns", *sorted(self.netns), "@@state"]
            lines += ["%s %s" % (k, json.dumps(v)) for k, v in sorted(self.state.items())]
            lines += ["@@bird"] + (["running", self.protocols] if self.running else []) + ["@@end"]
            return types.SimpleNamespace(stdout="\n".join(lines) + "\n", returncode=0)
        self.commands.append(command)
        for line in command.splitlines():
            words = shlex.split(line.split(" 2>/dev/null")[0]) if line.strip() else []
            if words[:3] == ["ip", "netns", "add"]:
                self.netns.add(words[3])
            elif words[:3] == ["ip", "netns", "del"]:
                self.netns.discard(words[3])
            elif words[:1] == ["printf"] and ">" in words:
                self.state[os.path.basename(words[-1])[: -len(".json")]] = json.loads(words[2])
            elif words[:2] == ["rm", "-f"] and words[2].startswith(calico.STATE_DIR):
                self.state.pop(os.path.basename(words[2])[: -len(".json")], None)
            elif words[:2] == ["rm", "-rf"]:
                self.state, self.running = {}, False
            elif "-P" in words and words[0] == "rm":
                self.running = True
        return types.SimpleNamespace(stdout="", returncode=0)

    def put(self, path, text, mode="0644"):
        self.files[path] = text


def test_twin_reconciles_once_then_only_observes_and_reports_status_to_the_stand_in():
    cluster = role_cluster()
    hosts = {name: FakeNode() for name in NODES}
    twin = calico.CalicoTwin(cluster, {name: (hosts[name], NODES[name]) for name in NODES}, log=lambda _m: None)
    status_resource = next(r for r in cluster.resources.values() if r.kind == "CalicoNodeStatus")
    status = calico_manifests.calico_node_status("node-a")
    cluster.create(status_resource, None, status)
    assert twin.reconcile() == {"node-a": "changed", "node-b": "changed"}
    assert "protocol bgp Node_169_254_6_2" in hosts["node-a"].files[calico.BIRD_CFG]
    assert hosts["node-a"].netns == {"egw-egress-gateway-0", "client-app"}
    assert twin.reconcile() == {"node-a": "unchanged", "node-b": "unchanged"}
    before = len(hosts["node-a"].commands)
    assert twin.reconcile()["node-a"] == "unchanged" and len(hosts["node-a"].commands) == before, "no mutating command"
    cluster.get(status_resource, None, status["metadata"]["name"])  # first read: calico-node has not reported yet
    peers = cluster.get(status_resource, None, status["metadata"]["name"])["status"]["bgp"]["peersV4"]
    assert {p["peerIP"]: p["state"] for p in peers} == {
        "10.0.1.11": "Active",
        "169.254.6.2": "Established",
        "169.254.6.3": "Connect",
    }
    report = calico_manifests.bgp_session_report(
        [cluster.get(status_resource, None, status["metadata"]["name"])],
        [{"name": "node-a", "tgw_addresses": PEERS["node-a"][1]}],
    )
    assert report["not_established"] == ["node-a 169.254.6.3: Connect"]
    # the gateway goes away -> its netns and the client's are deleted, BIRD reconfigured
    egw = next(r for r in cluster.resources.values() if r.kind == "EgressGateway")
    cluster.delete(egw, "default", "egress-gateway")
    for key in [k for k in cluster.objects if k[1] == "pods" and k[3].startswith("egress-gateway")]:
        cluster.objects.pop(key)
    assert twin.reconcile()["node-a"] == "changed"
    assert hosts["node-a"].netns == set() and "ip netns del client-app 2>/dev/null || true" in hosts["node-a"].commands[-2]
    twin.close()
    assert cluster.session_reporter is None
    assert hosts["node-a"].state == {} and not hosts["node-a"].running
    assert "ip route flush proto bird 2>/dev/null || true" in hosts["node-a"].commands[-1]


def test_a_failing_node_does_not_stop_the_others():
    cluster = role_cluster()

    class Broken(FakeNode):
        def ssh(self, command, check=True, timeout=180, stdin=None):
            raise RuntimeError("ssh: connect to host refused")

    messages = []
    good = FakeNode()
    twin = calico.CalicoTwin(
        cluster, {"node-a": (Broken(), NODES["node-a"]), "node-b": (good, NODES["node-b"])}, log=messages.append
    )
    result = twin.reconcile()
    assert result["node-a"].startswith("error: ssh: connect") and result["node-b"] == "changed"
    twin.reconcile()
    assert messages.count("calico twin: node node-a: ssh: connect to host refused") == 1, "reported once, not every 2 s"
    assert twin.sessions("node-a") is None and twin.sessions("node-b") is not None


def test_stand_in_without_reporter_keeps_its_own_sessions():
    cluster = role_cluster()
    resource = next(r for r in cluster.resources.values() if r.kind == "CalicoNodeStatus")
    status = calico_manifests.calico_node_status("node-b")
    cluster.create(resource, None, status)
    cluster.get(resource, None, status["metadata"]["name"])
    peers = cluster.get(resource, None, status["metadata"]["name"])["status"]["bgp"]["peersV4"]
    assert sorted(p["peerIP"] for p in peers) == PEERS["node-b"][1] and {p["state"] for p in peers} == {"Established"}
    cluster.session_reporter = lambda node: None
    cluster.get(resource, None, status["metadata"]["name"])
    assert cluster.get(resource, None, status["metadata"]["name"])["status"] == {}, "None = not reported yet"
