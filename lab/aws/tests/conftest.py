"""Shared scenery for the stand-in's tests: a VPC, a TGW with a CIDR block, a VPC attachment, a Connect attachment."""

import types

import pytest
from botocore.exceptions import ClientError

from lab.aws.fidelity import ResponseRecorder

TGW_CIDR = "10.99.0.0/24"


def error_code(call, *args, **kwargs):
    """The AWS error code `call` fails with (the test fails if it succeeds)."""
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response["Error"]["Code"]


@pytest.fixture
def ec2(aws):
    """An EC2 client whose every response is checked against the service model (see lab.aws.fidelity)."""
    client = aws.client("ec2", retries={"total_max_attempts": 1, "mode": "standard"})
    recorder = ResponseRecorder(client)
    client.standin_recorder = recorder
    yield client
    assert recorder.problems == []


def make_vpc(ec2, cidr):
    vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr.replace("/16", "/24"))["Subnet"]["SubnetId"]
    return vpc_id, subnet_id


def make_connect(ec2, transport_id, **kwargs):
    return ec2.create_transit_gateway_connect(
        TransportTransitGatewayAttachmentId=transport_id, Options={"Protocol": "gre"}, **kwargs
    )["TransitGatewayConnect"]["TransitGatewayAttachmentId"]


def make_peer(ec2, connect_id, inside, peer_address="10.0.1.10", **kwargs):
    return ec2.create_transit_gateway_connect_peer(
        TransitGatewayAttachmentId=connect_id, PeerAddress=peer_address, InsideCidrBlocks=[inside], **kwargs
    )["TransitGatewayConnectPeer"]


@pytest.fixture
def world(ec2):
    """VPC 10.0.0.0/16 attached to a TGW (ASN 64512, CIDR block 10.99.0.0/24) with one Connect attachment over it."""
    vpc_id, subnet_id = make_vpc(ec2, "10.0.0.0/16")
    tgw = ec2.create_transit_gateway(Options={"AmazonSideAsn": 64512, "TransitGatewayCidrBlocks": [TGW_CIDR]})["TransitGateway"]
    attachment_id = ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=tgw["TransitGatewayId"], VpcId=vpc_id, SubnetIds=[subnet_id]
    )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    connect_id = make_connect(ec2, attachment_id)
    return types.SimpleNamespace(
        ec2=ec2,
        vpc_id=vpc_id,
        subnet_id=subnet_id,
        tgw_id=tgw["TransitGatewayId"],
        default_table_id=tgw["Options"]["AssociationDefaultRouteTableId"],
        vpc_attachment_id=attachment_id,
        connect_id=connect_id,
    )
