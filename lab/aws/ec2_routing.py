"""TGW routing where moto is missing or wrong: CIDR blocks, VPC attachment defaults, associations,
propagations, static routes, route search and propagated routes.

The state is moto's (route tables, their `routes`, `route_table_associations` and `route_table_propagation`),
so moto's own Get...Associations / Get...Propagations keep working. Error codes: `documented=True` where AWS
documents the code for that situation, `documented=False` where it is our best guess.
"""

import ipaddress

from lab.aws.ec2_common import (
    PASS_TO_MOTO,
    apply_default_route_tables,
    associate,
    associated_table,
    describe,
    detach_from_route_tables,
    disable_propagation,
    disassociate,
    enable_propagation,
    live_attachment,
    matches_filters,
    paginate,
    propagating_tables,
    route_table,
    tag_list,
    tags_from_specifications,
    tags_of,
)
from lab.aws.ec2_connect import ConnectAttachment, bgp_status, connect_attachments, live_peers
from lab.aws.errors import ServiceError
from lab.aws.state import Lifecycle

MAX_TGW_CIDR_BLOCKS = 5  # documented quota
ATTACHMENT_NOT_FOUND = ("InvalidTransitGatewayAttachmentID.NotFound", "Transit Gateway Attachment %s not found.")
TGW_OPTION_NAMES = (
    "VpnEcmpSupport",
    "DnsSupport",
    "SecurityGroupReferencingSupport",
    "AutoAcceptSharedAttachments",
    "DefaultRouteTableAssociation",
    "AssociationDefaultRouteTableId",
    "DefaultRouteTablePropagation",
    "PropagationDefaultRouteTableId",
    "AmazonSideAsn",
)


def invalid(message, documented=False):
    return ServiceError("InvalidParameterValue", message, documented=documented)


def transit_gateway(backend, transit_gateway_id):
    found = backend.transit_gateways.get(transit_gateway_id)
    if found is None:
        raise ServiceError(
            "InvalidTransitGatewayID.NotFound", "Transit Gateway %s was deleted or does not exist." % transit_gateway_id
        )
    return found


# -- TGW CIDR blocks -------------------------------------------------------------------------------------------
def checked_cidr_blocks(blocks):
    """Documented: IPv4 /24 or larger, IPv6 /64 or larger, at most 5, no overlap, not link-local."""
    networks = []
    for block in blocks:
        try:
            network = ipaddress.ip_network(block, strict=True)
        except ValueError:
            raise invalid("%s is not a valid CIDR block." % block, documented=True)
        if network.prefixlen > (24 if network.version == 4 else 64):
            raise invalid("Transit gateway CIDR block %s must be a /24 or larger (IPv6: /64 or larger)." % network)
        if network.version == 4 and network.subnet_of(ipaddress.ip_network("169.254.0.0/16")):
            raise invalid("Transit gateway CIDR block %s cannot be in 169.254.0.0/16." % network)
        for other in networks:
            if other.version == network.version and other.overlaps(network):
                raise invalid("Transit gateway CIDR blocks %s and %s overlap." % (other, network))
        networks.append(network)
    if len(networks) > MAX_TGW_CIDR_BLOCKS:
        raise ServiceError(
            "TransitGatewayLimitExceeded",
            "A transit gateway can have at most %d CIDR blocks." % MAX_TGW_CIDR_BLOCKS,
            documented=False,
        )
    return [str(network) for network in networks]


def create_transit_gateway(ctx, params):
    del ctx  # moto creates it; we only validate the CIDR blocks it would accept blindly
    checked_cidr_blocks((params.get("Options") or {}).get("TransitGatewayCidrBlocks") or [])
    return PASS_TO_MOTO


def delete_transit_gateway(ctx, params):
    backend = ctx.backend
    tgw = transit_gateway(backend, params["TransitGatewayId"])
    attached = [
        item.id
        for item in backend.transit_gateway_attachments.values()
        if item.transit_gateway_id == tgw.id and item.state != "deleted"
    ]
    if attached:
        # Documented behaviour (attachments go first); the code is our best guess.
        raise ServiceError(
            "IncorrectState", "%s has attachments (%s); delete them first." % (tgw.id, attached[0]), documented=False
        )
    return PASS_TO_MOTO


def delete_transit_gateway_route_table(ctx, params):
    table = route_table(ctx.backend, params["TransitGatewayRouteTableId"])
    if table.route_table_associations or table.route_table_propagation:
        raise ServiceError(
            "IncorrectState", "%s still has associations or propagations; remove them first." % table.id, documented=False
        )
    return PASS_TO_MOTO


def transit_gateway_view(backend, tgw):
    options = {key: value for key, value in tgw.options.items() if value not in (None, "")}
    return {
        "TransitGatewayId": tgw.id,
        "TransitGatewayArn": tgw.arn,
        "State": tgw.state,
        "OwnerId": tgw.owner_id,
        "Description": tgw.description,
        "CreationTime": tgw._created_at,  # noqa: SLF001 - moto keeps the datetime private
        "Options": options,
        "Tags": tag_list(tags_of(backend, tgw.id)),
    }


def modify_transit_gateway(ctx, params):
    backend = ctx.backend
    tgw = transit_gateway(backend, params["TransitGatewayId"])
    options = params.get("Options") or {}
    blocks = list(tgw.options.get("TransitGatewayCidrBlocks") or [])
    for block in options.get("RemoveTransitGatewayCidrBlocks") or []:
        if block not in blocks:
            raise invalid("CIDR block %s is not associated with %s." % (block, tgw.id))
        network = ipaddress.ip_network(block)
        users = [
            peer.id
            for peer in live_peers(backend, transit_gateway_id=tgw.id)
            if ipaddress.ip_address(peer.tgw_address) in network
        ]
        if users:
            raise ServiceError(
                "IncorrectState", "CIDR block %s is in use by Connect peer %s." % (block, users[0]), documented=False
            )
        blocks.remove(block)
    blocks = checked_cidr_blocks(blocks + list(options.get("AddTransitGatewayCidrBlocks") or []))
    for name in ("AssociationDefaultRouteTableId", "PropagationDefaultRouteTableId"):
        if options.get(name):
            table = route_table(backend, options[name])
            if table.transit_gateway_id != tgw.id:
                raise invalid("%s %s belongs to another transit gateway." % (name, table.id))
    for name in TGW_OPTION_NAMES:
        if name in options:
            tgw.options[name] = str(options[name])
    tgw.options["TransitGatewayCidrBlocks"] = blocks
    if params.get("Description") is not None:
        tgw.description = params["Description"]
    return {"TransitGateway": transit_gateway_view(backend, tgw)}


# -- VPC attachments (moto's objects; we own the calls to fix defaults, tags and type filtering) --------------
def vpc_attachment_view(backend, attachment, state=None):
    return {
        "TransitGatewayAttachmentId": attachment.id,
        "TransitGatewayId": attachment.transit_gateway_id,
        "VpcId": attachment.vpc_id,
        "VpcOwnerId": attachment.vpc_owner_id,
        "State": state or attachment.state,
        "SubnetIds": list(attachment.subnet_ids),
        "CreationTime": attachment._created_at,  # noqa: SLF001
        "Options": dict(attachment.options),
        "Tags": tag_list(tags_of(backend, attachment.id)),
    }


def create_transit_gateway_vpc_attachment(ctx, params):
    backend = ctx.backend
    tgw = transit_gateway(backend, params["TransitGatewayId"])
    vpc = backend.get_vpc(params["VpcId"])  # moto raises the documented InvalidVpcID.NotFound
    for subnet_id in params["SubnetIds"]:
        subnet = backend.get_subnet(subnet_id)
        if subnet.vpc_id != vpc.id:
            raise invalid("Subnet %s does not belong to %s." % (subnet_id, vpc.id))
    tags = tags_from_specifications(params.get("TagSpecifications"), "transit-gateway-attachment")
    options = {key: str(value) for key, value in (params.get("Options") or {}).items()}
    for attachment_id, item in list(backend.transit_gateway_attachments.items()):
        # A deleted attachment of the same VPC does not block a new one (a deleting one does: moto's duplicate check).
        if (
            item.resource_type == "vpc"
            and item.state == "deleted"
            and (item.transit_gateway_id, item.resource_id) == (tgw.id, vpc.id)
        ):
            del backend.transit_gateway_attachments[attachment_id]
    attachment = backend.create_transit_gateway_vpc_attachment(
        transit_gateway_id=tgw.id, vpc_id=vpc.id, subnet_ids=list(params["SubnetIds"]), tags=tags, options=options
    )
    # moto makes it available at once; AWS answers pending and gets there later (see purge_expired).
    attachment.standin_lifecycle = Lifecycle(ctx.knobs["vpc_attachment_pending_seconds"])
    attachment.state = attachment.standin_lifecycle.state
    apply_default_route_tables(backend, tgw, attachment)
    return {"TransitGatewayVpcAttachment": vpc_attachment_view(backend, attachment, state="pending")}


def vpc_attachments(backend):
    return [item for item in backend.transit_gateway_attachments.values() if item.resource_type == "vpc"]


def describe_transit_gateway_vpc_attachments(ctx, params):
    backend = ctx.backend
    spec = {
        "ids_param": "TransitGatewayAttachmentIds",
        "not_found": ATTACHMENT_NOT_FOUND,
        "filters": {
            "state": lambda item: item.state,
            "transit-gateway-attachment-id": lambda item: item.id,
            "transit-gateway-id": lambda item: item.transit_gateway_id,
            "vpc-id": lambda item: item.vpc_id,
        },
        "view": lambda item: vpc_attachment_view(backend, item),
        "result_key": "TransitGatewayVpcAttachments",
    }
    return describe(backend, params, vpc_attachments(backend), spec)


def delete_transit_gateway_vpc_attachment(ctx, params):
    backend = ctx.backend
    attachment = live_attachment(backend, params["TransitGatewayAttachmentId"])
    if attachment.resource_type != "vpc":
        raise invalid("%s is not a VPC attachment." % attachment.id)
    if attachment.state == "deleting":
        raise ServiceError("IncorrectState", "%s is already being deleted." % attachment.id, documented=False)
    users = [
        item.id
        for item in connect_attachments(backend)
        if item.transport_attachment_id == attachment.id and item.state != "deleted"
    ]
    if users:
        raise ServiceError(
            "IncorrectState", "%s is the transport of Connect attachment %s." % (attachment.id, users[0]), documented=False
        )
    detach_from_route_tables(backend, attachment.id)
    # moto would forget it at once; AWS shows deleting, then deleted for a while (see purge_expired).
    lifecycle = attachment.__dict__.setdefault("standin_lifecycle", Lifecycle(0.0))
    lifecycle.delete(ctx.knobs["deleting_seconds"], ctx.knobs["deleted_retention_seconds"])
    attachment.state = lifecycle.state
    return {"TransitGatewayVpcAttachment": vpc_attachment_view(backend, attachment, state="deleting")}


# -- all attachments --------------------------------------------------------------------------------------------
def association_of(backend, attachment):
    table = associated_table(backend, attachment.id)
    if table is None:
        return None
    return {"TransitGatewayRouteTableId": table.id, "State": "associated"}


def attachment_view(backend, attachment):
    view = {
        "TransitGatewayAttachmentId": attachment.id,
        "TransitGatewayId": attachment.transit_gateway_id,
        "TransitGatewayOwnerId": attachment.transit_gateway_owner_id,
        "ResourceOwnerId": attachment.resource_owner_id,
        "ResourceType": attachment.resource_type,
        "ResourceId": attachment.resource_id,
        "State": attachment.state,
        "CreationTime": getattr(attachment, "created", None) or attachment._created_at,  # noqa: SLF001
        "Tags": tag_list(tags_of(backend, attachment.id)),
    }
    association = association_of(backend, attachment)
    if association:
        view["Association"] = association
    return view


def describe_transit_gateway_attachments(ctx, params):
    backend = ctx.backend

    def association_field(field):
        return lambda item: (association_of(backend, item) or {}).get(field)

    spec = {
        "ids_param": "TransitGatewayAttachmentIds",
        "not_found": ATTACHMENT_NOT_FOUND,
        "filters": {
            "association.state": association_field("State"),
            "association.transit-gateway-route-table-id": association_field("TransitGatewayRouteTableId"),
            "resource-id": lambda item: item.resource_id,
            "resource-owner-id": lambda item: item.resource_owner_id,
            "resource-type": lambda item: item.resource_type,
            "state": lambda item: item.state,
            "transit-gateway-attachment-id": lambda item: item.id,
            "transit-gateway-id": lambda item: item.transit_gateway_id,
            "transit-gateway-owner-id": lambda item: item.transit_gateway_owner_id,
        },
        "view": lambda item: attachment_view(backend, item),
        "result_key": "TransitGatewayAttachments",
    }
    return describe(backend, params, list(backend.transit_gateway_attachments.values()), spec)


# -- associations and propagations ---------------------------------------------------------------------------
def table_and_attachment(backend, params):
    table = route_table(backend, params["TransitGatewayRouteTableId"])
    attachment = live_attachment(backend, params["TransitGatewayAttachmentId"])
    if attachment.transit_gateway_id != table.transit_gateway_id:
        raise invalid("%s and %s belong to different transit gateways." % (attachment.id, table.id))
    return table, attachment


def relation_view(table, attachment, state):
    return {
        "TransitGatewayRouteTableId": table.id,
        "TransitGatewayAttachmentId": attachment.id,
        "ResourceId": attachment.resource_id,
        "ResourceType": attachment.resource_type,
        "State": state,
    }


def associate_transit_gateway_route_table(ctx, params):
    backend = ctx.backend
    table, attachment = table_and_attachment(backend, params)
    if attachment.state != "available":
        raise ServiceError("IncorrectState", "%s is in state %s." % (attachment.id, attachment.state), documented=False)
    current = associated_table(backend, attachment.id)
    if current is not None:
        # Documented: one association per attachment; disassociate first.
        raise ServiceError(
            "Resource.AlreadyAssociated",
            "Transit Gateway Attachment %s is already associated with %s." % (attachment.id, current.id),
        )
    associate(backend, attachment, table)
    return {"Association": relation_view(table, attachment, "associating")}


def disassociate_transit_gateway_route_table(ctx, params):
    backend = ctx.backend
    table, attachment = table_and_attachment(backend, params)
    if associated_table(backend, attachment.id) is not table:
        raise ServiceError(
            "InvalidAssociation.NotFound", "%s is not associated with %s." % (attachment.id, table.id), documented=False
        )
    disassociate(backend, attachment.id, table)
    return {"Association": relation_view(table, attachment, "disassociating")}


def enable_transit_gateway_route_table_propagation(ctx, params):
    backend = ctx.backend
    table, attachment = table_and_attachment(backend, params)
    if table in propagating_tables(backend, attachment.id):
        raise ServiceError(
            "TransitGatewayRouteTablePropagation.Duplicate",
            "Propagation of %s into %s is already enabled." % (attachment.id, table.id),
            documented=False,
        )
    enable_propagation(backend, attachment, table)
    return {"Propagation": relation_view(table, attachment, "enabled")}


def disable_transit_gateway_route_table_propagation(ctx, params):
    backend = ctx.backend
    table, attachment = table_and_attachment(backend, params)
    if table not in propagating_tables(backend, attachment.id):
        raise ServiceError(
            "TransitGatewayRouteTablePropagation.NotFound",
            "Propagation of %s into %s is not enabled." % (attachment.id, table.id),
            documented=False,
        )
    disable_propagation(backend, attachment.id, table)
    return {"Propagation": relation_view(table, attachment, "disabled")}


def get_transit_gateway_attachment_propagations(ctx, params):
    backend = ctx.backend
    attachment = live_attachment(backend, params["TransitGatewayAttachmentId"])
    selected = [
        table
        for table in propagating_tables(backend, attachment.id)
        if matches_filters(
            {"transit-gateway-route-table-id": table.id}, {}, params.get("Filters"), ("transit-gateway-route-table-id",)
        )
    ]
    page, token = paginate(selected, params)
    result = {
        "TransitGatewayAttachmentPropagations": [{"TransitGatewayRouteTableId": table.id, "State": "enabled"} for table in page]
    }
    if token:
        result["NextToken"] = token
    return result


# -- static routes (stored in moto's format in table.routes) ---------------------------------------------------
def destination(params):
    try:
        return str(ipaddress.ip_network(params["DestinationCidrBlock"], strict=True))
    except ValueError:
        raise invalid("%s is not a valid CIDR block." % params["DestinationCidrBlock"], documented=True)


def static_route(backend, table, cidr, params):
    """The moto-format route for a Create/Replace call: via an attachment of the same TGW, or blackhole."""
    attachment_id = params.get("TransitGatewayAttachmentId")
    if bool(attachment_id) == bool(params.get("Blackhole")):
        raise ServiceError(
            "InvalidParameterCombination",
            "Specify either TransitGatewayAttachmentId or Blackhole, not both or neither.",
            documented=False,
        )
    route = {
        "destinationCidrBlock": cidr,
        "prefixListId": None,
        "state": "blackhole" if params.get("Blackhole") else "active",
        "type": "static",
    }
    if attachment_id:
        attachment = live_attachment(backend, attachment_id)
        if attachment.transit_gateway_id != table.transit_gateway_id:
            raise invalid("%s belongs to another transit gateway than %s." % (attachment.id, table.id))
        route["transitGatewayAttachments"] = {
            "resourceId": attachment.resource_id,
            "resourceType": attachment.resource_type,
            "transitGatewayAttachmentId": attachment.id,
        }
    return route


def static_route_view(route, state=None):
    view = {"DestinationCidrBlock": route["destinationCidrBlock"], "Type": "static", "State": state or route["state"]}
    via = route.get("transitGatewayAttachments")
    if via:
        view["TransitGatewayAttachments"] = [
            {
                "ResourceId": via["resourceId"],
                "TransitGatewayAttachmentId": via["transitGatewayAttachmentId"],
                "ResourceType": via["resourceType"],
            }
        ]
    return view


def create_transit_gateway_route(ctx, params):
    table = route_table(ctx.backend, params["TransitGatewayRouteTableId"])
    cidr = destination(params)
    if cidr in table.routes:
        # Documented: a route for this CIDR block already exists in this route table.
        raise ServiceError("RouteAlreadyExists", "Route %s already exists in Transit Gateway Route Table %s." % (cidr, table.id))
    table.routes[cidr] = static_route(ctx.backend, table, cidr, params)
    return {"Route": static_route_view(table.routes[cidr])}


def existing_route(backend, params):
    """(table, destination) of a static route that must exist."""
    table = route_table(backend, params["TransitGatewayRouteTableId"])
    cidr = destination(params)
    if cidr not in table.routes:
        raise ServiceError(
            "InvalidRoute.NotFound", "No route for %s in Transit Gateway Route Table %s." % (cidr, table.id), documented=False
        )
    return table, cidr


def replace_transit_gateway_route(ctx, params):
    table, cidr = existing_route(ctx.backend, params)
    table.routes[cidr] = static_route(ctx.backend, table, cidr, params)
    return {"Route": static_route_view(table.routes[cidr])}


def delete_transit_gateway_route(ctx, params):
    table, cidr = existing_route(ctx.backend, params)
    return {"Route": static_route_view(table.routes.pop(cidr), state="deleted")}


# -- propagated routes and search ------------------------------------------------------------------------------
def propagated_prefixes(backend, attachment, provider):
    """What an attachment propagates: a VPC its CIDR blocks; a Connect attachment what its peers advertise over up sessions."""
    if attachment.state != "available":
        return []
    if attachment.resource_type == "vpc":
        vpc = backend.vpcs.get(attachment.vpc_id)
        return [item["cidr_block"] for item in vpc.get_cidr_block_association_set()] if vpc else []
    if isinstance(attachment, ConnectAttachment):
        prefixes = []
        for peer in live_peers(backend, attachment_id=attachment.id):
            if "up" in bgp_status(peer, provider).values():
                prefixes.extend(provider.advertised_prefixes(peer))
        return prefixes
    return []


def effective_routes(backend, table, provider):
    """Static routes, then propagated ones (ECMP across attachments); a static route hides a propagated one."""
    routes = {cidr: static_route_view(route) for cidr, route in table.routes.items()}
    propagated = {}
    for item in table.route_table_propagation:
        attachment = backend.transit_gateway_attachments.get(item.transitGatewayAttachmentId)
        if attachment is None:
            continue
        for prefix in propagated_prefixes(backend, attachment, provider):
            cidr = str(ipaddress.ip_network(prefix))
            if cidr in routes:
                continue
            route = propagated.setdefault(
                cidr, {"DestinationCidrBlock": cidr, "Type": "propagated", "State": "active", "TransitGatewayAttachments": []}
            )
            via = {
                "ResourceId": attachment.resource_id,
                "TransitGatewayAttachmentId": attachment.id,
                "ResourceType": attachment.resource_type,
            }
            if via not in route["TransitGatewayAttachments"]:
                route["TransitGatewayAttachments"].append(via)
    routes.update(propagated)
    return sorted(
        routes.values(),
        key=lambda route: (
            ipaddress.ip_network(route["DestinationCidrBlock"]).version,
            ipaddress.ip_network(route["DestinationCidrBlock"]),
        ),
    )


SEARCH_FILTERS = (
    "attachment.transit-gateway-attachment-id",
    "attachment.resource-id",
    "attachment.resource-type",
    "prefix-list-id",
    "route-search.exact-match",
    "route-search.longest-prefix-match",
    "route-search.subnet-of-match",
    "route-search.supernet-of-match",
    "state",
    "type",
)


def filter_networks(filters, name):
    values = []
    for item in filters:
        if item.get("Name") == name:
            for value in item.get("Values") or []:
                try:
                    values.append(ipaddress.ip_network(value, strict=False))
                except ValueError:
                    raise invalid("%s is not a valid CIDR block for filter %s." % (value, name), documented=True)
    return values


def route_matches(route, filters):
    network = ipaddress.ip_network(route["DestinationCidrBlock"])
    attachments = route.get("TransitGatewayAttachments") or []
    values = {
        "attachment.transit-gateway-attachment-id": [via["TransitGatewayAttachmentId"] for via in attachments],
        "attachment.resource-id": [via["ResourceId"] for via in attachments],
        "attachment.resource-type": [via["ResourceType"] for via in attachments],
        "prefix-list-id": route.get("PrefixListId"),
        "state": route["State"],
        "type": route["Type"],
    }
    plain = [item for item in filters if not item.get("Name", "").startswith("route-search.")]
    if not matches_filters(values, {}, plain, SEARCH_FILTERS):
        return False
    checks = (
        ("route-search.exact-match", lambda wanted: network == wanted),
        # Best guess where AWS's wording is silent: subnet-of / supernet-of include the equal prefix.
        ("route-search.subnet-of-match", lambda wanted: network.version == wanted.version and network.subnet_of(wanted)),
        ("route-search.supernet-of-match", lambda wanted: network.version == wanted.version and network.supernet_of(wanted)),
        ("route-search.longest-prefix-match", lambda wanted: network.version == wanted.version and network.supernet_of(wanted)),
    )
    for name, check in checks:
        wanted = filter_networks(filters, name)
        if wanted and not any(check(item) for item in wanted):
            return False
    return True


def search_transit_gateway_routes(ctx, params):
    table = route_table(ctx.backend, params["TransitGatewayRouteTableId"])
    filters = params.get("Filters") or []
    for item in filters:
        if item.get("Name") not in SEARCH_FILTERS:
            raise invalid("The filter '%s' is invalid" % item.get("Name"))
    routes = [route for route in effective_routes(ctx.backend, table, ctx.provider) if route_matches(route, filters)]
    longest = filter_networks(filters, "route-search.longest-prefix-match")
    if longest and routes:
        # Only the most specific route(s) containing the searched prefix.
        best = max(ipaddress.ip_network(route["DestinationCidrBlock"]).prefixlen for route in routes)
        routes = [route for route in routes if ipaddress.ip_network(route["DestinationCidrBlock"]).prefixlen == best]
    max_results = params.get("MaxResults")
    page, token = paginate(
        routes, {"MaxResults": max_results if max_results is not None else 1000, "NextToken": params.get("NextToken")}
    )
    result = {"Routes": page, "AdditionalRoutesAvailable": token is not None}
    if token:
        result["NextToken"] = token
    return result


HANDLERS = {
    "CreateTransitGateway": create_transit_gateway,
    "ModifyTransitGateway": modify_transit_gateway,
    "DeleteTransitGateway": delete_transit_gateway,
    "DeleteTransitGatewayRouteTable": delete_transit_gateway_route_table,
    "CreateTransitGatewayVpcAttachment": create_transit_gateway_vpc_attachment,
    "DescribeTransitGatewayVpcAttachments": describe_transit_gateway_vpc_attachments,
    "DeleteTransitGatewayVpcAttachment": delete_transit_gateway_vpc_attachment,
    "DescribeTransitGatewayAttachments": describe_transit_gateway_attachments,
    "AssociateTransitGatewayRouteTable": associate_transit_gateway_route_table,
    "DisassociateTransitGatewayRouteTable": disassociate_transit_gateway_route_table,
    "EnableTransitGatewayRouteTablePropagation": enable_transit_gateway_route_table_propagation,
    "DisableTransitGatewayRouteTablePropagation": disable_transit_gateway_route_table_propagation,
    "GetTransitGatewayAttachmentPropagations": get_transit_gateway_attachment_propagations,
    "CreateTransitGatewayRoute": create_transit_gateway_route,
    "ReplaceTransitGatewayRoute": replace_transit_gateway_route,
    "DeleteTransitGatewayRoute": delete_transit_gateway_route,
    "SearchTransitGatewayRoutes": search_transit_gateway_routes,
}
