"""Verdicts of the verify role on AWS-, iproute2- and Calico-shaped answers."""

import json

import pytest

from ansible_collections.calico_egress.aws.plugins.module_utils import verify_checks as vc


def _peer(node, statuses):
    return {
        "transit_gateway_connect_peer_id": "tgw-connect-peer-%s" % node,
        "tags": {"calico_egress.aws/node": node},
        "bgp_peers": [{"transit_gateway_address": "169.254.6.%d" % (2 + i), "bgp_status": s} for i, s in enumerate(statuses)],
    }


def test_connect_peers_pass_only_with_both_sessions_up():
    results = vc.connect_peer_results([_peer("a", ["up", "up"]), _peer("b", ["up", "down"])], ["a", "b"])
    assert [(r["target"], r["ok"]) for r in results] == [("a", True), ("b", False)]
    assert "169.254.6.3=down" in results[1]["detail"]


def test_connect_peers_missing_node_and_single_session_fail():
    results = vc.connect_peer_results([_peer("a", ["up"])], ["a", "c"])
    assert [(r["target"], r["ok"]) for r in results] == [("a", False), ("c", False)]
    assert "1 BGP sessions reported, 2 expected" in results[0]["detail"]
    assert "no Connect peer" in results[1]["detail"]


def test_connect_peers_up_over_ibgp_fail_naming_the_asn():
    ibgp = _peer("a", ["up", "up"])
    ebgp = _peer("b", ["up", "up"])
    for session in ibgp["bgp_peers"]:
        session.update(peer_asn=64513, transit_gateway_asn=64513)
    for session in ebgp["bgp_peers"]:
        session.update(peer_asn=64512, transit_gateway_asn=64513)
    results = vc.connect_peer_results([ibgp, ebgp], ["a", "b"])
    assert [(r["target"], r["ok"]) for r in results] == [("a", False), ("b", True)]
    assert "iBGP: peer ASN 64513 equals the TGW ASN" in results[0]["detail"]


def _route(cidr, route_type="propagated", state="active", resource_type="connect"):
    return {
        "destination_cidr_block": cidr,
        "type": route_type,
        "state": state,
        "transit_gateway_attachments": [{"transit_gateway_attachment_id": "tgw-attach-1", "resource_type": resource_type}],
    }


@pytest.mark.parametrize(
    "routes, ok",
    [
        ([_route("10.10.10.0/31")], True),
        ([_route("10.10.10.0/24")], True),  # a propagated supernet carries the pool too
        ([_route("10.10.10.0/31", route_type="static")], False),
        ([_route("10.10.10.0/31", state="blackhole")], False),
        ([_route("10.10.10.0/31", resource_type="vpc")], False),
        ([_route("10.10.10.2/31")], False),
        ([], False),
    ],
)
def test_firewall_route_needs_active_propagated_route_via_connect(routes, ok):
    (result,) = vc.propagated_route_results(routes, ["10.10.10.0/31"])
    assert result["ok"] is ok
    if not ok:
        assert "return traffic cannot reach the egress gateway" in result["detail"]


def _link(kind="gre", flags=("POINTOPOINT", "NOARP", "UP", "LOWER_UP")):
    return {
        "ifname": "tgw0",
        "flags": list(flags),
        "address": "10.0.1.10",
        "broadcast": "192.0.2.1",
        "linkinfo": {"info_kind": kind},
    }


def test_gre_links():
    probes = [
        {"item": "n1", "rc": 0, "stdout": json.dumps([_link()])},
        {"item": "n2", "rc": 0, "stdout": json.dumps([_link(flags=("POINTOPOINT", "NOARP"))])},
        {"item": "n3", "rc": 1, "stdout": "", "stderr": 'Device "tgw0" does not exist.'},
        {"item": "n4", "rc": 0, "stdout": json.dumps([_link(kind="ipip")])},
    ]
    results = vc.gre_link_results(probes, "tgw0")
    assert [(r["target"], r["ok"]) for r in results] == [
        ("n1/tgw0", True),
        ("n2/tgw0", False),
        ("n3/tgw0", False),
        ("n4/tgw0", False),
    ]
    assert "remote 192.0.2.1" in results[0]["detail"]
    assert "link missing" in results[2]["detail"]


def test_calico_sessions():
    assert vc.calico_session_results({"established": True, "not_established": []})[0]["ok"] is True
    failing = vc.calico_session_results({"established": False, "not_established": ["node-b 169.254.6.11: Connect"]})
    assert [(r["target"], r["ok"]) for r in failing] == [("node-b", False)]
    assert vc.calico_session_results({})[0]["ok"] is False
    assert vc.calico_session_results({}, "No Installation 'default'")[0]["detail"] == "No Installation 'default'"


@pytest.mark.parametrize(
    "expect, connected, source, ok",
    [
        (True, True, "10.10.10.1", True),
        (True, True, "10.0.1.10", False),  # connected, but not through the egress gateway
        (True, True, None, True),
        (True, False, None, False),
        (False, False, None, True),
        (False, True, None, False),
    ],
)
def test_flows(expect, connected, source, ok):
    result = vc.flow_result("flow", "t", expect, connected, source, ["10.10.10.0/31"])
    assert result["ok"] is ok


def test_table_counts_and_aligns():
    lines = vc.render_table(
        [
            {"check": "gre_link", "target": "n1/tgw0", "ok": True, "detail": "up"},
            {"check": "denied_flow", "target": "n1", "ok": False, "detail": "connected"},
        ]
    )
    assert lines[0].split() == ["CHECK", "TARGET", "RESULT", "DETAIL"]
    assert lines[1].index("PASS") == lines[2].index("FAIL") == lines[0].index("RESULT")
    assert lines[-1] == "2 checks, 1 passed, 1 failed"
