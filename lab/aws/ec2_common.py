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
