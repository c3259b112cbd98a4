"""The lab daemon: the AWS and Kubernetes stand-ins plus the twins that make their state real on the lab VMs.

One background process (`python -m lab.twin up` starts it, `down` stops it) so the lab outlives a playbook run:
a second `make lab` finds the same AWS resources, cluster objects and VMs, and its site run changes nothing.
Its state directory holds world.json (what inventories/lab reads), the kubeconfig, the SSH key and the log.
"""

import contextlib
import json
import logging
import os
import shutil
import signal
import threading
import time
import traceback

import yaml

from lab.aws.client import StandinClient
from lab.aws.server import make_server as make_aws_server
from lab.kube.server import Cluster, kubeconfig
from lab.kube.server import make_server as make_kube_server
from lab.twin import topology
from lab.twin.calico import CalicoTwin
from lab.twin.firewall import FirewallTwin
from lab.twin.tgw import TgwTwin
from lab.vm import image, machine

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The lab's calico-node "runs" this Enterprise-like template (the real one is not public); the calico role patches it.
BIRD_TEMPLATE = os.path.join(ROOT, "tests", "unit", "plugins", "module_utils", "fixtures", "bird-enterprise-like.cfg.template")
REGION = "eu-west-1"
TGW_ASN = 64513
FIREWALL_POLICY = "inspection"
RECONCILE_INTERVAL = 2.0
log = logging.getLogger("lab.twin")


def state_dir():
    return os.environ.get("CALICO_EGRESS_LAB_DIR") or os.path.join(os.path.dirname(image.cache_root()), "lab")


def world_file():
    return os.path.join(state_dir(), "world.json")


def pid_file():
    return os.path.join(state_dir(), "daemon.pid")


def read_world():
    try:
        with open(world_file()) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def seed_aws(aws):
    """What exists before the collection runs (the blog's prerequisites): VPC 1 with its route table and TGW
    attachment, the TGW with its two route tables, the firewall policy of the inspection VPC."""
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    tgw = ec2.create_transit_gateway(Description="lab", Options={"AmazonSideAsn": TGW_ASN})["TransitGateway"]["TransitGatewayId"]
    transport = ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw, VpcId=vpc, SubnetIds=[subnet])
    inspection, firewall = (
        ec2.create_transit_gateway_route_table(TransitGatewayId=tgw)["TransitGatewayRouteTable"]["TransitGatewayRouteTableId"]
        for _table in range(2)
    )
    aws.client("network-firewall").create_firewall_policy(
        FirewallPolicyName=FIREWALL_POLICY,
        FirewallPolicy={
            "StatelessDefaultActions": ["aws:forward_to_sfe"],
            "StatelessFragmentDefaultActions": ["aws:forward_to_sfe"],
            "StatefulEngineOptions": {"RuleOrder": "DEFAULT_ACTION_ORDER"},
        },
    )
    aws.reset_calls()  # the set-up is the lab's, not the collection's
    return {
        "vpc_id": vpc,
        "subnet_id": subnet,
        "node_route_table_id": table,
        "transit_gateway_id": tgw,
        "transport_attachment_id": transport["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"],
        "inspection_route_table_id": inspection,
        "firewall_route_table_id": firewall,
        "firewall_policy_name": FIREWALL_POLICY,
    }


class Daemon(object):
    def __init__(self):
        self.directory = state_dir()
        self.stopping = threading.Event()
        self.topology = topology.Topology()
        self.servers = []
        self.twins = {}
        self.errors = {}
        self.ready = False

    # -- start --------------------------------------------------------------------------------------------
    def start(self):
        started = time.monotonic()
        timings = {}
        self.topology.start(log=log.info)
        timings["vms_seconds"] = round(time.monotonic() - started, 1)
        aws_host = self.topology.host(topology.AWS)
        self.twins["tgw"] = TgwTwin(aws_host, log=log.info)
        self.twins["firewall"] = FirewallTwin(aws_host, log=log.info)
        aws_server = make_aws_server("127.0.0.1", 0, provider=self.twins["tgw"])
        cluster = Cluster(nodes=list(self.topology.nodes))
        kube_server = make_kube_server(cluster)
        self.servers = [aws_server, kube_server]
        for server in self.servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()
        self.aws = StandinClient("http://127.0.0.1:%d" % aws_server.server_port, region=REGION)
        nodes = {name: (self.topology.host(name), address) for name, address in self.topology.nodes.items()}
        self.twins["calico"] = CalicoTwin(cluster, nodes, log=log.info)
        world = seed_aws(self.aws)
        kube_url = "http://127.0.0.1:%d" % kube_server.server_address[1]
        kube_path = os.path.join(self.directory, "kubeconfig")
        with open(os.open(kube_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
            yaml.safe_dump(kubeconfig(kube_url), handle)
        key = os.path.join(self.directory, "id_ed25519")
        shutil.copyfile(self.topology.host(topology.AWS).key, key)
        os.chmod(key, 0o600)
        world.update(
            aws=self.aws.module_args(),
            kubeconfig=kube_path,
            ssh_key=key,
            bird_template=BIRD_TEMPLATE,
            ssh_common_args=" ".join(machine.SSH_OPTIONS),
            hosts={role: {"port": box.port} for role, box in self.topology.machines.items()},
        )
        loops = {
            "tgw": self._reconcile_tgw,
            "firewall": self._reconcile_firewall,
            "calico": self.twins["calico"].reconcile,
        }
        for name, step in loops.items():
            step()  # once in the foreground: a lab that cannot converge fails `up`
            threading.Thread(target=self._loop, args=(name, step), daemon=True).start()
        timings["ready_seconds"] = round(time.monotonic() - started, 1)
        world["timings"] = timings
        self._write_world(world)
        self.ready = True
        log.info("lab ready after %.0f s", timings["ready_seconds"])

    def _write_world(self, world):
        path = world_file()
        with open(path + ".tmp", "w") as handle:
            json.dump(world, handle, indent=1)
        os.replace(path + ".tmp", path)

    # -- reconcile loops ----------------------------------------------------------------------------------
    def _reconcile_tgw(self):
        peers = self.aws.client("ec2").describe_transit_gateway_connect_peers()["TransitGatewayConnectPeers"]
        self.twins["tgw"].reconcile(peers)
        self.twins["tgw"].refresh()

    def _reconcile_firewall(self):
        nfw = self.aws.client("network-firewall")
        policy = nfw.describe_firewall_policy(FirewallPolicyName=FIREWALL_POLICY)["FirewallPolicy"]
        groups = {}
        for reference in policy.get("StatefulRuleGroupReferences", []):
            arn = reference["ResourceArn"]
            groups[arn] = nfw.describe_rule_group(RuleGroupArn=arn)["RuleGroup"]
        self.twins["firewall"].reconcile(policy, groups)

    def _loop(self, name, step):
        while not self.stopping.wait(RECONCILE_INTERVAL):
            try:
                step()
                if self.errors.pop(name, None):
                    log.info("%s twin: converged again", name)
            except Exception:  # noqa: BLE001 - a twin loop must survive one bad round; the log says why
                message = traceback.format_exc()
                if self.errors.get(name) != message:
                    log.error("%s twin: %s", name, message)
                self.errors[name] = message

    # -- stop ---------------------------------------------------------------------------------------------
    def stop(self):
        self.stopping.set()
        for server in self.servers:
            server.shutdown()
        self.topology.stop()
        with contextlib.suppress(OSError):
            os.unlink(world_file())


def run():
    """Entry point of the background process (python -m lab.twin daemon)."""
    os.makedirs(state_dir(), exist_ok=True)
    logging.basicConfig(
        filename=os.path.join(state_dir(), "daemon.log"), level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per stand-in request is noise here
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    with open(pid_file(), "w") as handle:
        handle.write(str(os.getpid()))
    daemon = Daemon()

    def terminate(*_args):
        daemon.stopping.set()
        if not daemon.ready:
            raise SystemExit(143)  # abort a start in progress; `finally` stops what it started

    signal.signal(signal.SIGTERM, terminate)
    try:
        daemon.start()
        while not daemon.stopping.wait(1):
            pass
    except Exception:
        log.error("lab failed: %s", traceback.format_exc())
        raise
    finally:
        daemon.stop()
        os.unlink(pid_file())
        log.info("lab stopped")
