"""Check responses on the wire against the botocore service model.

boto3's parsers silently drop elements they do not know, so a stand-in answer with an invented field would
pass unnoticed. `ResponseRecorder` hooks a boto3 client, keeps every raw response body and checks it:
- the raw body, element by element (EC2 XML) or key by key (JSON), against the operation's output shape:
  unknown members, lists not shaped as the protocol lists them, scalars that do not parse, enum values
  outside the model's enum;
- the parsed result with botocore's own validator (types, unknown keys).
"""

import json
from datetime import datetime
from xml.etree import ElementTree

from botocore.validate import ParamValidator

EC2_METADATA_ELEMENTS = ("requestId",)


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def _xml_name(member_name, shape):
    return shape.serialization.get("name", member_name)


def _scalar_problem(shape, text, path):
    text = text or ""
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            int(text)
        elif kind in ("float", "double"):
            float(text)
        elif kind == "boolean" and text not in ("true", "false"):
            return "%s: boolean %r" % (path, text)
        elif kind == "timestamp":
            datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return "%s: %s %r does not parse" % (path, kind, text)
    if kind == "string" and shape.enum and text not in shape.enum:
        return "%s: %r is not one of the model's values %s" % (path, text, shape.enum)
    return None


def check_ec2_xml(element, shape, path, problems, top=False):
    """Every child element must be a member of `shape` (EC2 query protocol serialization)."""
    kind = shape.type_name
    if kind == "structure":
        members = {_xml_name(name, member): (name, member) for name, member in shape.members.items()}
        for child in element:
            tag = _local(child.tag)
            if tag in members:
                name, member = members[tag]
                check_ec2_xml(child, member, "%s.%s" % (path, name), problems)
            elif not (top and tag in EC2_METADATA_ELEMENTS):
                problems.append("%s: element <%s> is not in the model" % (path, tag))
    elif kind == "list":
        item_name = shape.member.serialization.get("name", "member")
        for index, child in enumerate(element):
            if _local(child.tag) != item_name:
                problems.append("%s: list item <%s>, the model says <%s>" % (path, _local(child.tag), item_name))
            check_ec2_xml(child, shape.member, "%s[%d]" % (path, index), problems)
    elif len(element):
        problems.append("%s: scalar %s has child elements" % (path, kind))
    else:
        problem = _scalar_problem(shape, element.text, path)
        if problem:
            problems.append(problem)


def check_json(value, shape, path, problems):
    """Every key must be a member of `shape` (JSON protocol)."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            problems.append("%s: expected an object, got %r" % (path, value))
            return
        for key, item in value.items():
            member = shape.members.get(key)
            if member is None:
                problems.append("%s: key %r is not in the model" % (path, key))
            else:
                check_json(item, member, "%s.%s" % (path, key), problems)
    elif kind == "list":
        if not isinstance(value, list):
            problems.append("%s: expected a list, got %r" % (path, value))
            return
        for index, item in enumerate(value):
            check_json(item, shape.member, "%s[%d]" % (path, index), problems)
    elif kind == "map":
        if not isinstance(value, dict):
            problems.append("%s: expected a map, got %r" % (path, value))
            return
        for key, item in value.items():
            check_json(item, shape.value, "%s[%r]" % (path, key), problems)
    elif kind == "string" and shape.enum and value not in shape.enum:
        problems.append("%s: %r is not one of the model's values %s" % (path, value, shape.enum))
    elif kind == "timestamp" and not isinstance(value, (int, float)):
        problems.append("%s: JSON timestamps are epoch seconds, got %r" % (path, value))


def check_raw_response(operation_model, body):
    """Problems of one successful raw response body of `operation_model` (empty list: faithful)."""
    shape = operation_model.output_shape
    if shape is None:
        return []
    problems = []
    # botocore >= 1.42 lists several protocols (network-firewall: smithy-rpc-v2-cbor, json); we serve JSON.
    protocols = operation_model.metadata.get("protocols") or [operation_model.metadata["protocol"]]
    protocol = "ec2" if "ec2" in protocols else "json" if "json" in protocols else protocols[0]
    if protocol == "ec2":
        root = ElementTree.fromstring(body)
        expected = "%sResponse" % operation_model.name
        if _local(root.tag) != expected:
            problems.append("root element <%s>, expected <%s>" % (_local(root.tag), expected))
        check_ec2_xml(root, shape, operation_model.name, problems, top=True)
    elif protocol == "json":
        check_json(json.loads(body or b"{}"), shape, operation_model.name, problems)
    else:
        problems.append("protocol %s is not checked" % protocol)
    return problems


def check_parsed_response(operation_model, parsed):
    """botocore's own validator on the parsed result (without ResponseMetadata)."""
    shape = operation_model.output_shape
    if shape is None:
        return []
    result = {key: value for key, value in parsed.items() if key != "ResponseMetadata"}
    report = ParamValidator().validate(result, shape)
    return [report.generate_report()] if report.has_errors() else []


class ResponseRecorder:
    """Hook a boto3 client; every successful response is checked, every operation name remembered."""

    def __init__(self, client):
        self.problems = []
        self.operations = []
        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register("after-call.%s" % service, self._after_call)

    def _after_call(self, http_response, parsed, model, **_):
        self.operations.append(model.name)
        if http_response.status_code >= 300:
            return
        for problem in check_raw_response(model, http_response.content) + check_parsed_response(model, parsed):
            self.problems.append("%s: %s" % (model.name, problem))
