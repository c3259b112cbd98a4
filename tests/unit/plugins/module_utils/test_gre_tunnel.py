# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.calico_egress.aws.plugins.module_utils.gre_tunnel import (
    TunnelSettingsError,
    live_tunnel,
    tunnel_differences,
    tunnel_settings,
)

GOOD = {"name": "gre-tgw", "local_address": "10.0.1.10", "remote_address": "10.99.0.1", "inside_address": "169.254.6.1/29"}

# `ip -d -j addr show dev gre-tgw` of a tunnel the role created (trimmed to what matters).
LIVE = [
    {
        "ifname": "gre-tgw",
        "flags": ["POINTOPOINT", "NOARP", "UP", "LOWER_UP"],
        "mtu": 8476,
        "operstate": "UNKNOWN",
        "linkinfo": {
            "info_kind": "gre",
            "info_data": {"remote": "10.99.0.1", "local": "10.0.1.10", "ttl": 255, "pmtudisc": True},
        },
        "addr_info": [{"family": "inet", "local": "169.254.6.1", "prefixlen": 29}],
    }
]


def test_settings_normalise_and_derive_the_tgw_addresses():
    settings = tunnel_settings(dict(GOOD, ttl="255", mtu="8476"))
    assert settings == {
        "name": "gre-tgw",
        "state": "present",
        "provider": "auto",
        "local_address": "10.0.1.10",
        "remote_address": "10.99.0.1",
        "inside_address": "169.254.6.1/29",
        "inside_cidr": "169.254.6.0/29",
        "tgw_inside_addresses": ["169.254.6.2", "169.254.6.3"],
        "ttl": 255,
        "mtu": 8476,
        "rp_filter": 2,
    }


@pytest.mark.parametrize(
    "change, message",
    [
        ({"mtu": 9000}, "gre_tunnel_mtu: 9000 is out of range 68-8476"),
        ({"mtu": "jumbo"}, "gre_tunnel_mtu: 'jumbo' is not an integer"),
        ({"inside_address": "10.9.9.1/29"}, "gre_tunnel_inside_address: 10.9.9.1/29 is outside 169.254.0.0/16"),
        ({"inside_address": "169.254.6.2/29"}, "is not the node's address of 169.254.6.0/29; the node is 169.254.6.1/29"),
        ({"inside_address": "169.254.6.1/30"}, "must be a /29"),
        ({"inside_address": "169.254.1.1/29"}, "is reserved by AWS"),
        ({"inside_address": "169.254.6.1"}, "gre_tunnel_inside_address: '169.254.6.1' is not an address with prefix length"),
        ({"inside_address": ""}, "gre_tunnel_inside_address: is required"),
        ({"name": "gre-tgw-far-too-long"}, "gre_tunnel_name: 'gre-tgw-far-too-long' is 20 characters long"),
        ({"name": "gre.tgw"}, "gre_tunnel_name: 'gre.tgw' is not usable"),
        ({"name": "gre0"}, "gre_tunnel_name: 'gre0' is not usable"),
        ({"remote_address": ""}, "gre_tunnel_remote_address: is required"),
        ({"remote_address": None}, "gre_tunnel_remote_address: is required"),
        ({"remote_address": "fd00::1"}, "gre_tunnel_remote_address: 'fd00::1' is not an IPv4 address"),
        ({"remote_address": "10.0.1.10"}, "gre_tunnel_remote_address: 10.0.1.10 equals the local address"),
        ({"local_address": ""}, "gre_tunnel_local_address: is required"),
        ({"ttl": 0}, "gre_tunnel_ttl: 0 is out of range 1-255"),
        ({"ttl": True}, "gre_tunnel_ttl: True is not an integer"),
        ({"rp_filter": 1}, "gre_tunnel_rp_filter: 1 (strict) drops the TGW's return traffic"),
        ({"state": "gone"}, "gre_tunnel_state: 'gone' must be one of present, absent"),
        ({"provider": "ifupdown"}, "gre_tunnel_provider: 'ifupdown' must be one of auto, netplan, networkd, nm"),
    ],
)
def test_bad_input_names_the_variable(change, message):
    with pytest.raises(TunnelSettingsError) as error:
        tunnel_settings(dict(GOOD, **change))
    assert message in str(error.value)


def test_absent_needs_only_the_name():
    assert tunnel_settings({"name": "gre-tgw", "mtu": 9000, "state": "absent"}) == {
        "name": "gre-tgw",
        "state": "absent",
        "provider": "auto",
    }
    with pytest.raises(TunnelSettingsError, match="gre_tunnel_name"):
        tunnel_settings({"name": "x" * 16, "state": "absent"})


def test_live_tunnel_reads_ip_json():
    assert live_tunnel(LIVE) == {
        "exists": True,
        "kind": "gre",
        "local_address": "10.0.1.10",
        "remote_address": "10.99.0.1",
        "ttl": 255,
        "mtu": 8476,
        "addresses": ["169.254.6.1/29"],
        "operstate": "UNKNOWN",
        "up": True,
    }
    assert live_tunnel([]) == {"exists": False}
    assert live_tunnel(None) == {"exists": False}


def test_no_differences_when_live_matches():
    assert tunnel_differences(tunnel_settings(GOOD), live_tunnel(LIVE)) == []


def test_differences_name_each_drift():
    drifted = [dict(LIVE[0], mtu=1476, flags=["POINTOPOINT", "NOARP"])]
    assert tunnel_differences(tunnel_settings(GOOD), live_tunnel(drifted)) == [
        "mtu: live 1476, wanted 8476",
        "up: live False, wanted True",
    ]
    assert tunnel_differences(tunnel_settings(GOOD), live_tunnel([])) == ["the link does not exist"]


def test_unknown_options_are_refused():
    with pytest.raises(TunnelSettingsError, match="unknown option.*gre_tunnel_mtu_bytes"):
        tunnel_settings(dict(GOOD, mtu_bytes=1500))


def test_absent_differs_only_while_the_link_exists():
    absent = tunnel_settings({"name": "gre-tgw", "state": "absent"})
    assert tunnel_differences(absent, live_tunnel(LIVE)) == ["the link exists"]
    assert tunnel_differences(absent, live_tunnel([])) == []
