"""The stand-in's server: moto pass-through, admin API, knobs, call log, Network Firewall wiring."""

import importlib
import io
import json
import threading
import time
import urllib.error
import urllib.request
from xml.etree import ElementTree

import pytest
from botocore.exceptions import ClientError

from lab.aws.client import StandinClient
from lab.aws.errors import ServiceError
from lab.aws.routing import RouteProvider
from lab.aws.server import StandinApp, is_mutating, make_server
from lab.aws.state import KNOB_DEFAULTS


def no_retries(aws, service="ec2"):
    return aws.client(service, retries={"total_max_attempts": 1, "mode": "standard"})


def test_moto_keeps_owning_vpc_tgw_attachment_route_table_association(aws):
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.1.1.0/24")["Subnet"]
    tgw = ec2.create_transit_gateway(Description="lab")["TransitGateway"]
    table = ec2.create_transit_gateway_route_table(TransitGatewayId=tgw["TransitGatewayId"])["TransitGatewayRouteTable"]
    assert ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"][0]["CidrBlock"] == "10.1.0.0/16"
    assert (
        ec2.describe_transit_gateways(TransitGatewayIds=[tgw["TransitGatewayId"]])["TransitGateways"][0]["State"] == "available"
    )
    tables = ec2.describe_transit_gateway_route_tables(
        Filters=[{"Name": "transit-gateway-id", "Values": [tgw["TransitGatewayId"]]}]
    )["TransitGatewayRouteTables"]
    assert table["TransitGatewayRouteTableId"] in [t["TransitGatewayRouteTableId"] for t in tables]
    assert subnet["VpcId"] == vpc["VpcId"]


def test_call_log_records_service_action_params_and_mutating(aws):
    ec2 = aws.client("ec2")
    ec2.create_vpc(CidrBlock="10.2.0.0/16")
    ec2.describe_vpcs()
    calls = aws.calls()
    assert [(c["service"], c["action"], c["mutating"], c["error_code"]) for c in calls] == [
        ("ec2", "CreateVpc", True, None),
        ("ec2", "DescribeVpcs", False, None),
    ]
    assert calls[0]["params"] == {"CidrBlock": "10.2.0.0/16"}
    assert calls[0]["seq"] < calls[1]["seq"] and calls[0]["time"] <= calls[1]["time"]
    assert [c["action"] for c in aws.calls(mutating=True)] == ["CreateVpc"]
    assert aws.calls(service="network-firewall") == []
    aws.reset_calls()
    assert aws.calls() == []


def test_call_log_records_error_codes(aws):
    with pytest.raises(ClientError):
        aws.client("ec2").describe_vpcs(VpcIds=["vpc-00000000000000000"])
    assert (aws.calls()[-1]["error_code"], aws.calls()[-1]["status"]) == ("InvalidVpcID.NotFound", 400)


@pytest.mark.parametrize(
    "action, mutating",
    [
        ("DescribeVpcs", False),
        ("GetTransitGatewayRouteTablePropagations", False),
        ("ListRuleGroups", False),
        ("SearchTransitGatewayRoutes", False),
        ("CreateRuleGroup", True),
        ("ModifyTransitGateway", True),
    ],
)
def test_mutating_classification(action, mutating):
    assert is_mutating(action) is mutating


def test_throttle_rate_answers_that_share_of_calls_with_request_limit_exceeded(aws):
    ec2 = no_retries(aws)
    aws.set_knobs(throttle_rate=0.25)
    outcomes = []
    for _call in range(20):
        try:
            ec2.describe_vpcs()
            outcomes.append(None)
        except ClientError as error:
            outcomes.append(error.response["Error"]["Code"])
            assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert outcomes.count("RequestLimitExceeded") == 5
    assert outcomes.count(None) == 15
    assert sum(1 for call in aws.calls() if call["error_code"] == "RequestLimitExceeded") == 5


def test_throttled_calls_are_retried_by_botocore(aws):
    aws.set_knobs(throttle_rate=0.5)
    # Standard retry mode retries RequestLimitExceeded; every call eventually succeeds.
    ec2 = aws.client("ec2", retries={"total_max_attempts": 5, "mode": "standard"})
    for _call in range(4):
        ec2.describe_vpcs()
    # Calls 2, 4 and 6 of 7 on the wire were throttled and retried.
    assert [c["error_code"] for c in aws.calls()] == [None, "RequestLimitExceeded"] * 3 + [None]


def test_throttling_json_service_answers_throttling_exception(aws):
    aws.set_knobs(throttle_rate=1.0)
    nfw = no_retries(aws, "network-firewall")
    with pytest.raises(ClientError) as caught:
        nfw.list_rule_groups()
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"
    assert aws.calls()[-1]["service"] == "network-firewall"


def test_latency_knob_delays_every_call(aws):
    ec2 = aws.client("ec2")
    ec2.describe_vpcs()
    aws.set_knobs(latency_ms=300)
    started = time.monotonic()
    ec2.describe_vpcs()
    assert time.monotonic() - started >= 0.3


def test_knobs_read_update_validate_and_reset(aws):
    assert aws.knobs() == KNOB_DEFAULTS
    assert aws.set_knobs(connect_pending_seconds=2)["connect_pending_seconds"] == 2
    for bad in ({"no_such_knob": 1}, {"throttle_rate": 1.5}, {"latency_ms": -1}, {"latency_ms": "fast"}):
        with pytest.raises(urllib.error.HTTPError) as caught:
            aws.set_knobs(**bad)
        assert caught.value.code == 400
    aws.reset()
    assert aws.knobs() == KNOB_DEFAULTS


def test_reset_wipes_moto_state_and_call_log(aws):
    ec2 = aws.client("ec2")
    tgw_id = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    aws.reset()
    assert tgw_id not in [t["TransitGatewayId"] for t in ec2.describe_transit_gateways()["TransitGateways"]]
    assert [c["action"] for c in aws.calls()] == ["DescribeTransitGateways"]


def test_admin_unknown_call_and_bad_payload(aws):
    for method, path, payload in (
        ("GET", "nothing", None),
        ("POST", "routes", {"prefixes": []}),
        ("POST", "bgp", {"connect_peer_id": "tgw-connect-peer-1", "status": "sideways"}),
        ("POST", "routes", {"connect_peer_id": "tgw-connect-peer-1", "prefixes": ["10.0.0.1/24"]}),
    ):
        with pytest.raises(urllib.error.HTTPError) as caught:
            aws.admin(method, path, payload)
        assert caught.value.code in (400, 404)


def test_command_line_server_answers_health(aws_standin):
    with urllib.request.urlopen(aws_standin.endpoint_url + "/_standin/health", timeout=10) as response:  # noqa: S310
        assert json.loads(response.read()) == {"ok": True}


class FakeFirewallBackend:
    def __init__(self):
        self.seen = []

    def dispatch(self, action, params):
        self.seen.append((action, params))
        if action == "DescribeRuleGroup":
            raise ServiceError("ResourceNotFoundException", "no such group")
        return {"RuleGroups": []}


def wsgi_call(app, target, payload):
    body = json.dumps(payload).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/x-amz-json-1.0",
        "HTTP_X_AMZ_TARGET": target,
        "wsgi.input": io.BytesIO(body),
        "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=testing/20260101/eu-west-1/network-firewall/aws4_request",
    }
    status = {}
    chunks = app(environ, lambda s, h: status.update(code=int(s.split()[0]), headers=dict(h)))
    return status["code"], json.loads(b"".join(chunks))


def test_network_firewall_json_calls_go_to_the_backend_and_errors_render_as_json():
    app = StandinApp()
    fake = FakeFirewallBackend()
    app._nfw_backend = fake
    assert wsgi_call(app, "NetworkFirewall_20201112.ListRuleGroups", {"MaxResults": 5}) == (200, {"RuleGroups": []})
    code, body = wsgi_call(app, "NetworkFirewall_20201112.DescribeRuleGroup", {"RuleGroupName": "x"})
    assert (code, body) == (400, {"__type": "ResourceNotFoundException", "message": "no such group"})
    assert fake.seen[0] == ("ListRuleGroups", {"MaxResults": 5})
    assert [(c["service"], c["action"], c["error_code"]) for c in app.calls.list()] == [
        ("network-firewall", "ListRuleGroups", None),
        ("network-firewall", "DescribeRuleGroup", "ResourceNotFoundException"),
    ]


def test_network_firewall_without_backend_module_is_unknown_operation(monkeypatch):
    real_import_module = importlib.import_module

    def refuse(name):
        if name == "lab.aws.network_firewall":
            raise ImportError(name)
        return real_import_module(name)

    app = StandinApp()
    monkeypatch.setattr("importlib.import_module", refuse)
    code, body = wsgi_call(app, "NetworkFirewall_20201112.ListRuleGroups", {})
    assert code == 501 and body["__type"] == "UnknownOperationException"


def raw_error_body(aws, operation, **params):
    """The raw body of a failing call, captured before botocore parses it."""
    client = aws.client("ec2", retries={"total_max_attempts": 1, "mode": "standard"})
    bodies = []
    client.meta.events.register("after-call.ec2", lambda http_response, **_: bodies.append(http_response))
    with pytest.raises(ClientError):
        getattr(client, operation)(**params)
    return bodies[-1]


@pytest.mark.parametrize(
    "operation, params, code",
    [
        (
            "describe_transit_gateway_connect_peers",
            {"TransitGatewayConnectPeerIds": ["tgw-connect-peer-0000000000000000f"]},
            "InvalidTransitGatewayConnectPeerID.NotFound",
        ),
        ("describe_vpcs", {"VpcIds": ["vpc-0000000000000000f"]}, "InvalidVpcID.NotFound"),
    ],
)
def test_ec2_errors_use_ec2_error_document_for_ours_and_moto(aws, operation, params, code):
    response = raw_error_body(aws, operation, **params)
    assert response.status_code == 400
    # As AWS: no namespace on the error document (moto adds one; the middleware removes it).
    root = ElementTree.fromstring(response.content)
    assert root.tag == "Response"
    assert [child.tag for child in root] == ["Errors", "RequestID"]
    error = root.find("Errors/Error")
    assert error.findtext("Code") == code
    assert error.findtext("Message")
    assert root.findtext("RequestID")


class LiveBgpProvider(RouteProvider):
    """What the lab twin does: answers from a live BGP speaker (here: a dict standing in for FRR)."""

    def __init__(self):
        self.sessions = {}

    def advertised_prefixes(self, peer):
        return ["10.10.10.0/31"] if peer.peer_address in self.sessions else []

    def bgp_status(self, peer):
        return dict.fromkeys(peer.tgw_bgp_addresses, self.sessions.get(peer.peer_address, "down"))


def test_a_plugged_route_provider_feeds_routes_and_bgp_status():
    provider = LiveBgpProvider()
    server = make_server("127.0.0.1", 0, provider=provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client = StandinClient("http://127.0.0.1:%d" % server.server_port)
    try:
        server.standin_app.reset()
        ec2 = client.client("ec2")
        vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        tgw = ec2.create_transit_gateway(Options={"TransitGatewayCidrBlocks": ["10.99.0.0/24"]})["TransitGateway"]
        transport = ec2.create_transit_gateway_vpc_attachment(
            TransitGatewayId=tgw["TransitGatewayId"], VpcId=vpc_id, SubnetIds=[subnet_id]
        )
        connect = ec2.create_transit_gateway_connect(
            TransportTransitGatewayAttachmentId=transport["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"],
            Options={"Protocol": "gre"},
        )["TransitGatewayConnect"]
        ec2.create_transit_gateway_connect_peer(
            TransitGatewayAttachmentId=connect["TransitGatewayAttachmentId"],
            PeerAddress="10.0.1.10",
            InsideCidrBlocks=["169.254.6.0/29"],
        )
        table_id = tgw["Options"]["AssociationDefaultRouteTableId"]

        def connect_routes():
            routes = ec2.search_transit_gateway_routes(
                TransitGatewayRouteTableId=table_id, Filters=[{"Name": "attachment.resource-type", "Values": ["connect"]}]
            )["Routes"]
            return [route["DestinationCidrBlock"] for route in routes]

        assert connect_routes() == []
        provider.sessions["10.0.1.10"] = "up"
        assert connect_routes() == ["10.10.10.0/31"]
        peer = ec2.describe_transit_gateway_connect_peers()["TransitGatewayConnectPeers"][0]
        assert {bgp["BgpStatus"] for bgp in peer["ConnectPeerConfiguration"]["BgpConfigurations"]} == {"up"}
        # The table API belongs to the default provider only.
        with pytest.raises(urllib.error.HTTPError) as caught:
            client.advertise(peer["TransitGatewayConnectPeerId"], ["10.0.0.0/8"])
        assert caught.value.code == 400
    finally:
        server.standin_app.reset()
        server.shutdown()
        thread.join(10)
