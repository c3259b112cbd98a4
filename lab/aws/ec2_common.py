"""Helpers shared by our EC2 handlers: filters, pagination, tags, ids, and the pass-to-moto marker."""

import base64
import binascii
import random

from lab.aws.errors import ServiceError

# A handler returns this to let moto answer the call (after its own checks passed).
PASS_TO_MOTO = object()


def new_id(prefix):
    return "%s-%017x" % (prefix, random.getrandbits(68))


def tags_of(backend, resource_id):
    return dict(backend.tags.get(resource_id, {}))


def tag_list(tags):
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def tags_from_specifications(specifications, resource_type):
    tags = {}
    for specification in specifications or []:
        if specification.get("ResourceType") not in (None, resource_type):
            # Documented: a tag specification for another resource type is refused.
            raise ServiceError(
                "InvalidParameterValue",
                "'%s' is not a valid taggable resource type for this operation." % specification.get("ResourceType"),
            )
        for tag in specification.get("Tags") or []:
            tags[tag["Key"]] = tag.get("Value", "")
    return tags


def matches_filters(values, tags, filters, known):
    """True when the object passes every EC2 filter.

    values: {filter name: value or list of values}; tags: the object's tags; known: filter names allowed here.
    """
    for item in filters or []:
        name = item.get("Name", "")
        wanted = [str(value) for value in item.get("Values") or []]
        if name.startswith("tag:"):
            actual = [tags[name[4:]]] if name[4:] in tags else []
        elif name == "tag-key":
            actual = list(tags)
        elif name == "tag-value":
            actual = list(tags.values())
        elif name in known:
            actual = values.get(name)
            actual = [] if actual is None else actual if isinstance(actual, list) else [actual]
            actual = [str(value).lower() if isinstance(value, bool) else str(value) for value in actual]
        else:
            # EC2 answers InvalidParameterValue for a filter the operation does not know (best guess at wording).
            raise ServiceError("InvalidParameterValue", "The filter '%s' is invalid" % name, documented=False)
        if not set(actual) & set(wanted):
            return False
    return True


def paginate(items, params, minimum=5, maximum=1000):
    """(page, next_token) by MaxResults/NextToken, with EC2's bounds on MaxResults."""
    max_results = params.get("MaxResults")
    if max_results is not None and not minimum <= max_results <= maximum:
        # Documented: MaxResults outside the operation's range is InvalidParameterValue.
        raise ServiceError(
            "InvalidParameterValue",
            "Value ( %s ) for parameter maxResults is invalid. Expecting a value between %d and %d."
            % (max_results, minimum, maximum),
        )
    start = 0
    token = params.get("NextToken")
    if token:
        try:
            start = int(base64.b64decode(token.encode("ascii"), validate=True).decode("ascii"))
        except (ValueError, binascii.Error, UnicodeError):
            start = -1
        if not 0 <= start <= len(items):
            # Documented code for a token that is not valid or has expired.
            raise ServiceError("InvalidPaginationToken", "The pagination token %s is invalid." % token)
    end = len(items) if max_results is None else start + max_results
    next_token = base64.b64encode(str(end).encode("ascii")).decode("ascii") if end < len(items) else None
    return items[start:end], next_token


# -- attachments and route tables (moto's objects; one state serves moto's handlers and ours) ---------------
def live_attachment(backend, attachment_id):
    """The attachment with that id unless it is gone or deleted, else the documented NotFound error."""
    attachment = backend.transit_gateway_attachments.get(attachment_id)
    if attachment is None or attachment.state == "deleted":
        raise ServiceError(
            "InvalidTransitGatewayAttachmentID.NotFound", "Transit Gateway Attachment %s not found." % attachment_id
        )
    return attachment


def route_table(backend, route_table_id):
    table = backend.transit_gateways_route_tables.get(route_table_id)
    if table is None or table.state == "deleted":
        # Documented code for an unknown transit gateway route table.
        raise ServiceError(
            "InvalidRouteTableID.NotFound", "Transit Gateway Route Table %s was deleted or does not exist." % route_table_id
        )
    return table


def associated_table(backend, attachment_id):
    """The route table the attachment is associated with, or None (AWS allows one association)."""
    for table in backend.transit_gateways_route_tables.values():
        if attachment_id in table.route_table_associations:
            return table
    return None


def associate(backend, attachment, table):
    """Record an association where moto's own handlers look for it (table, attachment, backend index)."""
    backend.set_route_table_association(attachment.id, table.id)
    backend.set_attachment_association(attachment.id, table.id)
    attachment.transit_gateway_route_table = table


def disassociate(backend, attachment_id, table):
    table.route_table_associations.pop(attachment_id, None)
    backend.transit_gateway_associations.pop(attachment_id, None)
    attachment = backend.transit_gateway_attachments.get(attachment_id)
    if attachment is not None:
        attachment._association_data = {}  # noqa: SLF001 - moto's own bookkeeping field
        attachment.transit_gateway_route_table = None


def propagating_tables(backend, attachment_id):
    return [
        table
        for table in backend.transit_gateways_route_tables.values()
        if any(item.transitGatewayAttachmentId == attachment_id for item in table.route_table_propagation)
    ]


def enable_propagation(backend, attachment, table):
    backend.set_route_table_propagation(attachment.id, table.id)


def disable_propagation(backend, attachment_id, table):
    backend.disable_route_table_propagation(attachment_id, table.id)


def detach_from_route_tables(backend, attachment_id):
    """What deleting an attachment does to routing: no association, no propagation, no static routes via it."""
    table = associated_table(backend, attachment_id)
    if table is not None:
        disassociate(backend, attachment_id, table)
    for table in propagating_tables(backend, attachment_id):
        disable_propagation(backend, attachment_id, table)


def apply_default_route_tables(backend, transit_gateway, attachment):
    """AWS associates/propagates a new attachment with the TGW's default tables only when those options say enable."""
    options = transit_gateway.options
    current = associated_table(backend, attachment.id)
    if current is not None:
        disassociate(backend, attachment.id, current)
    association_table = backend.transit_gateways_route_tables.get(options.get("AssociationDefaultRouteTableId") or "")
    if options.get("DefaultRouteTableAssociation") == "enable" and association_table is not None:
        associate(backend, attachment, association_table)
    propagation_table = backend.transit_gateways_route_tables.get(options.get("PropagationDefaultRouteTableId") or "")
    if options.get("DefaultRouteTablePropagation") == "enable" and propagation_table is not None:
        enable_propagation(backend, attachment, propagation_table)


def describe(backend, params, items, spec):
    """The Describe* pattern: ids (NotFound if unknown), filters, pagination, views.

    spec: dict with ids_param, not_found (code, message with %s), filters ({name: value of item}), view
    (item -> dict), result_key.
    """
    wanted = params.get(spec["ids_param"]) or []
    missing = sorted(set(wanted) - {item.id for item in items})
    if missing:
        code, message = spec["not_found"]
        raise ServiceError(code, message % missing[0])
    known = tuple(spec["filters"])

    def wanted_item(item):
        values = {name: value(item) for name, value in spec["filters"].items()}
        if wanted and item.id not in wanted:
            return False
        return matches_filters(values, tags_of(backend, item.id), params.get("Filters"), known)

    selected = [item for item in items if wanted_item(item)]
    page, token = paginate(selected, params)
    result = {spec["result_key"]: [spec["view"](item) for item in page]}
    if token:
        result["NextToken"] = token
    return result
