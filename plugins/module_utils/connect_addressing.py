# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Addressing rules of AWS Transit Gateway Connect peers (pure logic, no AWS SDK).

Facts encoded here (AWS Transit Gateway guide, "Connect peers"):
- inside CIDR: one IPv4 /29 inside 169.254.0.0/16, not one of the reserved /29s, unique across all
  Connect peers of one transit gateway; optionally one IPv6 /125 inside fd00::/8;
- in that /29 the first address (.1) is the appliance's (our node's) BGP address and the next two
  (.2, .3) are the transit gateway's two BGP speakers;
- the GRE outer address on the TGW side comes from one of the TGW's CIDR blocks; when it is omitted
  AWS assigns the first available address of the block;
- TGW ASNs: 64512-65534 or 4200000000-4294967294; a peer ASN equal to the TGW ASN means iBGP;
- MTU through a TGW is 8500 without path MTU discovery, GRE adds 24 bytes: tunnel MTU <= 8476.

Every error is an AddressingError whose message names the offending field and value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import netaddr

    HAS_NETADDR = True
    NETADDR_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised only without netaddr
    HAS_NETADDR = False
    NETADDR_IMPORT_ERROR = exc

INSIDE_POOL_V4 = "169.254.0.0/16"
INSIDE_POOL_V6 = "fd00::/8"
INSIDE_PREFIX_V4 = 29
INSIDE_PREFIX_V6 = 125
RESERVED_INSIDE_CIDRS_V4 = (
    "169.254.0.0/29",
    "169.254.1.0/29",
    "169.254.2.0/29",
    "169.254.3.0/29",
    "169.254.4.0/29",
    "169.254.5.0/29",
    "169.254.169.248/29",
)
TGW_ASN_RANGES = ((64512, 65534), (4200000000, 4294967294))
# ASNs a BGP speaker must never use: 0 and 4294967295 (RFC 7607 / 7300), AS_TRANS 23456 (RFC 6793),
# 65535 (RFC 7300); AWS also reserves 7224, 9059, 10124 and 17943 for its own side.
RESERVED_PEER_ASNS = frozenset((0, 23456, 65535, 4294967295, 7224, 9059, 10124, 17943))
MAX_ASN = 4294967295
GRE_OVERHEAD = 24
TGW_MTU = 8500
MAX_TUNNEL_MTU = TGW_MTU - GRE_OVERHEAD
MIN_TUNNEL_MTU = 68

AS_PATH_TRAP = (
    "With peer ASN == TGW ASN the sessions are iBGP: the node announces its egress pool with an empty "
    "AS_PATH and the transit gateway does not install such routes, so return traffic never reaches the "
    "egress gateway. Give the nodes (Calico) a different ASN, or set allow_ibgp if you really want iBGP."
)


class AddressingError(ValueError):
    """Bad addressing input; the message names the field and the value."""


def _require_netaddr():
    if not HAS_NETADDR:
        raise AddressingError("the netaddr Python library is required: %s" % NETADDR_IMPORT_ERROR)


def _network(value, field):
    _require_netaddr()
    if not isinstance(value, str) or "/" not in value:
        raise AddressingError("%s: %r is not a CIDR (expected a.b.c.d/len)" % (field, value))
    try:
        return netaddr.IPNetwork(value)
    except (netaddr.AddrFormatError, ValueError, TypeError) as exc:
        raise AddressingError("%s: %r is not a valid CIDR (%s)" % (field, value, exc))


def _address(value, field, version=None):
    _require_netaddr()
    try:
        addr = netaddr.IPAddress(value)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise AddressingError("%s: %r is not an IP address" % (field, value))
    if version is not None and addr.version != version:
        raise AddressingError("%s: %r is not an IPv%d address" % (field, value, version))
    return addr


def validate_inside_cidr(cidr, field="inside_cidr"):
    """Return the canonical form of an IPv4 inside CIDR, or raise AddressingError."""
    net = _network(cidr, field)
    if net.version != 4:
        raise AddressingError(
            "%s: %s is not IPv4 (the IPv4 /29 is mandatory; IPv6 /125 goes in inside_cidr_ipv6)" % (field, cidr)
        )
    if net.prefixlen != INSIDE_PREFIX_V4:
        raise AddressingError("%s: %s must be a /29 (AWS accepts only /29 inside CIDRs)" % (field, cidr))
    if net.ip != net.network:
        raise AddressingError("%s: %s is not a network address (did you mean %s?)" % (field, cidr, net.cidr))
    if net not in netaddr.IPNetwork(INSIDE_POOL_V4):
        raise AddressingError("%s: %s is outside %s" % (field, cidr, INSIDE_POOL_V4))
    if str(net.cidr) in RESERVED_INSIDE_CIDRS_V4:
        raise AddressingError("%s: %s is reserved by AWS (reserved: %s)" % (field, cidr, ", ".join(RESERVED_INSIDE_CIDRS_V4)))
    return str(net.cidr)


def validate_inside_cidr_ipv6(cidr, field="inside_cidr_ipv6"):
    """Return the canonical form of an optional IPv6 /125 inside CIDR in fd00::/8."""
    net = _network(cidr, field)
    if net.version != 6:
        raise AddressingError("%s: %s is not IPv6" % (field, cidr))
    if net.prefixlen != INSIDE_PREFIX_V6:
        raise AddressingError("%s: %s must be a /125" % (field, cidr))
    if net.ip != net.network:
        raise AddressingError("%s: %s is not a network address (did you mean %s?)" % (field, cidr, net.cidr))
    if net not in netaddr.IPNetwork(INSIDE_POOL_V6):
        raise AddressingError("%s: %s is outside %s" % (field, cidr, INSIDE_POOL_V6))
    return str(net.cidr)


def inside_addresses(cidr, field="inside_cidr"):
    """BGP addresses of a Connect peer's inside CIDR (IPv4 /29 or IPv6 /125).

    Returns a dict: inside_cidr, prefix_length, node_address (.1), node_address_cidr (.1/29),
    tgw_addresses [.2, .3].
    """
    net = _network(cidr, field)
    canonical = validate_inside_cidr(cidr, field) if net.version == 4 else validate_inside_cidr_ipv6(cidr, field)
    first = netaddr.IPNetwork(canonical).first
    node = netaddr.IPAddress(first + 1, net.version)
    return {
        "inside_cidr": canonical,
        "prefix_length": net.prefixlen,
        "node_address": str(node),
        "node_address_cidr": "%s/%d" % (node, net.prefixlen),
        "tgw_addresses": [str(netaddr.IPAddress(first + i, net.version)) for i in (2, 3)],
    }


def _in_use_ranges(in_use, field):
    """(first, last, version) integer ranges of every in-use entry (CIDR or single address)."""
    ranges = []
    for index, item in enumerate(in_use or ()):
        name = "%s[%d]" % (field, index)
        if "/" in str(item):
            net = _network(item, name)
            ranges.append((net.first, net.last, net.version))
        else:
            addr = _address(item, name)
            ranges.append((int(addr), int(addr), addr.version))
    return ranges


def free_inside_cidrs(in_use=(), pool=INSIDE_POOL_V4, field="in_use"):
    """Yield, in address order, every usable /29 of pool that overlaps nothing in in_use.

    pool may be any IPv4 network inside 169.254.0.0/16 of size /29 or larger (a cluster can be
    given its own slice so that two clusters sharing a TGW never race for the same block).
    """
    pool_net = _network(pool, "pool")
    if pool_net.version != 4 or pool_net.prefixlen > INSIDE_PREFIX_V4 or pool_net not in netaddr.IPNetwork(INSIDE_POOL_V4):
        raise AddressingError("pool: %s must be an IPv4 network of /29 or larger inside %s" % (pool, INSIDE_POOL_V4))
    # Work in /29 slots (address >> 3): a slot is blocked when any in-use range touches it.
    shift = 32 - INSIDE_PREFIX_V4
    first_slot, last_slot = pool_net.first >> shift, pool_net.last >> shift
    blocked = set()
    reserved = [(net.first, net.last, 4) for net in map(netaddr.IPNetwork, RESERVED_INSIDE_CIDRS_V4)]
    for low, high, version in _in_use_ranges(in_use, field) + reserved:
        if version != 4 or high < pool_net.first or low > pool_net.last:
            continue
        blocked.update(range(max(low >> shift, first_slot), min(high >> shift, last_slot) + 1))
    for slot in range(first_slot, last_slot + 1):
        if slot not in blocked:
            yield "%s/%d" % (netaddr.IPAddress(slot << shift, 4), INSIDE_PREFIX_V4)


def allocate_inside_cidrs(count, in_use=(), pool=INSIDE_POOL_V4):
    """Return count new /29s that collide with nothing in in_use.

    Deterministic: the lowest free blocks of pool, so the same inputs always give the same answer.
    Blocks already assigned are never moved: callers pass them in in_use.
    """
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise AddressingError("count: %r must be a non-negative integer" % (count,))
    allocated = []
    if count == 0:
        return allocated
    for cidr in free_inside_cidrs(in_use, pool):
        allocated.append(cidr)
        if len(allocated) == count:
            return allocated
    raise AddressingError(
        "pool: %s has only %d free /29 inside CIDR(s) left, %d needed (in use: %d entries); "
        "widen the pool or free peers" % (pool, len(allocated), count, len(in_use or ()))
    )


def assign_inside_cidrs(names, existing=None, in_use=(), pool=INSIDE_POOL_V4):
    """Map every name to an inside /29: keep existing assignments, allocate the rest.

    names are sorted before allocation so the result does not depend on their order.
    existing: {name: cidr} already assigned (validated, kept as they are).
    in_use: every other /29 already used on the transit gateway (all clusters).
    """
    existing = dict(existing or {})
    result = {}
    for name in sorted(existing):
        if name in names:
            result[name] = validate_inside_cidr(existing[name], "existing[%s]" % name)
    missing = sorted(name for name in set(names) if name not in result)
    taken = list(in_use or ()) + list(existing.values())
    for name, cidr in zip(missing, allocate_inside_cidrs(len(missing), taken, pool)):
        result[name] = cidr
    return result


def validate_tgw_cidr_block(cidr, field="transit_gateway_cidr_block"):
    """TGW CIDR blocks: IPv4 /24 or larger, IPv6 /64 or larger."""
    net = _network(cidr, field)
    limit = 24 if net.version == 4 else 64
    if net.prefixlen > limit:
        raise AddressingError("%s: %s is smaller than /%d (AWS minimum for IPv%d)" % (field, cidr, limit, net.version))
    if net.ip != net.network:
        raise AddressingError("%s: %s is not a network address (did you mean %s?)" % (field, cidr, net.cidr))
    return str(net.cidr)


def validate_tgw_gre_address(address, cidr_blocks, field="transit_gateway_address"):
    """The TGW GRE outer address must lie in one of the TGW's CIDR blocks."""
    addr = _address(address, field)
    for block in cidr_blocks or ():
        if addr in _network(block, "transit_gateway_cidr_blocks"):
            return str(addr)
    raise AddressingError(
        "%s: %s is not inside any transit gateway CIDR block (%s)"
        % (field, address, ", ".join(cidr_blocks) if cidr_blocks else "the transit gateway has none")
    )


def pick_tgw_gre_address(cidr_blocks, in_use=(), version=4):
    """First available TGW GRE address (what AWS does when TransitGatewayAddress is omitted).

    Blocks are searched in the order given; the network address of a block is skipped; in_use holds
    the TGW addresses already taken by other peers.
    """
    used = netaddr.IPSet(
        netaddr.IPRange(netaddr.IPAddress(low, ver), netaddr.IPAddress(high, ver))
        for low, high, ver in _in_use_ranges(in_use, "in_use")
        if ver == version
    )
    for block in cidr_blocks or ():
        net = _network(block, "transit_gateway_cidr_blocks")
        if net.version != version:
            continue
        for value in range(net.first + 1, net.last + 1):
            addr = netaddr.IPAddress(value, version)
            if addr not in used:
                return str(addr)
    raise AddressingError(
        "transit_gateway_cidr_blocks: no free IPv%d address left in %s" % (version, ", ".join(cidr_blocks or ()) or "[]")
    )


def _as_int(value, field):
    if isinstance(value, bool):
        raise AddressingError("%s: %r is not an ASN" % (field, value))
    try:
        asn = int(str(value).strip())
    except (TypeError, ValueError):
        raise AddressingError("%s: %r is not an ASN (expected an integer)" % (field, value))
    return asn


def validate_tgw_asn(asn, field="transit_gateway_asn"):
    value = _as_int(asn, field)
    if not any(low <= value <= high for low, high in TGW_ASN_RANGES):
        raise AddressingError(
            "%s: %s is outside the transit gateway ASN ranges 64512-65534 and 4200000000-4294967294" % (field, asn)
        )
    return value


def validate_peer_asn(asn, field="peer_asn"):
    value = _as_int(asn, field)
    if not 1 <= value < MAX_ASN or value in RESERVED_PEER_ASNS:
        raise AddressingError(
            "%s: %s cannot be used (valid 1-4294967294 except %s)"
            % (field, asn, ", ".join(str(a) for a in sorted(RESERVED_PEER_ASNS) if 0 < a < MAX_ASN))
        )
    return value


def check_peer_asn(peer_asn, tgw_asn, allow_ibgp=False, field="peer_asn"):
    """Validate both ASNs; refuse peer == TGW (iBGP) unless allow_ibgp, explaining why."""
    tgw = validate_tgw_asn(tgw_asn)
    peer = validate_peer_asn(peer_asn, field)
    if peer == tgw and not allow_ibgp:
        raise AddressingError("%s: %d equals the transit gateway ASN. %s" % (field, peer, AS_PATH_TRAP))
    return peer


def validate_tunnel_mtu(mtu, field="mtu"):
    try:
        value = int(mtu)
    except (TypeError, ValueError):
        raise AddressingError("%s: %r is not an integer" % (field, mtu))
    if isinstance(mtu, bool) or not MIN_TUNNEL_MTU <= value <= MAX_TUNNEL_MTU:
        raise AddressingError(
            "%s: %s is out of range %d-%d (the TGW carries 8500 bytes without path MTU discovery and GRE "
            "adds %d)" % (field, mtu, MIN_TUNNEL_MTU, MAX_TUNNEL_MTU, GRE_OVERHEAD)
        )
    return value
