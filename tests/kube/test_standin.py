"""The Kubernetes API stand-in, through the same python kubernetes dynamic client kubernetes.core uses."""

import json
import os
import subprocess
import sys
import urllib.request

import pytest
import yaml
from kubernetes import config as kube_config
from kubernetes import dynamic
from kubernetes.client import api_client
from kubernetes.dynamic.exceptions import ConflictError, NotFoundError, UnprocessibleEntityError

PEER = {
    "apiVersion": "projectcalico.org/v3",
    "kind": "BGPPeer",
    "metadata": {"name": "p1", "labels": {"team": "net"}},
    "spec": {"node": "node-a", "peerIP": "169.254.6.2", "asNumber": 64512, "keepOriginalNextHop": True},
}


@pytest.fixture
def client(kube):
    return dynamic.DynamicClient(
        api_client.ApiClient(configuration=kube_config.new_client_from_config(kube.kubeconfig).configuration)
    )


def peers(client):
    return client.resources.get(api_version="projectcalico.org/v3", kind="BGPPeer")


def test_discovery_serves_every_group_the_role_uses(client):
    for api_version, kind in [
        ("v1", "ConfigMap"),
        ("apps/v1", "DaemonSet"),
        ("projectcalico.org/v3", "BGPFilter"),
        ("projectcalico.org/v3", "CalicoNodeStatus"),
        ("operator.tigera.io/v1", "EgressGateway"),
        ("crd.projectcalico.org/v1", "IPPool"),
    ]:
        assert client.resources.get(api_version=api_version, kind=kind).kind == kind


def test_server_side_apply_dry_run_create_and_no_op(client, kube):
    resource = peers(client)
    resource.server_side_apply(body=PEER, field_manager="a", dry_run="All")
    assert kube.names("BGPPeer") == [] and kube.cluster.writes == []
    first = resource.server_side_apply(body=PEER, field_manager="a").to_dict()
    assert first["spec"]["peerIP"] == "169.254.6.2" and first["metadata"]["managedFields"][0]["manager"] == "a"
    again = resource.server_side_apply(body=PEER, field_manager="a").to_dict()
    assert again["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    assert len(kube.cluster.writes) == 1


def test_apply_removes_fields_the_manager_dropped_and_keeps_others(client):
    resource = peers(client)
    resource.server_side_apply(body=PEER, field_manager="a")
    resource.patch(body={"spec": {"maxRestartTime": "2m"}}, name="p1", content_type="application/merge-patch+json")
    dropped = {**PEER, "spec": {k: v for k, v in PEER["spec"].items() if k != "keepOriginalNextHop"}}
    spec = resource.server_side_apply(body=dropped, field_manager="a").to_dict()["spec"]
    assert "keepOriginalNextHop" not in spec and spec["maxRestartTime"] == "2m"


def test_conflicting_managers_need_force(client):
    resource = peers(client)
    resource.server_side_apply(body=PEER, field_manager="a")
    other = {**PEER, "spec": dict(PEER["spec"], asNumber=64513)}
    with pytest.raises(ConflictError):
        resource.server_side_apply(body=other, field_manager="b")
    assert resource.server_side_apply(body=other, field_manager="b", force_conflicts=True).spec.asNumber == 64513


@pytest.mark.parametrize(
    "spec_change, message",
    [
        ({"keepOrignalNextHop": True}, 'unknown field "keepOrignalNextHop"'),
        ({"sourceAddress": "none"}, "is not one of ['UseNodeIP', 'None']"),
        ({"asNumber": "64512"}, "is not of type 'integer'"),
    ],
)
def test_schema_violations_are_refused_like_field_validation_strict(client, kube, spec_change, message):
    body = {**PEER, "spec": dict(PEER["spec"], **spec_change)}
    with pytest.raises(UnprocessibleEntityError) as error:
        peers(client).server_side_apply(body=body, field_manager="a")
    assert message in json.loads(error.value.body)["message"]
    assert kube.names("BGPPeer") == []


def test_required_fields_and_names_are_enforced(client):
    pools = client.resources.get(api_version="projectcalico.org/v3", kind="IPPool")
    with pytest.raises(UnprocessibleEntityError, match="'cidr' is a required property"):
        pools.create(body={"apiVersion": "projectcalico.org/v3", "kind": "IPPool", "metadata": {"name": "x"}, "spec": {}})
    with pytest.raises(UnprocessibleEntityError, match="RFC 1123"):
        peers(client).create(body={**PEER, "metadata": {"name": "Bad_Name"}})


def test_defaults_are_applied(client):
    pools = client.resources.get(api_version="projectcalico.org/v3", kind="IPPool")
    created = pools.create(
        body={"apiVersion": "projectcalico.org/v3", "kind": "IPPool", "metadata": {"name": "x"}, "spec": {"cidr": "10.9.0.0/31"}}
    )
    assert created.spec.assignmentMode == "Automatic"


def test_label_selectors_get_delete(client):
    resource = peers(client)
    resource.create(body=PEER)
    resource.create(body={**PEER, "metadata": {"name": "p2", "labels": {"team": "other"}}})
    resource.create(body={**PEER, "metadata": {"name": "p3"}})

    def names(selector):
        return sorted(i.metadata.name for i in resource.get(label_selector=selector).items)

    assert names("team=net") == ["p1"]
    assert names("team!=net") == ["p2", "p3"]
    assert names("team in (net,other)") == ["p1", "p2"]
    assert names("!team") == ["p3"]
    assert names("team") == ["p1", "p2"]
    resource.delete(name="p1")
    with pytest.raises(NotFoundError):
        resource.get(name="p1")


def test_egress_gateway_gets_pods_with_pool_ips(client, kube):
    pools = client.resources.get(api_version="projectcalico.org/v3", kind="IPPool")
    pools.create(
        body={
            "apiVersion": "projectcalico.org/v3",
            "kind": "IPPool",
            "metadata": {"name": "egw"},
            "spec": {"cidr": "10.10.10.0/31", "blockSize": 31},
        }
    )
    gateways = client.resources.get(api_version="operator.tigera.io/v1", kind="EgressGateway")
    gateways.create(
        namespace="default",
        body={
            "apiVersion": "operator.tigera.io/v1",
            "kind": "EgressGateway",
            "metadata": {"name": "gw"},
            "spec": {"replicas": 2, "ipPools": [{"name": "egw"}]},
        },
    )
    pods = client.resources.get(api_version="v1", kind="Pod").get(namespace="default", label_selector="projectcalico.org/egw=gw")
    assert sorted(p.status.podIP for p in pods.items) == ["10.10.10.0", "10.10.10.1"]
    assert {p.status.phase for p in pods.items} == {"Running"}


def test_bird_templates_configmap_rolls_calico_node(client):
    client.resources.get(api_version="v1", kind="ConfigMap").create(
        namespace="tigera-operator",
        body={
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "bird-templates"},
            "data": {"bird.cfg.template": "x"},
        },
    )
    daemonsets = client.resources.get(api_version="apps/v1", kind="DaemonSet")
    first = daemonsets.get(namespace="calico-system", name="calico-node")
    assert first.status.observedGeneration < first.metadata.generation  # rollout in progress
    second = daemonsets.get(namespace="calico-system", name="calico-node")
    assert second.status.observedGeneration == second.metadata.generation
    assert second.status.updatedNumberScheduled == second.status.desiredNumberScheduled


def test_module_entry_point_serves_and_writes_a_kubeconfig(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = tmp_path / "kubeconfig"
    proc = subprocess.Popen(
        [sys.executable, "-m", "lab.kube", "--port", "0", "--kubeconfig", str(path), "--nodes", "n1"],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = json.loads(proc.stdout.readline())["url"]
        assert yaml.safe_load(path.read_text())["clusters"][0]["cluster"]["server"] == url
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        with urllib.request.urlopen(url + "/api/v1/nodes") as response:
            assert [n["metadata"]["name"] for n in json.load(response)["items"]] == ["n1"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
