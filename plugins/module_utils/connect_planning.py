# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning of TGW Connect peers and attachments for a cluster (pure logic, no AWS SDK).

Input: what DescribeTransitGatewayConnects / DescribeTransitGatewayConnectPeers returned for the whole
transit gateway (every cluster sharing it) and the desired nodes. Output: a ConnectPlan (data) saying
which peers and Connect attachments to create, keep, replace or delete, and why. The module then
executes it; check mode returns it as is.

Ownership: the collection only deletes or replaces what carries its cluster tag (CLUSTER_TAG == the
cluster name). Addressing rules all come from connect_addressing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.calico_egress.aws.plugins.module_utils import connect_addressing as addressing

# Tag keys the collection writes on the Connect peers and attachments it creates.
CLUSTER_TAG = "calico_egress.aws/cluster"
NODE_TAG = "calico_egress.aws/node"
MAX_PEERS_PER_ATTACHMENT = 4
GONE_STATES = ("deleting", "deleted", "failed", "failing", "rejected")


class PlanningError(ValueError):
    """Bad input for a plan; the message names the field."""


def tags_to_dict(tags):
    """[{'Key': k, 'Value': v}] -> {k: v} (also accepts a dict)."""
    if isinstance(tags, dict):
        return dict(tags)
    return {tag["Key"]: tag.get("Value", "") for tag in tags or ()}


def is_live(resource):
    """Peers and attachments in deleting/deleted stay describable for a while: they do not count."""
    return resource.get("State") not in GONE_STATES


def _peer_config(peer):
    return peer.get("ConnectPeerConfiguration") or {}


def peer_inside_cidrs(peer):
    return list(_peer_config(peer).get("InsideCidrBlocks") or [])


def peer_inside_cidr_v4(peer):
    for cidr in peer_inside_cidrs(peer):
        if ":" not in cidr:
            return cidr
    return None


def peer_owner(peer):
    tags = tags_to_dict(peer.get("Tags"))
    return tags.get(CLUSTER_TAG), tags.get(NODE_TAG)


def owned_by(resource, cluster):
    return tags_to_dict(resource.get("Tags")).get(CLUSTER_TAG) == cluster


def normalise_bgp_peers(peer):
    """The BGP sessions of a describe-shaped peer, snake_case, one per TGW inside address."""
    sessions = []
    for bgp in _peer_config(peer).get("BgpConfigurations") or []:
        sessions.append(
            {
                "transit_gateway_address": bgp.get("TransitGatewayAddress"),
                "peer_address": bgp.get("PeerAddress"),
                "transit_gateway_asn": bgp.get("TransitGatewayAsn"),
                "peer_asn": bgp.get("PeerAsn"),
                "bgp_status": bgp.get("BgpStatus"),
            }
        )
    return sessions


def normalise_peer(peer, tgw_asn=None):
    """A describe-shaped Connect peer -> the flat shape the roles consume (see tgw_connect_peers RETURN)."""
    config = _peer_config(peer)
    inside_cidr = peer_inside_cidr_v4(peer)
    inside = addressing.inside_addresses(inside_cidr) if inside_cidr else {}
    sessions = config.get("BgpConfigurations") or []
    asns = [s.get("TransitGatewayAsn") for s in sessions if s.get("TransitGatewayAsn") is not None]
    peer_asns = [s.get("PeerAsn") for s in sessions if s.get("PeerAsn") is not None]
    cluster, node = peer_owner(peer)
    return {
        "name": node,
        "cluster": cluster,
        "peer_id": peer.get("TransitGatewayConnectPeerId"),
        "attachment_id": peer.get("TransitGatewayAttachmentId"),
        "state": peer.get("State"),
        "inside_cidr": inside.get("inside_cidr"),
        "inside_cidr_ipv6": next((c for c in config.get("InsideCidrBlocks") or [] if ":" in c), None),
        "node_inside_address": inside.get("node_address_cidr"),
        "tgw_inside_addresses": inside.get("tgw_addresses", []),
        "tgw_gre_address": config.get("TransitGatewayAddress"),
        "node_gre_address": config.get("PeerAddress"),
        "tgw_asn": int(asns[0]) if asns else tgw_asn,
        "peer_asn": int(peer_asns[0]) if peer_asns else None,
        "bgp_status": {s.get("TransitGatewayAddress"): s.get("BgpStatus") for s in sessions},
        "tags": tags_to_dict(peer.get("Tags")),
    }


def planned_peer(create, tgw_asn):
    """The flat shape of a peer that does not exist yet (check mode, or before creation)."""
    inside = addressing.inside_addresses(create["inside_cidr"])
    return {
        "name": create["name"],
        "cluster": create["tags"].get(CLUSTER_TAG),
        "peer_id": None,
        "attachment_id": create["attachment_id"],
        "state": "planned",
        "inside_cidr": inside["inside_cidr"],
        "inside_cidr_ipv6": None,
        "node_inside_address": inside["node_address_cidr"],
        "tgw_inside_addresses": inside["tgw_addresses"],
        "tgw_gre_address": create.get("transit_gateway_address"),
        "node_gre_address": create["peer_address"],
        "tgw_asn": tgw_asn,
        "peer_asn": create["peer_asn"],
        "bgp_status": {},
        "tags": dict(create["tags"]),
    }


def peer_differences(peer, peer_address=None, inside_cidr=None, peer_asn=None, transit_gateway_address=None):
    """What differs between an existing (describe-shaped) peer and the wanted one, as readable strings.

    Only arguments that are not None are compared. Peers are immutable in AWS: any difference means
    delete + create.
    """
    config = _peer_config(peer)
    current_asns = sorted({int(s["PeerAsn"]) for s in config.get("BgpConfigurations") or [] if s.get("PeerAsn") is not None})
    differences = []
    if peer_address is not None and config.get("PeerAddress") != peer_address:
        differences.append("peer_address: %s -> %s" % (config.get("PeerAddress"), peer_address))
    if inside_cidr is not None and peer_inside_cidr_v4(peer) != inside_cidr:
        differences.append("inside_cidr: %s -> %s" % (peer_inside_cidr_v4(peer), inside_cidr))
    if peer_asn is not None and current_asns and current_asns != [int(peer_asn)]:
        differences.append("peer_asn: %s -> %s" % (",".join(map(str, current_asns)), peer_asn))
    if transit_gateway_address is not None and config.get("TransitGatewayAddress") != transit_gateway_address:
        differences.append("transit_gateway_address: %s -> %s" % (config.get("TransitGatewayAddress"), transit_gateway_address))
    return differences


def validate_nodes(nodes, field="nodes"):
    """Each node: {name, address, inside_cidr (optional)}; names unique, addresses IPv4, /29s valid."""
    seen = set()
    clean = []
    for index, node in enumerate(nodes or []):
        where = "%s[%d]" % (field, index)
        if not isinstance(node, dict):
            raise PlanningError("%s: %r is not a dict with name and address" % (where, node))
        name = node.get("name")
        if not name or not isinstance(name, str):
            raise PlanningError("%s.name: %r must be a non-empty string" % (where, name))
        if name in seen:
            raise PlanningError("%s.name: %s is listed twice" % (where, name))
        seen.add(name)
        try:
            address = str(addressing._address(node.get("address"), "%s.address" % where, version=4))
            inside_cidr = node.get("inside_cidr")
            if inside_cidr:
                inside_cidr = addressing.validate_inside_cidr(inside_cidr, "%s.inside_cidr" % where)
        except addressing.AddressingError as exc:
            raise PlanningError(str(exc))
        clean.append({"name": name, "address": address, "inside_cidr": inside_cidr or None})
    return clean


def check_no_overlap(requested, in_use_by_other):
    """requested: {field: cidr}; in_use_by_other: {cidr: who}. Raise naming the field on any overlap."""
    claimed = {}
    for field, cidr in sorted(requested.items()):
        for other, who in list(in_use_by_other.items()) + list(claimed.items()):
            if _overlaps(cidr, other):
                raise PlanningError("%s: %s overlaps %s already used by %s on this transit gateway" % (field, cidr, other, who))
        claimed[cidr] = field
    return True


def _overlaps(a, b):
    first_a = addressing.netaddr.IPNetwork(a)
    first_b = addressing.netaddr.IPNetwork(b)
    return first_a.version == first_b.version and first_a.first <= first_b.last and first_b.first <= first_a.last


class ConnectPlan:
    """What tgw_connect_peers will do. All fields are plain data (lists of dicts) for check mode and diff."""

    def __init__(self):
        self.create_attachments = []  # [{"key": "new-0", "peers": [node names]}]
        self.delete_attachments = []  # [{"attachment_id", "reason"}]
        # [{"name", "attachment_id" (id or new-N), "inside_cidr", "peer_address", "peer_asn", "tags", "reason"}]
        self.create_peers = []
        self.delete_peers = []  # [{"peer_id", "name", "inside_cidr", "reason"}]
        self.keep_peers = {}  # name -> describe-shaped peer
        self.retag_peers = []  # [{"peer_id", "name", "add": {...}, "remove": [...]}]

    @property
    def changed(self):
        return bool(
            self.create_attachments or self.delete_attachments or self.create_peers or self.delete_peers or self.retag_peers
        )

    def as_dict(self):
        return {
            "create_attachments": self.create_attachments,
            "delete_attachments": self.delete_attachments,
            "create_peers": self.create_peers,
            "delete_peers": self.delete_peers,
            "keep_peers": sorted(self.keep_peers),
            "retag_peers": self.retag_peers,
        }


def _wanted_tags(cluster, name, extra_tags):
    tags = dict(extra_tags or {})
    tags.setdefault("Name", "%s-%s" % (cluster, name))
    tags[CLUSTER_TAG] = cluster
    tags[NODE_TAG] = name
    return tags


def plan_connect_peers(
    cluster,
    nodes,
    peers,
    attachments,
    transport_attachment_id,
    tgw_asn,
    peer_asn,
    *,
    peers_per_attachment=MAX_PEERS_PER_ATTACHMENT,
    purge=True,
    replace=False,
    allow_ibgp=False,
    inside_cidr_pool=addressing.INSIDE_POOL_V4,
    tags=None,
    purge_tags=False,
    tgw_cidr_blocks=None,
    transit_gateway_id=None,
    require_cidr_block=True,
):
    """Compute the ConnectPlan for one cluster on one transit gateway.

    peers: every Connect peer of the transit gateway (describe shape, all clusters, any state).
    tgw_cidr_blocks: the transit gateway's CIDR blocks; each new peer gets the first free GRE address of
    them (what AWS would pick), computed here so that check mode shows the real value.
    require_cidr_block: False in check mode, where an earlier task may only have planned the CIDR block; the
    GRE addresses are then unknown (None).
    attachments: every Connect attachment of the transit gateway (describe shape, any state).
    Raises PlanningError (message names the field) on bad input; nothing has been changed then.
    """
    if not cluster or not isinstance(cluster, str):
        raise PlanningError("cluster: %r must be a non-empty string" % (cluster,))
    if not isinstance(peers_per_attachment, int) or not 1 <= peers_per_attachment <= MAX_PEERS_PER_ATTACHMENT:
        raise PlanningError(
            "peers_per_attachment: %r must be 1-%d (AWS allows at most %d Connect peers per Connect attachment)"
            % (peers_per_attachment, MAX_PEERS_PER_ATTACHMENT, MAX_PEERS_PER_ATTACHMENT)
        )
    try:
        peer_asn = addressing.check_peer_asn(peer_asn, tgw_asn, allow_ibgp=allow_ibgp)
    except addressing.AddressingError as exc:
        raise PlanningError(str(exc))
    nodes = validate_nodes(nodes)
    wanted = {node["name"]: node for node in nodes}

    live_peers = [p for p in peers if is_live(p)]
    live_attachments = [a for a in attachments if is_live(a)]
    plan = ConnectPlan()

    # 1. Existing owned peers: keep, replace or delete.
    mine = {}
    for peer in sorted(live_peers, key=lambda p: p.get("TransitGatewayConnectPeerId", "")):
        owner, node_name = peer_owner(peer)
        if owner != cluster:
            continue
        cidr = peer_inside_cidr_v4(peer)
        node = wanted.get(node_name)
        if node is None or node_name in mine:
            if purge:
                reason = "node no longer listed" if node is None else "duplicate peer for node"
                plan.delete_peers.append(
                    {"peer_id": peer["TransitGatewayConnectPeerId"], "name": node_name, "inside_cidr": cidr, "reason": reason}
                )
            continue
        differences = peer_differences(peer, peer_address=node["address"], inside_cidr=node["inside_cidr"], peer_asn=peer_asn)
        if differences:
            if not replace:
                raise PlanningError(
                    "nodes[%s]: the Connect peer %s differs (%s) and Connect peers are immutable; set replace=true to "
                    "delete and re-create it" % (node_name, peer["TransitGatewayConnectPeerId"], "; ".join(differences))
                )
            plan.delete_peers.append(
                {
                    "peer_id": peer["TransitGatewayConnectPeerId"],
                    "name": node_name,
                    "inside_cidr": cidr,
                    "attachment_id": peer.get("TransitGatewayAttachmentId"),
                    "reason": "replace: " + "; ".join(differences),
                }
            )
            mine[node_name] = None  # re-created below
            continue
        mine[node_name] = peer
        plan.keep_peers[node_name] = peer
        wanted_tags = _wanted_tags(cluster, node_name, tags)
        current_tags = tags_to_dict(peer.get("Tags"))
        add = {k: v for k, v in wanted_tags.items() if current_tags.get(k) != v}
        remove = sorted(k for k in current_tags if k not in wanted_tags) if purge_tags else []
        if add or remove:
            plan.retag_peers.append(
                {"peer_id": peer["TransitGatewayConnectPeerId"], "name": node_name, "add": add, "remove": remove}
            )

    deleted_ids = {d["peer_id"] for d in plan.delete_peers}
    # 2. Inside /29s: keep every kept peer's; never collide with any other live peer on the TGW.
    in_use = {}
    for peer in live_peers:
        if peer["TransitGatewayConnectPeerId"] in deleted_ids:
            continue
        owner, node_name = peer_owner(peer)
        cidr = peer_inside_cidr_v4(peer)
        if cidr and not (owner == cluster and plan.keep_peers.get(node_name) is peer):
            in_use[cidr] = "Connect peer %s" % peer["TransitGatewayConnectPeerId"]
    existing = {name: peer_inside_cidr_v4(peer) for name, peer in plan.keep_peers.items()}
    missing = sorted(name for name in wanted if name not in plan.keep_peers)
    # A replaced peer keeps its /29 unless the node asks for another one: the node config stays valid.
    replaced_cidrs = {d["name"]: d["inside_cidr"] for d in plan.delete_peers if d["reason"].startswith("replace")}
    requested = {}
    for name in missing:
        cidr = wanted[name]["inside_cidr"] or replaced_cidrs.get(name)
        if cidr:
            requested["nodes[%s].inside_cidr" % name] = cidr
    check_no_overlap(requested, dict(in_use, **{c: "node %s" % n for n, c in existing.items()}))
    for field, cidr in requested.items():
        existing[field[len("nodes[") : field.index("]")]] = cidr
    try:
        assigned = addressing.assign_inside_cidrs(sorted(wanted), existing=existing, in_use=sorted(in_use), pool=inside_cidr_pool)
    except addressing.AddressingError as exc:
        raise PlanningError(str(exc))

    # 3. Room on owned Connect attachments of this transport; new attachments for the rest.
    owned_attachments = sorted(
        (
            a
            for a in live_attachments
            if owned_by(a, cluster) and a.get("TransportTransitGatewayAttachmentId") == transport_attachment_id
        ),
        key=lambda a: a["TransitGatewayAttachmentId"],
    )
    load = {a["TransitGatewayAttachmentId"]: 0 for a in owned_attachments}
    for peer in live_peers:
        if peer["TransitGatewayConnectPeerId"] not in deleted_ids and peer.get("TransitGatewayAttachmentId") in load:
            load[peer["TransitGatewayAttachmentId"]] += 1
    previous = {d["name"]: d.get("attachment_id") for d in plan.delete_peers if d["reason"].startswith("replace")}

    def place(name):
        """A replaced peer goes back where it was; others fill the fullest owned attachment, then new ones."""
        home = previous.get(name)
        if home in load and load[home] < peers_per_attachment:
            return home
        free = [a for a in load if load[a] < peers_per_attachment]
        if free:
            return min(free, key=lambda a: (a.startswith("new-"), -load[a], a))
        key = "new-%d" % len(plan.create_attachments)
        plan.create_attachments.append({"key": key, "peers": []})
        load[key] = 0
        return key

    gre_in_use = sorted(
        {_peer_config(p).get("TransitGatewayAddress") for p in live_peers if p["TransitGatewayConnectPeerId"] not in deleted_ids}
        - {None}
    )
    ipv4_blocks = [block for block in tgw_cidr_blocks or () if ":" not in block]
    if missing and not ipv4_blocks and require_cidr_block:
        raise PlanningError(
            "transit_gateway_id: %s has no IPv4 CIDR block for the GRE addresses; add one first "
            "(calico_egress.aws.tgw_cidr_block)" % (transit_gateway_id or "the transit gateway")
        )
    for name in missing:
        gre_address = None
        if ipv4_blocks:
            try:
                gre_address = addressing.pick_tgw_gre_address(ipv4_blocks, gre_in_use)
            except addressing.AddressingError as exc:
                raise PlanningError(str(exc))
            gre_in_use.append(gre_address)
        attachment_id = place(name)
        load[attachment_id] += 1
        if attachment_id.startswith("new-"):
            plan.create_attachments[int(attachment_id[4:])]["peers"].append(name)
        plan.create_peers.append(
            {
                "name": name,
                "attachment_id": attachment_id,
                "inside_cidr": assigned[name],
                "peer_address": wanted[name]["address"],
                "transit_gateway_address": gre_address,
                "peer_asn": peer_asn,
                "tags": _wanted_tags(cluster, name, tags),
                "reason": "replace" if name in replaced_cidrs else "new node",
            }
        )
    if purge:
        for attachment in owned_attachments:
            if load[attachment["TransitGatewayAttachmentId"]] == 0:
                plan.delete_attachments.append(
                    {"attachment_id": attachment["TransitGatewayAttachmentId"], "reason": "owned and empty"}
                )
    return plan


def plan_result(plan, tgw_asn):
    """The `peers` return (keyed by node name) for a plan that is not applied (check mode)."""
    result = {name: normalise_peer(peer, tgw_asn) for name, peer in plan.keep_peers.items()}
    for create in plan.create_peers:
        result[create["name"]] = planned_peer(create, tgw_asn)
    return result


def plan_diff(plan, before_peers, after_peers):
    """--diff: before/after as {node: inside_cidr peer_address attachment}, the plan as header."""

    def summary(peers):
        return {
            name: {k: p.get(k) for k in ("peer_id", "attachment_id", "inside_cidr", "node_gre_address")}
            for name, p in sorted(peers.items())
        }

    return {"before": summary(before_peers), "after": summary(after_peers)}
