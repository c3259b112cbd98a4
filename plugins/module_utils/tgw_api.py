# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thin wrappers around the EC2 Transit Gateway API calls the collection makes (the only boto3 user for TGW).

Every wrapper retries throttling (AWSRetry.jittered_backoff) and raises TgwApiError (an AnsibleAWSError)
naming the action; modules turn it into fail_json_aws via module.fail_json_aws_error. Lists go through
paginators. Waiting is data: botocore custom waiter models over ONE describe call for every pending id
(botocore ships no TGW waiters), so N peers wait together, not one after the other.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import botocore
    from botocore.waiter import WaiterModel, create_waiter_with_client
except ImportError:  # pragma: no cover - modules report the missing library
    pass

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_specifications,
)

# EC2 accepts up to 200 values per filter; bigger id lists are split.
FILTER_VALUES_MAX = 200
WAIT_DELAY = 3
# IncorrectState: the object is still pending/modifying; a later attempt succeeds.
_RETRY = AWSRetry.jittered_backoff(retries=10, delay=1, max_delay=20)
_RETRY_STATE = AWSRetry.jittered_backoff(retries=10, delay=1, max_delay=20, catch_extra_error_codes=["IncorrectState"])
_THROTTLED = ("RequestLimitExceeded", "Throttling", "ThrottlingException", "InternalError", "Unavailable")


class TgwApiError(AnsibleAWSError):
    pass


class TgwErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = TgwApiError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code(
            [
                "InvalidTransitGatewayID.NotFound",
                "InvalidTransitGatewayAttachmentID.NotFound",
                "InvalidTransitGatewayConnectPeerID.NotFound",
                "InvalidRouteTableID.NotFound",
                "InvalidGroup.NotFound",
            ]
        )


def _filters(values):
    """Filters=[{'Name': 'transit-gateway-id', 'Values': [...]}] from {'transit-gateway-id': [...]}."""
    return [{"Name": k, "Values": list(v)} for k, v in sorted((values or {}).items()) if v]


def _paginate(client, operation, key, **params):
    return client.get_paginator(operation).paginate(**params).build_full_result().get(key, [])


def _chunks(values, size=FILTER_VALUES_MAX):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


# ---------------------------------------------------------------- transit gateway and CIDR blocks


@TgwErrorHandler.list_error_handler("describe transit gateway", None)
@_RETRY
def describe_transit_gateway(client, transit_gateway_id):
    gateways = _paginate(client, "describe_transit_gateways", "TransitGateways", TransitGatewayIds=[transit_gateway_id])
    return gateways[0] if gateways else None


@TgwErrorHandler.common_error_handler("modify transit gateway CIDR blocks")
@_RETRY_STATE
def modify_transit_gateway_cidr_blocks(client, transit_gateway_id, add=(), remove=()):
    options = {}
    if add:
        options["AddTransitGatewayCidrBlocks"] = list(add)
    if remove:
        options["RemoveTransitGatewayCidrBlocks"] = list(remove)
    return client.modify_transit_gateway(TransitGatewayId=transit_gateway_id, Options=options)["TransitGateway"]


# ---------------------------------------------------------------- VPC route tables (the nodes' side)


@TgwErrorHandler.list_error_handler("describe route tables", None)
@_RETRY
def describe_route_table(client, route_table_id):
    tables = client.describe_route_tables(RouteTableIds=[route_table_id]).get("RouteTables", [])
    return tables[0] if tables else None


@TgwErrorHandler.common_error_handler("create route")
@_RETRY
def create_vpc_route(client, route_table_id, destination, transit_gateway_id):
    client.create_route(RouteTableId=route_table_id, DestinationCidrBlock=destination, TransitGatewayId=transit_gateway_id)


@TgwErrorHandler.deletion_error_handler("delete route")
@_RETRY
def delete_vpc_route(client, route_table_id, destination):
    client.delete_route(RouteTableId=route_table_id, DestinationCidrBlock=destination)


@TgwErrorHandler.list_error_handler("describe security groups", None)
@_RETRY
def describe_security_group(client, group_id):
    groups = client.describe_security_groups(GroupIds=[group_id]).get("SecurityGroups", [])
    return groups[0] if groups else None


@TgwErrorHandler.common_error_handler("authorize security group ingress")
@_RETRY
def authorize_ingress(client, group_id, permission):
    client.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[permission])


@TgwErrorHandler.common_error_handler("update security group rule descriptions")
@_RETRY
def update_ingress_description(client, group_id, permission):
    client.update_security_group_rule_descriptions_ingress(GroupId=group_id, IpPermissions=[permission])


@TgwErrorHandler.common_error_handler("revoke security group ingress")
@_RETRY
def revoke_ingress(client, group_id, permission):
    client.revoke_security_group_ingress(GroupId=group_id, IpPermissions=[permission])


# ---------------------------------------------------------------- attachments


@TgwErrorHandler.list_error_handler("describe transit gateway attachments", [])
@_RETRY
def describe_attachments(client, attachment_ids=None, filters=None):
    params = {"Filters": _filters(filters)}
    if attachment_ids:
        params["TransitGatewayAttachmentIds"] = list(attachment_ids)
    return _paginate(client, "describe_transit_gateway_attachments", "TransitGatewayAttachments", **params)


@TgwErrorHandler.list_error_handler("describe transit gateway connect attachments", [])
@_RETRY
def describe_connects(client, attachment_ids=None, filters=None):
    params = {"Filters": _filters(filters)}
    if attachment_ids:
        params["TransitGatewayAttachmentIds"] = list(attachment_ids)
    return _paginate(client, "describe_transit_gateway_connects", "TransitGatewayConnects", **params)


@TgwErrorHandler.common_error_handler("create transit gateway connect attachment")
@_RETRY_STATE
def create_connect(client, transport_attachment_id, tags=None):
    params = {"TransportTransitGatewayAttachmentId": transport_attachment_id, "Options": {"Protocol": "gre"}}
    if tags:
        params["TagSpecifications"] = boto3_tag_specifications(tags, types="transit-gateway-attachment")
    return client.create_transit_gateway_connect(**params)["TransitGatewayConnect"]


@TgwErrorHandler.deletion_error_handler("delete transit gateway connect attachment")
@_RETRY_STATE
def delete_connect(client, attachment_id):
    client.delete_transit_gateway_connect(TransitGatewayAttachmentId=attachment_id)
    return True


# ---------------------------------------------------------------- connect peers


@TgwErrorHandler.list_error_handler("describe transit gateway connect peers", [])
@_RETRY
def describe_connect_peers(client, peer_ids=None, attachment_ids=None, filters=None):
    """Every peer matching; attachment and peer ids may be long lists (split into several filters)."""
    if attachment_ids is not None and not attachment_ids:
        return []
    if peer_ids is not None and not peer_ids:
        return []
    peers = []
    id_filter, ids = ("transit-gateway-attachment-id", attachment_ids) if attachment_ids else (None, [None])
    for chunk in _chunks(ids) if id_filter else [None]:
        params = _filters(filters)
        if chunk:
            params.append({"Name": id_filter, "Values": chunk})
        call = {"Filters": params}
        for peer_chunk in _chunks(peer_ids) if peer_ids else [None]:
            if peer_chunk:
                call["TransitGatewayConnectPeerIds"] = peer_chunk
            peers.extend(_paginate(client, "describe_transit_gateway_connect_peers", "TransitGatewayConnectPeers", **call))
    return peers


@TgwErrorHandler.common_error_handler("create transit gateway connect peer")
@_RETRY_STATE
def create_connect_peer(
    client, attachment_id, peer_address, inside_cidrs, peer_asn=None, transit_gateway_address=None, tags=None
):
    params = {"TransitGatewayAttachmentId": attachment_id, "PeerAddress": peer_address, "InsideCidrBlocks": list(inside_cidrs)}
    if peer_asn is not None:
        params["BgpOptions"] = {"PeerAsn": int(peer_asn)}
    if transit_gateway_address:
        params["TransitGatewayAddress"] = transit_gateway_address
    if tags:
        params["TagSpecifications"] = boto3_tag_specifications(tags, types="transit-gateway-connect-peer")
    return client.create_transit_gateway_connect_peer(**params)["TransitGatewayConnectPeer"]


@TgwErrorHandler.deletion_error_handler("delete transit gateway connect peer")
@_RETRY_STATE
def delete_connect_peer(client, peer_id):
    client.delete_transit_gateway_connect_peer(TransitGatewayConnectPeerId=peer_id)
    return True


# ---------------------------------------------------------------- tags (Connect objects only have tags mutable)


@TgwErrorHandler.common_error_handler("tag transit gateway resource")
@_RETRY
def create_tags(client, resource_ids, tags):
    client.create_tags(Resources=list(resource_ids), Tags=ansible_dict_to_boto3_tag_list(tags))
    return True


@TgwErrorHandler.common_error_handler("untag transit gateway resource")
@_RETRY
def delete_tags(client, resource_ids, keys):
    client.delete_tags(Resources=list(resource_ids), Tags=[{"Key": k} for k in keys])
    return True


# ---------------------------------------------------------------- route tables


@TgwErrorHandler.list_error_handler("get transit gateway attachment propagations", [])
@_RETRY
def get_attachment_propagations(client, attachment_id):
    return _paginate(
        client,
        "get_transit_gateway_attachment_propagations",
        "TransitGatewayAttachmentPropagations",
        TransitGatewayAttachmentId=attachment_id,
    )


@TgwErrorHandler.common_error_handler("associate transit gateway route table")
@_RETRY_STATE
def associate_route_table(client, route_table_id, attachment_id):
    return client.associate_transit_gateway_route_table(
        TransitGatewayRouteTableId=route_table_id, TransitGatewayAttachmentId=attachment_id
    )


@TgwErrorHandler.deletion_error_handler("disassociate transit gateway route table")
@_RETRY_STATE
def disassociate_route_table(client, route_table_id, attachment_id):
    client.disassociate_transit_gateway_route_table(
        TransitGatewayRouteTableId=route_table_id, TransitGatewayAttachmentId=attachment_id
    )
    return True


@TgwErrorHandler.common_error_handler("enable transit gateway route table propagation")
@_RETRY_STATE
def enable_propagation(client, route_table_id, attachment_id):
    return client.enable_transit_gateway_route_table_propagation(
        TransitGatewayRouteTableId=route_table_id, TransitGatewayAttachmentId=attachment_id
    )


@TgwErrorHandler.deletion_error_handler("disable transit gateway route table propagation")
@_RETRY_STATE
def disable_propagation(client, route_table_id, attachment_id):
    client.disable_transit_gateway_route_table_propagation(
        TransitGatewayRouteTableId=route_table_id, TransitGatewayAttachmentId=attachment_id
    )
    return True


@TgwErrorHandler.common_error_handler("search transit gateway routes")
@_RETRY
def search_routes(client, route_table_id, filters, max_results=None):
    params = {"TransitGatewayRouteTableId": route_table_id, "Filters": filters}
    if max_results:
        params["MaxResults"] = max_results
    response = client.search_transit_gateway_routes(**params)
    return response.get("Routes", []), bool(response.get("AdditionalRoutesAvailable"))


# ---------------------------------------------------------------- waiting, many objects per describe call

_THROTTLE_ACCEPTORS = [{"state": "retry", "matcher": "error", "expected": code} for code in _THROTTLED]


def _waiter(operation, acceptors):
    return {"operation": operation, "delay": WAIT_DELAY, "maxAttempts": 200, "acceptors": acceptors + _THROTTLE_ACCEPTORS}


def _all_available(operation, key):
    """Success when every listed object is available; failure as soon as one failed or vanished."""
    path = "%s[].State" % key
    return _waiter(
        operation,
        [
            {"state": "success", "matcher": "pathAll", "argument": path, "expected": "available"},
            {"state": "failure", "matcher": "pathAny", "argument": path, "expected": "failed"},
            {"state": "failure", "matcher": "pathAny", "argument": path, "expected": "deleted"},
        ],
    )


def _all_deleted(operation, key, not_found):
    """Success when nothing listed is left but in state deleted (or the ids are not found any more)."""
    argument = "length(%s[?State!='deleted']) == `0`" % key
    return _waiter(
        operation,
        [
            {"state": "success", "matcher": "path", "argument": argument, "expected": True},
            {"state": "success", "matcher": "error", "expected": not_found},
        ],
    )


_WAITER_MODEL = {
    "version": 2,
    "waiters": {
        "ConnectPeersAvailable": _all_available("DescribeTransitGatewayConnectPeers", "TransitGatewayConnectPeers"),
        "ConnectPeersDeleted": _all_deleted(
            "DescribeTransitGatewayConnectPeers", "TransitGatewayConnectPeers", "InvalidTransitGatewayConnectPeerID.NotFound"
        ),
        "ConnectsAvailable": _all_available("DescribeTransitGatewayConnects", "TransitGatewayConnects"),
        "ConnectsDeleted": _all_deleted(
            "DescribeTransitGatewayConnects", "TransitGatewayConnects", "InvalidTransitGatewayAttachmentID.NotFound"
        ),
        "TransitGatewayAvailable": _waiter(
            "DescribeTransitGateways",
            [{"state": "success", "matcher": "pathAll", "argument": "TransitGateways[].State", "expected": "available"}],
        ),
    },
}
_ID_PARAMETER = {
    "ConnectPeersAvailable": "TransitGatewayConnectPeerIds",
    "ConnectPeersDeleted": "TransitGatewayConnectPeerIds",
    "ConnectsAvailable": "TransitGatewayAttachmentIds",
    "ConnectsDeleted": "TransitGatewayAttachmentIds",
    "TransitGatewayAvailable": "TransitGatewayIds",
}


def _unwrap(client):
    return getattr(client, "client", client)


@TgwErrorHandler.common_error_handler("wait for transit gateway resources")
def wait_for(client, waiter_name, ids, timeout, delay=WAIT_DELAY):
    """Wait until every id reaches the waiter's state; one describe call (per 200 ids) per poll."""
    ids = sorted(set(ids))
    if not ids:
        return
    delay = max(1, min(delay, timeout))
    waiter = create_waiter_with_client(waiter_name, WaiterModel(_WAITER_MODEL), _unwrap(client))
    for chunk in _chunks(ids):
        waiter.wait(
            **{
                _ID_PARAMETER[waiter_name]: chunk,
                "WaiterConfig": {"Delay": delay, "MaxAttempts": max(1, int(timeout // delay) + 1)},
            }
        )


def error_code(exception):
    """The AWS error code inside a TgwApiError (or None)."""
    inner = getattr(exception, "exception", None)
    if isinstance(inner, botocore.exceptions.ClientError):
        return inner.response.get("Error", {}).get("Code")
    return None
