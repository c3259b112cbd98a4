# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

import netaddr
import pytest

from ansible_collections.calico_egress.aws.plugins.module_utils import connect_addressing as ca
from ansible_collections.calico_egress.aws.plugins.module_utils import connect_planning as cp
from ansible_collections.calico_egress.aws.plugins.module_utils.connect_planning import PlanningError

TRANSPORT = "tgw-attach-transport"
TGW_ASN = 64513
CIDRS = ["10.99.0.0/24"]


def peer(peer_id, attachment, cidr, address, cluster=None, node=None, state="available", gre="10.99.0.1", asn=64512):
    tags = []
    if cluster:
        tags.append({"Key": cp.CLUSTER_TAG, "Value": cluster})
    if node:
        tags.append({"Key": cp.NODE_TAG, "Value": node})
    first = netaddr.IPNetwork(cidr).first
    return {
        "TransitGatewayConnectPeerId": peer_id,
        "TransitGatewayAttachmentId": attachment,
        "State": state,
        "ConnectPeerConfiguration": {
            "PeerAddress": address,
            "TransitGatewayAddress": gre,
            "InsideCidrBlocks": [cidr],
            "Protocol": "gre",
            "BgpConfigurations": [
                {
                    "TransitGatewayAsn": TGW_ASN,
                    "PeerAsn": asn,
                    "TransitGatewayAddress": str(netaddr.IPAddress(first + i)),
                    "PeerAddress": str(netaddr.IPAddress(first + 1)),
                    "BgpStatus": "down",
                }
                for i in (2, 3)
            ],
        },
        "Tags": tags,
    }


def attachment(attachment_id, cluster=None, state="available", transport=TRANSPORT):
    return {
        "TransitGatewayAttachmentId": attachment_id,
        "TransportTransitGatewayAttachmentId": transport,
        "State": state,
        "Tags": [{"Key": cp.CLUSTER_TAG, "Value": cluster}] if cluster else [],
    }


def nodes(count, prefix="node", base="10.0.1."):
    return [{"name": "%s-%02d" % (prefix, i), "address": "%s%d" % (base, 10 + i)} for i in range(count)]


def plan(cluster="blue", wanted=(), peers=(), attachments=(), **kwargs):
    kwargs.setdefault("tgw_cidr_blocks", CIDRS)
    return cp.plan_connect_peers(
        cluster, list(wanted), list(peers), list(attachments), TRANSPORT, TGW_ASN, kwargs.pop("peer_asn", 64512), **kwargs
    )


# --- creation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 4, 5, 16, 17])
def test_fresh_cluster_gets_one_peer_per_node_and_ceil_n_over_4_attachments(count):
    result = plan(wanted=nodes(count))
    assert len(result.create_peers) == count
    assert len(result.create_attachments) == math.ceil(count / 4)
    per_attachment = {}
    for create in result.create_peers:
        per_attachment.setdefault(create["attachment_id"], []).append(create["name"])
    assert all(len(v) <= 4 for v in per_attachment.values())
    cidrs = [c["inside_cidr"] for c in result.create_peers]
    assert len(set(cidrs)) == count
    assert not set(cidrs) & set(ca.RESERVED_INSIDE_CIDRS_V4)
    gre = [c["transit_gateway_address"] for c in result.create_peers]
    assert len(set(gre)) == count and all(netaddr.IPAddress(a) in netaddr.IPNetwork(CIDRS[0]) for a in gre)
    assert result.changed


def test_peers_per_attachment_is_respected():
    result = plan(wanted=nodes(5), peers_per_attachment=2)
    assert [len(a["peers"]) for a in result.create_attachments] == [2, 2, 1]


@pytest.mark.parametrize("bad", [0, 5, "4"])
def test_more_than_four_peers_per_attachment_refused(bad):
    with pytest.raises(PlanningError, match="peers_per_attachment"):
        plan(wanted=nodes(1), peers_per_attachment=bad)


def test_free_slots_on_owned_attachment_used_before_new_ones():
    existing = [peer("p-1", "att-1", "169.254.6.0/29", "10.0.1.10", "blue", "node-00")]
    result = plan(wanted=nodes(5), peers=existing, attachments=[attachment("att-1", "blue")])
    assert [c["attachment_id"] for c in result.create_peers] == ["att-1", "att-1", "att-1", "new-0"]
    assert sorted(result.keep_peers) == ["node-00"]


def test_other_clusters_attachment_is_never_used():
    result = plan(wanted=nodes(1), attachments=[attachment("att-red", "red")])
    assert result.create_peers[0]["attachment_id"] == "new-0"


def test_new_peer_is_tagged_with_owner_and_node():
    create = plan(wanted=nodes(1), tags={"env": "prod"}).create_peers[0]
    assert create["tags"] == {cp.CLUSTER_TAG: "blue", cp.NODE_TAG: "node-00", "Name": "blue-node-00", "env": "prod"}


# --- addressing around every other peer --------------------------------------------------------


def test_allocation_avoids_every_peer_of_the_tgw_including_other_clusters():
    others = [
        peer("r-%d" % i, "att-red", cidr, "10.1.0.%d" % i, "red", "r%d" % i)
        for i, cidr in enumerate(["169.254.6.0/29", "169.254.6.8/29"])
    ]
    unowned = [peer("x-1", "att-x", "169.254.6.16/29", "10.2.0.1")]
    result = plan(wanted=nodes(3), peers=others + unowned)
    cidrs = [c["inside_cidr"] for c in result.create_peers]
    assert not set(cidrs) & {"169.254.6.0/29", "169.254.6.8/29", "169.254.6.16/29"}
    assert result.delete_peers == []


def test_existing_inside_cidr_is_kept_across_runs():
    existing = [peer("p-1", "att-1", "169.254.200.0/29", "10.0.1.10", "blue", "node-00")]
    result = plan(wanted=nodes(2), peers=existing, attachments=[attachment("att-1", "blue")])
    assert "node-00" in result.keep_peers
    assert [c["name"] for c in result.create_peers] == ["node-01"]


def test_deleted_peers_free_their_cidr():
    gone = [peer("p-old", "att-1", "169.254.6.0/29", "10.0.9.9", "red", "old", state="deleted")]
    result = plan(wanted=nodes(1), peers=gone, inside_cidr_pool="169.254.6.0/28")
    assert result.create_peers[0]["inside_cidr"] == "169.254.6.0/29"


def test_requested_inside_cidr_overlapping_another_peer_is_refused_naming_the_node():
    others = [peer("r-1", "att-red", "169.254.9.0/29", "10.1.0.1", "red", "r1")]
    wanted = [{"name": "n1", "address": "10.0.1.1", "inside_cidr": "169.254.9.0/29"}]
    with pytest.raises(PlanningError, match=r"nodes\[n1\].inside_cidr: 169.254.9.0/29 overlaps .* r-1"):
        plan(wanted=wanted, peers=others)


def test_two_nodes_requesting_the_same_cidr_refused():
    wanted = [
        {"name": "a", "address": "10.0.1.1", "inside_cidr": "169.254.9.0/29"},
        {"name": "b", "address": "10.0.1.2", "inside_cidr": "169.254.9.0/29"},
    ]
    with pytest.raises(PlanningError, match="inside_cidr"):
        plan(wanted=wanted)


@pytest.mark.parametrize(
    "node, field",
    [
        ({"name": "n", "address": "10.0.1.1", "inside_cidr": "169.254.1.0/29"}, r"nodes\[0\].inside_cidr: .*reserved"),
        ({"name": "n", "address": "10.0.1.1", "inside_cidr": "169.254.6.0/28"}, r"nodes\[0\].inside_cidr"),
        ({"name": "n", "address": "fd00::1"}, r"nodes\[0\].address: .*not an IPv4"),
        ({"name": "n", "address": "node.example"}, r"nodes\[0\].address"),
        ({"name": "", "address": "10.0.1.1"}, r"nodes\[0\].name"),
    ],
)
def test_bad_node_refused_naming_the_field(node, field):
    with pytest.raises(PlanningError, match=field):
        plan(wanted=[node])


def test_duplicate_node_names_refused():
    with pytest.raises(PlanningError, match=r"nodes\[1\].name: a is listed twice"):
        plan(wanted=[{"name": "a", "address": "10.0.1.1"}, {"name": "a", "address": "10.0.1.2"}])


@pytest.mark.parametrize(
    "asn, match",
    [(64513, "AS_PATH"), (0, "peer_asn"), (4294967295, "peer_asn"), (23456, "peer_asn")],
)
def test_bad_peer_asn_refused(asn, match):
    with pytest.raises(PlanningError, match=match):
        plan(wanted=nodes(1), peer_asn=asn)


def test_ibgp_allowed_only_when_asked():
    assert plan(wanted=nodes(1), peer_asn=TGW_ASN, allow_ibgp=True).create_peers[0]["peer_asn"] == TGW_ASN


def test_no_tgw_cidr_block_refused_before_anything():
    with pytest.raises(PlanningError, match="transit_gateway_id: tgw-1 has no IPv4 CIDR block"):
        plan(wanted=nodes(1), tgw_cidr_blocks=[], transit_gateway_id="tgw-1")


def test_gre_addresses_skip_those_in_use():
    others = [peer("r-1", "att-red", "169.254.9.0/29", "10.1.0.1", "red", "r1", gre="10.99.0.1")]
    result = plan(wanted=nodes(1), peers=others)
    assert result.create_peers[0]["transit_gateway_address"] == "10.99.0.2"


# --- convergence, removal, replacement ---------------------------------------------------------


def _converged(count, cluster="blue"):
    wanted = nodes(count)
    first = plan(cluster=cluster, wanted=wanted)
    ids = {c["key"]: "att-%s-%d" % (cluster, i) for i, c in enumerate(first.create_attachments)}
    peers = [
        peer(
            "p-%s-%d" % (cluster, i),
            ids[c["attachment_id"]],
            c["inside_cidr"],
            c["peer_address"],
            cluster,
            c["name"],
            gre=c["transit_gateway_address"],
        )
        for i, c in enumerate(first.create_peers)
    ]
    for p, c in zip(peers, first.create_peers):
        p["Tags"] = [{"Key": k, "Value": v} for k, v in c["tags"].items()]
    return wanted, peers, [attachment(a, cluster) for a in ids.values()]


def test_converged_state_gives_an_empty_plan():
    wanted, peers, attachments = _converged(9)
    result = plan(wanted=wanted, peers=peers, attachments=attachments)
    assert not result.changed
    assert sorted(result.keep_peers) == sorted(n["name"] for n in wanted)


def test_removed_node_peer_deleted_and_empty_attachment_purged():
    wanted, peers, attachments = _converged(5)
    result = plan(wanted=wanted[:4], peers=peers, attachments=attachments)
    assert [d["name"] for d in result.delete_peers] == ["node-04"]
    assert result.delete_peers[0]["reason"] == "node no longer listed"
    assert result.delete_attachments == [{"attachment_id": "att-blue-1", "reason": "owned and empty"}]
    assert result.create_peers == []


def test_purge_false_keeps_removed_nodes_peer():
    wanted, peers, attachments = _converged(2)
    result = plan(wanted=wanted[:1], peers=peers, attachments=attachments, purge=False)
    assert not result.changed


def test_other_clusters_peers_and_attachments_are_never_touched():
    red_peers, red_attachments = _converged(3, cluster="red")[1:]
    result = plan(cluster="blue", wanted=[], peers=red_peers, attachments=red_attachments)
    assert not result.changed
    red_cidrs = {cp.peer_inside_cidr_v4(p) for p in red_peers}
    blue = plan(cluster="blue", wanted=nodes(3, base="10.0.2."), peers=red_peers, attachments=red_attachments)
    assert not {c["inside_cidr"] for c in blue.create_peers} & red_cidrs
    assert blue.delete_peers == [] and blue.delete_attachments == []


def test_changed_address_fails_listing_differences_unless_replace():
    wanted, peers, attachments = _converged(1)
    wanted[0]["address"] = "10.0.1.99"
    with pytest.raises(PlanningError, match=r"peer_address: 10.0.1.10 -> 10.0.1.99.*replace=true"):
        plan(wanted=wanted, peers=peers, attachments=attachments)
    result = plan(wanted=wanted, peers=peers, attachments=attachments, replace=True)
    assert [d["peer_id"] for d in result.delete_peers] == ["p-blue-0"]
    assert result.delete_peers[0]["reason"].startswith("replace: peer_address")
    (create,) = result.create_peers
    assert create["inside_cidr"] == cp.peer_inside_cidr_v4(peers[0])  # same /29: node config stays valid
    assert create["attachment_id"] == "att-blue-0"
    assert result.delete_attachments == []


def test_peer_differences_lists_every_immutable_field():
    p = peer("p", "a", "169.254.6.0/29", "10.0.1.1", asn=64512)
    assert cp.peer_differences(p, "10.0.1.2", "169.254.6.8/29", 64600, "10.99.0.9") == [
        "peer_address: 10.0.1.1 -> 10.0.1.2",
        "inside_cidr: 169.254.6.0/29 -> 169.254.6.8/29",
        "peer_asn: 64512 -> 64600",
        "transit_gateway_address: 10.99.0.1 -> 10.99.0.9",
    ]
    assert cp.peer_differences(p, "10.0.1.1", "169.254.6.0/29", 64512, "10.99.0.1") == []


def test_missing_ownership_tags_are_retagged_not_recreated():
    wanted, peers, attachments = _converged(1)
    peers[0]["Tags"] = [t for t in peers[0]["Tags"] if t["Key"] != "Name"]
    result = plan(wanted=wanted, peers=peers, attachments=attachments)
    assert result.retag_peers == [{"peer_id": "p-blue-0", "name": "node-00", "add": {"Name": "blue-node-00"}, "remove": []}]
    assert result.create_peers == [] and result.delete_peers == []


# --- normalisers ------------------------------------------------------------------------------


def test_normalise_peer_gives_what_the_node_roles_need():
    p = peer("p-1", "att-1", "169.254.6.0/29", "10.0.1.10", "blue", "node-a", gre="10.99.0.7")
    p["ConnectPeerConfiguration"]["BgpConfigurations"][0]["BgpStatus"] = "up"
    out = cp.normalise_peer(p)
    assert out["name"] == "node-a"
    assert out["peer_id"] == "p-1" and out["attachment_id"] == "att-1"
    assert out["inside_cidr"] == "169.254.6.0/29"
    assert out["node_inside_address"] == "169.254.6.1/29"
    assert out["tgw_inside_addresses"] == ["169.254.6.2", "169.254.6.3"]
    assert out["tgw_gre_address"] == "10.99.0.7" and out["node_gre_address"] == "10.0.1.10"
    assert out["tgw_asn"] == TGW_ASN and out["peer_asn"] == 64512
    assert out["bgp_status"] == {"169.254.6.2": "up", "169.254.6.3": "down"}


def test_check_mode_result_has_planned_peers_with_addresses():
    result = plan(wanted=nodes(2))
    peers = cp.plan_result(result, TGW_ASN)
    assert peers["node-00"]["state"] == "planned" and peers["node-00"]["peer_id"] is None
    cidr = peers["node-00"]["inside_cidr"]
    assert peers["node-00"]["node_inside_address"] == ca.inside_addresses(cidr)["node_address_cidr"]
    assert peers["node-01"]["tgw_gre_address"] == "10.99.0.2"


def test_replaced_peer_goes_back_to_its_attachment_so_the_others_can_empty():
    wanted, peers, attachments = _converged(5)
    wanted[0]["address"] = "10.0.1.99"
    result = plan(wanted=wanted, peers=peers, attachments=attachments, replace=True)
    assert [c["attachment_id"] for c in result.create_peers] == ["att-blue-0"]


def test_new_peers_fill_the_fullest_owned_attachment_first():
    existing = [
        peer("p-1", "att-1", "169.254.6.0/29", "10.0.1.10", "blue", "node-00"),
        peer("p-2", "att-2", "169.254.6.8/29", "10.0.1.11", "blue", "node-01"),
        peer("p-3", "att-2", "169.254.6.16/29", "10.0.1.12", "blue", "node-02"),
    ]
    attachments = [attachment("att-1", "blue"), attachment("att-2", "blue")]
    wanted = nodes(3) + [{"name": "node-09", "address": "10.0.1.30"}]
    assert [c["attachment_id"] for c in plan(wanted=wanted, peers=existing, attachments=attachments).create_peers] == ["att-2"]


def test_check_mode_plans_without_a_cidr_block_yet():
    result = plan(wanted=nodes(1), tgw_cidr_blocks=[], require_cidr_block=False)
    assert result.create_peers[0]["transit_gateway_address"] is None
