"""CreateTags / DeleteTags / DescribeTags that know Connect peers (moto refuses their ids as InvalidID).

Tags live in moto's tag table either way; moto still validates every id it knows.
"""

from moto.ec2.models import validate_resource_ids

from lab.aws.ec2_common import paginate
from lab.aws.ec2_connect import registry
from lab.aws.errors import ServiceError

PEER_PREFIX = "tgw-connect-peer-"
PEER_RESOURCE_TYPE = "transit-gateway-connect-peer"


def checked_resources(backend, resource_ids):
    peers = registry(backend).peers
    theirs = []
    for resource_id in resource_ids:
        if resource_id.startswith(PEER_PREFIX):
            if resource_id not in peers or peers[resource_id].state == "deleted":
                raise ServiceError(
                    "InvalidTransitGatewayConnectPeerID.NotFound", "Transit Gateway Connect peer %s not found." % resource_id
                )
        else:
            theirs.append(resource_id)
    if theirs:
        validate_resource_ids(theirs)  # moto's checks (InvalidID, NotFound) for everything else
        backend.do_resources_exist(theirs)
    return list(resource_ids)


def create_tags(ctx, params):
    resources = checked_resources(ctx.backend, params["Resources"])
    ctx.backend.create_tags(resources, {tag["Key"]: tag.get("Value", "") for tag in params["Tags"]})
    return {}


def delete_tags(ctx, params):
    resources = checked_resources(ctx.backend, params["Resources"])
    ctx.backend.delete_tags(resources, {tag["Key"]: tag.get("Value") for tag in params.get("Tags") or []})
    return {}


def describe_tags(ctx, params):
    filters = {item["Name"]: list(item.get("Values") or []) for item in params.get("Filters") or []}
    wanted_types = filters.pop("resource-type", None)
    tags = []
    for item in ctx.backend.describe_tags(filters=filters or None):
        resource_type = PEER_RESOURCE_TYPE if item["resource_id"].startswith(PEER_PREFIX) else item["resource_type"]
        if wanted_types is None or resource_type in wanted_types:
            tags.append(
                {"ResourceId": item["resource_id"], "ResourceType": resource_type, "Key": item["key"], "Value": item["value"]}
            )
    page, token = paginate(tags, params, minimum=5, maximum=1000)
    result = {"Tags": page}
    if token:
        result["NextToken"] = token
    return result


HANDLERS = {"CreateTags": create_tags, "DeleteTags": delete_tags, "DescribeTags": describe_tags}
