# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read, plan, apply for tgw_cidr_block, tgw_attachment_routing, tgw_route_info and, on the nodes' side of the
Connect tunnels, tgw_vpc_route and security_group_ingress_rule (AWS calls via tgw_api)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.calico_egress.aws.plugins.module_utils import connect_planning as planning
from ansible_collections.calico_egress.aws.plugins.module_utils import security_group_rules, tgw_api
from ansible_collections.calico_egress.aws.plugins.module_utils import tgw_routing as routing
from ansible_collections.calico_egress.aws.plugins.module_utils.connect_manager import all_connect_peers, snake_resource


def run_cidr_block(module, client):
    params = module.params
    tgw_id = params["transit_gateway_id"]
    gateway = tgw_api.describe_transit_gateway(client, tgw_id)
    if not gateway or gateway.get("State") in planning.GONE_STATES:
        raise routing.RoutingError("transit_gateway_id: %s does not exist" % tgw_id)
    current = list((gateway.get("Options") or {}).get("TransitGatewayCidrBlocks") or [])
    in_use = []
    if params["state"] == "absent" and params["cidr_block"] in current:
        peers = all_connect_peers(client, tgw_id)[1]
        in_use = [planning._peer_config(p).get("TransitGatewayAddress") for p in peers]
    kept = routing.gre_addresses_in_block(params["cidr_block"], in_use) if params.get("keep_in_use") else []
    if kept:  # asked to keep a block other peers still use: leave it, say why
        add, remove = [], []
    else:
        add, remove = routing.plan_cidr_block(current, params["cidr_block"], params["state"], [a for a in in_use if a])
    after = [b for b in current if b not in remove] + add
    result = {"changed": bool(add or remove), "transit_gateway_cidr_blocks": after, "transit_gateway_id": tgw_id}
    if params["state"] == "absent":
        result["kept_for_gre_addresses"] = kept
    if module._diff:
        result["diff"] = {"before": {"transit_gateway_cidr_blocks": current}, "after": {"transit_gateway_cidr_blocks": after}}
    if result["changed"] and not module.check_mode:
        gateway = tgw_api.modify_transit_gateway_cidr_blocks(client, tgw_id, add, remove)
        if params["wait"]:
            tgw_api.wait_for(client, "TransitGatewayAvailable", [tgw_id], params["wait_timeout"])
    return result


def _routing_state(client, attachment_id):
    attachments = tgw_api.describe_attachments(client, attachment_ids=[attachment_id])
    if not attachments or attachments[0].get("State") in planning.GONE_STATES:
        raise routing.RoutingError("transit_gateway_attachment_id: %s does not exist" % attachment_id)
    association = attachments[0].get("Association") or {}
    associated = (
        association.get("TransitGatewayRouteTableId") if association.get("State") in routing.LIVE_ASSOCIATION_STATES else None
    )
    propagations = [
        p["TransitGatewayRouteTableId"]
        for p in tgw_api.get_attachment_propagations(client, attachment_id)
        if p.get("State") in routing.LIVE_PROPAGATION_STATES
    ]
    return associated, sorted(propagations)


def run_attachment_routing(module, client):
    params = module.params
    attachment_id = params["transit_gateway_attachment_id"]
    associated, propagations = _routing_state(client, attachment_id)
    plan = routing.plan_routing(
        associated,
        propagations,
        association=params["association"],
        propagations=params["propagations"],
        purge_propagations=params["purge_propagations"],
        replace_association=params["replace_association"],
    )
    after_propagations = sorted((set(propagations) | set(plan["enable"])) - set(plan["disable"]))
    after = {"association": plan["associate"] or associated, "propagations": after_propagations}
    result = {"changed": routing.routing_changed(plan), "plan": plan, "transit_gateway_attachment_id": attachment_id}
    result.update(after)
    if module._diff:
        result["diff"] = {"before": {"association": associated, "propagations": propagations}, "after": after}
    if not result["changed"] or module.check_mode:
        return result
    if plan["disassociate"]:
        tgw_api.disassociate_route_table(client, plan["disassociate"], attachment_id)
    if plan["associate"]:
        try:
            tgw_api.associate_route_table(client, plan["associate"], attachment_id)
        except tgw_api.TgwApiError as exc:
            if tgw_api.error_code(exc) != "Resource.AlreadyAssociated":
                raise
            raise routing.RoutingError(
                "association: %s is already associated with another route table (changed since it was read); "
                "set replace_association=true or run again" % attachment_id
            )
    for table in plan["enable"]:
        tgw_api.enable_propagation(client, table, attachment_id)
    for table in plan["disable"]:
        tgw_api.disable_propagation(client, table, attachment_id)
    return result


def run_route_info(module, client):
    params = module.params
    filters = routing.route_search_filters(
        prefix=params["prefix"],
        longest_prefix_match=params["longest_prefix_match"],
        subnet_of_match=params["subnet_of_match"],
        supernet_of_match=params["supernet_of_match"],
        attachment_id=params["transit_gateway_attachment_id"],
        resource_id=params["resource_id"],
        attachment_type=params["attachment_type"],
        route_type=params["route_type"],
        states=params["states"],
        extra=params["filters"],
    )
    routes, more = tgw_api.search_routes(client, params["transit_gateway_route_table_id"], filters, params["max_results"])
    return {"changed": False, "routes": [snake_resource(r) for r in routes], "additional_routes_available": more}


def run_vpc_route(module, client):
    params = module.params
    table_id, tgw_id = params["route_table_id"], params["transit_gateway_id"]
    table = tgw_api.describe_route_table(client, table_id)
    if table is None:
        raise routing.RoutingError("route_table_id: %s does not exist" % table_id)
    action, destination = routing.plan_vpc_route(table.get("Routes"), params["destination_cidr_block"], tgw_id, params["state"])
    route = {"destination_cidr_block": destination, "transit_gateway_id": tgw_id}
    result = {"changed": action is not None, "route_table_id": table_id, "action": action}
    result["route"] = None if (action == "delete" or (action is None and params["state"] == "absent")) else route
    if module._diff:
        present_before = (action == "delete") or (action is None and params["state"] == "present")
        result["diff"] = {"before": {"route": route if present_before else None}, "after": {"route": result["route"]}}
    if action and not module.check_mode:
        if action == "create":
            tgw_api.create_vpc_route(client, table_id, destination, tgw_id)
        else:
            tgw_api.delete_vpc_route(client, table_id, destination)
    return result


def run_security_group_ingress_rule(module, client):
    params = module.params
    group_id = params["group_id"]
    group = tgw_api.describe_security_group(client, group_id)
    if group is None:
        raise security_group_rules.RuleError("group_id: %s does not exist" % group_id)
    plan = security_group_rules.plan_ingress_rule(
        group.get("IpPermissions"),
        params["protocol"],
        params["cidr_ip"],
        params["from_port"],
        params["to_port"],
        params["description"],
        params["state"],
    )
    action, before = plan["action"], plan["before"]
    if action == "revoke":
        after = None
    elif action in ("authorize", "describe"):
        protocol, cidr_ip, from_port, to_port = security_group_rules.normalise_rule(
            params["protocol"], params["cidr_ip"], params["from_port"], params["to_port"]
        )
        after = {"protocol": protocol, "cidr_ip": cidr_ip, "from_port": from_port, "to_port": to_port}
        after["description"] = params["description"] if params["description"] is not None else (before or {}).get("description")
    else:
        after = before
    result = {"changed": action is not None, "action": action, "group_id": group_id, "rule": after}
    if module._diff:
        result["diff"] = {"before": {"rule": before}, "after": {"rule": after}}
    if action and not module.check_mode:
        call = {
            "authorize": tgw_api.authorize_ingress,
            "describe": tgw_api.update_ingress_description,
            "revoke": tgw_api.revoke_ingress,
        }[action]
        call(client, group_id, plan["permission"])
    return result
