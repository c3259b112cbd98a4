"""Fidelity: every operation the stand-in implements, through a real boto3 client, answered as the model says.

Every raw response body is checked element by element against the operation's output shape (unknown fields
fail), and the parsed result with botocore's validator (the `ec2` fixture does both, see lab.aws.fidelity).
"""

from xml.etree import ElementTree

import botocore.session
import pytest

from lab.aws import ec2_connect, ec2_routing, ec2_tags
from lab.aws.fidelity import check_ec2_xml, check_json, check_raw_response
from lab.aws.tests.conftest import TGW_CIDR, make_connect, make_peer

EC2_MODEL = botocore.session.get_session().get_service_model("ec2")
# moto-owned operations the collection and the lab rely on, checked through the middleware as well.
MOTO_OPERATIONS = {
    "CreateVpc",
    "CreateSubnet",
    "DescribeVpcs",
    "DescribeSubnets",
    "CreateSecurityGroup",
    "DescribeSecurityGroups",
    "DescribeTransitGateways",
    "CreateTransitGatewayRouteTable",
    "DescribeTransitGatewayRouteTables",
    "GetTransitGatewayRouteTableAssociations",
    "GetTransitGatewayRouteTablePropagations",
    "DescribeInternetGateways",
}


def test_every_operation_answers_as_the_model_says(aws, world):
    ec2 = world.ec2
    ec2.describe_vpcs(VpcIds=[world.vpc_id])
    ec2.describe_subnets(SubnetIds=[world.subnet_id])
    ec2.describe_internet_gateways()
    group_id = ec2.create_security_group(GroupName="nodes", Description="nodes", VpcId=world.vpc_id)["GroupId"]
    ec2.describe_security_groups(GroupIds=[group_id])
    ec2.describe_transit_gateways(TransitGatewayIds=[world.tgw_id])
    ec2.modify_transit_gateway(
        TransitGatewayId=world.tgw_id,
        Options={"AddTransitGatewayCidrBlocks": ["10.98.0.0/24"], "RemoveTransitGatewayCidrBlocks": [TGW_CIDR]},
    )
    ec2.modify_transit_gateway(
        TransitGatewayId=world.tgw_id, Options={"AddTransitGatewayCidrBlocks": [TGW_CIDR]}, Description="lab"
    )
    ec2.describe_transit_gateway_vpc_attachments(TransitGatewayAttachmentIds=[world.vpc_attachment_id])
    table_id = ec2.create_transit_gateway_route_table(TransitGatewayId=world.tgw_id)["TransitGatewayRouteTable"][
        "TransitGatewayRouteTableId"
    ]
    ec2.describe_transit_gateway_route_tables(TransitGatewayRouteTableIds=[table_id])

    peer = make_peer(
        ec2,
        world.connect_id,
        "169.254.10.0/29",
        TagSpecifications=[{"ResourceType": "transit-gateway-connect-peer", "Tags": [{"Key": "Name", "Value": "node-1"}]}],
    )
    aws.advertise(peer["TransitGatewayConnectPeerId"], ["10.10.10.0/31"])
    aws.set_bgp_status(peer["TransitGatewayConnectPeerId"], "up")
    ec2.describe_transit_gateway_connects(TransitGatewayAttachmentIds=[world.connect_id])
    ec2.describe_transit_gateway_connect_peers(Filters=[{"Name": "transit-gateway-attachment-id", "Values": [world.connect_id]}])
    ec2.describe_transit_gateway_attachments(Filters=[{"Name": "resource-type", "Values": ["connect"]}])
    ec2.create_tags(Resources=[world.connect_id], Tags=[{"Key": "Name", "Value": "connect"}])
    ec2.create_tags(Resources=[peer["TransitGatewayConnectPeerId"]], Tags=[{"Key": "Name", "Value": "peer"}])
    ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [world.connect_id, peer["TransitGatewayConnectPeerId"]]}])
    ec2.delete_tags(Resources=[world.connect_id], Tags=[{"Key": "Name"}])

    ec2.disassociate_transit_gateway_route_table(
        TransitGatewayRouteTableId=world.default_table_id, TransitGatewayAttachmentId=world.connect_id
    )
    ec2.associate_transit_gateway_route_table(TransitGatewayRouteTableId=table_id, TransitGatewayAttachmentId=world.connect_id)
    ec2.enable_transit_gateway_route_table_propagation(
        TransitGatewayRouteTableId=table_id, TransitGatewayAttachmentId=world.connect_id
    )
    ec2.get_transit_gateway_attachment_propagations(TransitGatewayAttachmentId=world.connect_id)
    ec2.get_transit_gateway_route_table_associations(TransitGatewayRouteTableId=table_id)
    ec2.get_transit_gateway_route_table_propagations(TransitGatewayRouteTableId=table_id)
    ec2.create_transit_gateway_route(
        TransitGatewayRouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0", TransitGatewayAttachmentId=world.vpc_attachment_id
    )
    ec2.replace_transit_gateway_route(TransitGatewayRouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0", Blackhole=True)
    routes = ec2.search_transit_gateway_routes(
        TransitGatewayRouteTableId=table_id, Filters=[{"Name": "state", "Values": ["active", "blackhole"]}]
    )
    assert {route["DestinationCidrBlock"] for route in routes["Routes"]} == {"0.0.0.0/0", "10.10.10.0/31"}
    ec2.delete_transit_gateway_route(TransitGatewayRouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0")
    ec2.disable_transit_gateway_route_table_propagation(
        TransitGatewayRouteTableId=table_id, TransitGatewayAttachmentId=world.connect_id
    )
    ec2.disassociate_transit_gateway_route_table(TransitGatewayRouteTableId=table_id, TransitGatewayAttachmentId=world.connect_id)
    ec2.delete_transit_gateway_route_table(TransitGatewayRouteTableId=table_id)

    ec2.delete_transit_gateway_connect_peer(TransitGatewayConnectPeerId=peer["TransitGatewayConnectPeerId"])
    ec2.delete_transit_gateway_connect(TransitGatewayAttachmentId=world.connect_id)
    ec2.delete_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=world.vpc_attachment_id)
    ec2.delete_transit_gateway(TransitGatewayId=world.tgw_id)

    seen = set(ec2.standin_recorder.operations)
    ours = set(ec2_connect.HANDLERS) | set(ec2_routing.HANDLERS) | set(ec2_tags.HANDLERS)
    assert ours - seen == set()
    assert MOTO_OPERATIONS - seen == set()
    assert ec2.standin_recorder.problems == []


def test_documented_cli_example_create_connect_peer(world):
    """aws-cli example: 169.254.6.0/29 -> BGP addresses .2 and .3 on the TGW, .1 on the peer, iBGP with ASN 64512."""
    peer = make_peer(world.ec2, world.connect_id, "169.254.6.0/29", peer_address="172.31.1.11")
    assert peer["State"] == "pending"
    config = peer["ConnectPeerConfiguration"]
    assert config["PeerAddress"] == "172.31.1.11"
    assert config["InsideCidrBlocks"] == ["169.254.6.0/29"]
    assert config["Protocol"] == "gre"
    # Omitted TransitGatewayAddress: "the first available IP address from the transit gateway CIDR block".
    assert config["TransitGatewayAddress"] == "10.99.0.1"
    assert config["BgpConfigurations"] == [
        {
            "TransitGatewayAsn": 64512,
            "PeerAsn": 64512,
            "TransitGatewayAddress": "169.254.6.2",
            "PeerAddress": "169.254.6.1",
            "BgpStatus": "down",
        },
        {
            "TransitGatewayAsn": 64512,
            "PeerAsn": 64512,
            "TransitGatewayAddress": "169.254.6.3",
            "PeerAddress": "169.254.6.1",
            "BgpStatus": "down",
        },
    ]


def test_connect_example_describe_matches_create(world):
    """aws-cli example for create-transit-gateway-connect: pending on create, gre, transport = the VPC attachment."""
    connect = world.ec2.describe_transit_gateway_connects(TransitGatewayAttachmentIds=[world.connect_id])[
        "TransitGatewayConnects"
    ][0]
    assert connect["TransportTransitGatewayAttachmentId"] == world.vpc_attachment_id
    assert connect["TransitGatewayId"] == world.tgw_id
    assert connect["Options"] == {"Protocol": "gre"}
    assert connect["State"] == "available"
    new_id = make_connect(world.ec2, world.vpc_attachment_id)
    assert new_id.startswith("tgw-attach-")


# -- the checker itself must catch what boto3 would silently drop ------------------------------------------------
def xml_problems(operation, body):
    return check_raw_response(EC2_MODEL.operation_model(operation), body.encode())


def test_checker_flags_unknown_xml_element():
    body = (
        '<DescribeTransitGatewayConnectsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId>'
        "<transitGatewayConnectSet><item><transitGatewayAttachmentId>tgw-attach-1</transitGatewayAttachmentId>"
        "<bogusField>x</bogusField></item></transitGatewayConnectSet></DescribeTransitGatewayConnectsResponse>"
    )
    assert xml_problems("DescribeTransitGatewayConnects", body) == [
        "DescribeTransitGatewayConnects.TransitGatewayConnects[0]: element <bogusField> is not in the model"
    ]


@pytest.mark.parametrize(
    "fragment, expected",
    [
        ("<state>sleeping</state>", "is not one of the model's values"),
        ("<creationTime>yesterday</creationTime>", "does not parse"),
        ("<options><protocol>gre</protocol><mtu>8500</mtu></options>", "element <mtu> is not in the model"),
    ],
)
def test_checker_flags_bad_values_and_nested_unknowns(fragment, expected):
    body = (
        "<DescribeTransitGatewayConnectsResponse><transitGatewayConnectSet><item>%s</item></transitGatewayConnectSet>"
        "</DescribeTransitGatewayConnectsResponse>" % fragment
    )
    problems = xml_problems("DescribeTransitGatewayConnects", body)
    assert len(problems) == 1 and expected in problems[0]


def test_checker_flags_list_items_with_wrong_element_name():
    shape = EC2_MODEL.operation_model("DescribeTransitGatewayConnects").output_shape
    element = ElementTree.fromstring(
        "<r><transitGatewayConnectSet><member><state>available</state></member></transitGatewayConnectSet></r>"
    )
    problems = []
    check_ec2_xml(element, shape, "op", problems, top=True)
    assert problems == ["op.TransitGatewayConnects: list item <member>, the model says <item>"]


def test_checker_flags_unknown_json_keys_and_enum_values():
    model = botocore.session.get_session().get_service_model("network-firewall")
    shape = model.operation_model("ListRuleGroups").output_shape
    problems = []
    check_json(
        {"RuleGroups": [{"Name": "a", "Arn": "arn:x", "Colour": "red"}], "NextToken": "t"}, shape, "ListRuleGroups", problems
    )
    assert problems == ["ListRuleGroups.RuleGroups[0]: key 'Colour' is not in the model"]
