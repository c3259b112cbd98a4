# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.calico_egress.aws.plugins.module_utils import security_group_rules as sg

OURS = "GRE from the transit gateway (Connect peers of blue)"
# AWS reports a GRE rule without ports; moto with ports -1.
GRE_AWS = {"IpProtocol": "47", "IpRanges": [{"CidrIp": "10.99.0.0/24", "Description": OURS}]}
GRE_MOTO = dict(GRE_AWS, FromPort=-1, ToPort=-1)
SSH = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.99.0.0/24"}]}


@pytest.mark.parametrize("stored", [GRE_AWS, GRE_MOTO])
def test_absent_revokes_exactly_the_stored_rule(stored):
    plan = sg.plan_ingress_rule([SSH, stored], "gre", "10.99.0.0/24", description=OURS, state="absent")
    expected = {k: v for k, v in stored.items() if k != "IpRanges"}
    expected["IpRanges"] = [{"CidrIp": "10.99.0.0/24"}]
    assert plan["action"] == "revoke" and plan["permission"] == expected
    assert plan["before"]["description"] == OURS


def test_absent_leaves_a_rule_with_another_description_or_source():
    assert sg.plan_ingress_rule([GRE_AWS], "47", "10.99.0.0/24", description="other", state="absent")["action"] is None
    assert sg.plan_ingress_rule([GRE_AWS], "gre", "10.98.0.0/24", state="absent")["action"] is None
    # the SSH rule from the same source is another protocol
    assert sg.plan_ingress_rule([SSH], "gre", "10.99.0.0/24", state="absent")["action"] is None


def test_present_authorizes_redescribes_or_keeps():
    assert sg.plan_ingress_rule([], "gre", "10.99.0.0/24", description=OURS) == {
        "action": "authorize",
        "permission": {"IpProtocol": "47", "IpRanges": [{"CidrIp": "10.99.0.0/24", "Description": OURS}]},
        "before": None,
    }
    assert sg.plan_ingress_rule([GRE_AWS], "gre", "10.99.0.0/24", description=OURS)["action"] is None
    assert sg.plan_ingress_rule([GRE_MOTO], "gre", "10.99.0.0/24", description="new")["permission"] == {
        "IpProtocol": "47",
        "FromPort": -1,
        "ToPort": -1,
        "IpRanges": [{"CidrIp": "10.99.0.0/24", "Description": "new"}],
    }
    assert sg.plan_ingress_rule([SSH], "tcp", "10.99.0.0/24", 22, 22)["action"] is None
    assert sg.plan_ingress_rule([SSH], "tcp", "10.99.0.0/24", 443, 443)["action"] == "authorize"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tcp", "10.0.0.0/8"), "from_port: tcp, udp and icmp rules need from_port and to_port"),
        (("gre", "10.0.0.0/8", 1, 2), "from_port: protocol gre has no ports; leave from_port and to_port out"),
        (("bogus", "10.0.0.0/8"), "protocol: 'bogus' is not a protocol name"),
        (("gre", "fd00::/64"), "cidr_ip: 'fd00::/64' is not an IPv4 CIDR block"),
        (("gre", "nope"), "cidr_ip: 'nope' is not an IPv4 CIDR block"),
    ],
)
def test_bad_input_names_the_field(args, message):
    with pytest.raises(sg.RuleError) as error:
        sg.normalise_rule(*args)
    assert str(error.value).startswith(message)
