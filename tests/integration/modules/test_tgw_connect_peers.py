"""tgw_connect_peers (and the single-object Connect modules) against the AWS stand-in, amazon.aws style:
check mode (no write in the call log) -> create -> idempotency -> update/replace -> node removed -> delete,
with another cluster's peers on the same transit gateway untouched throughout."""

import math

import netaddr
import pytest

from ansible_collections.calico_egress.aws.plugins.module_utils.connect_planning import CLUSTER_TAG
from ansible_collections.calico_egress.aws.plugins.modules import (
    security_group_ingress_rule,
    tgw_attachment_routing,
    tgw_cidr_block,
    tgw_connect,
    tgw_connect_peer,
    tgw_connect_peer_info,
    tgw_connect_peers,
    tgw_route_info,
    tgw_vpc_route,
)
from tests.support.modules import run_module

TGW_ASN = 64513
TGW_CIDR = "10.99.0.0/22"  # one TGW GRE address per peer: a /24 serves 254 peers, the 256-node case needs more


class Lab:
    """A transit gateway with a CIDR block and the cluster VPC's attachment, made with plain boto3."""

    def __init__(self, aws):
        self.aws = aws
        ec2 = aws.client("ec2")
        self.vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=self.vpc_id, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        self.tgw_id = ec2.create_transit_gateway(Options={"AmazonSideAsn": TGW_ASN})["TransitGateway"]["TransitGatewayId"]
        transport = ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=self.tgw_id, VpcId=self.vpc_id, SubnetIds=[subnet])
        self.transport_id = transport["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
        tables = [ec2.create_transit_gateway_route_table(TransitGatewayId=self.tgw_id) for _table in range(2)]
        self.inspection_rt, self.firewall_rt = (t["TransitGatewayRouteTable"]["TransitGatewayRouteTableId"] for t in tables)
        self.ec2 = ec2
        # The set-up is the test's, not the collection's: keep it out of the IAM policy check (conftest).
        aws.admin("POST", "calls/reset", {})

    def args(self, cluster, nodes, **extra):
        args = dict(
            self.aws.module_args(),
            cluster=cluster,
            nodes=nodes,
            transit_gateway_id=self.tgw_id,
            transport_attachment_id=self.transport_id,
            peer_asn=64512,
            wait_timeout=60,
        )
        args.update(extra)
        return args

    def peers(self, cluster=None):
        """Live peers as AWS describes them (optionally one cluster's)."""
        peers = self.ec2.describe_transit_gateway_connect_peers()["TransitGatewayConnectPeers"]
        peers = [p for p in peers if p["State"] not in ("deleting", "deleted")]
        if cluster:
            peers = [p for p in peers if {"Key": CLUSTER_TAG, "Value": cluster} in p.get("Tags", [])]
        return sorted(peers, key=lambda p: p["TransitGatewayConnectPeerId"])

    def connects(self):
        connects = self.ec2.describe_transit_gateway_connects()["TransitGatewayConnects"]
        return [c for c in connects if c["State"] not in ("deleting", "deleted")]

    def writes(self):
        return [c["action"] for c in self.aws.calls(mutating=True)]


def nodes(count, base=10, subnet="10.0.1"):
    """count nodes with distinct IPv4 addresses (spilling into the next /24 past .250)."""
    prefix, third = subnet.rsplit(".", 1)
    return [
        {
            "name": "node-%03d" % i if count > 99 else "node-%02d" % i,
            "address": "%s.%d.%d" % (prefix, int(third) + (base + i) // 250, (base + i) % 250),
        }
        for i in range(count)
    ]


@pytest.fixture
def lab(aws):
    lab = Lab(aws)
    result = run_module(tgw_cidr_block, dict(aws.module_args(), transit_gateway_id=lab.tgw_id, cidr_block=TGW_CIDR))
    assert result["changed"] and result["transit_gateway_cidr_blocks"] == [TGW_CIDR]
    return lab


# --- tgw_vpc_route -----------------------------------------------------------------------------


def test_vpc_route_flow_touches_only_its_route(aws):
    lab = Lab(aws)
    table = lab.ec2.create_route_table(VpcId=lab.vpc_id)["RouteTable"]["RouteTableId"]
    lab.ec2.create_route(RouteTableId=table, DestinationCidrBlock="10.98.0.0/24", TransitGatewayId=lab.tgw_id)
    aws.admin("POST", "calls/reset", {})  # the test's set-up, not the module's (IAM policy check)
    args = dict(aws.module_args(), route_table_id=table, destination_cidr_block="10.99.0.0/24", transit_gateway_id=lab.tgw_id)

    def routes():
        described = lab.ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]
        return sorted(r["DestinationCidrBlock"] for r in described)

    checked = run_module(tgw_vpc_route, args, check_mode=True, diff=True)
    assert checked["changed"] and checked["action"] == "create" and checked["diff"]["before"]["route"] is None
    assert aws.calls(mutating=True) == []
    assert run_module(tgw_vpc_route, args)["changed"]
    assert routes() == ["10.0.0.0/16", "10.98.0.0/24", "10.99.0.0/24"]
    assert run_module(tgw_vpc_route, args)["changed"] is False
    aws.reset_calls()
    removal = run_module(tgw_vpc_route, dict(args, state="absent"), check_mode=True)
    assert removal["changed"] and removal["action"] == "delete" and aws.calls(mutating=True) == []
    assert run_module(tgw_vpc_route, dict(args, state="absent"))["changed"]
    assert routes() == ["10.0.0.0/16", "10.98.0.0/24"]
    assert run_module(tgw_vpc_route, dict(args, state="absent"))["changed"] is False
    # the same destination via another target is neither ours to delete nor to replace
    aws.reset_calls()  # keeps the module's calls for the IAM check; the set-up below is the test's
    igw = lab.ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    lab.ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=lab.vpc_id)
    lab.ec2.create_route(RouteTableId=table, DestinationCidrBlock="10.99.0.0/24", GatewayId=igw)
    aws.admin("POST", "calls/reset", {})
    assert run_module(tgw_vpc_route, dict(args, state="absent"))["changed"] is False
    refused = run_module(tgw_vpc_route, args)
    assert refused["failed"] and refused["msg"] == (
        "destination_cidr_block: 10.99.0.0/24 already routes to GatewayId=%s; it is not replaced (remove that route first)" % igw
    )
    assert run_module(tgw_vpc_route, dict(args, route_table_id="rtb-0000000000000000f"))["msg"] == (
        "route_table_id: rtb-0000000000000000f does not exist"
    )


# --- security_group_ingress_rule ---------------------------------------------------------------


def test_security_group_ingress_rule_flow_touches_only_its_rule(aws):
    lab = Lab(aws)
    group = lab.ec2.create_security_group(GroupName="nodes", Description="nodes", VpcId=lab.vpc_id)["GroupId"]
    # moto 5.2.5 answers HTTP 500 to protocol 47 without ports; it stores the rule with ports -1 when given them.
    gre = {"IpProtocol": "47", "FromPort": -1, "ToPort": -1}
    ours = dict(gre, IpRanges=[{"CidrIp": "10.99.0.0/24", "Description": "GRE from the transit gateway (blue)"}])
    foreign = dict(gre, IpRanges=[{"CidrIp": "10.97.0.0/24", "Description": "GRE of another team"}])
    ssh = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
    lab.ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[ours, foreign, ssh])
    aws.admin("POST", "calls/reset", {})  # the test's set-up
    args = dict(
        aws.module_args(),
        group_id=group,
        protocol="gre",
        cidr_ip="10.99.0.0/24",
        description="GRE from the transit gateway (blue)",
        state="absent",
    )

    def rules():
        permissions = lab.ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissions"]
        return sorted((p["IpProtocol"], r["CidrIp"]) for p in permissions for r in p["IpRanges"])

    # another description: someone else's rule now, left alone
    assert run_module(security_group_ingress_rule, dict(args, description="GRE (green)"))["changed"] is False
    checked = run_module(security_group_ingress_rule, args, check_mode=True, diff=True)
    assert checked["changed"] and checked["action"] == "revoke" and checked["diff"]["after"]["rule"] is None
    assert aws.calls(mutating=True) == []
    assert run_module(security_group_ingress_rule, args)["changed"]
    assert rules() == [("47", "10.97.0.0/24"), ("tcp", "10.0.0.0/8")]
    assert run_module(security_group_ingress_rule, args)["changed"] is False

    tcp = dict(args, protocol="tcp", from_port=443, to_port=443, cidr_ip="10.99.0.0/24", description="https", state="present")
    aws.reset_calls()
    assert run_module(security_group_ingress_rule, tcp, check_mode=True)["changed"] and aws.calls(mutating=True) == []
    added = run_module(security_group_ingress_rule, tcp)
    assert added["changed"] and added["rule"] == {
        "protocol": "6",
        "cidr_ip": "10.99.0.0/24",
        "from_port": 443,
        "to_port": 443,
        "description": "https",
    }
    assert run_module(security_group_ingress_rule, tcp)["changed"] is False
    assert rules() == [("47", "10.97.0.0/24"), ("tcp", "10.0.0.0/8"), ("tcp", "10.99.0.0/24")]
    refused = run_module(security_group_ingress_rule, dict(tcp, from_port=None))
    assert refused["failed"] and refused["msg"] == "from_port: tcp, udp and icmp rules need from_port and to_port"
    missing = run_module(security_group_ingress_rule, dict(args, group_id="sg-0000000000000000f"))
    assert missing["msg"] == "group_id: sg-0000000000000000f does not exist"


# --- tgw_cidr_block ----------------------------------------------------------------------------


def test_cidr_block_flow(aws):
    lab = Lab(aws)
    args = dict(aws.module_args(), transit_gateway_id=lab.tgw_id, cidr_block=TGW_CIDR)
    aws.reset_calls()
    checked = run_module(tgw_cidr_block, args, check_mode=True, diff=True)
    assert checked["changed"] and checked["diff"]["after"]["transit_gateway_cidr_blocks"] == [TGW_CIDR]
    assert lab.writes() == []
    assert run_module(tgw_cidr_block, args)["changed"]
    options = lab.ec2.describe_transit_gateways(TransitGatewayIds=[lab.tgw_id])["TransitGateways"][0]["Options"]
    assert options["TransitGatewayCidrBlocks"] == [TGW_CIDR]
    assert run_module(tgw_cidr_block, args)["changed"] is False
    aws.reset_calls()
    small = run_module(tgw_cidr_block, dict(args, cidr_block="10.98.0.0/25"))
    assert small["failed"] and small["msg"].startswith("cidr_block: 10.98.0.0/25 is smaller than /24")
    assert lab.writes() == []
    assert run_module(tgw_cidr_block, dict(args, state="absent"))["changed"]
    assert run_module(tgw_cidr_block, dict(args, state="absent"))["changed"] is False
    kept = run_module(tgw_cidr_block, dict(args, state="absent", keep_in_use=True))
    assert kept["changed"] is False and kept["kept_for_gre_addresses"] == []


# --- tgw_connect_peers: the whole flow ---------------------------------------------------------


def test_reconcile_flow_leaves_other_clusters_alone(lab):
    aws = lab.aws
    red = run_module(tgw_connect_peers, lab.args("red", nodes(2, subnet="10.0.2")))
    assert red["changed"], red
    red_before = lab.peers("red")
    assert len(red_before) == 2

    # check mode: the plan, and not one write
    aws.reset_calls()
    blue_nodes = nodes(5)
    checked = run_module(tgw_connect_peers, lab.args("blue", blue_nodes), check_mode=True, diff=True)
    assert checked["changed"] and len(checked["plan"]["create_peers"]) == 5
    assert len(checked["plan"]["create_attachments"]) == 2
    assert lab.writes() == []
    assert lab.peers("blue") == []

    # create
    aws.reset_calls()
    created = run_module(tgw_connect_peers, lab.args("blue", blue_nodes), diff=True)
    assert created["changed"], created
    writes = lab.writes()
    assert writes.count("CreateTransitGatewayConnectPeer") == 5
    assert writes.count("CreateTransitGatewayConnect") == 2
    peers = created["peers"]
    assert sorted(peers) == [n["name"] for n in blue_nodes]
    assert all(p["state"] == "available" for p in peers.values())
    red_cidrs = {p["ConnectPeerConfiguration"]["InsideCidrBlocks"][0] for p in red_before}
    blue_cidrs = {p["inside_cidr"] for p in peers.values()}
    assert len(blue_cidrs) == 5 and not blue_cidrs & red_cidrs
    for node in blue_nodes:
        peer = peers[node["name"]]
        first = netaddr.IPNetwork(peer["inside_cidr"]).first
        assert peer["node_inside_address"] == "%s/29" % netaddr.IPAddress(first + 1)
        assert peer["tgw_inside_addresses"] == [str(netaddr.IPAddress(first + 2)), str(netaddr.IPAddress(first + 3))]
        assert peer["node_gre_address"] == node["address"]
        assert netaddr.IPAddress(peer["tgw_gre_address"]) in netaddr.IPNetwork(TGW_CIDR)
        assert (peer["tgw_asn"], peer["peer_asn"]) == (TGW_ASN, 64512)
        assert set(peer["bgp_status"]) == set(peer["tgw_inside_addresses"])
    # check mode predicted exactly what was created (addresses and placement)
    for name, planned in checked["peers"].items():
        assert planned["inside_cidr"] == peers[name]["inside_cidr"]
        assert planned["tgw_gre_address"] == peers[name]["tgw_gre_address"]
    per_attachment = [p["attachment_id"] for p in peers.values()]
    assert sorted(per_attachment.count(a) for a in set(per_attachment)) == [1, 4]

    # info: by cluster (tag filter) only blue's peers, with BGP status per session
    lab.aws.set_bgp_status(peers["node-00"]["peer_id"], "up")
    info = run_module(tgw_connect_peer_info, dict(aws.module_args(), transit_gateway_id=lab.tgw_id, cluster="blue"))
    assert sorted(p["transit_gateway_connect_peer_id"] for p in info["connect_peers"]) == sorted(
        p["peer_id"] for p in peers.values()
    )
    by_id = {p["transit_gateway_connect_peer_id"]: p for p in info["connect_peers"]}
    assert {b["bgp_status"] for b in by_id[peers["node-00"]["peer_id"]]["bgp_peers"]} == {"up"}
    assert by_id[peers["node-00"]["peer_id"]]["tags"]["calico_egress.aws/node"] == "node-00"

    # idempotency: changed=false, only reads, few of them
    aws.reset_calls()
    again = run_module(tgw_connect_peers, lab.args("blue", blue_nodes))
    assert again["changed"] is False
    assert again["peers"] == {k: dict(v, state=v["state"]) for k, v in again["peers"].items()}
    assert {k: v["inside_cidr"] for k, v in again["peers"].items()} == {k: v["inside_cidr"] for k, v in peers.items()}
    assert lab.writes() == [] and len(aws.calls()) <= 10

    # update: a node moved to a new IP; refused with the differences unless replace
    moved = [dict(n) for n in blue_nodes]
    moved[0]["address"] = "10.0.1.99"
    aws.reset_calls()
    refused = run_module(tgw_connect_peers, lab.args("blue", moved))
    assert refused["failed"] and "peer_address: 10.0.1.10 -> 10.0.1.99" in refused["msg"] and "replace=true" in refused["msg"]
    assert lab.writes() == []
    replaced = run_module(tgw_connect_peers, lab.args("blue", moved, replace=True))
    assert replaced["changed"], replaced
    new = replaced["peers"]["node-00"]
    assert new["peer_id"] != peers["node-00"]["peer_id"]
    assert new["inside_cidr"] == peers["node-00"]["inside_cidr"] and new["node_gre_address"] == "10.0.1.99"
    assert run_module(tgw_connect_peers, lab.args("blue", moved))["changed"] is False

    # node removed: its peer deleted, its /29 free again, the emptied attachment purged
    removed = run_module(tgw_connect_peers, lab.args("blue", moved[:4]))
    assert removed["changed"] and [d["name"] for d in removed["plan"]["delete_peers"]] == ["node-04"]
    assert len(removed["plan"]["delete_attachments"]) == 1
    in_use = {cidr for p in lab.peers() for cidr in p["ConnectPeerConfiguration"]["InsideCidrBlocks"]}
    assert peers["node-04"]["inside_cidr"] not in in_use
    back = run_module(tgw_connect_peers, lab.args("blue", moved[:4] + [{"name": "node-09", "address": "10.0.1.50"}]))
    assert back["peers"]["node-09"]["inside_cidr"] == peers["node-04"]["inside_cidr"]  # lowest free /29 again

    # delete everything of blue
    gone = run_module(tgw_connect_peers, lab.args("blue", []))
    assert gone["changed"] and gone["peers"] == {}
    assert lab.peers("blue") == []
    assert [c for c in lab.connects() if {"Key": CLUSTER_TAG, "Value": "blue"} in c.get("Tags", [])] == []
    assert run_module(tgw_connect_peers, lab.args("blue", []))["changed"] is False

    # red never touched
    assert lab.peers("red") == red_before


def test_throttling_at_30_percent_still_converges(lab):
    lab.aws.set_knobs(throttle_rate=0.3)
    first = run_module(tgw_connect_peers, lab.args("blue", nodes(6)))
    assert first["changed"] and not first["failed"], first
    second = run_module(tgw_connect_peers, lab.args("blue", nodes(6)))
    assert second["changed"] is False and not second["failed"], second
    assert any(c["error_code"] for c in lab.aws.calls()), "no call was throttled: the knob did not act"
    lab.aws.set_knobs(throttle_rate=0.0)
    assert len(lab.peers("blue")) == 6


def test_peers_pending_are_waited_for_together(lab):
    """With every peer pending for T seconds, N peers cost N creates and a handful of polls, not N waits."""
    lab.aws.set_knobs(connect_peer_pending_seconds=2)
    lab.aws.reset_calls()
    result = run_module(tgw_connect_peers, lab.args("blue", nodes(8)))
    assert result["changed"] and all(p["state"] == "available" for p in result["peers"].values())
    actions = [c["action"] for c in lab.aws.calls()]
    assert actions.count("CreateTransitGatewayConnectPeer") == 8
    assert actions.count("DescribeTransitGatewayConnectPeers") <= 4  # one describe per poll for all 8


# --- bad inputs: refused naming the field, no write -------------------------------------------


@pytest.mark.parametrize(
    "change, field",
    [
        ({"nodes": [{"name": "a", "address": "10.0.1.1", "inside_cidr": "169.254.169.248/29"}]}, "nodes[0].inside_cidr"),
        ({"nodes": [{"name": "a", "address": "fd00::1"}]}, "nodes[0].address"),
        ({"nodes": [{"name": "a", "address": "10.0.1.1"}], "peer_asn": 4294967295}, "peer_asn"),
        ({"nodes": [{"name": "a", "address": "10.0.1.1"}], "peer_asn": TGW_ASN}, "peer_asn"),
        ({"nodes": nodes(5), "peers_per_attachment": 5}, "peers_per_attachment"),
    ],
)
def test_bad_reconcile_input_refused_without_writes(lab, change, field):
    lab.aws.reset_calls()
    args = lab.args("blue", [])
    args.update(change)
    result = run_module(tgw_connect_peers, args)
    assert result["failed"] and result["msg"].startswith(field + ":"), result["msg"]
    assert lab.writes() == []


def test_overlapping_inside_cidr_refused(lab):
    red = run_module(tgw_connect_peers, lab.args("red", nodes(1)))
    taken = red["peers"]["node-00"]["inside_cidr"]
    lab.aws.reset_calls()
    result = run_module(tgw_connect_peers, lab.args("blue", [{"name": "b", "address": "10.0.1.40", "inside_cidr": taken}]))
    assert result["failed"] and result["msg"].startswith("nodes[b].inside_cidr: %s overlaps" % taken)
    assert lab.writes() == []


def test_asn_trap_is_explained(lab):
    result = run_module(tgw_connect_peers, lab.args("blue", nodes(1), peer_asn=TGW_ASN))
    assert "AS_PATH" in result["msg"] and "allow_ibgp" in result["msg"]


# --- single objects: tgw_connect, tgw_connect_peer, info, routing ------------------------------


def test_connect_and_peer_modules_flow(lab):
    aws = lab.aws
    connect_args = dict(aws.module_args(), name="blue-connect", transit_gateway_id=lab.tgw_id, vpc_id=lab.vpc_id, wait_timeout=60)
    aws.reset_calls()
    assert run_module(tgw_connect, connect_args, check_mode=True)["changed"] and lab.writes() == []
    connect = run_module(tgw_connect, connect_args, diff=True)
    assert connect["changed"] and connect["connect_attachment"]["state"] == "available"
    attachment_id = connect["connect_attachment"]["transit_gateway_attachment_id"]
    assert connect["connect_attachment"]["transport_transit_gateway_attachment_id"] == lab.transport_id
    assert run_module(tgw_connect, connect_args)["changed"] is False
    retagged = run_module(tgw_connect, dict(connect_args, tags={"team": "net"}))
    assert retagged["changed"] and retagged["connect_attachment"]["tags"] == {"Name": "blue-connect", "team": "net"}

    peer_args = dict(aws.module_args(), name="p1", transit_gateway_attachment_id=attachment_id, peer_address="10.0.1.10")
    peer_args.update(peer_asn=64512, wait_timeout=60)
    aws.reset_calls()
    planned = run_module(tgw_connect_peer, peer_args, check_mode=True)
    assert planned["changed"] and lab.writes() == []
    peer = run_module(tgw_connect_peer, peer_args)
    assert peer["changed"] and peer["connect_peer"]["state"] == "available"
    config = peer["connect_peer"]["connect_peer_configuration"]
    assert config["inside_cidr_blocks"] == planned["connect_peer"]["connect_peer_configuration"]["inside_cidr_blocks"]
    assert [b["transit_gateway_address"] for b in peer["connect_peer"]["bgp_peers"]] == [
        str(netaddr.IPAddress(netaddr.IPNetwork(config["inside_cidr_blocks"][0]).first + i)) for i in (2, 3)
    ]
    assert run_module(tgw_connect_peer, peer_args)["changed"] is False

    aws.reset_calls()
    differs = run_module(tgw_connect_peer, dict(peer_args, peer_address="10.0.1.11"))
    assert differs["failed"] and "peer_address: 10.0.1.10 -> 10.0.1.11" in differs["msg"] and lab.writes() == []
    replaced = run_module(tgw_connect_peer, dict(peer_args, peer_address="10.0.1.11", replace=True))
    assert replaced["changed"] and replaced["connect_peer"]["connect_peer_configuration"]["peer_address"] == "10.0.1.11"
    assert replaced["connect_peer"]["connect_peer_configuration"]["inside_cidr_blocks"] == config["inside_cidr_blocks"]

    # bad single-peer inputs: GRE address outside the TGW CIDR, reserved /29, a 5th peer
    aws.reset_calls()
    second = dict(peer_args, name="p2", peer_address="10.0.1.12")
    outside = run_module(tgw_connect_peer, dict(second, transit_gateway_address="192.0.2.1"))
    assert outside["failed"]
    assert outside["msg"].startswith("transit_gateway_address: 192.0.2.1 is not inside any transit gateway CIDR block")
    reserved = run_module(tgw_connect_peer, dict(second, inside_cidr="169.254.0.0/29"))
    assert reserved["failed"] and reserved["msg"].startswith("inside_cidr: 169.254.0.0/29 is reserved")
    assert lab.writes() == []
    for index in range(2, 5):
        more = dict(peer_args, name="p%d" % index, peer_address="10.0.1.%d" % (20 + index))
        assert run_module(tgw_connect_peer, more)["changed"]
    aws.reset_calls()
    fifth = run_module(tgw_connect_peer, dict(peer_args, name="p5", peer_address="10.0.1.30"))
    assert fifth["failed"]
    assert fifth["msg"].startswith("transit_gateway_attachment_id: %s already has 4 Connect peers" % attachment_id)
    assert lab.writes() == []

    info = run_module(tgw_connect_peer_info, dict(aws.module_args(), transit_gateway_id=lab.tgw_id))
    assert len(info["connect_peers"]) == 4
    assert all("bgp_peers" in p and isinstance(p["tags"], dict) for p in info["connect_peers"])

    # deleting the attachment needs delete_peers
    refused = run_module(tgw_connect, dict(connect_args, state="absent"))
    assert refused["failed"] and refused["msg"].startswith("delete_peers:")
    aws.reset_calls()
    assert run_module(tgw_connect, dict(connect_args, state="absent", delete_peers=True), check_mode=True)["changed"]
    assert lab.writes() == []
    deleted = run_module(tgw_connect, dict(connect_args, state="absent", delete_peers=True))
    assert deleted["changed"] and len(deleted["deleted_connect_peers"]) == 4
    assert lab.peers() == [] and lab.connects() == []
    assert run_module(tgw_connect, dict(connect_args, state="absent"))["changed"] is False


def test_attachment_routing_and_route_search(lab):
    aws = lab.aws
    inspection, firewall = lab.inspection_rt, lab.firewall_rt
    result = run_module(tgw_connect_peers, lab.args("blue", nodes(1)))
    peer = result["peers"]["node-00"]
    args = dict(aws.module_args(), transit_gateway_attachment_id=peer["attachment_id"])
    args.update(association=inspection, propagations=[firewall])
    # A new Connect attachment is associated with the TGW's default route table (default association enabled):
    # moving it is refused unless asked for, with no write.
    aws.reset_calls()
    refused = run_module(tgw_attachment_routing, args)
    assert refused["failed"] and refused["msg"].startswith("association: the attachment is already associated with")
    assert lab.writes() == []
    args["replace_association"] = True
    checked = run_module(tgw_attachment_routing, args, check_mode=True, diff=True)
    assert checked["changed"] and checked["diff"]["after"]["association"] == inspection
    assert lab.writes() == []
    first = run_module(tgw_attachment_routing, args)
    assert first["changed"] and first["association"] == inspection and firewall in first["propagations"]
    described = lab.ec2.describe_transit_gateway_attachments(TransitGatewayAttachmentIds=[peer["attachment_id"]])
    attachment = described["TransitGatewayAttachments"][0]
    assert attachment["Association"]["TransitGatewayRouteTableId"] == inspection
    assert run_module(tgw_attachment_routing, args)["changed"] is False
    moved = run_module(tgw_attachment_routing, dict(args, association=firewall, replace_association=False))
    assert moved["failed"] and moved["msg"].startswith("association: the attachment is already associated with %s" % inspection)

    aws.advertise(peer["peer_id"], ["10.10.10.0/31"])
    down = run_module(tgw_route_info, dict(aws.module_args(), transit_gateway_route_table_id=firewall, prefix="10.10.10.0/31"))
    assert down["routes"] == []  # learned only over an established BGP session
    aws.set_bgp_status(peer["peer_id"], "up")
    routes = run_module(
        tgw_route_info,
        dict(aws.module_args(), transit_gateway_route_table_id=firewall, prefix="10.10.10.0/31", attachment_type="connect")
        | {"route_type": "propagated"},
    )
    assert [r["destination_cidr_block"] for r in routes["routes"]] == ["10.10.10.0/31"]
    assert routes["routes"][0]["transit_gateway_attachments"][0]["transit_gateway_attachment_id"] == peer["attachment_id"]
    none = run_module(tgw_route_info, dict(aws.module_args(), transit_gateway_route_table_id=inspection, prefix="10.10.10.0/31"))
    assert none["routes"] == []


@pytest.mark.parametrize("count", [4, 16, 64, 256])
def test_converged_rerun_reads_at_most_10_whatever_n(lab, count):
    first = run_module(tgw_connect_peers, lab.args("blue", nodes(count, base=1)))
    assert not first["failed"], first["msg"]
    writes = [c["action"] for c in lab.aws.calls(mutating=True)]
    assert writes.count("CreateTransitGatewayConnectPeer") == count
    assert writes.count("CreateTransitGatewayConnect") == math.ceil(count / 4)
    assert first["changed"]
    lab.aws.reset_calls()
    assert run_module(tgw_connect_peers, lab.args("blue", nodes(count, base=1)))["changed"] is False
    assert lab.writes() == [] and len(lab.aws.calls()) <= 10
