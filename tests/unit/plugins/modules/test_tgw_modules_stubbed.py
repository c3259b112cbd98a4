# -*- coding: utf-8 -*-
"""Module decisions against a botocore Stubber: every request is validated against the EC2 service model,
and the exact sequence of calls is asserted (no extra reads, no write in check mode)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
from unittest import mock

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from botocore.stub import ANY, Stubber

from ansible_collections.calico_egress.aws.plugins.module_utils import connect_planning as cp
from ansible_collections.calico_egress.aws.plugins.module_utils import tgw_api
from ansible_collections.calico_egress.aws.plugins.modules import (
    tgw_attachment_routing,
    tgw_cidr_block,
    tgw_connect,
    tgw_connect_peer,
    tgw_connect_peers,
)
from tests.support.modules import run_module

TGW = "tgw-0123456789abcdef0"
TRANSPORT = "tgw-attach-0aaaaaaaaaaaaaaaa"
CONNECT = "tgw-attach-0ccccccccccccccc1"
NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


@pytest.fixture
def ec2():
    client = boto3.client("ec2", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with (
        Stubber(client) as stubber,
        mock.patch.object(AnsibleAWSModule, "client", return_value=client),
        mock.patch.object(tgw_api, "WAIT_DELAY", 1),
    ):
        yield stubber
        stubber.assert_no_pending_responses()


def gateway(cidrs=("10.99.0.0/24",)):
    return {
        "TransitGateways": [
            {
                "TransitGatewayId": TGW,
                "State": "available",
                "Options": {"AmazonSideAsn": 64513, "TransitGatewayCidrBlocks": list(cidrs)},
            }
        ]
    }


def connect(attachment_id=CONNECT, cluster="blue", state="available"):
    return {
        "TransitGatewayAttachmentId": attachment_id,
        "TransportTransitGatewayAttachmentId": TRANSPORT,
        "TransitGatewayId": TGW,
        "State": state,
        "CreationTime": NOW,
        "Options": {"Protocol": "gre"},
        "Tags": [{"Key": cp.CLUSTER_TAG, "Value": cluster}] if cluster else [],
    }


def peer(peer_id, node, cidr, address, cluster="blue", attachment_id=CONNECT, state="available", gre="10.99.0.1"):
    base = cidr.rsplit(".", 1)[0] + "."
    last = int(cidr.rsplit(".", 1)[1].split("/")[0])
    tags = [
        {"Key": cp.CLUSTER_TAG, "Value": cluster},
        {"Key": cp.NODE_TAG, "Value": node},
        {"Key": "Name", "Value": "%s-%s" % (cluster, node)},
    ]
    return {
        "TransitGatewayAttachmentId": attachment_id,
        "TransitGatewayConnectPeerId": peer_id,
        "State": state,
        "CreationTime": NOW,
        "ConnectPeerConfiguration": {
            "TransitGatewayAddress": gre,
            "PeerAddress": address,
            "InsideCidrBlocks": [cidr],
            "Protocol": "gre",
            "BgpConfigurations": [
                {
                    "TransitGatewayAsn": 64513,
                    "PeerAsn": 64512,
                    "TransitGatewayAddress": base + str(last + i),
                    "PeerAddress": base + str(last + 1),
                    "BgpStatus": "down",
                }
                for i in (2, 3)
            ],
        },
        "Tags": tags,
    }


def reads(ec2, connects, peers, attachment_ids=None):
    ec2.add_response("describe_transit_gateways", gateway(), {"TransitGatewayIds": [TGW]})
    ec2.add_response(
        "describe_transit_gateway_connects",
        {"TransitGatewayConnects": connects},
        {"Filters": [{"Name": "transit-gateway-id", "Values": [TGW]}]},
    )
    ids = attachment_ids if attachment_ids is not None else [c["TransitGatewayAttachmentId"] for c in connects]
    if ids:
        ec2.add_response(
            "describe_transit_gateway_connect_peers",
            {"TransitGatewayConnectPeers": peers},
            {"Filters": [{"Name": "transit-gateway-attachment-id", "Values": ids}]},
        )


ARGS = {
    "cluster": "blue",
    "transit_gateway_id": TGW,
    "transport_attachment_id": TRANSPORT,
    "peer_asn": 64512,
    "region": "eu-west-1",
    "wait_timeout": 5,
}


def test_converged_run_makes_three_reads_and_no_write(ec2):
    reads(ec2, [connect()], [peer("tgw-connect-peer-1", "node-a", "169.254.6.0/29", "10.0.1.10")])
    result = run_module(tgw_connect_peers, dict(ARGS, nodes=[{"name": "node-a", "address": "10.0.1.10"}]))
    assert result["changed"] is False, result
    assert result["peers"]["node-a"]["node_inside_address"] == "169.254.6.1/29"
    assert result["peers"]["node-a"]["tgw_inside_addresses"] == ["169.254.6.2", "169.254.6.3"]


def test_check_mode_plans_without_writing(ec2):
    reads(ec2, [], [])
    result = run_module(
        tgw_connect_peers, dict(ARGS, nodes=[{"name": "node-a", "address": "10.0.1.10"}]), check_mode=True, diff=True
    )
    assert result["changed"] is True
    assert result["plan"]["create_attachments"] == [{"key": "new-0", "peers": ["node-a"]}]
    assert result["peers"]["node-a"]["state"] == "planned"
    assert result["diff"]["after"]["node-a"]["inside_cidr"] == result["peers"]["node-a"]["inside_cidr"]


def test_create_attachment_then_peer_then_wait_together(ec2):
    reads(ec2, [], [])
    ec2.add_response(
        "create_transit_gateway_connect",
        {"TransitGatewayConnect": connect(state="pending")},
        {"TransportTransitGatewayAttachmentId": TRANSPORT, "Options": {"Protocol": "gre"}, "TagSpecifications": ANY},
    )
    ec2.add_response(
        "describe_transit_gateway_connects", {"TransitGatewayConnects": [connect()]}, {"TransitGatewayAttachmentIds": [CONNECT]}
    )
    created = [
        peer("tgw-connect-peer-%d" % i, n, c, a, state="pending")
        for i, (n, c, a) in enumerate([("node-a", "169.254.0.8/29", "10.0.1.10"), ("node-b", "169.254.0.16/29", "10.0.1.11")])
    ]
    for p in created:
        ec2.add_response(
            "create_transit_gateway_connect_peer",
            {"TransitGatewayConnectPeer": p},
            {
                "TransitGatewayAttachmentId": CONNECT,
                "PeerAddress": p["ConnectPeerConfiguration"]["PeerAddress"],
                "InsideCidrBlocks": p["ConnectPeerConfiguration"]["InsideCidrBlocks"],
                "TransitGatewayAddress": ANY,
                "BgpOptions": {"PeerAsn": 64512},
                "TagSpecifications": ANY,
            },
        )
    ids = [p["TransitGatewayConnectPeerId"] for p in created]
    # One describe for both pending peers per poll: first still pending, then both available.
    ec2.add_response(
        "describe_transit_gateway_connect_peers", {"TransitGatewayConnectPeers": created}, {"TransitGatewayConnectPeerIds": ids}
    )
    available = [dict(p, State="available") for p in created]
    ec2.add_response(
        "describe_transit_gateway_connect_peers", {"TransitGatewayConnectPeers": available}, {"TransitGatewayConnectPeerIds": ids}
    )
    ec2.add_response(
        "describe_transit_gateway_connect_peers",
        {"TransitGatewayConnectPeers": available},
        {"Filters": [], "TransitGatewayConnectPeerIds": ids},
    )
    nodes = [{"name": "node-a", "address": "10.0.1.10"}, {"name": "node-b", "address": "10.0.1.11"}]
    result = run_module(tgw_connect_peers, dict(ARGS, nodes=nodes))
    assert result["changed"] is True, result
    assert sorted(result["peers"]) == ["node-a", "node-b"]
    assert result["peers"]["node-b"]["peer_id"] == "tgw-connect-peer-1"


def test_throttled_read_is_retried(ec2):
    ec2.add_client_error("describe_transit_gateways", service_error_code="RequestLimitExceeded", http_status_code=503)
    reads(ec2, [connect()], [peer("tgw-connect-peer-1", "node-a", "169.254.6.0/29", "10.0.1.10")])
    result = run_module(tgw_connect_peers, dict(ARGS, nodes=[{"name": "node-a", "address": "10.0.1.10"}]))
    assert result["changed"] is False, result


def test_aws_error_reports_the_action_and_code(ec2):
    ec2.add_client_error("describe_transit_gateways", service_error_code="UnauthorizedOperation", http_status_code=403)
    result = run_module(tgw_connect_peers, dict(ARGS, nodes=[]))
    assert result["failed"]
    assert "describe transit gateway" in result["msg"]
    assert result["error"]["code"] == "UnauthorizedOperation"


def test_node_removed_peer_deleted_and_attachment_purged(ec2):
    reads(ec2, [connect()], [peer("tgw-connect-peer-1", "node-a", "169.254.6.0/29", "10.0.1.10")])
    ec2.add_response("delete_transit_gateway_connect_peer", {}, {"TransitGatewayConnectPeerId": "tgw-connect-peer-1"})
    ec2.add_client_error(
        "describe_transit_gateway_connect_peers", service_error_code="InvalidTransitGatewayConnectPeerID.NotFound"
    )
    ec2.add_response("delete_transit_gateway_connect", {}, {"TransitGatewayAttachmentId": CONNECT})
    ec2.add_response(
        "describe_transit_gateway_connects",
        {"TransitGatewayConnects": [connect(state="deleted")]},
        {"TransitGatewayAttachmentIds": [CONNECT]},
    )
    result = run_module(tgw_connect_peers, dict(ARGS, nodes=[]))
    assert result["changed"] is True, result
    assert result["peers"] == {}
    assert result["plan"]["delete_peers"][0]["reason"] == "node no longer listed"


def test_bad_asn_refused_before_any_write(ec2):
    reads(ec2, [], [])
    result = run_module(tgw_connect_peers, dict(ARGS, peer_asn=64513, nodes=[{"name": "a", "address": "10.0.1.1"}]))
    assert result["failed"] and result["msg"].startswith("peer_asn: 64513 equals the transit gateway ASN")


def test_single_peer_on_full_attachment_refused(ec2):
    full = [
        peer("tgw-connect-peer-%d" % i, "n%d" % i, "169.254.6.%d/29" % (8 * i), "10.0.1.%d" % i, gre="10.99.0.%d" % (i + 1))
        for i in range(4)
    ]
    ec2.add_response(
        "describe_transit_gateway_connect_peers",
        {"TransitGatewayConnectPeers": []},
        {"Filters": [{"Name": "tag:Name", "Values": ["n5"]}, {"Name": "transit-gateway-attachment-id", "Values": [CONNECT]}]},
    )
    ec2.add_response(
        "describe_transit_gateway_connects",
        {"TransitGatewayConnects": [connect()]},
        {"Filters": [], "TransitGatewayAttachmentIds": [CONNECT]},
    )
    reads(ec2, [connect()], full)
    result = run_module(
        tgw_connect_peer,
        {
            "name": "n5",
            "transit_gateway_attachment_id": CONNECT,
            "peer_address": "10.0.1.50",
            "peer_asn": 64512,
            "region": "eu-west-1",
        },
    )
    assert result["failed"]
    assert result["msg"].startswith("transit_gateway_attachment_id: %s already has 4 Connect peers" % CONNECT)


def test_connect_delete_with_peers_needs_delete_peers(ec2):
    ec2.add_response(
        "describe_transit_gateway_connects",
        {"TransitGatewayConnects": [connect()]},
        {"Filters": [], "TransitGatewayAttachmentIds": [CONNECT]},
    )
    ec2.add_response(
        "describe_transit_gateway_connect_peers",
        {"TransitGatewayConnectPeers": [peer("tgw-connect-peer-1", "a", "169.254.6.0/29", "10.0.1.1")]},
        {"Filters": [{"Name": "transit-gateway-attachment-id", "Values": [CONNECT]}]},
    )
    result = run_module(tgw_connect, {"connect_attachment_id": CONNECT, "state": "absent", "region": "eu-west-1"})
    assert result["failed"] and result["msg"].startswith("delete_peers: %s still has 1 Connect peer" % CONNECT)


def test_cidr_block_added_once(ec2):
    ec2.add_response("describe_transit_gateways", gateway(cidrs=[]), {"TransitGatewayIds": [TGW]})
    ec2.add_response(
        "modify_transit_gateway",
        {"TransitGateway": gateway()["TransitGateways"][0]},
        {"TransitGatewayId": TGW, "Options": {"AddTransitGatewayCidrBlocks": ["10.99.0.0/24"]}},
    )
    ec2.add_response("describe_transit_gateways", gateway(), {"TransitGatewayIds": [TGW]})
    result = run_module(tgw_cidr_block, {"transit_gateway_id": TGW, "cidr_block": "10.99.0.0/24", "region": "eu-west-1"})
    assert result["changed"] and result["transit_gateway_cidr_blocks"] == ["10.99.0.0/24"]
    ec2.add_response("describe_transit_gateways", gateway(), {"TransitGatewayIds": [TGW]})
    again = run_module(tgw_cidr_block, {"transit_gateway_id": TGW, "cidr_block": "10.99.0.0/24", "region": "eu-west-1"})
    assert again["changed"] is False


def test_routing_refuses_to_move_association_unless_replace(ec2):
    ec2.add_response(
        "describe_transit_gateway_attachments",
        {
            "TransitGatewayAttachments": [
                {
                    "TransitGatewayAttachmentId": CONNECT,
                    "State": "available",
                    "Association": {"TransitGatewayRouteTableId": "tgw-rtb-old", "State": "associated"},
                }
            ]
        },
        {"Filters": [], "TransitGatewayAttachmentIds": [CONNECT]},
    )
    ec2.add_response(
        "get_transit_gateway_attachment_propagations",
        {"TransitGatewayAttachmentPropagations": []},
        {"TransitGatewayAttachmentId": CONNECT},
    )
    result = run_module(
        tgw_attachment_routing, {"transit_gateway_attachment_id": CONNECT, "association": "tgw-rtb-new", "region": "eu-west-1"}
    )
    assert result["failed"] and result["msg"].startswith("association: the attachment is already associated with tgw-rtb-old")
