# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random

import netaddr
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.calico_egress.aws.plugins.module_utils import connect_addressing as ca
from ansible_collections.calico_egress.aws.plugins.module_utils.connect_addressing import AddressingError

RESERVED = set(ca.RESERVED_INSIDE_CIDRS_V4)
ALL_29S = [str(n) for n in netaddr.IPNetwork("169.254.0.0/16").subnet(29)]
USABLE_29S = [c for c in ALL_29S if c not in RESERVED]


def _overlap(a, b):
    return bool(netaddr.IPSet([a]) & netaddr.IPSet([b]))


# --- validation -------------------------------------------------------------------------------


def test_aws_cli_example_addresses():
    # aws-cli example: 169.254.6.0/29 -> peer (appliance) .1, TGW BGP speakers .2 and .3
    assert ca.inside_addresses("169.254.6.0/29") == {
        "inside_cidr": "169.254.6.0/29",
        "prefix_length": 29,
        "node_address": "169.254.6.1",
        "node_address_cidr": "169.254.6.1/29",
        "tgw_addresses": ["169.254.6.2", "169.254.6.3"],
    }


def test_ipv6_inside_addresses():
    result = ca.inside_addresses("fd00:0:0:1::/125")
    assert result["node_address"] == "fd00:0:0:1::1"
    assert result["tgw_addresses"] == ["fd00:0:0:1::2", "fd00:0:0:1::3"]
    assert result["prefix_length"] == 125


@pytest.mark.parametrize("cidr", sorted(RESERVED))
def test_reserved_blocks_refused(cidr):
    with pytest.raises(AddressingError, match="inside_cidr: %s is reserved" % cidr):
        ca.validate_inside_cidr(cidr)


@pytest.mark.parametrize(
    "cidr, message",
    [
        ("169.254.6.0/28", "must be a /29"),
        ("169.254.6.0/30", "must be a /29"),
        ("169.254.6.1/29", r"not a network address \(did you mean 169.254.6.0/29\?\)"),
        ("10.0.0.0/29", "outside 169.254.0.0/16"),
        ("fd00::/125", "is not IPv4"),
        ("169.254.6.0", "is not a CIDR"),
        ("banana/29", "is not a valid CIDR"),
        (None, "is not a CIDR"),
    ],
)
def test_bad_inside_cidr_names_field_and_value(cidr, message):
    with pytest.raises(AddressingError, match="^inside_cidr: .*" + message):
        ca.validate_inside_cidr(cidr)


@pytest.mark.parametrize(
    "cidr, message",
    [("fd00::/124", "must be a /125"), ("fe80::/125", "outside fd00::/8"), ("fd00::1/125", "did you mean fd00::/125")],
)
def test_bad_ipv6_inside_cidr(cidr, message):
    with pytest.raises(AddressingError, match=message):
        ca.validate_inside_cidr_ipv6(cidr)


def test_inside_addresses_rejects_reserved():
    with pytest.raises(AddressingError, match="reserved"):
        ca.inside_addresses("169.254.169.248/29")


# --- allocation -------------------------------------------------------------------------------


def test_allocation_skips_reserved_and_in_use():
    assert ca.allocate_inside_cidrs(2, ["169.254.0.8/29"]) == ["169.254.0.16/29", "169.254.0.24/29"]


def test_allocation_around_larger_and_unaligned_in_use_entries():
    # a /28 blocks two /29s; a single address blocks the /29 that holds it
    result = ca.allocate_inside_cidrs(2, ["169.254.0.0/27", "169.254.0.33"], pool="169.254.0.0/24")
    assert result == ["169.254.0.40/29", "169.254.0.48/29"]


def test_allocation_within_a_cluster_pool():
    assert ca.allocate_inside_cidrs(1, [], pool="169.254.100.0/24") == ["169.254.100.0/29"]


def test_allocation_exhaustion_is_clear():
    with pytest.raises(AddressingError, match=r"pool: 169.254.6.0/28 has only 2 free /29 inside CIDR\(s\) left, 3 needed"):
        ca.allocate_inside_cidrs(3, [], pool="169.254.6.0/28")


def test_whole_pool_is_usable_exactly_once():
    everything = ca.allocate_inside_cidrs(len(USABLE_29S))
    assert everything == USABLE_29S
    with pytest.raises(AddressingError, match="has only 0 free"):
        ca.allocate_inside_cidrs(1, everything)


@pytest.mark.parametrize("pool", ["10.0.0.0/24", "169.254.6.0/30", "169.0.0.0/8"])
def test_bad_pool_refused(pool):
    with pytest.raises(AddressingError, match="^pool: "):
        ca.allocate_inside_cidrs(1, [], pool=pool)


@pytest.mark.parametrize("count", [-1, "2", 1.5, True])
def test_bad_count_refused(count):
    with pytest.raises(AddressingError, match="^count: "):
        ca.allocate_inside_cidrs(count)


def test_bad_in_use_entry_named_by_index():
    with pytest.raises(AddressingError, match=r"in_use\[1\]: 'nope' is not an IP address"):
        ca.allocate_inside_cidrs(1, ["169.254.6.0/29", "nope"])


def test_thousand_random_allocations_never_collide():
    rng = random.Random(20261124)
    for _round in range(1000):
        in_use = rng.sample(USABLE_29S, rng.randint(0, 300))
        count = rng.randint(1, 8)
        got = ca.allocate_inside_cidrs(count, in_use)
        assert len(got) == count == len(set(got))
        for cidr in got:
            assert cidr not in RESERVED
            assert cidr not in in_use
            assert netaddr.IPNetwork(cidr) in netaddr.IPNetwork("169.254.0.0/16")
            assert ca.validate_inside_cidr(cidr) == cidr
        # same inputs, same answer
        assert ca.allocate_inside_cidrs(count, list(in_use)) == got


blocks_29 = st.sampled_from(ALL_29S)
any_cidr = st.builds(
    lambda base, prefix: str(netaddr.IPNetwork("%s/%d" % (base, prefix)).cidr),
    st.integers(min_value=int(netaddr.IPAddress("169.254.0.0")), max_value=int(netaddr.IPAddress("169.254.255.255"))).map(
        lambda v: str(netaddr.IPAddress(v))
    ),
    st.integers(min_value=22, max_value=32),
)


@settings(max_examples=200, deadline=None)
@given(in_use=st.lists(st.one_of(blocks_29, any_cidr), max_size=40), count=st.integers(min_value=0, max_value=10))
def test_property_allocation_is_disjoint_valid_and_stable(in_use, count):
    got = ca.allocate_inside_cidrs(count, in_use)
    assert len(got) == len(set(got)) == count
    for cidr in got:
        assert cidr not in RESERVED
        assert not any(_overlap(cidr, used) for used in in_use)
    assert ca.allocate_inside_cidrs(count, in_use) == got
    assert ca.allocate_inside_cidrs(count, list(reversed(in_use))) == got


@settings(max_examples=100, deadline=None)
@given(names=st.lists(st.text(alphabet="abcdef-0123", min_size=1, max_size=6), unique=True, max_size=12))
def test_property_assignment_keeps_existing_and_ignores_order(names):
    first = ca.assign_inside_cidrs(names)
    assert sorted(first) == sorted(names)
    assert len(set(first.values())) == len(names)
    assert ca.assign_inside_cidrs(list(reversed(names))) == first
    # a new node joins: nobody else moves
    grown = ca.assign_inside_cidrs(names + ["zz-new"], existing=first)
    assert {n: grown[n] for n in names} == first
    assert grown["zz-new"] not in first.values()


def test_assignment_drops_departed_nodes_and_respects_other_clusters():
    existing = {"node-a": "169.254.0.8/29", "gone": "169.254.0.16/29"}
    result = ca.assign_inside_cidrs(["node-a", "node-b"], existing, in_use=["169.254.0.24/29"])
    # "gone" is not returned but its block stays blocked until its peer is really deleted
    assert result == {"node-a": "169.254.0.8/29", "node-b": "169.254.0.32/29"}


def test_assignment_refuses_bad_existing_block():
    with pytest.raises(AddressingError, match=r"existing\[node-a\]: 169.254.1.0/29 is reserved"):
        ca.assign_inside_cidrs(["node-a"], {"node-a": "169.254.1.0/29"})


# --- TGW CIDR blocks and GRE addresses --------------------------------------------------------


def test_first_free_gre_address():
    assert ca.pick_tgw_gre_address(["192.0.2.0/24"]) == "192.0.2.1"
    assert ca.pick_tgw_gre_address(["192.0.2.0/24"], ["192.0.2.1", "192.0.2.2"]) == "192.0.2.3"


def test_gre_address_moves_to_next_block_and_skips_other_family():
    full = [str(a) for a in netaddr.IPNetwork("192.0.2.0/24")][1:]
    assert ca.pick_tgw_gre_address(["2001:db8::/64", "192.0.2.0/24", "198.51.100.0/24"], full) == "198.51.100.1"


def test_gre_address_exhaustion():
    with pytest.raises(AddressingError, match="no free IPv4 address left in 2001:db8::/64"):
        ca.pick_tgw_gre_address(["2001:db8::/64"])


def test_gre_address_must_be_in_a_tgw_block():
    assert ca.validate_tgw_gre_address("192.0.2.9", ["192.0.2.0/24"]) == "192.0.2.9"
    with pytest.raises(AddressingError, match="transit_gateway_address: 10.1.1.1 is not inside any transit gateway CIDR block"):
        ca.validate_tgw_gre_address("10.1.1.1", ["192.0.2.0/24"])
    with pytest.raises(AddressingError, match="the transit gateway has none"):
        ca.validate_tgw_gre_address("10.1.1.1", [])


@pytest.mark.parametrize(
    "cidr, ok",
    [("192.0.2.0/24", True), ("10.0.0.0/16", True), ("192.0.2.0/25", False), ("2001:db8::/64", True), ("2001:db8::/65", False)],
)
def test_tgw_cidr_block_size(cidr, ok):
    if ok:
        assert ca.validate_tgw_cidr_block(cidr) == cidr
    else:
        with pytest.raises(AddressingError, match="transit_gateway_cidr_block: .* is smaller than"):
            ca.validate_tgw_cidr_block(cidr)


# --- ASNs and MTU -----------------------------------------------------------------------------


@pytest.mark.parametrize("asn", [64512, 65534, 4200000000, 4294967294, "64513"])
def test_tgw_asn_in_range(asn):
    assert ca.validate_tgw_asn(asn) == int(asn)


@pytest.mark.parametrize("asn", [64511, 65535, 4199999999, 4294967295, 0, "abc", True])
def test_tgw_asn_out_of_range(asn):
    with pytest.raises(AddressingError, match="^transit_gateway_asn: "):
        ca.validate_tgw_asn(asn)


@pytest.mark.parametrize("asn", [0, 23456, 65535, 7224, 4294967295, -5])
def test_reserved_peer_asn(asn):
    with pytest.raises(AddressingError, match="^peer_asn: .* cannot be used"):
        ca.validate_peer_asn(asn)


def test_peer_asn_equal_to_tgw_asn_explains_as_path_trap():
    with pytest.raises(AddressingError) as caught:
        ca.check_peer_asn(64512, 64512)
    assert "peer_asn: 64512 equals the transit gateway ASN" in str(caught.value)
    assert "AS_PATH" in str(caught.value) and "allow_ibgp" in str(caught.value)
    assert ca.check_peer_asn(64512, 64512, allow_ibgp=True) == 64512
    assert ca.check_peer_asn(65010, 64512) == 65010


@pytest.mark.parametrize(
    "mtu, ok", [(8476, True), (1500, True), (68, True), (8477, False), (9000, False), (67, False), ("x", False)]
)
def test_tunnel_mtu(mtu, ok):
    if ok:
        assert ca.validate_tunnel_mtu(mtu) == mtu
    else:
        with pytest.raises(AddressingError, match="^mtu: "):
            ca.validate_tunnel_mtu(mtu)


def test_in_use_of_other_family_never_blocks():
    assert ca.allocate_inside_cidrs(1, ["::a9fe:8/125", "fd00::/8"], pool="169.254.0.8/29") == ["169.254.0.8/29"]
    assert ca.pick_tgw_gre_address(["192.0.2.0/24"], ["::1", "::c000:201"]) == "192.0.2.1"
