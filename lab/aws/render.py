"""Request parsing and response rendering in each service's wire protocol, driven by the botocore models.

moto's model-driven parser and serializer do the work, so our handlers deal in plain dicts with the
model's member names (PascalCase) and the wire format matches what moto itself emits for EC2.
"""

import json
import uuid
from datetime import datetime, timezone
from xml.sax.saxutils import escape

from moto.core.parse import PROTOCOL_PARSERS
from moto.core.serialize import DefaultAttributePicker, SerializationContext, get_serializer_class
from moto.core.utils import get_service_model
from werkzeug.datastructures import MultiDict


def request_id():
    return str(uuid.uuid4())


def parse_ec2_params(action, form):
    """Typed parameters of an EC2 Query request (lists, ints, bools, nested structures)."""
    operation = get_service_model("ec2").operation_model(action)
    parser = PROTOCOL_PARSERS["ec2"](operation)
    values = MultiDict(form)
    return parser.parse({"method": "POST", "values": values, "headers": {}, "body": "", "url_path": "/", "url_params": {}})


def ec2_response(action, result):
    """(status, headers, body) of a successful EC2 call whose output is `result` (dict keyed by model names)."""
    operation = get_service_model("ec2").operation_model(action)
    serializer_class = get_serializer_class("ec2", "ec2")
    serializer = serializer_class(
        operation_model=operation,
        context=SerializationContext(request_id=request_id()),
        value_picker=DefaultAttributePicker(),
    )
    serialized = serializer.serialize(result)
    body = serialized["body"]
    if "<requestId>" not in body:
        # EC2 puts the request id inside every result element.
        closing = "</%sResponse>" % action
        body = body.replace(closing, "<requestId>%s</requestId>%s" % (request_id(), closing))
    return 200, {"Content-Type": "text/xml"}, body


def ec2_error(code, message, status=400):
    """EC2's error document: Response/Errors/Error/{Code,Message} plus RequestID."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors>"
        "<RequestID>%s</RequestID></Response>" % (escape(code), escape(message), request_id())
    )
    return status, {"Content-Type": "text/xml"}, body


def _json_default(value):
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.timestamp()
    raise TypeError("not JSON serialisable: %r" % (value,))


def json_response(result):
    body = json.dumps(result, default=_json_default)
    return 200, {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": request_id()}, body


def json_error(code, message, status=400):
    body = json.dumps({"__type": code, "message": message})
    return status, {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": request_id()}, body
