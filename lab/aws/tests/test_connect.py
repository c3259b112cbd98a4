"""TGW Connect semantics, one test per rule (AWS's documented behaviour; codes marked in lab/aws/ec2_connect.py)."""

import time

import pytest

from lab.aws.state import Lifecycle
from lab.aws.tests.conftest import error_code, make_connect, make_peer, make_vpc


def peer_ids(ec2, **kwargs):
    return [
        peer["TransitGatewayConnectPeerId"]
        for peer in ec2.describe_transit_gateway_connect_peers(**kwargs)["TransitGatewayConnectPeers"]
    ]


@pytest.mark.parametrize(
    "inside",
    [
        ["169.254.6.0/28"],  # not a /29
        ["10.0.0.0/29"],  # outside 169.254.0.0/16
        ["169.254.6.1/29"],  # host bits set
        ["fd00::/125"],  # no IPv4 block
        ["169.254.6.0/29", "169.254.7.0/29"],  # two IPv4 blocks
        ["169.254.6.0/29", "fe80::/125"],  # IPv6 outside fd00::/8
        ["169.254.6.0/29", "fd00::/124"],  # IPv6 not a /125
        ["not-a-cidr"],
    ],
)
def test_inside_cidr_must_be_one_ipv4_slash29_in_link_local_and_optional_ipv6_slash125(world, inside):
    code = error_code(
        world.ec2.create_transit_gateway_connect_peer,
        TransitGatewayAttachmentId=world.connect_id,
        PeerAddress="10.0.1.10",
        InsideCidrBlocks=inside,
    )
    assert code == "InvalidParameterValue"


def test_inside_cidr_with_ipv6_block_is_accepted(world):
    peer = make_peer(world.ec2, world.connect_id, "169.254.6.0/29")
    dual = world.ec2.create_transit_gateway_connect_peer(
        TransitGatewayAttachmentId=world.connect_id, PeerAddress="10.0.1.11", InsideCidrBlocks=["169.254.7.0/29", "fd00::/125"]
    )["TransitGatewayConnectPeer"]
    assert dual["ConnectPeerConfiguration"]["InsideCidrBlocks"] == ["169.254.7.0/29", "fd00::/125"]
    # BGP runs over IPv4: still two sessions, on the IPv4 block.
    assert [bgp["TransitGatewayAddress"] for bgp in dual["ConnectPeerConfiguration"]["BgpConfigurations"]] == [
        "169.254.7.2",
        "169.254.7.3",
    ]
    assert peer["State"] == "pending"


@pytest.mark.parametrize(
    "reserved",
    [
        "169.254.0.0/29",
        "169.254.1.0/29",
        "169.254.2.0/29",
        "169.254.3.0/29",
        "169.254.4.0/29",
        "169.254.5.0/29",
        "169.254.169.248/29",
    ],
)
def test_reserved_inside_cidrs_are_refused(world, reserved):
    assert error_code(make_peer, world.ec2, world.connect_id, reserved) == "InvalidParameterValue"


def test_inside_cidr_is_unique_per_tgw_across_connect_attachments(world):
    ec2 = world.ec2
    first = make_peer(ec2, world.connect_id, "169.254.6.0/29")
    other_connect = make_connect(ec2, world.vpc_attachment_id)
    assert error_code(make_peer, ec2, other_connect, "169.254.6.0/29", peer_address="10.0.1.20") == "InvalidParameterValue"
    # Another TGW is another address space.
    vpc_id, subnet_id = make_vpc(ec2, "10.5.0.0/16")
    tgw_id = ec2.create_transit_gateway(Options={"TransitGatewayCidrBlocks": ["10.98.0.0/24"]})["TransitGateway"][
        "TransitGatewayId"
    ]
    transport = ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw_id, VpcId=vpc_id, SubnetIds=[subnet_id])
    elsewhere = make_connect(ec2, transport["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"])
    assert make_peer(ec2, elsewhere, "169.254.6.0/29")["State"] == "pending"
    # Once the first peer is deleted (deleting_seconds is 0 here), its block is free again on this TGW.
    ec2.delete_transit_gateway_connect_peer(TransitGatewayConnectPeerId=first["TransitGatewayConnectPeerId"])
    assert make_peer(ec2, other_connect, "169.254.6.0/29", peer_address="10.0.1.20")["State"] == "pending"


def test_tgw_address_defaults_to_first_free_address_of_a_tgw_cidr_block(world):
    first = make_peer(world.ec2, world.connect_id, "169.254.6.0/29", peer_address="10.0.1.10")
    second = make_peer(world.ec2, world.connect_id, "169.254.7.0/29", peer_address="10.0.1.11")
    assert first["ConnectPeerConfiguration"]["TransitGatewayAddress"] == "10.99.0.1"
    assert second["ConnectPeerConfiguration"]["TransitGatewayAddress"] == "10.99.0.2"


def test_tgw_address_must_lie_in_a_tgw_cidr_block_and_match_the_peer_family(world):
    ec2 = world.ec2
    assert (
        error_code(make_peer, ec2, world.connect_id, "169.254.6.0/29", TransitGatewayAddress="10.98.0.5")
        == "InvalidParameterValue"
    )
    assert (
        error_code(make_peer, ec2, world.connect_id, "169.254.6.0/29", TransitGatewayAddress="2001:db8::1")
        == "InvalidParameterValue"
    )
    explicit = make_peer(ec2, world.connect_id, "169.254.6.0/29", TransitGatewayAddress="10.99.0.200")
    assert explicit["ConnectPeerConfiguration"]["TransitGatewayAddress"] == "10.99.0.200"


def test_tgw_without_cidr_block_cannot_pick_a_tgw_address(ec2):
    vpc_id, subnet_id = make_vpc(ec2, "10.6.0.0/16")
    tgw_id = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    transport = ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw_id, VpcId=vpc_id, SubnetIds=[subnet_id])
    connect_id = make_connect(ec2, transport["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"])
    assert error_code(make_peer, ec2, connect_id, "169.254.6.0/29") == "InvalidParameterValue"


def test_peer_and_tgw_address_pair_is_unique(world):
    ec2 = world.ec2
    make_peer(ec2, world.connect_id, "169.254.6.0/29", TransitGatewayAddress="10.99.0.10")
    assert (
        error_code(make_peer, ec2, world.connect_id, "169.254.7.0/29", TransitGatewayAddress="10.99.0.10")
        == "InvalidParameterValue"
    )
    # Same peer address towards another TGW address is another tunnel: allowed.
    other = make_peer(ec2, world.connect_id, "169.254.7.0/29", TransitGatewayAddress="10.99.0.11")
    assert other["ConnectPeerConfiguration"]["PeerAddress"] == "10.0.1.10"


def test_at_most_four_peers_per_connect_attachment(world):
    for index in range(4):
        make_peer(world.ec2, world.connect_id, "169.254.%d.0/29" % (10 + index), peer_address="10.0.1.%d" % (10 + index))
    code = error_code(make_peer, world.ec2, world.connect_id, "169.254.20.0/29", peer_address="10.0.1.20")
    assert code == "TransitGatewayConnectPeerLimitExceeded"


def test_transport_must_be_an_existing_vpc_attachment(world):
    ec2 = world.ec2
    assert error_code(make_connect, ec2, "tgw-attach-0123456789abcdef0") == "InvalidTransitGatewayAttachmentID.NotFound"
    assert error_code(make_connect, ec2, world.connect_id) == "InvalidParameterValue"


def test_transport_must_be_available(aws, world):
    ec2 = world.ec2
    aws.set_knobs(vpc_attachment_pending_seconds=0.4)
    vpc_id, subnet_id = make_vpc(ec2, "10.4.0.0/16")
    transport = ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=world.tgw_id, VpcId=vpc_id, SubnetIds=[subnet_id])
    transport_id = transport["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    assert transport["TransitGatewayVpcAttachment"]["State"] == "pending"
    assert error_code(make_connect, ec2, transport_id) == "IncorrectState"
    time.sleep(0.5)
    assert ec2.describe_transit_gateway_vpc_attachments(TransitGatewayAttachmentIds=[transport_id])[
        "TransitGatewayVpcAttachments"
    ][0]["State"] == ("available")
    assert make_connect(ec2, transport_id).startswith("tgw-attach-")


def test_deleting_connect_attachment_with_peers_fails(world):
    ec2 = world.ec2
    peer = make_peer(ec2, world.connect_id, "169.254.6.0/29")
    assert error_code(ec2.delete_transit_gateway_connect, TransitGatewayAttachmentId=world.connect_id) == "IncorrectState"
    ec2.delete_transit_gateway_connect_peer(TransitGatewayConnectPeerId=peer["TransitGatewayConnectPeerId"])
    deleted = ec2.delete_transit_gateway_connect(TransitGatewayAttachmentId=world.connect_id)["TransitGatewayConnect"]
    assert deleted["State"] == "deleting"


def test_peers_go_pending_then_available_and_deleting_then_deleted_then_gone(aws, world):
    ec2 = world.ec2
    # Delays long enough that a loaded machine cannot skip a state between two calls.
    aws.set_knobs(connect_peer_pending_seconds=2, deleting_seconds=2, deleted_retention_seconds=2)
    peer_id = make_peer(ec2, world.connect_id, "169.254.6.0/29")["TransitGatewayConnectPeerId"]

    def state():
        peers = ec2.describe_transit_gateway_connect_peers(TransitGatewayConnectPeerIds=[peer_id])["TransitGatewayConnectPeers"]
        return peers[0]["State"]

    assert state() == "pending"
    time.sleep(2.2)
    assert state() == "available"
    assert (
        ec2.delete_transit_gateway_connect_peer(TransitGatewayConnectPeerId=peer_id)["TransitGatewayConnectPeer"]["State"]
        == "deleting"
    )
    assert state() == "deleting"
    assert error_code(ec2.delete_transit_gateway_connect_peer, TransitGatewayConnectPeerId=peer_id) == "IncorrectState"
    time.sleep(2.2)
    assert state() == "deleted"
    assert peer_ids(ec2, Filters=[{"Name": "state", "Values": ["pending", "available", "deleting"]}]) == []
    time.sleep(2.2)
    assert error_code(ec2.describe_transit_gateway_connect_peers, TransitGatewayConnectPeerIds=[peer_id]) == (
        "InvalidTransitGatewayConnectPeerID.NotFound"
    )


def test_connect_attachment_goes_pending_then_available_and_peers_wait_for_it(aws, world):
    ec2 = world.ec2
    aws.set_knobs(connect_pending_seconds=2)
    connect_id = make_connect(ec2, world.vpc_attachment_id)
    assert (
        ec2.describe_transit_gateway_connects(TransitGatewayAttachmentIds=[connect_id])["TransitGatewayConnects"][0]["State"]
        == "pending"
    )
    assert error_code(make_peer, ec2, connect_id, "169.254.6.0/29") == "IncorrectState"
    time.sleep(2.2)
    assert make_peer(ec2, connect_id, "169.254.6.0/29")["State"] == "pending"


def test_deleted_connect_attachment_stays_describable_for_the_retention_time(aws, world):
    ec2 = world.ec2
    aws.set_knobs(deleted_retention_seconds=0.4)
    ec2.delete_transit_gateway_connect(TransitGatewayAttachmentId=world.connect_id)
    described = ec2.describe_transit_gateway_connects(TransitGatewayAttachmentIds=[world.connect_id])["TransitGatewayConnects"]
    assert described[0]["State"] == "deleted"
    attachments = ec2.describe_transit_gateway_attachments(TransitGatewayAttachmentIds=[world.connect_id])[
        "TransitGatewayAttachments"
    ]
    assert attachments[0]["State"] == "deleted" and "Association" not in attachments[0]
    time.sleep(0.5)
    assert ec2.describe_transit_gateway_connects()["TransitGatewayConnects"] == []


def test_connect_attachments_are_listed_as_attachments_of_resource_type_connect(world):
    attachments = world.ec2.describe_transit_gateway_attachments(Filters=[{"Name": "resource-type", "Values": ["connect"]}])[
        "TransitGatewayAttachments"
    ]
    assert [(a["TransitGatewayAttachmentId"], a["ResourceType"], a["ResourceId"]) for a in attachments] == [
        (world.connect_id, "connect", world.vpc_attachment_id)
    ]
    # ... and not as VPC attachments (moto would list every attachment type there).
    vpc_attachments = world.ec2.describe_transit_gateway_vpc_attachments()["TransitGatewayVpcAttachments"]
    assert [a["TransitGatewayAttachmentId"] for a in vpc_attachments] == [world.vpc_attachment_id]


def test_describe_connects_filters_tags_and_pagination(world):
    ec2 = world.ec2
    tagged = make_connect(
        ec2,
        world.vpc_attachment_id,
        TagSpecifications=[{"ResourceType": "transit-gateway-attachment", "Tags": [{"Key": "cluster", "Value": "blue"}]}],
    )
    for _index in range(5):
        make_connect(ec2, world.vpc_attachment_id)
    by_tag = ec2.describe_transit_gateway_connects(Filters=[{"Name": "tag:cluster", "Values": ["blue"]}])[
        "TransitGatewayConnects"
    ]
    assert [c["TransitGatewayAttachmentId"] for c in by_tag] == [tagged]
    assert by_tag[0]["Tags"] == [{"Key": "cluster", "Value": "blue"}]
    for name, value in (
        ("transport-transit-gateway-attachment-id", world.vpc_attachment_id),
        ("transit-gateway-id", world.tgw_id),
        ("options.protocol", "gre"),
        ("state", "available"),
    ):
        assert (
            len(ec2.describe_transit_gateway_connects(Filters=[{"Name": name, "Values": [value]}])["TransitGatewayConnects"]) == 7
        )
    one = ec2.describe_transit_gateway_connects(Filters=[{"Name": "transit-gateway-attachment-id", "Values": [tagged]}])
    assert len(one["TransitGatewayConnects"]) == 1
    first = ec2.describe_transit_gateway_connects(MaxResults=5)
    assert len(first["TransitGatewayConnects"]) == 5 and first["NextToken"]
    rest = ec2.describe_transit_gateway_connects(MaxResults=5, NextToken=first["NextToken"])
    assert len(rest["TransitGatewayConnects"]) == 2 and "NextToken" not in rest
    paginator = ec2.get_paginator("describe_transit_gateway_connects")
    assert sum(len(page["TransitGatewayConnects"]) for page in paginator.paginate(PaginationConfig={"PageSize": 5})) == 7
    assert (
        error_code(ec2.describe_transit_gateway_connects, Filters=[{"Name": "colour", "Values": ["x"]}])
        == "InvalidParameterValue"
    )
    assert error_code(ec2.describe_transit_gateway_connects, NextToken="garbage") == "InvalidPaginationToken"


def test_describe_unknown_ids_are_not_found(world):
    ec2 = world.ec2
    code = error_code(ec2.describe_transit_gateway_connects, TransitGatewayAttachmentIds=["tgw-attach-0000000000000000f"])
    assert code == "InvalidTransitGatewayAttachmentID.NotFound"
    code = error_code(
        ec2.describe_transit_gateway_connect_peers, TransitGatewayConnectPeerIds=["tgw-connect-peer-0000000000000000f"]
    )
    assert code == "InvalidTransitGatewayConnectPeerID.NotFound"
    assert error_code(
        ec2.delete_transit_gateway_connect_peer, TransitGatewayConnectPeerId="tgw-connect-peer-0000000000000000f"
    ) == ("InvalidTransitGatewayConnectPeerID.NotFound")
    assert error_code(make_peer, ec2, world.vpc_attachment_id, "169.254.6.0/29") == "InvalidTransitGatewayAttachmentID.NotFound"


def test_peer_filters_and_tags(world):
    ec2 = world.ec2
    tagged = make_peer(
        ec2,
        world.connect_id,
        "169.254.6.0/29",
        TagSpecifications=[{"ResourceType": "transit-gateway-connect-peer", "Tags": [{"Key": "node", "Value": "n1"}]}],
    )["TransitGatewayConnectPeerId"]
    other = make_peer(ec2, world.connect_id, "169.254.7.0/29", peer_address="10.0.1.11")["TransitGatewayConnectPeerId"]
    assert peer_ids(ec2, Filters=[{"Name": "tag:node", "Values": ["n1"]}]) == [tagged]
    assert peer_ids(ec2, Filters=[{"Name": "transit-gateway-connect-peer-id", "Values": [other]}]) == [other]
    assert sorted(peer_ids(ec2, Filters=[{"Name": "transit-gateway-attachment-id", "Values": [world.connect_id]}])) == sorted(
        [tagged, other]
    )
    assert peer_ids(ec2, Filters=[{"Name": "state", "Values": ["available"]}]) == [tagged, other]


def test_peer_asn_defaults_to_tgw_asn_and_amazon_asns_are_refused(world):
    ec2 = world.ec2
    ebgp = make_peer(ec2, world.connect_id, "169.254.6.0/29", BgpOptions={"PeerAsn": 65010})
    assert {bgp["PeerAsn"] for bgp in ebgp["ConnectPeerConfiguration"]["BgpConfigurations"]} == {65010}
    assert error_code(
        make_peer, ec2, world.connect_id, "169.254.7.0/29", peer_address="10.0.1.11", BgpOptions={"PeerAsn": 7224}
    ) == ("InvalidParameterValue")


def test_bgp_status_comes_from_the_provider_per_session(aws, world):
    ec2 = world.ec2
    peer_id = make_peer(ec2, world.connect_id, "169.254.6.0/29")["TransitGatewayConnectPeerId"]

    def statuses():
        peer = ec2.describe_transit_gateway_connect_peers(TransitGatewayConnectPeerIds=[peer_id])["TransitGatewayConnectPeers"][0]
        return {bgp["TransitGatewayAddress"]: bgp["BgpStatus"] for bgp in peer["ConnectPeerConfiguration"]["BgpConfigurations"]}

    assert statuses() == {"169.254.6.2": "down", "169.254.6.3": "down"}
    aws.set_bgp_status(peer_id, {"169.254.6.2": "up"})
    assert statuses() == {"169.254.6.2": "up", "169.254.6.3": "down"}
    aws.set_bgp_status(peer_id, "up")
    assert statuses() == {"169.254.6.2": "up", "169.254.6.3": "up"}


def test_dry_run_answers_dry_run_operation_and_changes_nothing(aws, world):
    ec2 = world.ec2
    code = error_code(
        ec2.create_transit_gateway_connect_peer,
        TransitGatewayAttachmentId=world.connect_id,
        PeerAddress="10.0.1.10",
        InsideCidrBlocks=["169.254.6.0/29"],
        DryRun=True,
    )
    assert code == "DryRunOperation"
    assert error_code(ec2.describe_transit_gateway_connect_peers, DryRun=True) == "DryRunOperation"
    assert peer_ids(ec2) == []
    assert [call["error_code"] for call in aws.calls()[-3:]] == ["DryRunOperation", "DryRunOperation", None]


def test_tag_specification_for_another_resource_type_is_refused(world):
    code = error_code(
        make_peer,
        world.ec2,
        world.connect_id,
        "169.254.6.0/29",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "a", "Value": "b"}]}],
    )
    assert code == "InvalidParameterValue"


def test_lifecycle_captures_delays_when_transitions_start(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr("lab.aws.state.time.monotonic", lambda: clock[0])
    life = Lifecycle(pending_seconds=5)
    assert life.state == "pending"
    clock[0] = 105.0
    assert life.state == "available"
    life.delete(deleting_seconds=2, retention_seconds=10)
    assert (life.state, life.expired) == ("deleting", False)
    clock[0] = 107.0
    assert (life.state, life.expired) == ("deleted", False)
    clock[0] = 117.0
    assert life.expired


def test_connect_peers_can_be_tagged_and_their_tags_described(world):
    ec2 = world.ec2
    peer_id = make_peer(ec2, world.connect_id, "169.254.6.0/29")["TransitGatewayConnectPeerId"]
    ec2.create_tags(Resources=[peer_id, world.connect_id], Tags=[{"Key": "owner", "Value": "calico"}])
    tags = ec2.describe_tags(Filters=[{"Name": "resource-type", "Values": ["transit-gateway-connect-peer"]}])["Tags"]
    assert tags == [{"ResourceId": peer_id, "ResourceType": "transit-gateway-connect-peer", "Key": "owner", "Value": "calico"}]
    assert peer_ids(ec2, Filters=[{"Name": "tag:owner", "Values": ["calico"]}]) == [peer_id]
    ec2.delete_tags(Resources=[peer_id], Tags=[{"Key": "owner"}])
    assert peer_ids(ec2, Filters=[{"Name": "tag-key", "Values": ["owner"]}]) == []
    assert error_code(ec2.create_tags, Resources=["tgw-connect-peer-0000000000000000f"], Tags=[{"Key": "a", "Value": "b"}]) == (
        "InvalidTransitGatewayConnectPeerID.NotFound"
    )
    # moto still validates the ids it knows.
    assert (
        error_code(ec2.create_tags, Resources=["vpc-0000000000000000f"], Tags=[{"Key": "a", "Value": "b"}])
        == "InvalidVpcID.NotFound"
    )
