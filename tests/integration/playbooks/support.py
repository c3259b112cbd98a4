"""Helpers of the playbook tests: the example inventory run against the AWS and Kubernetes stand-ins."""

import json
import os
import re
import socketserver
import subprocess
import sys
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.path.dirname(sys.executable)
EXAMPLE = os.path.join(ROOT, "inventories", "example")
TEMPLATE = os.path.join(ROOT, "tests", "unit", "plugins", "module_utils", "fixtures", "bird-enterprise-like.cfg.template")
# The example inventory's nodes (hosts.yml): Kubernetes node names the Kubernetes stand-in must know.
NODES = {"node-a": "ip-10-0-1-10.eu-west-1.compute.internal", "node-b": "ip-10-0-1-11.eu-west-1.compute.internal"}
EGRESS_POOL = "10.10.10.0/31"
FIREWALL_POLICY = "inspection"  # network_firewall_policy_name of the example inventory


def build_aws_world(aws, foreign=True):
    """What exists before the collection runs: cluster VPC with its TGW attachment, the two TGW route tables,
    the firewall policy, and (foreign) things the collection must never touch."""
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    tgw = ec2.create_transit_gateway(Options={"AmazonSideAsn": 64513})["TransitGateway"]["TransitGatewayId"]
    transport = ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw, VpcId=vpc, SubnetIds=[subnet])
    transport = transport["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    inspection, firewall = (
        ec2.create_transit_gateway_route_table(TransitGatewayId=tgw)["TransitGatewayRouteTable"]["TransitGatewayRouteTableId"]
        for _table in range(2)
    )
    nfw = aws.client("network-firewall")
    nfw.create_firewall_policy(
        FirewallPolicyName=FIREWALL_POLICY,
        FirewallPolicy={
            "StatelessDefaultActions": ["aws:forward_to_sfe"],
            "StatelessFragmentDefaultActions": ["aws:forward_to_sfe"],
            "StatefulEngineOptions": {"RuleOrder": "DEFAULT_ACTION_ORDER"},
        },
    )
    world = {"ec2": ec2, "nfw": nfw, "vpc": vpc, "table": table, "tgw": tgw, "transport": transport}
    world.update(inspection=inspection, firewall=firewall)
    if foreign:
        # Another team's TGW CIDR block, Connect attachment and peer on the same transport, and rule group.
        ec2.modify_transit_gateway(TransitGatewayId=tgw, Options={"AddTransitGatewayCidrBlocks": ["10.98.0.0/24"]})
        connect = ec2.create_transit_gateway_connect(TransportTransitGatewayAttachmentId=transport, Options={"Protocol": "gre"})[
            "TransitGatewayConnect"
        ]["TransitGatewayAttachmentId"]
        peer = ec2.create_transit_gateway_connect_peer(
            TransitGatewayAttachmentId=connect,
            PeerAddress="10.0.1.200",
            InsideCidrBlocks=["169.254.200.0/29"],
            BgpOptions={"PeerAsn": 65100},
            TransitGatewayAddress="10.98.0.200",
        )["TransitGatewayConnectPeer"]["TransitGatewayConnectPeerId"]
        group = nfw.create_rule_group(
            RuleGroupName="other-team",
            Type="STATEFUL",
            Capacity=10,
            Rules="pass tcp 10.3.0.0/16 any -> 10.2.0.20 443 (sid:1;)",
        )["RuleGroupResponse"]["RuleGroupArn"]
        world.update(foreign_connect=connect, foreign_peer=peer, foreign_rule_group=group)
    aws.admin("POST", "calls/reset", {})  # the set-up is the test's, not the collection's (nor in the IAM check)
    return world


def stand_in_vars(aws, world, kube, **overrides):
    """Extra vars that point the example inventory at the stand-ins (everything else is the example's)."""
    extra = {
        "calico_egress_aws_connection": aws.module_args(),
        "tgw_connect_transit_gateway_id": world["tgw"],
        "tgw_connect_transport_attachment_id": world["transport"],
        "tgw_connect_association_route_table_id": world["inspection"],
        "tgw_connect_propagation_route_table_ids": [world["firewall"]],
        "tgw_connect_vpc_id": world["vpc"],
        "tgw_connect_node_route_table_ids": [world["table"]],
        # moto 5.2.5 (behind the stand-in) answers HTTP 500 to a GRE (protocol 47) ingress rule without ports.
        "tgw_connect_node_security_group_id": "",
        "tgw_connect_wait_timeout": 60,
        "verify_firewall_route_table_id": world["firewall"],
        "calico_kubeconfig": kube.kubeconfig,
        "calico_bird_template_source": "file",
        "calico_bird_template_file": TEMPLATE,
        "calico_status_poll_interval": 1,
        "calico_status_timeout": 6,
        "calico_rollout_timeout": 30,
        "calico_egress_gateway_wait_timeout": 30,
    }
    extra.update(overrides)
    return extra


def parse_recap(stdout):
    """PLAY RECAP of ansible-playbook's default output as {host: {ok: n, changed: n, ...}}."""
    return {
        host: {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", counts)}
        for host, counts in re.findall(r"^(\S+)\s+: (ok=.*)$", stdout, re.MULTILINE)
    }


def run_playbook(tmp_path, playbook, extra, *args, inventory=EXAMPLE, env=None):
    """ansible-playbook with the example inventory; returns (rc, {host: recap}, output)."""
    path = tmp_path / ("extra-%d.json" % len(list(tmp_path.glob("extra-*.json"))))
    path.write_text(json.dumps(extra))
    command = [os.path.join(BIN, "ansible-playbook"), "-i", inventory, playbook, "-e", "@%s" % path, *args]
    environment = dict(os.environ, **(env or {}))
    environment.update(
        ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"),
        ANSIBLE_HOME=str(tmp_path / "ansible-home"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_LOCALHOST_WARNING="0",
        PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
    )
    environment.pop("K8S_AUTH_HOST", None)
    proc = subprocess.run(command, cwd=str(tmp_path), env=environment, capture_output=True, text=True, timeout=900, check=False)
    output = proc.stdout + proc.stderr
    recap = parse_recap(proc.stdout)
    return proc.returncode, recap, output


class EchoService:
    """A TCP service on loopback that answers with the client's source address (like the article's service)."""

    def __init__(self):
        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                self.request.sendall(("%s\n" % self.client_address[0]).encode())

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def bash_connect(port, address="127.0.0.1", timeout=3):
    """A probe command: connect, print what the service answers, exit non-zero when it cannot connect."""
    return "timeout %d bash -c 'exec 3<>/dev/tcp/%s/%d && head -c 200 <&3'" % (timeout, address, port)


def table(output):
    """The last verify table's rows as {(check, target): (result, detail)} (columns found from its header)."""
    lines = [line.strip().rstrip(",").strip('"') for line in output.splitlines()]
    start = max(i for i, line in enumerate(lines) if line.startswith("CHECK") and "RESULT" in line)
    header = lines[start]
    target, result, detail = (header.index(name) for name in ("TARGET", "RESULT", "DETAIL"))
    rows = {}
    for line in lines[start + 1 :]:
        if line[result:detail].strip() not in ("PASS", "FAIL"):
            break
        rows[(line[:target].strip(), line[target:result].strip())] = (line[result:detail].strip(), line[detail:])
    return rows
