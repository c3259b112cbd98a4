"""TGW routing semantics moto lacks: CIDR blocks, associations, propagations, static routes, search, propagated routes."""

import time

import pytest

from lab.aws.tests.conftest import TGW_CIDR, error_code, make_connect, make_peer, make_vpc


def cidr_blocks(ec2, tgw_id):
    return ec2.describe_transit_gateways(TransitGatewayIds=[tgw_id])["TransitGateways"][0]["Options"].get(
        "TransitGatewayCidrBlocks", []
    )


def modify_blocks(ec2, tgw_id, add=(), remove=()):
    options = {}
    if add:
        options["AddTransitGatewayCidrBlocks"] = list(add)
    if remove:
        options["RemoveTransitGatewayCidrBlocks"] = list(remove)
    return ec2.modify_transit_gateway(TransitGatewayId=tgw_id, Options=options)["TransitGateway"]


def search(ec2, table_id, *filters, **kwargs):
    response = ec2.search_transit_gateway_routes(
        TransitGatewayRouteTableId=table_id,
        Filters=[{"Name": name, "Values": list(values)} for name, values in filters],
        **kwargs,
    )
    return response


def destinations(response):
    return sorted(route["DestinationCidrBlock"] for route in response["Routes"])


# -- CIDR blocks ---------------------------------------------------------------------------------------------------
def test_add_and_remove_tgw_cidr_blocks_are_honoured(world):
    ec2 = world.ec2
    modified = modify_blocks(ec2, world.tgw_id, add=["10.98.0.0/24", "2001:db8:1::/64"])
    assert modified["Options"]["TransitGatewayCidrBlocks"] == [TGW_CIDR, "10.98.0.0/24", "2001:db8:1::/64"]
    modify_blocks(ec2, world.tgw_id, remove=[TGW_CIDR])
    assert cidr_blocks(ec2, world.tgw_id) == ["10.98.0.0/24", "2001:db8:1::/64"]
    # Other options are left alone.
    assert (
        ec2.describe_transit_gateways(TransitGatewayIds=[world.tgw_id])["TransitGateways"][0]["Options"]["AmazonSideAsn"] == 64512
    )


@pytest.mark.parametrize(
    "blocks",
    [["10.98.0.0/25"], ["2001:db8::/65"], ["10.99.0.128/25"], ["169.254.100.0/24"], ["10.98.0.1/24"], ["a.b.c.d/24"]],
)
def test_invalid_tgw_cidr_blocks_are_refused(world, blocks):
    assert error_code(modify_blocks, world.ec2, world.tgw_id, add=blocks) == "InvalidParameterValue"


def test_at_most_five_tgw_cidr_blocks(world):
    modify_blocks(world.ec2, world.tgw_id, add=["10.91.0.0/24", "10.92.0.0/24", "10.93.0.0/24", "10.94.0.0/24"])
    assert error_code(modify_blocks, world.ec2, world.tgw_id, add=["10.95.0.0/24"]) == "TransitGatewayLimitExceeded"


def test_tgw_cidr_blocks_are_validated_at_creation(ec2):
    assert (
        error_code(ec2.create_transit_gateway, Options={"TransitGatewayCidrBlocks": ["10.0.0.0/28"]}) == "InvalidParameterValue"
    )


def test_removing_a_block_in_use_or_absent_is_refused(world):
    make_peer(world.ec2, world.connect_id, "169.254.6.0/29")
    assert error_code(modify_blocks, world.ec2, world.tgw_id, remove=[TGW_CIDR]) == "IncorrectState"
    assert error_code(modify_blocks, world.ec2, world.tgw_id, remove=["10.97.0.0/24"]) == "InvalidParameterValue"


# -- associations and propagations --------------------------------------------------------------------------------
def test_associating_an_associated_attachment_is_already_associated(world):
    ec2 = world.ec2
    table_id = ec2.create_transit_gateway_route_table(TransitGatewayId=world.tgw_id)["TransitGatewayRouteTable"][
        "TransitGatewayRouteTableId"
    ]
    code = error_code(
        ec2.associate_transit_gateway_route_table,
        TransitGatewayRouteTableId=table_id,
        TransitGatewayAttachmentId=world.vpc_attachment_id,
    )
    assert code == "Resource.AlreadyAssociated"
    ec2.disassociate_transit_gateway_route_table(
        TransitGatewayRouteTableId=world.default_table_id, TransitGatewayAttachmentId=world.vpc_attachment_id
    )
    association = ec2.associate_transit_gateway_route_table(
        TransitGatewayRouteTableId=table_id, TransitGatewayAttachmentId=world.vpc_attachment_id
    )["Association"]
    assert (association["State"], association["ResourceType"], association["ResourceId"]) == ("associating", "vpc", world.vpc_id)
    attachment = ec2.describe_transit_gateway_attachments(TransitGatewayAttachmentIds=[world.vpc_attachment_id])[
        "TransitGatewayAttachments"
    ][0]
    assert attachment["Association"] == {"TransitGatewayRouteTableId": table_id, "State": "associated"}
    listed = ec2.get_transit_gateway_route_table_associations(TransitGatewayRouteTableId=table_id)["Associations"]
    assert [item["TransitGatewayAttachmentId"] for item in listed] == [world.vpc_attachment_id]
    filtered = ec2.describe_transit_gateway_attachments(
        Filters=[{"Name": "association.transit-gateway-route-table-id", "Values": [table_id]}]
    )
    assert [a["TransitGatewayAttachmentId"] for a in filtered["TransitGatewayAttachments"]] == [world.vpc_attachment_id]


def test_disassociating_from_a_table_it_is_not_associated_with_fails(world):
    ec2 = world.ec2
    table_id = ec2.create_transit_gateway_route_table(TransitGatewayId=world.tgw_id)["TransitGatewayRouteTable"][
        "TransitGatewayRouteTableId"
    ]
    code = error_code(
        ec2.disassociate_transit_gateway_route_table,
        TransitGatewayRouteTableId=table_id,
        TransitGatewayAttachmentId=world.vpc_attachment_id,
    )
    assert code == "InvalidAssociation.NotFound"


def test_default_route_table_options_decide_association_and_propagation_of_new_attachments(ec2):
    vpc_id, subnet_id = make_vpc(ec2, "10.7.0.0/16")
    tgw = ec2.create_transit_gateway(
        Options={"DefaultRouteTableAssociation": "disable", "DefaultRouteTablePropagation": "disable"}
    )["TransitGateway"]
    attachment_id = ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=tgw["TransitGatewayId"], VpcId=vpc_id, SubnetIds=[subnet_id]
    )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    attachment = ec2.describe_transit_gateway_attachments(TransitGatewayAttachmentIds=[attachment_id])[
        "TransitGatewayAttachments"
    ][0]
    assert "Association" not in attachment
    assert (
        ec2.get_transit_gateway_attachment_propagations(TransitGatewayAttachmentId=attachment_id)[
            "TransitGatewayAttachmentPropagations"
        ]
        == []
    )


def test_connect_attachment_follows_the_default_route_table_options(world):
    propagations = world.ec2.get_transit_gateway_attachment_propagations(TransitGatewayAttachmentId=world.connect_id)
    assert propagations["TransitGatewayAttachmentPropagations"] == [
        {"TransitGatewayRouteTableId": world.default_table_id, "State": "enabled"}
    ]


def test_attachment_propagations_list_every_table_and_filter(world):
    ec2 = world.ec2
    table_id = ec2.create_transit_gateway_route_table(TransitGatewayId=world.tgw_id)["TransitGatewayRouteTable"][
        "TransitGatewayRouteTableId"
    ]
    propagation = ec2.enable_transit_gateway_route_table_propagation(
        TransitGatewayRouteTableId=table_id, TransitGatewayAttachmentId=world.connect_id
    )["Propagation"]
    assert propagation["State"] == "enabled"
    listed = ec2.get_transit_gateway_attachment_propagations(TransitGatewayAttachmentId=world.connect_id)[
        "TransitGatewayAttachmentPropagations"
    ]
    assert sorted(item["TransitGatewayRouteTableId"] for item in listed) == sorted([world.default_table_id, table_id])
    only = ec2.get_transit_gateway_attachment_propagations(
        TransitGatewayAttachmentId=world.connect_id, Filters=[{"Name": "transit-gateway-route-table-id", "Values": [table_id]}]
    )["TransitGatewayAttachmentPropagations"]
    assert only == [{"TransitGatewayRouteTableId": table_id, "State": "enabled"}]
    code = error_code(
        ec2.enable_transit_gateway_route_table_propagation,
        TransitGatewayRouteTableId=table_id,
        TransitGatewayAttachmentId=world.connect_id,
    )
    assert code == "TransitGatewayRouteTablePropagation.Duplicate"
    ec2.disable_transit_gateway_route_table_propagation(
        TransitGatewayRouteTableId=table_id, TransitGatewayAttachmentId=world.connect_id
    )
    code = error_code(
        ec2.disable_transit_gateway_route_table_propagation,
        TransitGatewayRouteTableId=table_id,
        TransitGatewayAttachmentId=world.connect_id,
    )
    assert code == "TransitGatewayRouteTablePropagation.NotFound"
    assert error_code(
        ec2.get_transit_gateway_attachment_propagations, TransitGatewayAttachmentId="tgw-attach-0000000000000000f"
    ) == ("InvalidTransitGatewayAttachmentID.NotFound")


# -- static routes ---------------------------------------------------------------------------------------------------
def test_duplicate_static_route_is_route_already_exists_and_replace_changes_it(world):
    ec2 = world.ec2
    table = world.default_table_id
    route = ec2.create_transit_gateway_route(
        TransitGatewayRouteTableId=table, DestinationCidrBlock="0.0.0.0/0", TransitGatewayAttachmentId=world.vpc_attachment_id
    )["Route"]
    assert (route["Type"], route["State"], route["TransitGatewayAttachments"][0]["TransitGatewayAttachmentId"]) == (
        "static",
        "active",
        world.vpc_attachment_id,
    )
    code = error_code(
        ec2.create_transit_gateway_route, TransitGatewayRouteTableId=table, DestinationCidrBlock="0.0.0.0/0", Blackhole=True
    )
    assert code == "RouteAlreadyExists"
    replaced = ec2.replace_transit_gateway_route(
        TransitGatewayRouteTableId=table, DestinationCidrBlock="0.0.0.0/0", Blackhole=True
    )["Route"]
    assert (replaced["State"], "TransitGatewayAttachments" in replaced) == ("blackhole", False)
    assert search(ec2, table, ("route-search.exact-match", ["0.0.0.0/0"]))["Routes"][0]["State"] == "blackhole"
    assert (
        ec2.delete_transit_gateway_route(TransitGatewayRouteTableId=table, DestinationCidrBlock="0.0.0.0/0")["Route"]["State"]
        == "deleted"
    )
    code = error_code(
        ec2.replace_transit_gateway_route, TransitGatewayRouteTableId=table, DestinationCidrBlock="0.0.0.0/0", Blackhole=True
    )
    assert code == "InvalidRoute.NotFound"
    assert (
        error_code(ec2.delete_transit_gateway_route, TransitGatewayRouteTableId=table, DestinationCidrBlock="0.0.0.0/0")
        == "InvalidRoute.NotFound"
    )


def test_static_route_needs_exactly_one_target_and_a_known_table(world):
    ec2 = world.ec2
    assert error_code(
        ec2.create_transit_gateway_route, TransitGatewayRouteTableId=world.default_table_id, DestinationCidrBlock="10.8.0.0/16"
    ) == ("InvalidParameterCombination")
    assert error_code(
        ec2.create_transit_gateway_route,
        TransitGatewayRouteTableId="tgw-rtb-0000000000000000f",
        DestinationCidrBlock="10.8.0.0/16",
        Blackhole=True,
    ) == ("InvalidRouteTableID.NotFound")


# -- search and propagated routes ------------------------------------------------------------------------------------
@pytest.fixture
def routed(aws, world):
    """Default table: VPC 10.0.0.0/16 propagated, a peer advertising two prefixes (BGP up), static routes."""
    ec2 = world.ec2
    peer_id = make_peer(ec2, world.connect_id, "169.254.6.0/29")["TransitGatewayConnectPeerId"]
    aws.advertise(peer_id, ["10.10.10.0/31", "10.10.0.0/16"])
    aws.set_bgp_status(peer_id, "up")
    table = world.default_table_id
    ec2.create_transit_gateway_route(
        TransitGatewayRouteTableId=table, DestinationCidrBlock="10.0.0.0/8", TransitGatewayAttachmentId=world.vpc_attachment_id
    )
    ec2.create_transit_gateway_route(TransitGatewayRouteTableId=table, DestinationCidrBlock="192.168.0.0/16", Blackhole=True)
    world.peer_id = peer_id
    return world


def test_search_type_state_and_attachment_filters(routed):
    ec2, table = routed.ec2, routed.default_table_id
    everything = ["10.0.0.0/16", "10.0.0.0/8", "10.10.0.0/16", "10.10.10.0/31", "192.168.0.0/16"]
    assert destinations(search(ec2, table, ("state", ["active", "blackhole"]))) == everything
    assert destinations(search(ec2, table, ("type", ["propagated"]))) == ["10.0.0.0/16", "10.10.0.0/16", "10.10.10.0/31"]
    assert destinations(search(ec2, table, ("type", ["static"]))) == ["10.0.0.0/8", "192.168.0.0/16"]
    assert destinations(search(ec2, table, ("state", ["blackhole"]))) == ["192.168.0.0/16"]
    assert destinations(search(ec2, table, ("attachment.resource-type", ["connect"]))) == ["10.10.0.0/16", "10.10.10.0/31"]
    assert destinations(search(ec2, table, ("attachment.transit-gateway-attachment-id", [routed.vpc_attachment_id]))) == [
        "10.0.0.0/16",
        "10.0.0.0/8",
    ]
    assert destinations(search(ec2, table, ("attachment.resource-id", [routed.vpc_id]))) == ["10.0.0.0/16", "10.0.0.0/8"]
    assert destinations(search(ec2, table, ("prefix-list-id", ["pl-0123456789abcdef0"]))) == []
    assert destinations(search(ec2, table, ("type", ["propagated"]), ("attachment.resource-type", ["vpc"]))) == ["10.0.0.0/16"]
    assert error_code(search, ec2, table, ("next-hop", ["x"])) == "InvalidParameterValue"


def test_search_route_matching_filters(routed):
    ec2, table = routed.ec2, routed.default_table_id
    assert destinations(search(ec2, table, ("route-search.exact-match", ["10.10.10.0/31"]))) == ["10.10.10.0/31"]
    assert destinations(search(ec2, table, ("route-search.longest-prefix-match", ["10.10.10.1/32"]))) == ["10.10.10.0/31"]
    assert destinations(search(ec2, table, ("route-search.longest-prefix-match", ["10.10.20.0/24"]))) == ["10.10.0.0/16"]
    assert destinations(search(ec2, table, ("route-search.longest-prefix-match", ["10.200.0.0/24"]))) == ["10.0.0.0/8"]
    assert destinations(search(ec2, table, ("route-search.subnet-of-match", ["10.10.0.0/16"]))) == [
        "10.10.0.0/16",
        "10.10.10.0/31",
    ]
    assert destinations(search(ec2, table, ("route-search.supernet-of-match", ["10.10.10.0/24"]))) == [
        "10.0.0.0/8",
        "10.10.0.0/16",
    ]
    assert destinations(search(ec2, table, ("route-search.supernet-of-match", ["172.16.0.0/24"]))) == []


def test_search_pagination_reports_additional_routes(routed):
    ec2, table = routed.ec2, routed.default_table_id
    ec2.create_transit_gateway_route(TransitGatewayRouteTableId=table, DestinationCidrBlock="172.16.0.0/16", Blackhole=True)
    first = search(ec2, table, ("state", ["active", "blackhole"]), MaxResults=5)
    assert len(first["Routes"]) == 5 and first["AdditionalRoutesAvailable"] is True
    rest = search(ec2, table, ("state", ["active", "blackhole"]), MaxResults=5, NextToken=first["NextToken"])
    assert len(rest["Routes"]) == 1 and rest["AdditionalRoutesAvailable"] is False
    assert search(ec2, table, ("state", ["active"]))["AdditionalRoutesAvailable"] is False


def test_propagated_routes_need_an_up_session_and_an_enabled_propagation(aws, routed):
    ec2, table = routed.ec2, routed.default_table_id
    connect_routes = ("attachment.resource-type", ["connect"])
    aws.set_bgp_status(routed.peer_id, {"169.254.6.2": "down", "169.254.6.3": "up"})
    assert destinations(search(ec2, table, connect_routes)) == ["10.10.0.0/16", "10.10.10.0/31"]
    aws.set_bgp_status(routed.peer_id, "down")
    assert destinations(search(ec2, table, connect_routes)) == []
    aws.set_bgp_status(routed.peer_id, "up")
    aws.advertise(routed.peer_id, ["10.10.10.0/31"])
    assert destinations(search(ec2, table, connect_routes)) == ["10.10.10.0/31"]
    ec2.disable_transit_gateway_route_table_propagation(
        TransitGatewayRouteTableId=table, TransitGatewayAttachmentId=routed.connect_id
    )
    assert destinations(search(ec2, table, connect_routes)) == []


def test_propagated_route_is_ecmp_across_connect_attachments_and_hidden_by_a_static_route(aws, routed):
    ec2, table = routed.ec2, routed.default_table_id
    second_connect = make_connect(ec2, routed.vpc_attachment_id)
    second_peer = make_peer(ec2, second_connect, "169.254.7.0/29", peer_address="10.0.1.11")["TransitGatewayConnectPeerId"]
    aws.advertise(second_peer, ["10.10.10.0/31"])
    aws.set_bgp_status(second_peer, "up")
    route = search(ec2, table, ("route-search.exact-match", ["10.10.10.0/31"]))["Routes"][0]
    assert sorted(via["TransitGatewayAttachmentId"] for via in route["TransitGatewayAttachments"]) == sorted(
        [routed.connect_id, second_connect]
    )
    ec2.create_transit_gateway_route(TransitGatewayRouteTableId=table, DestinationCidrBlock="10.10.10.0/31", Blackhole=True)
    assert search(ec2, table, ("route-search.exact-match", ["10.10.10.0/31"]))["Routes"] == [
        {"DestinationCidrBlock": "10.10.10.0/31", "Type": "static", "State": "blackhole"}
    ]


def test_deleting_a_connect_attachment_withdraws_its_routes_and_a_used_transport_cannot_go(aws, routed):
    ec2, table = routed.ec2, routed.default_table_id
    code = error_code(ec2.delete_transit_gateway_vpc_attachment, TransitGatewayAttachmentId=routed.vpc_attachment_id)
    assert code == "IncorrectState"
    ec2.delete_transit_gateway_connect_peer(TransitGatewayConnectPeerId=routed.peer_id)
    ec2.delete_transit_gateway_connect(TransitGatewayAttachmentId=routed.connect_id)
    assert destinations(search(ec2, table, ("attachment.resource-type", ["connect"]))) == []
    deleted = ec2.delete_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=routed.vpc_attachment_id)[
        "TransitGatewayVpcAttachment"
    ]
    assert deleted["State"] == "deleting"


def test_tgw_and_route_table_cannot_be_deleted_while_in_use(world):
    ec2 = world.ec2
    assert error_code(ec2.delete_transit_gateway, TransitGatewayId=world.tgw_id) == "IncorrectState"
    assert (
        error_code(ec2.delete_transit_gateway_route_table, TransitGatewayRouteTableId=world.default_table_id) == "IncorrectState"
    )
    empty = ec2.create_transit_gateway_route_table(TransitGatewayId=world.tgw_id)["TransitGatewayRouteTable"][
        "TransitGatewayRouteTableId"
    ]
    assert (
        ec2.delete_transit_gateway_route_table(TransitGatewayRouteTableId=empty)["TransitGatewayRouteTable"]["State"] == "deleted"
    )
    assert error_code(ec2.delete_transit_gateway, TransitGatewayId="tgw-0000000000000000f") == "InvalidTransitGatewayID.NotFound"


def test_deleted_vpc_attachment_goes_deleting_then_deleted_then_gone(aws, ec2):
    aws.set_knobs(deleting_seconds=0.3, deleted_retention_seconds=0.3)
    vpc_id, subnet_id = make_vpc(ec2, "10.8.0.0/16")
    tgw_id = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]

    def attach():
        response = ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw_id, VpcId=vpc_id, SubnetIds=[subnet_id])
        return response["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]

    def states():
        return [a["State"] for a in ec2.describe_transit_gateway_vpc_attachments()["TransitGatewayVpcAttachments"]]

    attachment_id = attach()
    assert (
        ec2.delete_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=attachment_id)["TransitGatewayVpcAttachment"][
            "State"
        ]
        == "deleting"
    )
    assert states() == ["deleting"]
    assert error_code(attach) == "DuplicateTransitGatewayAttachment"
    time.sleep(0.35)
    assert states() == ["deleted"]
    assert error_code(ec2.delete_transit_gateway_vpc_attachment, TransitGatewayAttachmentId=attachment_id) == (
        "InvalidTransitGatewayAttachmentID.NotFound"
    )
    second = attach()
    assert states() == ["available"]
    time.sleep(0.35)
    assert [a["TransitGatewayAttachmentId"] for a in ec2.describe_transit_gateway_attachments()["TransitGatewayAttachments"]] == [
        second
    ]


def test_documented_supernet_of_match_example(world):
    """botocore's documentation: routes 10.0.1.0/29 and 10.0.1.0/31, supernet-of-match 10.0.1.0/30 -> 10.0.1.0/29."""
    ec2, table = world.ec2, world.default_table_id
    for cidr in ("10.0.1.0/29", "10.0.1.0/31"):
        ec2.create_transit_gateway_route(TransitGatewayRouteTableId=table, DestinationCidrBlock=cidr, Blackhole=True)
    static = ("type", ["static"])  # the world's VPC route 10.0.0.0/16 is a supernet too
    assert destinations(search(ec2, table, static, ("route-search.supernet-of-match", ["10.0.1.0/30"]))) == ["10.0.1.0/29"]
    assert destinations(search(ec2, table, static, ("route-search.subnet-of-match", ["10.0.1.0/30"]))) == ["10.0.1.0/31"]
