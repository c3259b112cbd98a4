# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure decisions for transit gateway routing: association/propagation plans, route search filters,
and CIDR block plans (no AWS SDK)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.calico_egress.aws.plugins.module_utils import connect_addressing as addressing

MAX_TGW_CIDR_BLOCKS = 5
ATTACHMENT_TYPES = ("vpc", "vpn", "direct-connect-gateway", "peering", "connect")
LIVE_ASSOCIATION_STATES = ("associating", "associated")
LIVE_PROPAGATION_STATES = ("enabling", "enabled")


class RoutingError(ValueError):
    """Bad input or a refused change; the message names the field."""


def plan_routing(
    current_association,
    current_propagations,
    association=None,
    propagations=None,
    purge_propagations=False,
    replace_association=False,
):
    """Plan for one attachment.

    current_association: route table id the attachment is associated with (or None).
    current_propagations: route table ids it propagates to (enabled or enabling).
    association: wanted route table id (None: leave as is).
    propagations: wanted route table ids (None: leave as is).
    Returns {"disassociate": id|None, "associate": id|None, "enable": [...], "disable": [...]}.
    """
    plan = {"disassociate": None, "associate": None, "enable": [], "disable": []}
    if association and association != current_association:
        if current_association:
            if not replace_association:
                raise RoutingError(
                    "association: the attachment is already associated with %s (an attachment has one association); "
                    "set replace_association=true to move it to %s" % (current_association, association)
                )
            plan["disassociate"] = current_association
        plan["associate"] = association
    if propagations is not None:
        current = set(current_propagations or ())
        plan["enable"] = sorted(set(propagations) - current)
        if purge_propagations:
            plan["disable"] = sorted(current - set(propagations))
    return plan


def routing_changed(plan):
    return bool(plan["disassociate"] or plan["associate"] or plan["enable"] or plan["disable"])


def route_search_filters(
    prefix=None,
    longest_prefix_match=None,
    subnet_of_match=None,
    supernet_of_match=None,
    attachment_id=None,
    resource_id=None,
    attachment_type=None,
    route_type=None,
    states=None,
    extra=None,
):
    """SearchTransitGatewayRoutes requires filters; build them from friendly options."""
    filters = {}
    for name, value in (
        ("route-search.exact-match", prefix),
        ("route-search.longest-prefix-match", longest_prefix_match),
        ("route-search.subnet-of-match", subnet_of_match),
        ("route-search.supernet-of-match", supernet_of_match),
    ):
        if value:
            addressing._network(value, name.split(".", 1)[1].replace("-", "_"))
            filters[name] = [value]
    if attachment_id:
        filters["attachment.transit-gateway-attachment-id"] = [attachment_id]
    if resource_id:
        filters["attachment.resource-id"] = [resource_id]
    if attachment_type:
        if attachment_type not in ATTACHMENT_TYPES:
            raise RoutingError("attachment_type: %s is not one of %s" % (attachment_type, ", ".join(ATTACHMENT_TYPES)))
        filters["attachment.resource-type"] = [attachment_type]
    if route_type:
        filters["type"] = [route_type]
    filters["state"] = list(states or ["active", "blackhole"])
    for key, value in (extra or {}).items():
        filters[key] = value if isinstance(value, list) else [value]
    return [{"Name": k, "Values": [str(v) for v in vs]} for k, vs in sorted(filters.items())]


def gre_addresses_in_block(cidr_block, gre_addresses):
    """The GRE addresses (Connect peers' transit gateway side) that lie in cidr_block, sorted."""
    network = addressing.netaddr.IPNetwork(cidr_block)
    return sorted(a for a in gre_addresses or () if a and addressing.netaddr.IPAddress(a) in network)


def plan_vpc_route(routes, destination, transit_gateway_id, state="present"):
    """(action, normalised destination) for the route destination -> transit_gateway_id in one VPC route table.

    action is 'create', 'delete' or None.

    routes: the table's Routes as DescribeRouteTables returns them. Only a route to exactly this destination AND
    this transit gateway counts as ours: a route to the destination with any other target is never replaced
    (present: refused) nor deleted (absent: left alone).
    """
    try:
        destination = str(addressing.netaddr.IPNetwork(destination).cidr)
    except (addressing.netaddr.AddrFormatError, ValueError, TypeError):
        raise RoutingError("destination_cidr_block: %r is not a CIDR block" % (destination,))
    same = [r for r in routes or () if r.get("DestinationCidrBlock") == destination]
    ours = [r for r in same if r.get("TransitGatewayId") == transit_gateway_id and r.get("Origin") != "EnableVgwRoutePropagation"]
    if state == "absent":
        return ("delete" if ours else None), destination
    if ours:
        return None, destination
    if same:
        target = {k: v for k, v in same[0].items() if k.endswith("Id") and k != "DestinationPrefixListId"}
        raise RoutingError(
            "destination_cidr_block: %s already routes to %s; it is not replaced (remove that route first)"
            % (destination, ", ".join("%s=%s" % item for item in sorted(target.items())) or "another target")
        )
    return "create", destination


def plan_cidr_block(current_blocks, cidr_block, state="present", gre_addresses_in_use=()):
    """(add, remove) lists for ModifyTransitGateway; refuses what AWS would refuse, naming the field."""
    try:
        cidr = addressing.validate_tgw_cidr_block(cidr_block, "cidr_block")
    except addressing.AddressingError as exc:
        raise RoutingError(str(exc))
    current = [str(addressing.netaddr.IPNetwork(b).cidr) for b in current_blocks or ()]
    if state == "present":
        if cidr in current:
            return [], []
        if len(current) >= MAX_TGW_CIDR_BLOCKS:
            raise RoutingError(
                "cidr_block: the transit gateway already has %d CIDR blocks (AWS maximum %d)"
                % (len(current), MAX_TGW_CIDR_BLOCKS)
            )
        new = addressing.netaddr.IPNetwork(cidr)
        for block in current:
            other = addressing.netaddr.IPNetwork(block)
            if other.version == new.version and other.first <= new.last and new.first <= other.last:
                raise RoutingError("cidr_block: %s overlaps the existing block %s" % (cidr, block))
        return [cidr], []
    if cidr not in current:
        return [], []
    used = gre_addresses_in_block(cidr, gre_addresses_in_use)
    if used:
        raise RoutingError(
            "cidr_block: %s still holds the GRE address(es) %s of Connect peers; delete them first"
            % (cidr, ", ".join(sorted(used)))
        )
    return [], [cidr]
