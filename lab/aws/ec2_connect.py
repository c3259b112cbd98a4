"""TGW Connect attachments and Connect peers (moto implements none of it).

Connect attachments are moto TransitGatewayAttachment objects (resource type "connect") in moto's own
attachment table, so moto's association/propagation code and ours see one state. Connect peers live beside
moto's state on the same backend object, so a moto reset wipes them too.

Error codes: `documented=True` where AWS documents that code for that situation; `documented=False` where
the code (or its use for this situation) is our best guess.
"""

import ipaddress
from datetime import datetime, timezone

from moto.ec2.models.transit_gateway_attachments import TransitGatewayAttachment

from lab.aws.ec2_common import (
    apply_default_route_tables,
    describe,
    detach_from_route_tables,
    new_id,
    tag_list,
    tags_from_specifications,
    tags_of,
)
from lab.aws.errors import ServiceError
from lab.aws.state import Lifecycle

LINK_LOCAL = ipaddress.ip_network("169.254.0.0/16")
UNIQUE_LOCAL = ipaddress.ip_network("fd00::/8")
# Documented: these /29 blocks cannot be inside CIDR blocks of a Connect peer.
RESERVED_INSIDE_CIDRS = [
    ipaddress.ip_network(cidr)
    for cidr in (
        "169.254.0.0/29",
        "169.254.1.0/29",
        "169.254.2.0/29",
        "169.254.3.0/29",
        "169.254.4.0/29",
        "169.254.5.0/29",
        "169.254.169.248/29",
    )
]
MAX_PEERS_PER_CONNECT = 4  # documented quota, not adjustable
AMAZON_ASNS = frozenset((7224, 9059, 10124, 17943))  # documented: not usable as a Connect peer ASN
MAX_ASN = 4294967295


class ConnectAttachment(TransitGatewayAttachment):
    """A Connect attachment in moto's attachment table; its state comes from our lifecycle."""

    def __init__(self, backend, transit_gateway, transport, tags, lifecycle):
        self.lifecycle = lifecycle
        super().__init__(backend, transport.id, "connect", transit_gateway, tags)
        self.transport_attachment_id = transport.id
        self.protocol = "gre"
        self.created = datetime.now(timezone.utc)

    @property
    def state(self):
        return self.lifecycle.state

    @state.setter
    def state(self, value):
        """moto's constructor sets "available"; the lifecycle decides, so the value is ignored."""
        del value


class ConnectPeer:
    def __init__(self, attachment, *, peer_address, tgw_address, inside_cidrs, peer_asn, tgw_asn, lifecycle):
        self.id = new_id("tgw-connect-peer")
        self.attachment_id = attachment.id
        self.transit_gateway_id = attachment.transit_gateway_id
        self.peer_address = peer_address
        self.tgw_address = tgw_address
        self.inside_cidrs = inside_cidrs
        self.peer_asn = peer_asn
        self.tgw_asn = tgw_asn
        self.lifecycle = lifecycle
        self.created = datetime.now(timezone.utc)

    @property
    def state(self):
        return self.lifecycle.state

    @property
    def inside_ipv4(self):
        return next(network for network in self.inside_cidrs if network.version == 4)

    @property
    def peer_bgp_address(self):
        """.1 of the /29: the appliance."""
        return str(self.inside_ipv4[1])

    @property
    def tgw_bgp_addresses(self):
        """.2 and .3 of the /29: the TGW's two BGP speakers (BGP runs over IPv4 only)."""
        return [str(self.inside_ipv4[2]), str(self.inside_ipv4[3])]


class ConnectRegistry:
    def __init__(self):
        self.peers = {}


def registry(backend):
    """Our Connect peers of one moto backend (stored on it, so moto's reset drops them)."""
    found = backend.__dict__.get("_standin_connect")
    if found is None:
        found = backend._standin_connect = ConnectRegistry()  # noqa: SLF001
    return found


def purge_expired(backend):
    """Forget deleted objects once deleted_retention_seconds have passed; refresh moto attachments being deleted."""
    peers = registry(backend).peers
    for peer_id in [peer_id for peer_id, peer in peers.items() if peer.lifecycle.expired]:
        del peers[peer_id]
    attachments = backend.transit_gateway_attachments
    for attachment_id, attachment in list(attachments.items()):
        lifecycle = attachment.__dict__.get("standin_lifecycle")  # a moto VPC attachment whose state we drive
        if lifecycle is not None and not lifecycle.expired:
            attachment.state = lifecycle.state
        elif lifecycle is not None or (isinstance(attachment, ConnectAttachment) and attachment.lifecycle.expired):
            del attachments[attachment_id]


def connect_attachments(backend):
    return [item for item in backend.transit_gateway_attachments.values() if isinstance(item, ConnectAttachment)]


def live_peers(backend, attachment_id=None, transit_gateway_id=None):
    """Peers not yet deleted (deleting ones still hold their addresses)."""
    return [
        peer
        for peer in registry(backend).peers.values()
        if peer.state != "deleted"
        and (attachment_id is None or peer.attachment_id == attachment_id)
        and (transit_gateway_id is None or peer.transit_gateway_id == transit_gateway_id)
    ]


def bgp_status(peer, provider):
    if peer.state != "available":
        return dict.fromkeys(peer.tgw_bgp_addresses, "down")
    reported = provider.bgp_status(peer)
    return {address: reported.get(address, "down") for address in peer.tgw_bgp_addresses}


def tgw_asn(transit_gateway):
    return int(transit_gateway.options.get("AmazonSideAsn") or 64512)


# -- views (dicts keyed by the botocore output shape's member names) -----------------------------------------
def connect_view(backend, attachment, state=None):
    return {
        "TransitGatewayAttachmentId": attachment.id,
        "TransportTransitGatewayAttachmentId": attachment.transport_attachment_id,
        "TransitGatewayId": attachment.transit_gateway_id,
        "State": state or attachment.state,
        "CreationTime": attachment.created,
        "Options": {"Protocol": attachment.protocol},
        "Tags": tag_list(tags_of(backend, attachment.id)),
    }


def peer_view(backend, peer, provider, state=None):
    status = bgp_status(peer, provider)
    return {
        "TransitGatewayAttachmentId": peer.attachment_id,
        "TransitGatewayConnectPeerId": peer.id,
        "State": state or peer.state,
        "CreationTime": peer.created,
        "ConnectPeerConfiguration": {
            "TransitGatewayAddress": peer.tgw_address,
            "PeerAddress": peer.peer_address,
            "InsideCidrBlocks": [str(network) for network in peer.inside_cidrs],
            "Protocol": "gre",
            "BgpConfigurations": [
                {
                    "TransitGatewayAsn": peer.tgw_asn,
                    "PeerAsn": peer.peer_asn,
                    "TransitGatewayAddress": address,
                    "PeerAddress": peer.peer_bgp_address,
                    "BgpStatus": status[address],
                }
                for address in peer.tgw_bgp_addresses
            ],
        },
        "Tags": tag_list(tags_of(backend, peer.id)),
    }


# -- validation (the stand-in plays AWS: its own rules, not the collection's) ---------------------------------
def invalid(message, documented=False):
    """InvalidParameterValue: AWS documents the rules, not which code each violation gets (so: best guess)."""
    return ServiceError("InvalidParameterValue", message, documented=documented)


def parse_inside_cidrs(blocks):
    """One IPv4 /29 in 169.254.0.0/16 (not reserved) and at most one IPv6 /125 in fd00::/8 (documented rules)."""
    networks = []
    for block in blocks or []:
        try:
            networks.append(ipaddress.ip_network(block, strict=True))
        except ValueError:
            raise invalid("The inside CIDR block %s is not a valid CIDR block." % block)
    ipv4 = [network for network in networks if network.version == 4]
    ipv6 = [network for network in networks if network.version == 6]
    if len(ipv4) != 1 or len(ipv6) > 1:
        raise invalid("InsideCidrBlocks must contain exactly one IPv4 /29 and at most one IPv6 /125.")
    network = ipv4[0]
    if network.prefixlen != 29 or not network.subnet_of(LINK_LOCAL):
        raise invalid("The IPv4 inside CIDR block %s must be a /29 within 169.254.0.0/16." % network)
    if network in RESERVED_INSIDE_CIDRS:
        raise invalid("The inside CIDR block %s is reserved and cannot be used." % network)
    if ipv6 and (ipv6[0].prefixlen != 125 or not ipv6[0].subnet_of(UNIQUE_LOCAL)):
        raise invalid("The IPv6 inside CIDR block %s must be a /125 within fd00::/8." % ipv6[0])
    return ipv4 + ipv6


def parse_address(value, name):
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        raise invalid("%s %s is not a valid IP address." % (name, value))


def tgw_cidr_blocks(transit_gateway):
    return [ipaddress.ip_network(block) for block in transit_gateway.options.get("TransitGatewayCidrBlocks") or []]


def choose_tgw_address(transit_gateway, requested, peer_address, peers):
    """The TGW's outer GRE address: the requested one if it lies in a TGW CIDR block, else the first free one."""
    blocks = [block for block in tgw_cidr_blocks(transit_gateway) if block.version == peer_address.version]
    if requested is not None:
        address = parse_address(requested, "TransitGatewayAddress")
        if address.version != peer_address.version:
            raise invalid("TransitGatewayAddress and PeerAddress must be of the same address family.")
        if not any(address in block for block in blocks):
            raise invalid("TransitGatewayAddress %s is not within a CIDR block of %s." % (address, transit_gateway.id))
        return address
    used = {peer.tgw_address for peer in peers}
    for block in blocks:
        for address in block.hosts() if block.num_addresses > 2 else block:
            if str(address) not in used:
                return address
    raise invalid(
        "%s has no IPv%d CIDR block with a free address; add one with ModifyTransitGateway."
        % (transit_gateway.id, peer_address.version)
    )


def parse_peer_asn(bgp_options, default):
    asn = (bgp_options or {}).get("PeerAsn", default)
    if not 1 <= asn <= MAX_ASN:
        raise invalid("PeerAsn %s is out of range 1-%d." % (asn, MAX_ASN))
    if asn in AMAZON_ASNS:
        raise invalid("PeerAsn %s is reserved by Amazon and cannot be used." % asn)
    return asn


# -- handlers ------------------------------------------------------------------------------------------------
def connect_attachment(backend, attachment_id):
    attachment = backend.transit_gateway_attachments.get(attachment_id)
    if not isinstance(attachment, ConnectAttachment) or attachment.state == "deleted":
        raise ServiceError(
            "InvalidTransitGatewayAttachmentID.NotFound", "Transit Gateway Connect attachment %s not found." % attachment_id
        )
    return attachment


def create_transit_gateway_connect(ctx, params):
    backend = ctx.backend
    transport_id = params["TransportTransitGatewayAttachmentId"]
    transport = backend.transit_gateway_attachments.get(transport_id)
    if transport is None or transport.state == "deleted":
        raise ServiceError(
            "InvalidTransitGatewayAttachmentID.NotFound", "Transit Gateway Attachment %s not found." % transport_id
        )
    if transport.resource_type not in ("vpc", "direct-connect-gateway"):
        raise invalid("Transport attachment %s must be a VPC or Direct Connect attachment." % transport_id)
    if transport.state != "available":
        raise ServiceError(
            "IncorrectState",
            "Transport attachment %s is in state %s, not available." % (transport_id, transport.state),
            documented=False,
        )
    protocol = (params.get("Options") or {}).get("Protocol")
    if protocol != "gre":
        raise invalid("Options.Protocol must be gre.")
    tags = tags_from_specifications(params.get("TagSpecifications"), "transit-gateway-attachment")
    transit_gateway = backend.transit_gateways[transport.transit_gateway_id]
    attachment = ConnectAttachment(backend, transit_gateway, transport, tags, Lifecycle(ctx.knobs["connect_pending_seconds"]))
    backend.transit_gateway_attachments[attachment.id] = attachment
    apply_default_route_tables(backend, transit_gateway, attachment)
    # AWS answers a create with the object in state pending, whatever happens next.
    return {"TransitGatewayConnect": connect_view(backend, attachment, state="pending")}


def describe_transit_gateway_connects(ctx, params):
    backend = ctx.backend
    spec = {
        "ids_param": "TransitGatewayAttachmentIds",
        "not_found": ("InvalidTransitGatewayAttachmentID.NotFound", "Transit Gateway Attachment %s not found."),
        "filters": {
            "options.protocol": lambda item: item.protocol,
            "state": lambda item: item.state,
            "transit-gateway-attachment-id": lambda item: item.id,
            "transit-gateway-id": lambda item: item.transit_gateway_id,
            "transport-transit-gateway-attachment-id": lambda item: item.transport_attachment_id,
        },
        "view": lambda item: connect_view(backend, item),
        "result_key": "TransitGatewayConnects",
    }
    return describe(backend, params, connect_attachments(backend), spec)


def delete_transit_gateway_connect(ctx, params):
    backend = ctx.backend
    attachment = connect_attachment(backend, params["TransitGatewayAttachmentId"])
    if attachment.state == "deleting":
        raise ServiceError("IncorrectState", "%s is already being deleted." % attachment.id, documented=False)
    if live_peers(backend, attachment_id=attachment.id):
        # Documented behaviour (peers must be deleted first); the code is our best guess.
        raise ServiceError(
            "IncorrectState", "%s has Connect peers; delete them before the attachment." % attachment.id, documented=False
        )
    attachment.lifecycle.delete(ctx.knobs["deleting_seconds"], ctx.knobs["deleted_retention_seconds"])
    detach_from_route_tables(backend, attachment.id)
    return {"TransitGatewayConnect": connect_view(backend, attachment, state="deleting")}


def create_transit_gateway_connect_peer(ctx, params):
    backend = ctx.backend
    attachment = connect_attachment(backend, params["TransitGatewayAttachmentId"])
    if attachment.state != "available":
        raise ServiceError(
            "IncorrectState", "%s is in state %s, not available." % (attachment.id, attachment.state), documented=False
        )
    transit_gateway = backend.transit_gateways[attachment.transit_gateway_id]
    inside_cidrs = parse_inside_cidrs(params.get("InsideCidrBlocks"))
    tgw_peers = live_peers(backend, transit_gateway_id=transit_gateway.id)
    for peer in tgw_peers:
        for mine in inside_cidrs:
            for theirs in peer.inside_cidrs:
                if mine.version == theirs.version and mine.overlaps(theirs):
                    raise invalid(
                        "Inside CIDR block %s overlaps %s of Connect peer %s on %s." % (mine, theirs, peer.id, transit_gateway.id)
                    )
    if len(live_peers(backend, attachment_id=attachment.id)) >= MAX_PEERS_PER_CONNECT:
        raise ServiceError(
            "TransitGatewayConnectPeerLimitExceeded",
            "%s already has the maximum of %d Connect peers." % (attachment.id, MAX_PEERS_PER_CONNECT),
            documented=False,
        )
    peer_address = parse_address(params["PeerAddress"], "PeerAddress")
    tgw_address = choose_tgw_address(transit_gateway, params.get("TransitGatewayAddress"), peer_address, tgw_peers)
    for peer in tgw_peers:
        if (peer.peer_address, peer.tgw_address) == (str(peer_address), str(tgw_address)):
            raise invalid(
                "Connect peer %s already uses peer address %s with TGW address %s." % (peer.id, peer_address, tgw_address)
            )
    peer_asn = parse_peer_asn(params.get("BgpOptions"), tgw_asn(transit_gateway))
    tags = tags_from_specifications(params.get("TagSpecifications"), "transit-gateway-connect-peer")
    peer = ConnectPeer(
        attachment,
        peer_address=str(peer_address),
        tgw_address=str(tgw_address),
        inside_cidrs=inside_cidrs,
        peer_asn=peer_asn,
        tgw_asn=tgw_asn(transit_gateway),
        lifecycle=Lifecycle(ctx.knobs["connect_peer_pending_seconds"]),
    )
    registry(backend).peers[peer.id] = peer
    if tags:
        backend.create_tags([peer.id], tags)
    return {"TransitGatewayConnectPeer": peer_view(backend, peer, ctx.provider, state="pending")}


def describe_transit_gateway_connect_peers(ctx, params):
    backend = ctx.backend
    spec = {
        "ids_param": "TransitGatewayConnectPeerIds",
        "not_found": ("InvalidTransitGatewayConnectPeerID.NotFound", "Transit Gateway Connect peer %s not found."),
        "filters": {
            "state": lambda peer: peer.state,
            "transit-gateway-attachment-id": lambda peer: peer.attachment_id,
            "transit-gateway-connect-peer-id": lambda peer: peer.id,
        },
        "view": lambda peer: peer_view(backend, peer, ctx.provider),
        "result_key": "TransitGatewayConnectPeers",
    }
    return describe(backend, params, list(registry(backend).peers.values()), spec)


def delete_transit_gateway_connect_peer(ctx, params):
    backend = ctx.backend
    peer_id = params["TransitGatewayConnectPeerId"]
    peer = registry(backend).peers.get(peer_id)
    if peer is None or peer.state == "deleted":
        raise ServiceError("InvalidTransitGatewayConnectPeerID.NotFound", "Transit Gateway Connect peer %s not found." % peer_id)
    if peer.state == "deleting":
        raise ServiceError("IncorrectState", "%s is already being deleted." % peer_id, documented=False)
    peer.lifecycle.delete(ctx.knobs["deleting_seconds"], ctx.knobs["deleted_retention_seconds"])
    return {"TransitGatewayConnectPeer": peer_view(backend, peer, ctx.provider, state="deleting")}


HANDLERS = {
    "CreateTransitGatewayConnect": create_transit_gateway_connect,
    "DescribeTransitGatewayConnects": describe_transit_gateway_connects,
    "DeleteTransitGatewayConnect": delete_transit_gateway_connect,
    "CreateTransitGatewayConnectPeer": create_transit_gateway_connect_peer,
    "DescribeTransitGatewayConnectPeers": describe_transit_gateway_connect_peers,
    "DeleteTransitGatewayConnectPeer": delete_transit_gateway_connect_peer,
}
