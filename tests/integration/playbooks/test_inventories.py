"""The playbooks parse, the example inventory documents every role variable, and both inventories build
(the dynamic one, amazon.aws.aws_ec2, against the AWS stand-in)."""

import glob
import json
import os
import subprocess

import pytest
import yaml

from .support import BIN, EXAMPLE, ROOT

PLAYBOOKS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "playbooks", "*.yml")))
ROLES = sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(ROOT, "roles", "*", "meta")))
# Variables of the playbooks themselves (not of a role).
PLAYBOOK_VARIABLES = {"calico_egress_aws_connection"}


def ansible(tool, *args, env=None):
    environment = dict(os.environ, **(env or {}))
    environment.update(ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"), ANSIBLE_NOCOLOR="1")
    return subprocess.run(
        [os.path.join(BIN, tool), *args], env=environment, capture_output=True, text=True, check=False, timeout=300
    )


def _load(path):
    with open(path) as handle:
        return yaml.safe_load(handle) or {}


def _options(role):
    return _load(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml"))["argument_specs"]["main"]["options"]


def test_every_playbook_is_tested():
    assert PLAYBOOKS == ["connect_peer_facts.yml", "reconcile_nodes.yml", "site.yml", "teardown.yml", "verify.yml"]


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_playbook_passes_syntax_check(playbook):
    result = ansible("ansible-playbook", "-i", EXAMPLE, "--syntax-check", os.path.join(ROOT, "playbooks", playbook))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("playbook", ["calico_egress.aws.%s" % p[: -len(".yml")] for p in PLAYBOOKS])
def test_playbook_runs_by_its_collection_name(playbook):
    result = ansible("ansible-playbook", "-i", EXAMPLE, "--syntax-check", playbook)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("role", ROLES)
def test_example_inventory_documents_every_variable_of_the_role(role):
    options = _options(role)
    documented = _load(os.path.join(EXAMPLE, "group_vars", "all", role + ".yml"))
    assert sorted(documented) == sorted(options)


def test_example_inventory_has_no_variable_outside_the_roles():
    files = glob.glob(os.path.join(EXAMPLE, "group_vars", "all", "*.yml"))
    names = {name for path in files for name in _load(path)}
    known = {name for role in ROLES for name in _options(role)}
    assert names - known == PLAYBOOK_VARIABLES


def test_example_inventory_has_the_articles_values():
    gv = {}
    for path in glob.glob(os.path.join(EXAMPLE, "group_vars", "all", "*.yml")):
        gv.update(_load(path))
    assert gv["calico_egress_ip_pools"][0]["cidr"] == "10.10.10.0/31"
    assert gv["tgw_connect_peer_asn"] == gv["calico_bgp_as_number"] == 64512  # nodes; the TGW is 64513
    assert gv["network_firewall_protected_destinations"] == ["10.2.0.10/32"]
    assert (gv["verify_service_address"], gv["verify_service_port"]) == ("10.2.0.10", 5432)


def test_example_inventory_graph():
    result = ansible("ansible-inventory", "-i", EXAMPLE, "--graph")
    assert result.returncode == 0, result.stderr
    assert "@tunnel_nodes:\n  |  |--node-a\n  |  |--node-b" in result.stdout


def _plain(value):
    """ansible-inventory --list marks templated values as {"__ansible_unsafe": value}."""
    return value["__ansible_unsafe"] if isinstance(value, dict) and "__ansible_unsafe" in value else value


def _instance(ec2, image, subnet, address, tags):
    return ec2.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        InstanceType="m5.large",
        SubnetId=subnet,
        PrivateIpAddress=address,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}],
    )["Instances"][0]


def test_aws_inventory_selects_the_clusters_tunnel_nodes(aws, tmp_path):
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    image = ec2.register_image(Name="node", RootDeviceName="/dev/xvda")["ImageId"]  # the fixture loads no AMIs
    cluster = {"calico-egress/cluster": "demo"}
    tunnel = _instance(ec2, image, subnet, "10.0.1.10", {**cluster, "calico-egress/tunnel": "true"})
    grouped = _instance(
        ec2, image, subnet, "10.0.1.11", {**cluster, "calico-egress/tunnel": "true", "calico-egress/peering-group": "b"}
    )
    worker = _instance(ec2, image, subnet, "10.0.1.12", cluster)
    other = _instance(ec2, image, subnet, "10.0.1.13", {"calico-egress/cluster": "other", "calico-egress/tunnel": "true"})

    aws.admin("POST", "calls/reset", {})  # the set-up is the test's; the IAM check covers what the inventory calls

    config = _load(os.path.join(ROOT, "inventories", "aws", "aws_ec2.yml"))
    config.update(regions=[aws.region], endpoint_url=aws.endpoint_url)  # the only changes: where AWS is
    path = tmp_path / "aws_ec2.yml"
    path.write_text(yaml.safe_dump(config))
    env = dict(aws.env(), ANSIBLE_HOME=str(tmp_path / "ansible-home"))

    listed = ansible("ansible-inventory", "-i", str(path), "--list", env=env)
    assert listed.returncode == 0, listed.stderr
    inventory = json.loads(listed.stdout)
    names = {i["InstanceId"]: i["PrivateDnsName"] for i in (tunnel, grouped, worker, other)}
    assert sorted(inventory["tunnel_nodes"]["hosts"]) == sorted([names[tunnel["InstanceId"]], names[grouped["InstanceId"]]])
    assert names[other["InstanceId"]] not in inventory["_meta"]["hostvars"]  # another cluster's node
    host = {k: _plain(v) for k, v in inventory["_meta"]["hostvars"][names[tunnel["InstanceId"]]].items()}
    assert (host["ansible_host"], host["calico_node_name"]) == ("10.0.1.10", names[tunnel["InstanceId"]])
    assert host["calico_egress_instance_id"] == tunnel["InstanceId"]
    assert inventory["peering_group_b"]["hosts"] == [names[grouped["InstanceId"]]]

    graph = ansible("ansible-inventory", "-i", str(path), "--graph", env=env)
    assert graph.returncode == 0, graph.stderr
    assert "@tunnel_nodes:" in graph.stdout and names[worker["InstanceId"]] in graph.stdout
