# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GRE tunnel from a node to a TGW Connect peer: input validation and live-state comparison (pure logic).

The role gre_tunnel calls these through filters. Every error is a TunnelSettingsError whose message names
the role variable (gre_tunnel_*) and the value, so a user sees what to fix before anything is written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.calico_egress.aws.plugins.module_utils import connect_addressing

IFNAME_MAX = 15  # IFNAMSIZ - 1
IFNAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")
STATES = ("present", "absent")
PROVIDERS = ("auto", "netplan", "networkd", "nm")
RP_FILTER_VALUES = (0, 2)  # off or loose: strict (1) drops the TGW's return traffic
PREFIX = "gre_tunnel_"
REMOTE_HINT = (
    "the TGW GRE address of the Connect peer; the tgw_connect role publishes it as calico_egress_connect_peer.tgw_gre_address"
)


class TunnelSettingsError(ValueError):
    """Bad role input; the message names the variable and the value."""


def _name(value):
    field = PREFIX + "name"
    if not isinstance(value, str) or not value:
        raise TunnelSettingsError("%s: is required (an interface name, at most %d characters)" % (field, IFNAME_MAX))
    if len(value) > IFNAME_MAX:
        raise TunnelSettingsError(
            "%s: %r is %d characters long; Linux interface names have at most %d" % (field, value, len(value), IFNAME_MAX)
        )
    if not IFNAME_PATTERN.match(value) or value in ("gre0", "lo"):
        raise TunnelSettingsError(
            "%s: %r is not usable (letters, digits, '-' and '_' only; gre0 belongs to the ip_gre module)" % (field, value)
        )
    return value


def _ipv4(value, field, hint):
    if value in (None, ""):
        raise TunnelSettingsError("%s: is required (%s)" % (field, hint))
    try:
        return str(connect_addressing._address(value, field, version=4))
    except connect_addressing.AddressingError as exc:
        raise TunnelSettingsError(str(exc))


def _inside_address(value):
    field = PREFIX + "inside_address"
    if value in (None, ""):
        raise TunnelSettingsError(
            "%s: is required (the node's .1/29 of the Connect peer's inside CIDR, e.g. 169.254.6.1/29; the tgw_connect "
            "role publishes it as calico_egress_connect_peer.node_inside_address)" % field
        )
    if not isinstance(value, str) or "/" not in value:
        raise TunnelSettingsError("%s: %r is not an address with prefix length (expected e.g. 169.254.6.1/29)" % (field, value))
    address, _sep, length = value.partition("/")
    try:
        addr = connect_addressing._address(address, field, version=4)
        block = connect_addressing.netaddr.IPNetwork(value).cidr
    except (connect_addressing.AddressingError, ValueError, TypeError, connect_addressing.netaddr.AddrFormatError):
        raise TunnelSettingsError("%s: %r is not an IPv4 address with prefix length" % (field, value))
    if addr not in connect_addressing.netaddr.IPNetwork(connect_addressing.INSIDE_POOL_V4):
        raise TunnelSettingsError(
            "%s: %s is outside %s (TGW Connect inside addresses are link-local)"
            % (field, value, connect_addressing.INSIDE_POOL_V4)
        )
    try:
        peer = connect_addressing.inside_addresses(str(block), field)
    except connect_addressing.AddressingError as exc:
        raise TunnelSettingsError(str(exc))
    if str(addr) != peer["node_address"]:
        raise TunnelSettingsError(
            "%s: %s is not the node's address of %s; the node is %s (the TGW holds %s)"
            % (field, value, peer["inside_cidr"], peer["node_address_cidr"], " and ".join(peer["tgw_addresses"]))
        )
    return peer


def _integer(value, field, low, high, why=""):
    if isinstance(value, bool):
        raise TunnelSettingsError("%s: %r is not an integer" % (field, value))
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise TunnelSettingsError("%s: %r is not an integer" % (field, value))
    if not low <= number <= high:
        raise TunnelSettingsError("%s: %s is out of range %d-%d%s" % (field, value, low, high, why))
    return number


DEFAULTS = {
    "local_address": None,
    "remote_address": None,
    "inside_address": None,
    "ttl": 255,
    "mtu": connect_addressing.MAX_TUNNEL_MTU,
    "state": "present",
    "provider": "auto",
    "rp_filter": 2,
}


def tunnel_settings(options):
    """Validate the role's input (a dict of gre_tunnel_* values without the prefix); return normalised settings.

    With state=absent only the name (and provider) matter: removing a tunnel must not need its addresses.
    """
    if not connect_addressing.HAS_NETADDR:
        raise TunnelSettingsError("the netaddr Python library is required: %s" % connect_addressing.NETADDR_IMPORT_ERROR)
    unknown = sorted(set(options) - set(DEFAULTS) - {"name"})
    if unknown:
        raise TunnelSettingsError("unknown option(s): %s" % ", ".join(PREFIX + key for key in unknown))
    values = dict(DEFAULTS, **options)
    name, state, provider = values.get("name"), values["state"], values["provider"]
    local_address, remote_address, inside_address = values["local_address"], values["remote_address"], values["inside_address"]
    ttl, mtu, rp_filter = values["ttl"], values["mtu"], values["rp_filter"]
    if state not in STATES:
        raise TunnelSettingsError("%sstate: %r must be one of %s" % (PREFIX, state, ", ".join(STATES)))
    if provider not in PROVIDERS:
        raise TunnelSettingsError("%sprovider: %r must be one of %s" % (PREFIX, provider, ", ".join(PROVIDERS)))
    settings = {"name": _name(name), "state": state, "provider": provider}
    if state == "absent":
        return settings
    peer = _inside_address(inside_address)
    try:
        settings["mtu"] = connect_addressing.validate_tunnel_mtu(mtu, PREFIX + "mtu")
    except connect_addressing.AddressingError as exc:
        raise TunnelSettingsError(str(exc))
    settings.update(
        local_address=_ipv4(
            local_address, PREFIX + "local_address", "the node's address the TGW knows as the Connect peer address"
        ),
        remote_address=_ipv4(remote_address, PREFIX + "remote_address", REMOTE_HINT),
        inside_address=peer["node_address_cidr"],
        inside_cidr=peer["inside_cidr"],
        tgw_inside_addresses=peer["tgw_addresses"],
        ttl=_integer(ttl, PREFIX + "ttl", 1, 255, " (outer TTL of the GRE packets; 0 = inherit is refused)"),
        rp_filter=_integer(rp_filter, PREFIX + "rp_filter", 0, 2),
    )
    if settings["rp_filter"] not in RP_FILTER_VALUES:
        raise TunnelSettingsError(
            "%srp_filter: 1 (strict) drops the TGW's return traffic, which arrives on the tunnel with a source routed via "
            "the primary NIC; use 2 (loose) or 0 (off)" % PREFIX
        )
    if settings["local_address"] == settings["remote_address"]:
        raise TunnelSettingsError("%sremote_address: %s equals the local address" % (PREFIX, settings["remote_address"]))
    return settings


def live_tunnel(ip_json):
    """Normalise `ip -d -j addr show dev NAME` output (a list, possibly empty) into the tunnel's live state."""
    links = ip_json or []
    if not links:
        return {"exists": False}
    link = links[0]
    info = link.get("linkinfo", {})
    data = info.get("info_data", {})
    addresses = sorted(
        "%s/%s" % (item["local"], item["prefixlen"]) for item in link.get("addr_info", []) if item.get("family") == "inet"
    )
    return {
        "exists": True,
        "kind": info.get("info_kind"),
        "local_address": data.get("local"),
        "remote_address": data.get("remote"),
        "ttl": data.get("ttl"),
        "mtu": link.get("mtu"),
        "addresses": addresses,
        "operstate": link.get("operstate"),
        "up": "UP" in link.get("flags", []),
    }


def tunnel_differences(settings, live):
    """Human-readable differences between the wanted settings and the live tunnel ([] = nothing to do)."""
    if settings.get("state") == "absent":
        return ["the link exists"] if live.get("exists") else []
    if not live.get("exists"):
        return ["the link does not exist"]
    wanted = {
        "kind": "gre",
        "local_address": settings["local_address"],
        "remote_address": settings["remote_address"],
        "ttl": settings["ttl"],
        "mtu": settings["mtu"],
        "addresses": [settings["inside_address"]],
        "up": True,
    }
    return [
        "%s: live %r, wanted %r" % (key, live.get(key), value) for key, value in sorted(wanted.items()) if live.get(key) != value
    ]
