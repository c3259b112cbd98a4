"""Role tgw_connect with ansible-playbook against the AWS stand-in: check mode (no write), converge, facts on
each node host, idempotency (changed=0), a node leaving the group."""

import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from ansible_collections.calico_egress.aws.plugins.module_utils.connect_planning import CLUSTER_TAG

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.path.dirname(sys.executable)
TGW_CIDR = "10.99.0.0/24"


@pytest.fixture
def aws_lab(aws):
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    tgw = ec2.create_transit_gateway(Options={"AmazonSideAsn": 64513})["TransitGateway"]["TransitGatewayId"]
    transport = ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw, VpcId=vpc, SubnetIds=[subnet])
    inspection, firewall = (
        ec2.create_transit_gateway_route_table(TransitGatewayId=tgw)["TransitGatewayRouteTable"]["TransitGatewayRouteTableId"]
        for _table in range(2)
    )
    aws.admin("POST", "calls/reset", {})  # the set-up is the test's, not the role's
    return {
        "ec2": ec2,
        "vpc": vpc,
        "table": table,
        "tgw": tgw,
        "transport": transport["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"],
        "inspection": inspection,
        "firewall": firewall,
    }


def write_inventory(path, count):
    hosts = {
        "node-%d" % i: {"ansible_host": "10.0.1.%d" % (10 + i), "calico_node_name": "ip-10-0-1-%d" % (10 + i)}
        for i in range(count)
    }
    path.write_text(yaml.safe_dump({"all": {"children": {"tunnel_nodes": {"hosts": hosts}}}}))


PLAYBOOK = """
- name: AWS side of the Connect tunnels
  hosts: localhost
  gather_facts: false
  roles:
    - role: calico_egress.aws.tgw_connect
- name: Show what each node received
  hosts: tunnel_nodes
  gather_facts: false
  tasks:
    - name: Write the published fact where the test reads it
      ansible.builtin.copy:
        content: "{{ calico_egress_connect_peer | to_json }}"
        dest: "{{ facts_dir }}/{{ inventory_hostname }}.json"
        mode: "0600"
      delegate_to: localhost
"""


def play(tmp_path, aws, lab, check=False, expect_failure=False, playbook=PLAYBOOK, **overrides):
    (tmp_path / "site.yml").write_text(playbook)
    (tmp_path / "facts").mkdir(exist_ok=True)
    extra = {
        "facts_dir": str(tmp_path / "facts"),
        "tgw_connect_cluster": "blue",
        "tgw_connect_transit_gateway_id": lab["tgw"],
        "tgw_connect_transport_attachment_id": lab["transport"],
        "tgw_connect_cidr_block": TGW_CIDR,
        "tgw_connect_association_route_table_id": lab["inspection"],
        "tgw_connect_propagation_route_table_ids": [lab["firewall"]],
        # Not exercised here: moto 5.2.5 (behind the stand-in) answers HTTP 500 to AuthorizeSecurityGroupIngress
        # for IP protocol 47 without ports, which is what amazon.aws.ec2_security_group sends (AWS accepts it).
        "tgw_connect_node_security_group_id": "",
        "tgw_connect_vpc_id": lab["vpc"],
        "tgw_connect_node_route_table_ids": [lab["table"]],
        "tgw_connect_wait_timeout": 60,
        "tgw_connect_aws_connection": aws.module_args(),
    }
    extra.update(overrides)
    (tmp_path / "extra.json").write_text(json.dumps(extra))
    command = [
        os.path.join(BIN, "ansible-playbook"),
        "-i",
        str(tmp_path / "inventory.yml"),
        str(tmp_path / "site.yml"),
        "-e",
        "@" + str(tmp_path / "extra.json"),
    ]
    if check:
        command.append("--check")
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="0",
    )
    env["ANSIBLE_INVENTORY_UNPARSED_WARNING"] = "0"
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=600)
    if expect_failure:
        assert result.returncode != 0
        return result.stdout
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    recap = dict(re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", result.stdout, re.MULTILINE))
    return {host: int(changed) for host, changed in recap.items()}


def test_role_converges_publishes_facts_and_is_idempotent(tmp_path, aws, aws_lab):
    write_inventory(tmp_path / "inventory.yml", 3)

    aws.reset_calls()
    play(tmp_path, aws, aws_lab, check=True)
    assert aws.calls(mutating=True) == []

    changed = play(tmp_path, aws, aws_lab)
    assert changed["localhost"] > 0
    facts = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "facts").glob("*.json")}
    assert sorted(facts) == ["node-0", "node-1", "node-2"]
    for index in range(3):
        fact = facts["node-%d" % index]
        assert fact["name"] == "ip-10-0-1-%d" % (10 + index)
        assert fact["node_gre_address"] == "10.0.1.%d" % (10 + index)
        assert fact["node_inside_address"].endswith("/29") and len(fact["tgw_inside_addresses"]) == 2
        for key in ("inside_cidr", "tgw_gre_address", "tgw_asn", "peer_asn", "peer_id", "attachment_id"):
            assert fact[key], key
    ec2 = aws_lab["ec2"]
    routes = ec2.describe_route_tables(RouteTableIds=[aws_lab["table"]])["RouteTables"][0]["Routes"]
    assert any(r.get("DestinationCidrBlock") == TGW_CIDR and r.get("TransitGatewayId") == aws_lab["tgw"] for r in routes)
    attachment_id = facts["node-0"]["attachment_id"]
    described = ec2.describe_transit_gateway_attachments(TransitGatewayAttachmentIds=[attachment_id])[
        "TransitGatewayAttachments"
    ][0]
    assert described["Association"]["TransitGatewayRouteTableId"] == aws_lab["inspection"]

    aws.reset_calls()
    again = play(tmp_path, aws, aws_lab)
    assert again["localhost"] == 0, "second run changed something"
    assert [c["action"] for c in aws.calls(mutating=True)] == []

    # a node leaves the group: its peer goes, the others keep theirs
    write_inventory(tmp_path / "inventory.yml", 2)
    play(tmp_path, aws, aws_lab)
    peers = ec2.describe_transit_gateway_connect_peers()["TransitGatewayConnectPeers"]
    live = [p for p in peers if p["State"] not in ("deleting", "deleted") and {"Key": CLUSTER_TAG, "Value": "blue"} in p["Tags"]]
    assert sorted(p["TransitGatewayConnectPeerId"] for p in live) == sorted(facts["node-%d" % i]["peer_id"] for i in range(2))


def test_role_refuses_an_empty_group_without_writes(tmp_path, aws, aws_lab):
    write_inventory(tmp_path / "inventory.yml", 1)
    play(tmp_path, aws, aws_lab)
    aws.reset_calls()
    output = play(tmp_path, aws, aws_lab, expect_failure=True, tgw_connect_node_group="tunnel_nodez")
    assert "tgw_connect_node_group: no host in group 'tunnel_nodez'" in output
    assert aws.calls(mutating=True) == []
    assert (
        len(
            [
                p
                for p in aws_lab["ec2"].describe_transit_gateway_connect_peers()["TransitGatewayConnectPeers"]
                if p["State"] == "available"
            ]
        )
        == 1
    )


TEARDOWN = """
- name: Remove the AWS side of the Connect tunnels
  hosts: localhost
  gather_facts: false
  roles:
    - role: calico_egress.aws.tgw_connect
      vars:
        tgw_connect_state: absent
"""


def _live(ec2, cluster):
    peers = ec2.describe_transit_gateway_connect_peers()["TransitGatewayConnectPeers"]
    attachments = ec2.describe_transit_gateway_connects()["TransitGatewayConnects"]
    tag = {"Key": CLUSTER_TAG, "Value": cluster}
    gone = ("deleting", "deleted")
    return (
        sorted(p["TransitGatewayConnectPeerId"] for p in peers if p["State"] not in gone and tag in p["Tags"]),
        sorted(a["TransitGatewayAttachmentId"] for a in attachments if a["State"] not in gone and tag in a["Tags"]),
    )


def _routes(ec2, table):
    routes = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]
    return sorted((r.get("DestinationCidrBlock"), r.get("TransitGatewayId") or r.get("GatewayId")) for r in routes)


def _cidr_blocks(ec2, tgw):
    gateway = ec2.describe_transit_gateways(TransitGatewayIds=[tgw])["TransitGateways"][0]
    return gateway["Options"].get("TransitGatewayCidrBlocks", [])


def test_absent_removes_only_the_clusters_resources(tmp_path, aws, aws_lab):
    ec2 = aws_lab["ec2"]
    write_inventory(tmp_path / "inventory.yml", 2)
    play(tmp_path, aws, aws_lab)
    # Another cluster on the same transit gateway and TGW CIDR block (its node at another address, no VPC routes).
    green = tmp_path / "green"
    green.mkdir()
    (green / "inventory.yml").write_text(
        yaml.safe_dump({"all": {"children": {"green_nodes": {"hosts": {"g-0": {"ansible_host": "10.0.1.50"}}}}}})
    )
    green_vars = dict(tgw_connect_cluster="green", tgw_connect_node_group="green_nodes", tgw_connect_node_route_table_ids=[])
    play(green, aws, aws_lab, playbook=TEARDOWN.replace("absent", "present"), **green_vars)
    ec2.create_route(RouteTableId=aws_lab["table"], DestinationCidrBlock="10.98.0.0/24", TransitGatewayId=aws_lab["tgw"])
    # The GRE rule as the present path writes it (seeded: moto cannot store protocol 47 without ports, see play()),
    # beside another team's GRE rule and an SSH rule.
    group = ec2.create_security_group(GroupName="nodes", Description="nodes", VpcId=aws_lab["vpc"])["GroupId"]
    gre = {"IpProtocol": "47", "FromPort": -1, "ToPort": -1}
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            dict(gre, IpRanges=[{"CidrIp": TGW_CIDR, "Description": "GRE from the transit gateway (Connect peers of blue)"}]),
            dict(gre, IpRanges=[{"CidrIp": "10.97.0.0/24", "Description": "GRE of another team"}]),
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
        ],
    )
    aws.admin("POST", "calls/reset", {})  # the test's set-up, not the role's (IAM policy check)
    blue_peers, blue_attachments = _live(ec2, "blue")
    green_before = _live(ec2, "green")
    assert len(blue_peers) == 2 and blue_attachments and green_before[0]
    routes_before = _routes(ec2, aws_lab["table"])
    assert (TGW_CIDR, aws_lab["tgw"]) in routes_before

    aws.reset_calls()
    teardown = dict(playbook=TEARDOWN, tgw_connect_remove_cidr_block=True, tgw_connect_node_security_group_id=group)
    changed = play(tmp_path, aws, aws_lab, check=True, **teardown)
    assert changed["localhost"] > 0
    assert aws.calls(mutating=True) == []

    changed = play(tmp_path, aws, aws_lab, **teardown)
    assert changed["localhost"] == 3  # peers (with their attachments), one route, one rule
    permissions = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissions"]
    assert sorted((p["IpProtocol"], r["CidrIp"]) for p in permissions for r in p["IpRanges"]) == [
        ("47", "10.97.0.0/24"),
        ("tcp", "10.0.0.0/8"),
    ]
    assert _live(ec2, "blue") == ([], [])
    assert _live(ec2, "green") == green_before
    assert _routes(ec2, aws_lab["table"]) == sorted(set(routes_before) - {(TGW_CIDR, aws_lab["tgw"])})
    assert ("10.98.0.0/24", aws_lab["tgw"]) in _routes(ec2, aws_lab["table"])
    assert _cidr_blocks(ec2, aws_lab["tgw"]) == [TGW_CIDR]  # green's peer still has its GRE address in it

    aws.reset_calls()
    changed = play(tmp_path, aws, aws_lab, **teardown)
    assert changed["localhost"] == 0
    assert aws.calls(mutating=True) == []

    # The last cluster on the block opts in to removing it; without the opt-in it stays.
    play(green, aws, aws_lab, playbook=TEARDOWN, **green_vars)
    assert _live(ec2, "green") == ([], []) and _cidr_blocks(ec2, aws_lab["tgw"]) == [TGW_CIDR]
    play(green, aws, aws_lab, playbook=TEARDOWN, tgw_connect_remove_cidr_block=True, **green_vars)
    assert _cidr_blocks(ec2, aws_lab["tgw"]) == []
