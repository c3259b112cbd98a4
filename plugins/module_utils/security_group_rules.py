# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure decisions for one IPv4 ingress rule of a security group (no AWS SDK): find it among the group's
IpPermissions as DescribeSecurityGroups returns them, and plan add / describe / remove."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.calico_egress.aws.plugins.module_utils import connect_addressing as addressing

PROTOCOL_NAMES = {"tcp": "6", "udp": "17", "icmp": "1", "gre": "47", "all": "-1"}
PORTED = ("6", "17", "1")


class RuleError(ValueError):
    """Bad input; the message names the field."""


def _protocol_number(value):
    text = str(value).lower()
    return PROTOCOL_NAMES.get(text, text)


def _same_protocol(described, wanted):
    return _protocol_number(described) == wanted


def normalise_rule(protocol, cidr_ip, from_port=None, to_port=None):
    """(protocol number as a string, CIDR, from_port, to_port); ports only for tcp, udp, icmp."""
    number = _protocol_number(protocol)
    if not (number.lstrip("-").isdigit() and -1 <= int(number) <= 255):
        raise RuleError("protocol: %r is not a protocol name (tcp, udp, icmp, gre, all) or number 0-255" % (protocol,))
    try:
        network = addressing.netaddr.IPNetwork(cidr_ip)
    except (addressing.netaddr.AddrFormatError, ValueError, TypeError):
        raise RuleError("cidr_ip: %r is not an IPv4 CIDR block" % (cidr_ip,))
    if network.version != 4:
        raise RuleError("cidr_ip: %r is not an IPv4 CIDR block" % (cidr_ip,))
    if number in PORTED:
        if from_port is None or to_port is None:
            raise RuleError("from_port: tcp, udp and icmp rules need from_port and to_port")
    elif from_port is not None or to_port is not None:
        raise RuleError("from_port: protocol %s has no ports; leave from_port and to_port out" % protocol)
    return number, str(network.cidr), from_port, to_port


def find_rule(permissions, protocol, cidr_ip, from_port=None, to_port=None):
    """(permission, ip range) of the rule in the group, or (None, None)."""
    for permission in permissions or []:
        if not _same_protocol(permission.get("IpProtocol"), protocol):
            continue
        if protocol in PORTED and (permission.get("FromPort"), permission.get("ToPort")) != (from_port, to_port):
            continue
        for ip_range in permission.get("IpRanges") or []:
            if ip_range.get("CidrIp") == cidr_ip:
                return permission, ip_range
    return None, None


def plan_ingress_rule(permissions, protocol, cidr_ip, from_port=None, to_port=None, description=None, state="present"):
    """{'action': 'authorize' | 'describe' | 'revoke' | None, 'permission': IpPermissions entry to send, 'before'}.

    absent with a description removes the rule only when its description is exactly that one (a rule with the same
    protocol and source but another description was written by someone else, or taken over, and stays).
    The permission to revoke repeats the ports AWS reported, so the request matches the stored rule exactly.
    """
    protocol, cidr_ip, from_port, to_port = normalise_rule(protocol, cidr_ip, from_port, to_port)
    permission, ip_range = find_rule(permissions, protocol, cidr_ip, from_port, to_port)
    before = None
    if ip_range is not None:
        before = {"protocol": protocol, "cidr_ip": cidr_ip, "from_port": from_port, "to_port": to_port}
        before["description"] = ip_range.get("Description")
    wanted_range = {"CidrIp": cidr_ip}
    if state == "absent":
        if ip_range is None or (description is not None and ip_range.get("Description") != description):
            return {"action": None, "permission": None, "before": before}
        sent = {"IpProtocol": permission["IpProtocol"], "IpRanges": [wanted_range]}
        for key in ("FromPort", "ToPort"):
            if key in permission:
                sent[key] = permission[key]
        return {"action": "revoke", "permission": sent, "before": before}
    if description is not None:
        wanted_range["Description"] = description
    sent = {"IpProtocol": protocol, "IpRanges": [wanted_range]}
    if protocol in PORTED:
        sent.update(FromPort=from_port, ToPort=to_port)
    if ip_range is None:
        return {"action": "authorize", "permission": sent, "before": before}
    if description is not None and ip_range.get("Description") != description:
        if "FromPort" in permission:
            sent.update(FromPort=permission["FromPort"], ToPort=permission["ToPort"])
        sent["IpProtocol"] = permission["IpProtocol"]
        return {"action": "describe", "permission": sent, "before": before}
    return {"action": None, "permission": None, "before": before}
