"""playbooks/site.yml and verify.yml with the example inventory against the AWS and Kubernetes stand-ins.

The nodes stage (gre_tunnel) is skipped (`--skip-tags nodes`): the example's nodes are not reachable here and
this machine's kernel has no GRE (the role runs for real in tests/vm). The per-node facts still flow: the AWS
stage publishes each node's Connect peer and the cluster stage peers Calico with it. The flow probes run as
commands on localhost against a TCP service on loopback (the stand-ins have no data plane); the GRE link check
is left out for the same reason as the nodes stage.
"""

import shutil
import socket

import pytest
import yaml
from kube.kube_support import start

from .support import (
    EGRESS_POOL,
    EXAMPLE,
    NODES,
    ROOT,
    EchoService,
    bash_connect,
    build_aws_world,
    run_playbook,
    stand_in_vars,
    table,
)

SITE = ROOT + "/playbooks/site.yml"
VERIFY = ROOT + "/playbooks/verify.yml"
RECONCILE = ROOT + "/playbooks/reconcile_nodes.yml"
TEARDOWN = ROOT + "/playbooks/teardown.yml"
CHECKS = ["connect_peers", "firewall_route", "calico_bgp", "allowed_flow", "denied_flow"]


@pytest.fixture
def kube(tmp_path):
    instance = start(tmp_path, nodes=tuple(NODES.values()))
    yield instance
    instance.server.shutdown()
    instance.server.server_close()


@pytest.fixture
def service():
    echo = EchoService()
    yield echo
    echo.close()


def one_node_inventory(tmp_path, node):
    """The example inventory with only one of its tunnel nodes left (the others were scaled in)."""
    inventory = tmp_path / "inventory"
    shutil.copytree(EXAMPLE, str(inventory))
    hosts = yaml.safe_load((inventory / "hosts.yml").read_text())
    nodes = hosts["all"]["children"]["tunnel_nodes"]["hosts"]
    hosts["all"]["children"]["tunnel_nodes"]["hosts"] = {node: nodes[node]}
    (inventory / "hosts.yml").write_text(yaml.safe_dump(hosts))
    return str(inventory)


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def probe_vars(service, echoes_client=False):
    return {
        "verify_checks": CHECKS,
        "verify_probe": "command",
        "verify_service_address": "127.0.0.1",
        "verify_service_port": service.port,
        "verify_service_echoes_client": echoes_client,
        "verify_connect_timeout": 3,
        "verify_allowed_probe_host": "localhost",
        "verify_allowed_probe_command": bash_connect(service.port),
        "verify_denied_probe_host": "localhost",
        # Stands for the firewall's drop: nothing listens there.
        "verify_denied_probe_command": bash_connect(closed_port()),
    }


def connect_peers(world, cluster="demo"):
    peers = world["ec2"].describe_transit_gateway_connect_peers()["TransitGatewayConnectPeers"]
    return [
        p
        for p in peers
        if p["State"] not in ("deleting", "deleted") and {"Key": "calico_egress.aws/cluster", "Value": cluster} in p["Tags"]
    ]


def test_site_converges_is_idempotent_checks_cleanly_verifies_reconciles_and_tears_down(tmp_path, aws, kube, service):
    world = build_aws_world(aws)
    extra = stand_in_vars(aws, world, kube, **probe_vars(service))

    rc, recap, output = run_playbook(tmp_path, SITE, extra, "--skip-tags", "nodes,verify")
    assert rc == 0, output[-6000:]
    assert recap["localhost"]["changed"] > 0
    peers = connect_peers(world)
    assert sorted(t["Value"] for p in peers for t in p["Tags"] if t["Key"] == "calico_egress.aws/node") == sorted(NODES.values())
    assert sorted(p["spec"]["node"] for p in kube.objects("BGPPeer")) == sorted(list(NODES.values()) * 2)
    groups = world["nfw"].list_rule_groups()["RuleGroups"]
    assert "calico-egress" in [g["Name"] for g in groups]

    # What the TGW does once BIRD on the nodes peers with it: both sessions up, the egress pool advertised.
    for peer in peers:
        aws.set_bgp_status(peer["TransitGatewayConnectPeerId"], "up")
        aws.advertise(peer["TransitGatewayConnectPeerId"], [EGRESS_POOL])

    aws.reset_calls()
    kube.cluster.writes.clear()
    rc, recap, output = run_playbook(tmp_path, SITE, extra, "--skip-tags", "nodes")
    assert rc == 0, output[-6000:]
    assert recap["localhost"]["changed"] == 0, output[-6000:]
    assert aws.calls(mutating=True) == []
    # The only writes: the temporary CalicoNodeStatus objects of the calico status step and of verify.
    assert {kind for _verb, kind, _ns, _name in kube.cluster.writes} <= {"CalicoNodeStatus"}
    rows = table(output)
    assert all(result == "PASS" for result, _detail in rows.values()), output[-4000:]
    checks = {check for check, _target in rows}
    assert checks == {"connect_peer_bgp", "firewall_route", "calico_bgp", "allowed_flow", "denied_flow"}
    assert rows[("firewall_route", EGRESS_POOL)][1].startswith("propagated: %s via tgw-attach-" % EGRESS_POOL)
    assert "%d checks, %d passed, 0 failed" % (len(rows), len(rows)) in output

    aws.reset_calls()
    kube.cluster.writes.clear()
    rc, recap, output = run_playbook(tmp_path, SITE, extra, "--skip-tags", "nodes", "--check", "--diff")
    assert rc == 0, output[-6000:]
    assert recap["localhost"]["changed"] == 0, output[-6000:]
    assert aws.calls(mutating=True) == []
    assert kube.cluster.writes == []

    # reconcile_nodes.yml after node-b left the group: its peer and BGPPeers go, node-a keeps its own.
    inventory = one_node_inventory(tmp_path, "node-a")
    peer_a = [
        p["TransitGatewayConnectPeerId"]
        for p in connect_peers(world)
        if {"Key": "calico_egress.aws/node", "Value": NODES["node-a"]} in p["Tags"]
    ]
    rc, recap, output = run_playbook(tmp_path, RECONCILE, extra, "--skip-tags", "nodes", inventory=inventory)
    assert rc == 0, output[-6000:]
    assert [p["TransitGatewayConnectPeerId"] for p in connect_peers(world)] == peer_a
    assert sorted(p["spec"]["node"] for p in kube.objects("BGPPeer")) == [NODES["node-a"]] * 2

    # teardown.yml: --check removes nothing, then everything the collection owns goes and nothing else.
    kube.cluster.writes.clear()
    aws.reset_calls()
    rc, recap, output = run_playbook(tmp_path, TEARDOWN, extra, "--skip-tags", "nodes", "--check", inventory=inventory)
    assert rc == 0, output[-6000:]
    assert recap["localhost"]["changed"] > 0
    assert aws.calls(mutating=True) == [] and kube.cluster.writes == []

    rc, recap, output = run_playbook(tmp_path, TEARDOWN, extra, "--skip-tags", "nodes", inventory=inventory)
    assert rc == 0, output[-6000:]
    # The collection's BGPPeers, BGPFilter and EgressGateway are gone; the cluster's pod pool and the shared
    # BGPConfiguration/FelixConfiguration stay. The stand-in keeps the gateway pods (no garbage collector), so the
    # egress pool still holds their addresses: the role keeps it and says so.
    assert [kube.names(kind) for kind in ("BGPPeer", "BGPFilter", "EgressGateway")] == [[], [], []]
    assert kube.names("IPPool") == ["default-ipv4-ippool", "egress-gateway-pool"]
    assert "egress-gateway-pool" in output and "calico_delete_allocated_pools" in output
    assert kube.names("BGPConfiguration") == kube.names("FelixConfiguration") == ["default"]
    assert connect_peers(world) == []
    ec2, nfw = world["ec2"], world["nfw"]
    live = [
        c["TransitGatewayAttachmentId"]
        for c in ec2.describe_transit_gateway_connects()["TransitGatewayConnects"]
        if c["State"] not in ("deleting", "deleted")
    ]
    assert live == [world["foreign_connect"]]
    foreign_peer = ec2.describe_transit_gateway_connect_peers(TransitGatewayConnectPeerIds=[world["foreign_peer"]])
    assert foreign_peer["TransitGatewayConnectPeers"][0]["State"] == "available"
    assert [g["Name"] for g in nfw.list_rule_groups()["RuleGroups"]] == ["other-team"]
    routes = ec2.describe_route_tables(RouteTableIds=[world["table"]])["RouteTables"][0]["Routes"]
    assert not [r for r in routes if r.get("TransitGatewayId")]

    rc, recap, output = run_playbook(tmp_path, TEARDOWN, extra, "--skip-tags", "nodes", inventory=inventory)
    assert rc == 0 and recap["localhost"]["changed"] == 0, output[-6000:]


def test_verify_reports_each_failing_check_with_its_message(tmp_path, aws, kube, service):
    """Nothing was built: every check but the node's denied flow fails, each with what it means."""
    world = build_aws_world(aws, foreign=False)
    extra = stand_in_vars(aws, world, kube, **probe_vars(service, echoes_client=True))

    rc, _recap, output = run_playbook(tmp_path, VERIFY, extra)
    assert rc != 0
    rows = table(output)
    for node in NODES.values():
        assert rows[("connect_peer_bgp", node)] == ("FAIL", "no Connect peer for this node (run the tgw_connect role)")
    result, detail = rows[("firewall_route", EGRESS_POOL)]
    assert result == "FAIL" and "return traffic cannot reach the egress gateway" in detail
    # The Connect peers the AWS side would create (read in check mode) have no session in Calico: each is named.
    for node in NODES.values():
        result, detail = rows[("calico_bgp", node)]
        assert result == "FAIL" and detail.startswith(node + " 169.254.") and detail.endswith(": NotReported")
    # The service saw the loopback address, not an egress gateway IP: the flow did not use the gateway.
    target = "localhost -> 127.0.0.1:%d" % service.port
    assert rows[("allowed_flow", target)] == ("FAIL", "service saw 127.0.0.1 (NOT inside the egress gateway pool)")
    assert rows[("denied_flow", target)] == ("PASS", "timed out as expected")
    assert "9 checks, 1 passed, 8 failed" in output
    assert "connect_peer_bgp, firewall_route, calico_bgp, allowed_flow failed (see the table)" in output
    assert aws.calls(mutating=True) == []
    assert {kind for _verb, kind, _ns, _name in kube.cluster.writes} <= {"CalicoNodeStatus"}
