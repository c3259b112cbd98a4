# -*- coding: utf-8 -*-
"""Calico manifest building and validation; every object is checked against the real CRD schemas."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.calico_egress.aws.plugins.module_utils import calico_manifests as cm
from lab.kube import schema

NODES = [
    {
        "name": "node-b",
        "peer": {
            "tgw_inside_addresses": ["169.254.6.10", "169.254.6.11"],
            "tgw_asn": 64512,
            "peer_asn": 65010,
            "inside_cidr": "169.254.6.8/29",
        },
    },
    {
        "name": "node-a",
        "peer": {
            "tgw_inside_addresses": ["169.254.6.2", "169.254.6.3"],
            "tgw_asn": 64512,
            "peer_asn": 65010,
            "inside_cidr": "169.254.6.0/29",
        },
    },
]
CONFIG = {
    "variant": "enterprise",
    "bgp_as_number": 65010,
    "tunnel_nodes": NODES,
    "egress_ip_pools": [{"name": "egress-pool", "cidr": "10.10.10.0/31", "block_size": 31}],
    "pod_cidrs": ["192.168.0.0/16"],
    "egress_pool_encapsulation": "VXLANCrossSubnet",
    "bgp_filter_import_v4": ["10.20.0.0/16"],
    "egress_gateway": {
        "name": "egress-gateway",
        "namespace": "apps",
        "replicas": 2,
        "icmp_probe_ips": ["10.20.1.10"],
        "http_probe_urls": ["http://10.20.1.10:8080/health"],
        "namespaces": ["apps"],
        "policy_destinations": ["10.20.1.0/24"],
    },
}


def config(**changes):
    result = copy.deepcopy(CONFIG)
    result.update(changes)
    return result


def by_kind(objects, kind):
    return [o for o in objects if o["kind"] == kind]


@pytest.fixture(scope="module")
def resources():
    sets = {name: schema.load_crd_resources(name) for name in ("enterprise", "oss-v3.32", "oss-v3.31")}
    return sets


def test_two_peers_per_node_with_the_tgw_rules():
    built = cm.build_manifests(config())
    peers = by_kind(built["objects"], "BGPPeer")
    assert (
        [p["metadata"]["name"] for p in peers]
        == built["bgp_peer_names"]
        == [
            "tgw-node-a-169-254-6-2",
            "tgw-node-a-169-254-6-3",
            "tgw-node-b-169-254-6-10",
            "tgw-node-b-169-254-6-11",
        ]
    )
    for peer in peers:
        spec = peer["spec"]
        assert spec["asNumber"] == 64512 and spec["sourceAddress"] == "None" and spec["keepOriginalNextHop"] is True
        assert "nextHopMode" not in spec and "ttlSecurity" not in spec
        assert spec["filters"] == ["tgw-egress-only"]
        assert peer["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "calico_egress.aws"


def test_next_hop_mode_replaces_keep_original_next_hop():
    peers = by_kind(cm.build_manifests(config(bgp_next_hop_field="nextHopMode"))["objects"], "BGPPeer")
    assert all(p["spec"]["nextHopMode"] == "Keep" and "keepOriginalNextHop" not in p["spec"] for p in peers)


def test_filter_exports_only_egress_pools_and_imports_only_listed():
    bgp_filter = by_kind(cm.build_manifests(config())["objects"], "BGPFilter")[0]["spec"]
    assert bgp_filter["exportV4"] == [
        {"action": "Accept", "matchOperator": "In", "cidr": "10.10.10.0/31"},
        {"action": "Reject"},
    ]
    assert bgp_filter["importV4"] == [{"action": "Accept", "matchOperator": "In", "cidr": "10.20.0.0/16"}, {"action": "Reject"}]
    no_import = by_kind(cm.build_manifests(config(bgp_filter_import_v4=[]))["objects"], "BGPFilter")[0]["spec"]
    assert no_import["importV4"] == [{"action": "Reject"}]


def test_egress_pool_gateway_and_felix():
    objects = cm.build_manifests(config())["objects"]
    pool = by_kind(objects, "IPPool")[0]["spec"]
    assert pool == {
        "cidr": "10.10.10.0/31",
        "blockSize": 31,
        "nodeSelector": "!all()",
        "natOutgoing": False,
        "disableBGPExport": False,
        "ipipMode": "Never",
        "vxlanMode": "CrossSubnet",
    }
    assert by_kind(objects, "FelixConfiguration")[0]["spec"] == {
        "egressIPSupport": "EnabledPerNamespaceOrPerPod",
        "awsSrcDstCheck": "Disable",
    }
    gateway = by_kind(objects, "EgressGateway")[0]
    assert gateway["apiVersion"] == "operator.tigera.io/v1" and gateway["metadata"]["namespace"] == "apps"
    assert gateway["spec"]["ipPools"] == [{"name": "egress-pool"}] and gateway["spec"]["replicas"] == 2
    terms = gateway["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms["nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == ["node-a", "node-b"]
    assert gateway["spec"]["egressGatewayFailureDetection"]["icmpProbe"]["ips"] == ["10.20.1.10"]
    policy = by_kind(objects, "EgressGatewayPolicy")[0]["spec"]["rules"][0]
    assert policy["destination"] == {"cidr": "10.20.1.0/24"}
    assert policy["gateway"]["selector"] == "projectcalico.org/egw == 'egress-gateway'"
    namespace = by_kind(objects, "Namespace")[0]
    assert namespace["metadata"] == {
        "name": "apps",
        "annotations": {"egress.projectcalico.org/egressGatewayPolicy": "egress-gateway"},
    }
    # Shared singletons carry no ownership label (never pruned).
    assert "labels" not in by_kind(objects, "BGPConfiguration")[0]["metadata"]


def test_namespaces_select_the_gateway_by_annotation_without_policy():
    gateway = dict(CONFIG["egress_gateway"], policy_destinations=[])
    objects = cm.build_manifests(config(egress_gateway=gateway))["objects"]
    assert by_kind(objects, "EgressGatewayPolicy") == []
    assert by_kind(objects, "Namespace")[0]["metadata"]["annotations"] == {
        "egress.projectcalico.org/selector": "projectcalico.org/egw == 'egress-gateway'",
        "egress.projectcalico.org/namespaceSelector": "projectcalico.org/name == 'apps'",
    }


@pytest.mark.parametrize("next_hop", ["keepOriginalNextHop", "nextHopMode"])
def test_every_object_validates_against_enterprise_v3_schemas(resources, next_hop):
    built = cm.build_manifests(config(bgp_next_hop_field=next_hop))
    status = cm.calico_node_status("node-a")
    checked = 0
    for obj in built["objects"] + [status]:
        if obj["kind"] == "Namespace":
            continue
        plural = obj["kind"].lower() + ("es" if obj["kind"].endswith("s") else "s")
        plural = {"egressgatewaypolicys": "egressgatewaypolicies"}.get(plural, plural)
        resource = resources["enterprise"][(obj["apiVersion"], plural)]
        assert resource.validate(copy.deepcopy(obj)) == [], obj
        checked += 1
    assert checked == len(built["objects"])  # everything but the Namespace, plus the CalicoNodeStatus


def test_every_object_validates_against_enterprise_v1_storage_schemas(resources):
    built = cm.build_manifests(config(api_version="crd.projectcalico.org/v1"))
    kinds = set()
    for obj in built["objects"]:
        if obj["kind"] == "Namespace":
            continue
        plural = obj["kind"].lower() + ("es" if obj["kind"].endswith("s") else "s")
        plural = {"egressgatewaypolicys": "egressgatewaypolicies"}.get(plural, plural)
        assert resources["enterprise"][(obj["apiVersion"], plural)].validate(copy.deepcopy(obj)) == [], obj
        kinds.add(obj["kind"])
    assert {"BGPPeer", "BGPFilter", "IPPool", "FelixConfiguration", "EgressGatewayPolicy", "EgressGateway"} <= kinds


@pytest.mark.parametrize(
    "schema_set, api_version",
    [("oss-v3.32", "projectcalico.org/v3"), ("oss-v3.31", "crd.projectcalico.org/v1")],
)
def test_bgp_objects_validate_against_open_source_schemas(resources, schema_set, api_version):
    built = cm.build_manifests(
        config(variant="oss", egress_gateway=None, api_version=api_version, bgp_next_hop_field="nextHopMode")
    )
    objects = built["objects"] + [cm.calico_node_status("node-a", api_version)]
    kinds = set()
    for obj in objects:
        plural = obj["kind"].lower() + ("es" if obj["kind"].endswith("s") else "s")
        resource = resources[schema_set][(api_version, plural)]
        assert resource.validate(copy.deepcopy(obj)) == [], obj
        kinds.add(obj["kind"])
    assert kinds == {"BGPConfiguration", "BGPFilter", "IPPool", "BGPPeer", "FelixConfiguration", "CalicoNodeStatus"}


def test_schema_catches_a_typo_and_a_wrong_enum(resources):
    resource = resources["enterprise"][("projectcalico.org/v3", "bgppeers")]
    peer = by_kind(cm.build_manifests(config())["objects"], "BGPPeer")[0]
    typo = copy.deepcopy(peer)
    typo["spec"]["keepOrignalNextHop"] = typo["spec"].pop("keepOriginalNextHop")
    assert resource.validate(typo) == ['spec: unknown field "keepOrignalNextHop"']
    wrong = copy.deepcopy(peer)
    wrong["spec"]["sourceAddress"] = "none"
    assert any("sourceAddress" in e and "is not one of" in e for e in resource.validate(wrong))


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"bgp_as_number": 64512}, "calico_bgp_as_number: 64512 differs from node node-b's Connect peer ASN 65010"),
        ({"bgp_bind_mode": "NodeIP"}, "calico_bgp_bind_mode: NodeIP makes BIRD listen on the node IP only"),
        ({"egress_ip_pools": [{"name": "p", "cidr": "192.168.1.0/31"}]}, "overlaps the pod pool 192.168.0.0/16"),
        ({"egress_ip_pools": [{"name": "p", "cidr": "fd00::/127"}]}, "calico_egress_ip_pools[0].cidr: fd00::/127 is not IPv4"),
        ({"egress_ip_pools": [{"name": "p", "cidr": "10.10.10.0/30", "block_size": 30}]}, "blockSize 31 or 32"),
        ({"egress_ip_pools": [{"name": "p", "cidr": "10.10.10.1/31"}]}, "is not a network address"),
        ({"egress_ip_pools": [{"name": "p", "cidr": "not-a-cidr"}]}, "is not a CIDR"),
        ({"bgp_peer_extra_spec": {"ttlSecurity": 1}}, "calico_bgp_peer_extra_spec.ttlSecurity: cannot be set on TGW peers"),
        ({"bgp_peer_extra_spec": {"nextHopMode": "Keep"}}, "calico_bgp_peer_extra_spec.nextHopMode"),
        ({"bgp_peer_extra_spec": {"sourceAddress": "UseNodeIP"}}, "sourceAddress"),
        ({"tunnel_nodes": []}, "calico_tunnel_nodes: no tunnel node has a calico_egress_connect_peer fact"),
        ({"tunnel_nodes": [], "bgp_as_number": None}, "calico_tunnel_nodes: no tunnel node"),
        (
            {"tunnel_nodes": [{"name": "node-a", "peer": {}}]},
            "node node-a: calico_egress_connect_peer has no tgw_inside_addresses",
        ),
        ({"variant": "oss"}, "egress gateways exist only in Calico Enterprise"),
        ({"bgp_next_hop_field": "both"}, "calico_bgp_next_hop_field"),
        ({"egress_pool_encapsulation": "GRE"}, "calico_egress_pool_encapsulation"),
    ],
)
def test_bad_input_names_the_variable(changes, message):
    with pytest.raises(cm.CalicoManifestError) as error:
        cm.build_manifests(config(**changes))
    assert message in str(error.value)


def test_node_asn_equal_to_tgw_asn_explains_the_as_path_trap():
    nodes = [dict(n, peer=dict(n["peer"], peer_asn=64512)) for n in NODES]
    with pytest.raises(cm.CalicoManifestError) as error:
        cm.build_manifests(config(bgp_as_number=64512, tunnel_nodes=nodes))
    assert "equals the transit gateway ASN" in str(error.value) and "empty AS_PATH" in str(error.value)
    assert cm.build_manifests(config(bgp_as_number=64512, tunnel_nodes=nodes, allow_ibgp=True))["objects"]


def test_mismatched_inside_addresses_are_refused():
    nodes = [dict(NODES[0], peer=dict(NODES[0]["peer"], tgw_inside_addresses=["169.254.6.2", "169.254.6.3"]))]
    with pytest.raises(cm.CalicoManifestError, match="do not match inside_cidr 169.254.6.8/29"):
        cm.build_manifests(config(tunnel_nodes=nodes))


def test_session_report_names_what_is_not_established():
    nodes = cm.build_manifests(config())["nodes"]
    statuses = [
        {
            "spec": {"node": "node-a"},
            "status": {
                "bgp": {
                    "peersV4": [
                        {"peerIP": "169.254.6.2", "state": "Established"},
                        {"peerIP": "169.254.6.3", "state": "Established"},
                    ]
                }
            },
        },
        {"spec": {"node": "node-b"}, "status": {"bgp": {"peersV4": [{"peerIP": "169.254.6.10", "state": "Active"}]}}},
    ]
    report = cm.bgp_session_report(statuses, nodes)
    assert not report["established"]
    assert report["not_established"] == ["node-b 169.254.6.10: Active", "node-b 169.254.6.11: NotReported"]
    statuses[1]["status"]["bgp"]["peersV4"] = [{"peerIP": ip, "state": "Established"} for ip in ("169.254.6.10", "169.254.6.11")]
    assert cm.bgp_session_report(statuses, nodes)["established"]


def test_stale_objects_only_owned_and_undesired():
    existing = [
        {"metadata": {"name": "tgw-node-a-169-254-6-2", "labels": cm.owner_labels("default")}},
        {"metadata": {"name": "tgw-node-c-169-254-6-18", "labels": cm.owner_labels("default")}},
        {"metadata": {"name": "tor-rack-1", "labels": {}}},
    ]
    assert cm.stale_objects(existing, ["tgw-node-a-169-254-6-2"]) == ["tgw-node-c-169-254-6-18"]


def test_pod_pools_skip_owned_pools_and_map_encapsulation():
    pools = [
        {"metadata": {"name": "egress", "labels": cm.owner_labels("default")}, "spec": {"cidr": "10.10.10.0/31"}},
        {"metadata": {"name": "v6"}, "spec": {"cidr": "fd00:1::/64", "vxlanMode": "Always"}},
        {"metadata": {"name": "default-ipv4-ippool"}, "spec": {"cidr": "192.168.0.0/16", "ipipMode": "Always"}},
    ]
    assert cm.pod_pools(pools) == {"cidrs": ["fd00:1::/64", "192.168.0.0/16"], "encapsulation": "IPIP"}
    assert cm.pod_pools([]) == {"cidrs": [], "encapsulation": None}


def test_tunnel_node_from_host_vars():
    assert cm.tunnel_node({"inventory_hostname": "ip-10-0-0-5", "calico_egress_connect_peer": {"tgw_asn": 1}}) == {
        "name": "ip-10-0-0-5",
        "peer": {"tgw_asn": 1},
    }
    assert cm.tunnel_node({"inventory_hostname": "h", "calico_node_name": "k"})["name"] == "k"


def test_field_managed_names_objects_with_that_manager():
    objects = [
        {"metadata": {"name": "b", "managedFields": [{"manager": "kubectl"}, {"manager": "calico-egress-aws"}]}},
        {"metadata": {"name": "a", "managedFields": [{"manager": "calico-egress-aws"}]}},
        {"metadata": {"name": "c", "managedFields": [{"manager": "kubectl"}]}},
        {"metadata": {"name": "d"}},
    ]
    assert cm.field_managed(objects, "calico-egress-aws") == ["a", "b"]


def test_allocated_pools_are_those_holding_a_pod_ip():
    pools = [
        {"metadata": {"name": "egress"}, "spec": {"cidr": "10.10.10.0/31"}},
        {"metadata": {"name": "spare"}, "spec": {"cidr": "10.10.20.0/31"}},
        {"metadata": {"name": "v6"}, "spec": {"cidr": "fd00::/120"}},
    ]
    pods = [
        {"status": {"podIP": "10.10.10.1"}},
        {"status": {"podIP": "fd00::5"}},
        {"status": {}},
        {"status": {"podIP": "not-an-ip"}},
    ]
    assert cm.allocated_pools(pools, pods) == ["egress", "v6"]
    assert cm.allocated_pools(pools, []) == []
