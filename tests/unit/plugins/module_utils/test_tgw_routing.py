# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.calico_egress.aws.plugins.module_utils import tgw_routing as routing

TGW = "tgw-0123456789abcdef0"
LOCAL = {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "Origin": "CreateRouteTable"}
OURS = {"DestinationCidrBlock": "10.99.0.0/24", "TransitGatewayId": TGW, "Origin": "CreateRoute"}


def test_gre_addresses_in_block_only_those_inside():
    assert routing.gre_addresses_in_block("10.99.0.0/24", ["10.99.0.7", None, "10.98.0.1", "10.99.0.1"]) == [
        "10.99.0.1",
        "10.99.0.7",
    ]


@pytest.mark.parametrize(
    ("routes", "state", "action"),
    [
        ([LOCAL], "present", "create"),
        ([LOCAL, OURS], "present", None),
        ([LOCAL, OURS], "absent", "delete"),
        ([LOCAL], "absent", None),
        # the same destination via another transit gateway is not ours
        ([LOCAL, dict(OURS, TransitGatewayId="tgw-0fffffffffffffff0")], "absent", None),
        # another destination via our transit gateway is not ours either
        ([LOCAL, dict(OURS, DestinationCidrBlock="10.98.0.0/24")], "absent", None),
    ],
)
def test_plan_vpc_route(routes, state, action):
    assert routing.plan_vpc_route(routes, "10.99.0.0/24", TGW, state) == (action, "10.99.0.0/24")


def test_plan_vpc_route_normalises_and_refuses_replacing_another_target():
    assert routing.plan_vpc_route([OURS], "10.99.0.5/24", TGW, "absent") == ("delete", "10.99.0.0/24")
    other = {"DestinationCidrBlock": "10.99.0.0/24", "GatewayId": "igw-1", "Origin": "CreateRoute"}
    with pytest.raises(routing.RoutingError, match=r"^destination_cidr_block: 10.99.0.0/24 already routes to GatewayId=igw-1"):
        routing.plan_vpc_route([other], "10.99.0.0/24", TGW, "present")
    with pytest.raises(routing.RoutingError, match=r"^destination_cidr_block: 'nope' is not a CIDR block"):
        routing.plan_vpc_route([], "nope", TGW)
