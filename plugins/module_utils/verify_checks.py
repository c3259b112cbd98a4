# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verification verdicts for the design's checks (pure logic; the verify role feeds it API answers).

Each check returns a list of results: {check, target, ok, detail}. The detail says, when a check fails,
what it means for the design (which link of the chain is broken), so an operator knows where to look.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

try:
    import netaddr

    HAS_NETADDR = True
except ImportError:  # pragma: no cover
    HAS_NETADDR = False


def _result(check, target, ok, detail):
    return {"check": check, "target": target, "ok": bool(ok), "detail": detail}


def connect_peer_results(connect_peers, expected_nodes=None):
    """Both BGP sessions of every Connect peer up; every expected node has a peer.

    connect_peers: tgw_connect_peer_info's connect_peers (tags as a dict, bgp_peers with bgp_status).
    expected_nodes: node names that must have a peer (tag calico_egress.aws/node), or None.
    """
    results = []
    seen = set()
    for peer in connect_peers or []:
        node = (peer.get("tags") or {}).get("calico_egress.aws/node") or peer.get("transit_gateway_connect_peer_id")
        seen.add(node)
        sessions = peer.get("bgp_peers") or []
        down = [
            "%s=%s" % (s.get("transit_gateway_address"), s.get("bgp_status")) for s in sessions if s.get("bgp_status") != "up"
        ]
        if len(sessions) != 2:
            results.append(_result("connect_peer_bgp", node, False, "%d BGP sessions reported, 2 expected" % len(sessions)))
        elif down:
            results.append(
                _result(
                    "connect_peer_bgp",
                    node,
                    False,
                    "down: %s (GRE tunnel, ASNs or the BIRD multihop template: see README, troubleshooting)" % ", ".join(down),
                )
            )
        elif any(s.get("peer_asn") is not None and s.get("peer_asn") == s.get("transit_gateway_asn") for s in sessions):
            # Up, yet useless: iBGP routes carry an empty AS_PATH and the TGW installs none of them.
            results.append(
                _result(
                    "connect_peer_bgp",
                    node,
                    False,
                    "both sessions up but iBGP: peer ASN %s equals the TGW ASN, so the TGW installs none of the routes "
                    "(empty AS_PATH); give the nodes another ASN (calico_bgp_as_number, tgw_connect_peer_asn)"
                    % sessions[0].get("peer_asn"),
                )
            )
        else:
            addresses = ", ".join(str(s.get("transit_gateway_address")) for s in sessions)
            results.append(_result("connect_peer_bgp", node, True, "both sessions up (%s)" % addresses))
    for node in sorted(set(expected_nodes or []) - seen):
        results.append(_result("connect_peer_bgp", node, False, "no Connect peer for this node (run the tgw_connect role)"))
    return results


def propagated_route_results(routes, egress_cidrs):
    """Each egress pool CIDR is in the firewall route table, propagated through a Connect attachment.

    routes: tgw_route_info's routes (snake_case SearchTransitGatewayRoutes answers).
    A propagated route covering the pool (the same prefix or a supernet learned over BGP) counts.
    """
    results = []
    for cidr in egress_cidrs or []:
        pool = netaddr.IPNetwork(cidr)
        matching = []
        for route in routes or []:
            destination = route.get("destination_cidr_block")
            if not destination or netaddr.IPNetwork(destination).version != pool.version:
                continue
            if pool not in netaddr.IPNetwork(destination):
                continue
            via = [a for a in route.get("transit_gateway_attachments") or [] if a.get("resource_type") == "connect"]
            if route.get("type") == "propagated" and route.get("state") == "active" and via:
                matching.append("%s via %s" % (destination, ", ".join(a.get("transit_gateway_attachment_id", "?") for a in via)))
        if matching:
            results.append(_result("firewall_route", cidr, True, "propagated: %s" % "; ".join(matching)))
        else:
            results.append(
                _result(
                    "firewall_route",
                    cidr,
                    False,
                    "no active propagated route via a Connect attachment: return traffic cannot reach the egress "
                    "gateway (BGP down, pool not exported by the BGPFilter, or propagation to the firewall route table missing)",
                )
            )
    return results


def gre_link_results(probes, name):
    """GRE links up on the nodes.

    probes: the loop results of `ip -j -d link show dev NAME` run on each node (item = the host, rc, stdout).
    """
    results = []
    for probe in probes or []:
        target = "%s/%s" % (probe.get("item"), name)
        try:
            links = json.loads(probe.get("stdout") or "[]") if probe.get("rc") == 0 else []
        except ValueError:
            links = []
        if not links:
            results.append(_result("gre_link", target, False, "link missing (run the gre_tunnel role)"))
            continue
        link = links[0]
        kind = (link.get("linkinfo") or {}).get("info_kind") or "?"
        up = "UP" in (link.get("flags") or [])
        detail = "%s, %s, local %s, remote %s" % (
            kind,
            "up" if up else "down",
            link.get("address", "?"),
            link.get("broadcast", "?"),
        )
        results.append(_result("gre_link", target, up and kind == "gre", detail))
    return results


def calico_session_results(report, error=""):
    """Calico's view (CalicoNodeStatus) of the TGW sessions: the calico role's calico_bgp_sessions fact.

    error: why the calico role's status step failed, if it did (shown when there is no report).
    """
    if not report:
        return [
            _result("calico_bgp", "cluster", False, error or "no CalicoNodeStatus report (calico role status step did not run)")
        ]
    results = []
    for line in report.get("not_established") or []:
        results.append(_result("calico_bgp", line.split(" ")[0], False, line))
    if report.get("established"):
        results.append(_result("calico_bgp", "all tunnel nodes", True, "every TGW peer Established"))
    elif not results:
        results.append(_result("calico_bgp", "cluster", False, "sessions not Established"))
    return results


def flow_result(check, target, expect_connect, connected, seen_source=None, allowed_sources=None, detail=""):
    """An allowed flow must connect (and, where the service echoes it, come from an egress IP);
    a denied flow must not connect."""
    if expect_connect:
        if not connected:
            return _result(check, target, False, "did not connect: %s" % (detail or "timeout"))
        if seen_source and allowed_sources:
            inside = any(netaddr.IPAddress(seen_source) in netaddr.IPNetwork(c) for c in allowed_sources)
            return _result(
                check,
                target,
                inside,
                "service saw %s (%s the egress gateway pool)" % (seen_source, "inside" if inside else "NOT inside"),
            )
        return _result(check, target, True, "connected")
    if connected:
        return _result(check, target, False, "connected although the firewall should drop it (%s)" % (detail or "no detail"))
    return _result(check, target, True, "timed out as expected")


def render_table(results):
    """One plain-text table (check | target | result | detail) for the end of verify.yml."""
    rows = [("CHECK", "TARGET", "RESULT", "DETAIL")]
    rows += [(r["check"], str(r["target"]), "PASS" if r["ok"] else "FAIL", r["detail"]) for r in results or []]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(row[i].ljust(widths[i]) for i in range(3)) + "  " + row[3] for row in rows]
    failed = sum(1 for r in results or [] if not r["ok"])
    lines.append("%d checks, %d passed, %d failed" % (len(results or []), len(results or []) - failed, failed))
    return lines
