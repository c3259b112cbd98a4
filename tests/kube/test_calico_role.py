"""The calico role through ansible-playbook against the Kubernetes API stand-in (lab/kube)."""

import glob
import os

import pytest
import yaml
from kube_support import PEERS, run_playbook

EXPECTED_PEERS = [
    "tgw-node-a-169-254-6-2",
    "tgw-node-a-169-254-6-3",
    "tgw-node-b-169-254-6-10",
    "tgw-node-b-169-254-6-11",
]


def test_check_mode_creates_nothing(kube, tmp_path):
    rc, recap, output = run_playbook(kube, tmp_path, check=True)
    assert rc == 0, output
    assert recap["changed"] > 0  # the dry run reports what it would create
    assert kube.cluster.writes == []
    assert kube.names("BGPPeer") == []
    assert kube.names("EgressGateway") == []
    # server-side dry run was used (the API server saw the writes, with dryRun=All)
    assert any(method == "PATCH" and query.get("dryRun") == "All" for method, _path, query in kube.cluster.requests)


def test_apply_is_idempotent_and_prunes_only_owned_peers(kube, tmp_path):
    rc, recap, output = run_playbook(kube, tmp_path)
    assert rc == 0, output
    assert kube.names("BGPPeer") == EXPECTED_PEERS
    peer = next(p for p in kube.objects("BGPPeer") if p["metadata"]["name"] == "tgw-node-a-169-254-6-2")
    assert peer["spec"] == {
        "node": "node-a",
        "peerIP": "169.254.6.2",
        "asNumber": 64512,
        "sourceAddress": "None",
        "keepOriginalNextHop": True,
        "filters": ["tgw-egress-only"],
    }
    felix = kube.objects("FelixConfiguration")[0]["spec"]
    assert felix["egressIPSupport"] == "EnabledPerNamespaceOrPerPod" and felix["awsSrcDstCheck"] == "Disable"
    assert felix["logSeverityScreen"] == "Info" and felix["bpfEnabled"] is False  # other fields untouched
    pool = next(p for p in kube.objects("IPPool") if p["metadata"]["name"] == "egress-gateway-pool")
    assert pool["spec"]["vxlanMode"] == "CrossSubnet"  # copied from the cluster's pod pool
    configmap = next(c for c in kube.objects("ConfigMap") if c["metadata"]["name"] == "bird-templates")
    assert "multihop 2;" in configmap["data"]["bird.cfg.template"]
    assert kube.names("CalicoNodeStatus") == []  # the status check cleaned up after itself
    assert "Established" in output

    writes = len(kube.cluster.writes)
    rc, recap, output = run_playbook(kube, tmp_path)
    assert rc == 0, output
    assert recap["changed"] == 0, output
    assert [w for w in kube.cluster.writes[writes:] if w[1] != "CalicoNodeStatus"] == []
    rc, recap, output = run_playbook(kube, tmp_path, check=True)  # an AWX "check" job on a converged cluster
    assert rc == 0, output
    assert recap["changed"] == 0, output

    # Another manager's peers: one without our labels, one of another instance of this collection.
    kube.cluster.create(
        kube.cluster.resource("projectcalico.org/v3", "bgppeers"),
        None,
        {
            "apiVersion": "projectcalico.org/v3",
            "kind": "BGPPeer",
            "metadata": {"name": "tor-rack-1"},
            "spec": {"peerIP": "10.0.0.1", "asNumber": 65100},
        },
    )
    kube.cluster.create(
        kube.cluster.resource("projectcalico.org/v3", "bgppeers"),
        None,
        {
            "apiVersion": "projectcalico.org/v3",
            "kind": "BGPPeer",
            "metadata": {
                "name": "tgw-node-b-169-254-9-2",
                "labels": {"app.kubernetes.io/managed-by": "calico_egress.aws", "calico-egress.aws/instance": "other"},
            },
            "spec": {"node": "node-b", "peerIP": "169.254.9.2", "asNumber": 64512},
        },
    )
    rc, recap, output = run_playbook(kube, tmp_path, nodes=("node-a",))
    assert rc == 0, output
    assert kube.names("BGPPeer") == ["tgw-node-a-169-254-6-2", "tgw-node-a-169-254-6-3", "tgw-node-b-169-254-9-2", "tor-rack-1"]


def test_render_writes_the_objects_apply_creates(kube, tmp_path):
    rc, _recap, output = run_playbook(kube, tmp_path)
    assert rc == 0, output
    render_dir = tmp_path / "rendered"
    requests = len(kube.cluster.requests)
    rc, _recap, output = run_playbook(
        kube,  # reachable, so the request count below proves render mode does not call it
        tmp_path,
        extra={
            "calico_mode": "render",
            "calico_render_dir": str(render_dir),
            "calico_egress_pool_encapsulation": "VXLANCrossSubnet",
        },
    )
    assert rc == 0, output
    assert len(kube.cluster.requests) == requests  # render mode never contacts the cluster
    files = sorted(glob.glob(os.path.join(str(render_dir), "*.yaml")))
    rendered = []
    for path in files:
        with open(path) as handle:
            rendered.append(yaml.safe_load(handle))
    assert os.path.basename(files[0]) == "00-configmap-tigera-operator-bird-templates.yaml"
    kinds = {}
    for obj in rendered:
        kinds.setdefault(obj["kind"], []).append(obj["metadata"]["name"])
    assert sorted(kinds["BGPPeer"]) == EXPECTED_PEERS
    for obj in rendered:
        live = next(o for o in kube.objects(obj["kind"]) if o["metadata"]["name"] == obj["metadata"]["name"])
        for key, value in (obj.get("spec") or obj.get("data") or {}).items():
            assert (live.get("spec") or live.get("data"))[key] == value, (obj["kind"], obj["metadata"]["name"], key)
        for key, value in (obj["metadata"].get("labels") or {}).items():
            assert live["metadata"]["labels"][key] == value


@pytest.mark.parametrize(
    "extra, peers_asn, message",
    [
        ({}, 64512, "equals the transit gateway ASN"),
        ({"calico_egress_ip_pools": [{"name": "bad", "cidr": "192.168.7.0/31"}]}, None, "overlaps the pod pool 192.168.0.0/16"),
        ({"calico_egress_ip_pools": [{"name": "bad", "cidr": "fd00:10::/127"}]}, None, "is not IPv4"),
        ({"calico_egress_ip_pools": [{"name": "bad", "cidr": "10.10.10.0/29", "block_size": 29}]}, None, "blockSize 31 or 32"),
        ({"calico_bgp_bind_mode": "NodeIP"}, None, "NodeIP makes BIRD listen on the node IP only"),
        ({"calico_bgp_peer_extra_spec": {"ttlSecurity": 1}}, None, "calico_bgp_peer_extra_spec.ttlSecurity"),
    ],
)
def test_bad_input_is_refused_before_any_write(kube, tmp_path, extra, peers_asn, message):
    peers = None
    if peers_asn:
        peers = {name: dict(peer, peer_asn=peers_asn) for name, peer in PEERS.items()}
    rc, _recap, output = run_playbook(kube, tmp_path, extra=extra, peers=peers)
    assert rc != 0
    assert message in output, output
    assert kube.cluster.writes == []


def test_sessions_not_established_are_reported_and_statuses_deleted(kube, tmp_path):
    kube.cluster.idle_nodes.add("node-b")
    rc, _recap, output = run_playbook(kube, tmp_path)
    assert rc != 0
    assert "node-b 169.254.6.10: Active; node-b 169.254.6.11: Active" in output, output
    assert "node-a 169.254.6.2" not in output.split("not Established after")[1]
    assert kube.names("CalicoNodeStatus") == []


def test_open_source_skips_template_and_refuses_gateways(kube_factory, tmp_path):
    kube = kube_factory(schema_set="oss-v3.32", variant="Calico")
    rc, _recap, output = run_playbook(kube, tmp_path, extra={"calico_egress_gateway_enabled": False})
    assert rc == 0, output
    assert "open-source templates render every BGP peer as multihop" in output
    assert [c for c in kube.objects("ConfigMap") if c["metadata"]["name"] == "bird-templates"] == []
    assert kube.names("BGPPeer") == EXPECTED_PEERS
    felix = kube.objects("FelixConfiguration")[0]["spec"]
    assert "egressIPSupport" not in felix

    rc, _recap, output = run_playbook(kube, tmp_path, extra={"calico_egress_gateway_enabled": True})
    assert rc != 0
    assert "egress gateways exist only in Calico Enterprise" in output


def test_tags_select_one_aspect(kube, tmp_path):
    rc, _recap, output = run_playbook(kube, tmp_path, tags="bgp")
    assert rc == 0, output
    assert kube.names("BGPPeer") == EXPECTED_PEERS
    assert kube.names("EgressGateway") == []
    assert [c for c in kube.objects("ConfigMap") if c["metadata"]["name"] == "bird-templates"] == []
    assert {w[1] for w in kube.cluster.writes} == {"BGPConfiguration", "BGPFilter", "BGPPeer"}


def test_absent_removes_only_what_the_instance_owns(kube, tmp_path):
    extra = {"calico_egress_gateway_namespaces": ["default"]}
    rc, recap, output = run_playbook(kube, tmp_path, extra=extra)
    assert rc == 0, output
    assert kube.names("BGPPeer") == EXPECTED_PEERS
    annotated = next(n for n in kube.objects("Namespace") if n["metadata"]["name"] == "default")
    assert "egress.projectcalico.org/selector" in annotated["metadata"]["annotations"]
    # Foreign objects: another manager's peer and another instance's peer; a user's annotation on the namespace.
    peers = kube.cluster.resource("projectcalico.org/v3", "bgppeers")
    kube.cluster.create(peers, None, {"metadata": {"name": "tor-rack-1"}, "spec": {"peerIP": "10.0.0.1", "asNumber": 65100}})
    other = {"app.kubernetes.io/managed-by": "calico_egress.aws", "calico-egress.aws/instance": "other"}
    kube.cluster.create(
        peers, None, {"metadata": {"name": "other-peer", "labels": other}, "spec": {"peerIP": "169.254.9.2", "asNumber": 64512}}
    )
    namespaces = kube.cluster.resource("v1", "namespaces")
    kube.cluster.patch(
        namespaces, None, "default", {"metadata": {"annotations": {"team": "payments"}}}, "application/merge-patch+json"
    )
    bgp_before = kube.objects("BGPConfiguration")[0]["spec"]
    felix_before = kube.objects("FelixConfiguration")[0]["spec"]

    absent = {"calico_state": "absent"}
    writes = len(kube.cluster.writes)
    rc, recap, output = run_playbook(kube, tmp_path, extra=absent, check=True)
    assert rc == 0, output
    assert recap["changed"] > 0, output
    assert kube.cluster.writes[writes:] == []

    rc, recap, output = run_playbook(kube, tmp_path, extra=absent)
    assert rc == 0, output
    assert kube.names("BGPPeer") == ["other-peer", "tor-rack-1"]
    for kind in ("BGPFilter", "EgressGateway", "CalicoNodeStatus"):
        assert kube.names(kind) == [], kind
    assert "bird-templates" not in kube.names("ConfigMap")
    annotations = next(n for n in kube.objects("Namespace") if n["metadata"]["name"] == "default")["metadata"]["annotations"]
    assert annotations == {"team": "payments"}
    assert kube.objects("BGPConfiguration")[0]["spec"] == bgp_before
    assert kube.objects("FelixConfiguration")[0]["spec"] == felix_before
    # The stand-in leaves the gateway pods (as terminating pods would be): their pool is kept, and said so.
    assert "egress-gateway-pool" in kube.names("IPPool") and "Kept IP pools egress-gateway-pool" in output
    assert len(kube.names("IPPool")) > 1  # the cluster's pod pool is not ours

    writes = len(kube.cluster.writes)
    rc, recap, output = run_playbook(kube, tmp_path, extra=absent)
    assert rc == 0, output
    assert recap["changed"] == 0, output
    assert kube.cluster.writes[writes:] == []

    rc, recap, output = run_playbook(kube, tmp_path, extra=dict(absent, calico_delete_allocated_pools=True))
    assert rc == 0, output
    assert "egress-gateway-pool" not in kube.names("IPPool") and kube.names("IPPool")


def test_absent_on_open_source_calico_without_egress_gateway_kinds(kube_factory, tmp_path):
    kube = kube_factory(schema_set="oss-v3.32", variant="Calico")
    rc, _recap, output = run_playbook(kube, tmp_path, extra={"calico_egress_gateway_enabled": False})
    assert rc == 0, output
    rc, _recap, output = run_playbook(kube, tmp_path, extra={"calico_state": "absent"})
    assert rc == 0, output
    assert kube.names("BGPPeer") == [] and kube.names("BGPFilter") == []
    assert "egress-gateway-pool" not in kube.names("IPPool")  # no gateway, so no pod holds one of its addresses
