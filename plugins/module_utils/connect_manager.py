# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read, plan, apply for the TGW Connect modules.

Each manager reads the current state with a few calls (tgw_api), asks connect_planning for the plan,
returns it untouched in check mode, otherwise applies it and waits. No boto3 here either: every AWS
call goes through tgw_api.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.calico_egress.aws.plugins.module_utils import connect_addressing as addressing
from ansible_collections.calico_egress.aws.plugins.module_utils import connect_planning as planning
from ansible_collections.calico_egress.aws.plugins.module_utils import tgw_api


def snake_resource(resource):
    """describe shape -> snake_case return with tags as a dict."""
    result = camel_dict_to_snake_dict({k: v for k, v in resource.items() if k != "Tags"})
    if "Tags" in resource:
        result["tags"] = planning.tags_to_dict(resource["Tags"])
    return result


def snake_peer(peer):
    result = snake_resource(peer)
    result["bgp_peers"] = planning.normalise_bgp_peers(peer)
    return result


def transit_gateway_facts(client, transit_gateway_id):
    """(asn, cidr_blocks) of a transit gateway; raises PlanningError when it does not exist."""
    gateway = tgw_api.describe_transit_gateway(client, transit_gateway_id)
    if not gateway or gateway.get("State") in planning.GONE_STATES:
        raise planning.PlanningError("transit_gateway_id: %s does not exist" % transit_gateway_id)
    options = gateway.get("Options") or {}
    return int(options.get("AmazonSideAsn")), list(options.get("TransitGatewayCidrBlocks") or [])


def all_connect_peers(client, transit_gateway_id):
    """Every live Connect attachment and peer of the transit gateway: two paginated describes."""
    attachments = [
        a for a in tgw_api.describe_connects(client, filters={"transit-gateway-id": [transit_gateway_id]}) if planning.is_live(a)
    ]
    ids = [a["TransitGatewayAttachmentId"] for a in attachments]
    peers = [p for p in tgw_api.describe_connect_peers(client, attachment_ids=ids) if planning.is_live(p)] if ids else []
    return attachments, peers


class ConnectPeersManager:
    """tgw_connect_peers: reconcile one cluster's Connect peers with its node list."""

    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.params = module.params

    def run(self):
        params = self.params
        tgw_id = params["transit_gateway_id"]
        tgw_asn, cidr_blocks = transit_gateway_facts(self.client, tgw_id)
        attachments, peers = all_connect_peers(self.client, tgw_id)
        plan = planning.plan_connect_peers(
            cluster=params["cluster"],
            nodes=params["nodes"],
            peers=peers,
            attachments=attachments,
            transport_attachment_id=params["transport_attachment_id"],
            tgw_asn=tgw_asn,
            peer_asn=params["peer_asn"],
            peers_per_attachment=params["peers_per_attachment"],
            purge=params["purge"],
            replace=params["replace"],
            allow_ibgp=params["allow_ibgp"],
            inside_cidr_pool=params["inside_cidr_pool"],
            tags=params["tags"],
            purge_tags=params["purge_tags"],
            tgw_cidr_blocks=cidr_blocks,
            transit_gateway_id=tgw_id,
            require_cidr_block=not self.module.check_mode,
        )
        before = {
            name: planning.normalise_peer(peer, tgw_asn)
            for name, peer in ((planning.peer_owner(p)[1], p) for p in peers if planning.owned_by(p, params["cluster"]))
        }
        result = {"changed": plan.changed, "plan": plan.as_dict(), "transit_gateway_asn": tgw_asn}
        if self.module.check_mode or not plan.changed:
            result["peers"] = planning.plan_result(plan, tgw_asn)
        else:
            result["peers"] = self.apply(plan, tgw_asn)
        if self.module._diff:
            result["diff"] = planning.plan_diff(plan, before, result["peers"])
        return result

    def apply(self, plan, tgw_asn):
        client, params = self.client, self.params
        timeout = params["wait_timeout"]
        for delete in plan.delete_peers:
            tgw_api.delete_connect_peer(client, delete["peer_id"])
        replaced = any(d["reason"].startswith("replace") for d in plan.delete_peers)
        if plan.delete_peers and (replaced or plan.delete_attachments or params["wait"]):
            # A replaced peer's /29 and an emptied attachment are only free once the peers are gone.
            tgw_api.wait_for(client, "ConnectPeersDeleted", [d["peer_id"] for d in plan.delete_peers], timeout)
        new_ids = {}
        for new in plan.create_attachments:
            tags = dict(params["tags"] or {}, **{planning.CLUSTER_TAG: params["cluster"]})
            tags.setdefault("Name", "%s-connect" % params["cluster"])
            created = tgw_api.create_connect(client, params["transport_attachment_id"], tags)
            new_ids[new["key"]] = created["TransitGatewayAttachmentId"]
        # Peers can only be created on an available Connect attachment: wait for all new ones together.
        tgw_api.wait_for(client, "ConnectsAvailable", new_ids.values(), timeout)
        created_ids = []
        for create in plan.create_peers:
            peer = tgw_api.create_connect_peer(
                client,
                new_ids.get(create["attachment_id"], create["attachment_id"]),
                create["peer_address"],
                [create["inside_cidr"]],
                peer_asn=create["peer_asn"],
                transit_gateway_address=create["transit_gateway_address"],
                tags=create["tags"],
            )
            created_ids.append(peer["TransitGatewayConnectPeerId"])
        for retag in plan.retag_peers:
            if retag["remove"]:
                tgw_api.delete_tags(client, [retag["peer_id"]], retag["remove"])
            if retag["add"]:
                tgw_api.create_tags(client, [retag["peer_id"]], retag["add"])
        if params["wait"]:
            tgw_api.wait_for(client, "ConnectPeersAvailable", created_ids, timeout)
        for delete in plan.delete_attachments:
            tgw_api.delete_connect(client, delete["attachment_id"])
        if params["wait"]:
            tgw_api.wait_for(client, "ConnectsDeleted", [d["attachment_id"] for d in plan.delete_attachments], timeout)
        ids = created_ids + [p["TransitGatewayConnectPeerId"] for p in plan.keep_peers.values()]
        current = tgw_api.describe_connect_peers(client, peer_ids=ids)
        normalised = [planning.normalise_peer(peer, tgw_asn) for peer in current]
        return {peer["name"]: peer for peer in normalised}


class ConnectPeerInfo:
    """tgw_connect_peer_info: peers by id, attachment, transit gateway or cluster tag."""

    def __init__(self, module, client):
        self.module = module
        self.client = client

    def run(self):
        params = self.module.params
        attachment_ids = params["transit_gateway_attachment_ids"] or None
        if params["transit_gateway_id"] and not attachment_ids:
            attachments = tgw_api.describe_connects(self.client, filters={"transit-gateway-id": [params["transit_gateway_id"]]})
            attachment_ids = [a["TransitGatewayAttachmentId"] for a in attachments if planning.is_live(a)]
            if not attachment_ids:
                return {"changed": False, "connect_peers": []}
        filters = {}
        if params["cluster"]:
            filters["tag:" + planning.CLUSTER_TAG] = [params["cluster"]]
        peers = tgw_api.describe_connect_peers(
            self.client, peer_ids=params["connect_peer_ids"] or None, attachment_ids=attachment_ids, filters=filters
        )
        if not params["include_deleted"]:
            peers = [p for p in peers if planning.is_live(p)]
        return {"changed": False, "connect_peers": [snake_peer(p) for p in peers]}


class ConnectPeerManager:
    """tgw_connect_peer: one peer, identified by id or by (attachment, Name tag)."""

    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.params = module.params

    def find(self):
        params = self.params
        if params["connect_peer_id"]:
            peers = tgw_api.describe_connect_peers(self.client, peer_ids=[params["connect_peer_id"]])
        else:
            peers = tgw_api.describe_connect_peers(
                self.client, attachment_ids=[params["transit_gateway_attachment_id"]], filters={"tag:Name": [params["name"]]}
            )
        peers = [p for p in peers if planning.is_live(p)]
        if len(peers) > 1:
            raise planning.PlanningError(
                "name: %s matches %d Connect peers on %s (%s); use connect_peer_id"
                % (
                    params["name"],
                    len(peers),
                    params["transit_gateway_attachment_id"],
                    ", ".join(p["TransitGatewayConnectPeerId"] for p in peers),
                )
            )
        return peers[0] if peers else None

    def run(self):
        existing = self.find()
        if self.params["state"] == "absent":
            return self.absent(existing)
        return self.present(existing)

    def absent(self, existing):
        result = {"changed": existing is not None, "connect_peer": {}}
        if self.module._diff:
            result["diff"] = {"before": snake_peer(existing) if existing else {}, "after": {}}
        if existing is None or self.module.check_mode:
            return result
        tgw_api.delete_connect_peer(self.client, existing["TransitGatewayConnectPeerId"])
        if self.params["wait"]:
            tgw_api.wait_for(
                self.client, "ConnectPeersDeleted", [existing["TransitGatewayConnectPeerId"]], self.params["wait_timeout"]
            )
        return result

    def _attachment(self):
        attachment_id = self.params["transit_gateway_attachment_id"]
        connects = [c for c in tgw_api.describe_connects(self.client, attachment_ids=[attachment_id]) if planning.is_live(c)]
        if not connects:
            raise planning.PlanningError("transit_gateway_attachment_id: %s is not a live Connect attachment" % attachment_id)
        return connects[0]

    def desired(self, attachment, existing):
        """Validated creation parameters; allocations avoid every other live peer of the transit gateway."""
        params = self.params
        tgw_id = attachment["TransitGatewayId"]
        tgw_asn, cidr_blocks = transit_gateway_facts(self.client, tgw_id)
        peers = all_connect_peers(self.client, tgw_id)[1]
        others = [p for p in peers if not existing or p["TransitGatewayConnectPeerId"] != existing["TransitGatewayConnectPeerId"]]
        try:
            peer_address = str(addressing._address(params["peer_address"], "peer_address", version=4))
            peer_asn = (
                addressing.check_peer_asn(params["peer_asn"], tgw_asn, allow_ibgp=params["allow_ibgp"])
                if params["peer_asn"] is not None
                else None
            )
            gre = params["transit_gateway_address"]
            if gre:
                gre = addressing.validate_tgw_gre_address(gre, cidr_blocks)
            on_attachment = [p for p in others if p["TransitGatewayAttachmentId"] == attachment["TransitGatewayAttachmentId"]]
            if existing is None and len(on_attachment) >= planning.MAX_PEERS_PER_ATTACHMENT:
                raise planning.PlanningError(
                    "transit_gateway_attachment_id: %s already has %d Connect peers (AWS maximum %d per Connect attachment)"
                    % (attachment["TransitGatewayAttachmentId"], len(on_attachment), planning.MAX_PEERS_PER_ATTACHMENT)
                )
            in_use = {
                c: "Connect peer %s" % p["TransitGatewayConnectPeerId"] for p in others for c in planning.peer_inside_cidrs(p)
            }
            inside = params["inside_cidr"]
            if inside:
                inside = addressing.validate_inside_cidr(inside)
                planning.check_no_overlap({"inside_cidr": inside}, {c: w for c, w in in_use.items() if ":" not in c})
            elif existing is not None:
                inside = planning.peer_inside_cidr_v4(existing)
            else:
                inside = addressing.allocate_inside_cidrs(
                    1, sorted(c for c in in_use if ":" not in c), params["inside_cidr_pool"]
                )[0]
            inside_cidrs = [inside]
            if params["inside_cidr_ipv6"]:
                inside_cidrs.append(addressing.validate_inside_cidr_ipv6(params["inside_cidr_ipv6"]))
                planning.check_no_overlap({"inside_cidr_ipv6": inside_cidrs[1]}, {c: w for c, w in in_use.items() if ":" in c})
            if not gre and existing is None:
                if not [b for b in cidr_blocks if ":" not in b]:
                    raise planning.PlanningError(
                        "transit_gateway_address: %s has no IPv4 CIDR block; add one first (calico_egress.aws.tgw_cidr_block)"
                        % tgw_id
                    )
                used = [planning._peer_config(p).get("TransitGatewayAddress") for p in others]
                gre = addressing.pick_tgw_gre_address(cidr_blocks, [u for u in used if u])
        except addressing.AddressingError as exc:
            raise planning.PlanningError(str(exc))
        tags = dict(params["tags"] or {})
        if params["name"]:
            tags["Name"] = params["name"]
        return {
            "peer_address": peer_address,
            "inside_cidrs": inside_cidrs,
            "peer_asn": peer_asn,
            "transit_gateway_address": gre,
            "tags": tags,
            "tgw_asn": tgw_asn,
        }

    def present(self, existing):
        params = self.params
        attachment = self._attachment() if params["transit_gateway_attachment_id"] else None
        if attachment is None and existing is not None:
            attachment = tgw_api.describe_connects(self.client, attachment_ids=[existing["TransitGatewayAttachmentId"]])[0]
        if attachment is None:
            raise planning.PlanningError("transit_gateway_attachment_id: required to create a Connect peer")
        want = self.desired(attachment, existing)
        result = {"changed": False}
        before = snake_peer(existing) if existing else {}
        if existing is not None:
            differences = planning.peer_differences(
                existing,
                peer_address=want["peer_address"],
                inside_cidr=want["inside_cidrs"][0] if params["inside_cidr"] else None,
                peer_asn=want["peer_asn"],
                transit_gateway_address=params["transit_gateway_address"] and want["transit_gateway_address"],
            )
            if differences and not params["replace"]:
                raise planning.PlanningError(
                    "Connect peer %s differs (%s) and Connect peers are immutable; set replace=true to delete and re-create it"
                    % (existing["TransitGatewayConnectPeerId"], "; ".join(differences))
                )
            result["differences"] = differences
            if not differences:
                add, remove = _tag_changes(existing, want["tags"], params["purge_tags"])
                if add or remove:
                    result["changed"] = True
                    if not self.module.check_mode:
                        if remove:
                            tgw_api.delete_tags(self.client, [existing["TransitGatewayConnectPeerId"]], remove)
                        if add:
                            tgw_api.create_tags(self.client, [existing["TransitGatewayConnectPeerId"]], add)
                        existing = self.find()
                result["connect_peer"] = snake_peer(existing)
                if self.module._diff:
                    result["diff"] = {"before": before, "after": result["connect_peer"]}
                return result
        result["changed"] = True
        if self.module.check_mode:
            result["connect_peer"] = {
                "transit_gateway_attachment_id": attachment["TransitGatewayAttachmentId"],
                "state": "planned",
                "connect_peer_configuration": {
                    "peer_address": want["peer_address"],
                    "transit_gateway_address": want["transit_gateway_address"],
                    "inside_cidr_blocks": want["inside_cidrs"],
                },
                "tags": want["tags"],
                "bgp_peers": [],
            }
            if self.module._diff:
                result["diff"] = {"before": before, "after": result["connect_peer"]}
            return result
        if existing is not None:
            tgw_api.delete_connect_peer(self.client, existing["TransitGatewayConnectPeerId"])
            tgw_api.wait_for(
                self.client, "ConnectPeersDeleted", [existing["TransitGatewayConnectPeerId"]], params["wait_timeout"]
            )
        created = tgw_api.create_connect_peer(
            self.client,
            attachment["TransitGatewayAttachmentId"],
            want["peer_address"],
            want["inside_cidrs"],
            peer_asn=want["peer_asn"],
            transit_gateway_address=want["transit_gateway_address"],
            tags=want["tags"],
        )
        peer_id = created["TransitGatewayConnectPeerId"]
        if params["wait"]:
            tgw_api.wait_for(self.client, "ConnectPeersAvailable", [peer_id], params["wait_timeout"])
        current = tgw_api.describe_connect_peers(self.client, peer_ids=[peer_id])
        result["connect_peer"] = snake_peer(current[0] if current else created)
        if self.module._diff:
            result["diff"] = {"before": before, "after": result["connect_peer"]}
        return result


def _tag_changes(resource, tags, purge_tags):
    current = planning.tags_to_dict(resource.get("Tags"))
    add = {k: v for k, v in tags.items() if current.get(k) != v}
    remove = sorted(k for k in current if k not in tags and not k.startswith("aws:")) if purge_tags else []
    return add, remove


class ConnectAttachmentManager:
    """tgw_connect: one Connect attachment on a transport VPC attachment."""

    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.params = module.params

    def transport(self):
        params = self.params
        if params["transport_attachment_id"]:
            return params["transport_attachment_id"]
        if not (params["transit_gateway_id"] and params["vpc_id"]):
            return None
        found = tgw_api.describe_attachments(
            self.client,
            filters={
                "transit-gateway-id": [params["transit_gateway_id"]],
                "resource-type": ["vpc"],
                "resource-id": [params["vpc_id"]],
                "state": ["available", "pending", "modifying"],
            },
        )
        if not found:
            raise planning.PlanningError(
                "vpc_id: %s has no VPC attachment on %s" % (params["vpc_id"], params["transit_gateway_id"])
            )
        return found[0]["TransitGatewayAttachmentId"]

    def find(self, transport_id):
        params = self.params
        if params["connect_attachment_id"]:
            found = tgw_api.describe_connects(self.client, attachment_ids=[params["connect_attachment_id"]])
        else:
            if not transport_id:
                raise planning.PlanningError(
                    "transport_attachment_id: required (or transit_gateway_id and vpc_id) to find the attachment by name"
                )
            found = tgw_api.describe_connects(
                self.client, filters={"transport-transit-gateway-attachment-id": [transport_id], "tag:Name": [params["name"]]}
            )
        found = [c for c in found if planning.is_live(c)]
        if len(found) > 1:
            raise planning.PlanningError(
                "name: %s matches %d Connect attachments; use connect_attachment_id" % (params["name"], len(found))
            )
        return found[0] if found else None

    def run(self):
        transport_id = self.transport()
        existing = self.find(transport_id)
        if self.params["state"] == "absent":
            return self.absent(existing)
        return self.present(existing, transport_id)

    def _wanted_tags(self):
        tags = dict(self.params["tags"] or {})
        if self.params["name"]:
            tags["Name"] = self.params["name"]
        return tags

    def present(self, existing, transport_id):
        params = self.params
        before = snake_resource(existing) if existing else {}
        result = {"changed": False}
        if existing is not None:
            add, remove = _tag_changes(existing, self._wanted_tags(), params["purge_tags"])
            attachment_id = existing["TransitGatewayAttachmentId"]
            if add or remove:
                result["changed"] = True
                if not self.module.check_mode:
                    if remove:
                        tgw_api.delete_tags(self.client, [attachment_id], remove)
                    if add:
                        tgw_api.create_tags(self.client, [attachment_id], add)
                    existing = tgw_api.describe_connects(self.client, attachment_ids=[attachment_id])[0]
                else:
                    existing = dict(
                        existing,
                        Tags=[
                            {"Key": k, "Value": v}
                            for k, v in dict(planning.tags_to_dict(existing.get("Tags")), **add).items()
                            if k not in remove
                        ],
                    )
            result["connect_attachment"] = snake_resource(existing)
        else:
            if not transport_id:
                raise planning.PlanningError(
                    "transport_attachment_id: required (or transit_gateway_id and vpc_id) to create a Connect attachment"
                )
            result["changed"] = True
            if self.module.check_mode:
                result["connect_attachment"] = {
                    "transport_transit_gateway_attachment_id": transport_id,
                    "state": "planned",
                    "options": {"protocol": "gre"},
                    "tags": self._wanted_tags(),
                }
            else:
                created = tgw_api.create_connect(self.client, transport_id, self._wanted_tags())
                attachment_id = created["TransitGatewayAttachmentId"]
                if params["wait"]:
                    tgw_api.wait_for(self.client, "ConnectsAvailable", [attachment_id], params["wait_timeout"])
                current = tgw_api.describe_connects(self.client, attachment_ids=[attachment_id])
                result["connect_attachment"] = snake_resource(current[0] if current else created)
        if self.module._diff and result["changed"]:
            result["diff"] = {"before": before, "after": result["connect_attachment"]}
        return result

    def absent(self, existing):
        params = self.params
        result = {"changed": existing is not None, "connect_attachment": {}, "deleted_connect_peers": []}
        if existing is None:
            return result
        attachment_id = existing["TransitGatewayAttachmentId"]
        peers = [p for p in tgw_api.describe_connect_peers(self.client, attachment_ids=[attachment_id]) if planning.is_live(p)]
        if peers and not params["delete_peers"]:
            raise planning.PlanningError(
                "delete_peers: %s still has %d Connect peer(s) (%s); AWS refuses to delete it; "
                "set delete_peers=true to delete them first"
                % (attachment_id, len(peers), ", ".join(p["TransitGatewayConnectPeerId"] for p in peers))
            )
        result["deleted_connect_peers"] = [p["TransitGatewayConnectPeerId"] for p in peers]
        if self.module._diff:
            result["diff"] = {"before": snake_resource(existing), "after": {}}
        if self.module.check_mode:
            return result
        for peer in peers:
            tgw_api.delete_connect_peer(self.client, peer["TransitGatewayConnectPeerId"])
        tgw_api.wait_for(self.client, "ConnectPeersDeleted", result["deleted_connect_peers"], params["wait_timeout"])
        tgw_api.delete_connect(self.client, attachment_id)
        if params["wait"]:
            tgw_api.wait_for(self.client, "ConnectsDeleted", [attachment_id], params["wait_timeout"])
        return result
