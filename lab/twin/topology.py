"""The lab's machines and wires: three VMs, two point-to-point links, the AWS side's namespaces (README table).

Everything here runs once per boot: the VMs start from the pristine image (-snapshot), so the set-up scripts
never meet an earlier lab's state.
"""

import threading

from lab.vm import machine

AWS = "aws"
VPC1_ROUTER = "10.0.1.1"
TGW_CIDR = "10.99.0.0/24"
SERVICE_CIDR = "10.2.0.0/16"
SERVICE_ADDRESS = "10.2.0.10"
SERVICE_PORT = 5432
# Kubernetes node name -> VPC 1 address; the order is the aws VM's NIC order (eth1, eth2).
NODES = {"node-a": "10.0.1.10", "node-b": "10.0.1.11"}
VM_PREFIX = "lab-"
MEMORY_MB = 768  # per VM: the guest uses ~200 MB with BIRD/FRR; QEMU TCG needs the rest

ECHO_SERVICE = r"""
import socket, socketserver

class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.sendall(("client %s\n" % self.client_address[0]).encode())

socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer(("0.0.0.0", PORT), Echo).serve_forever()
"""


def echo_service(port=SERVICE_PORT):
    """Python source of the protected service: answers every TCP connection with `client <source address>`."""
    return ECHO_SERVICE.replace("PORT", str(port))


# Each namespace: forwarding on, no reverse-path filter (the image is strict by default; these are routers).
_NAMESPACE = """
ip netns add {ns}
ip netns exec {ns} sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
ip -n {ns} link set lo up
"""
_VETH = """
ip link add {a} netns {ns_a} type veth peer name {b} netns {ns_b}
ip -n {ns_a} addr add {addr_a} dev {a}
ip -n {ns_b} addr add {addr_b} dev {b}
ip -n {ns_a} link set {a} up
ip -n {ns_b} link set {b} up
"""


def aws_script():
    """Shell script that builds VPC 1's router, the TGW, the firewall VPC and VPC 2 in the aws VM."""
    lines = ["set -eux", "modprobe ip_gre", "sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0"]
    for namespace in ("vpc1", "tgw", "firewall", "service"):
        lines.append(_NAMESPACE.format(ns=namespace))
    lines.append("ip -n vpc1 link add br-vpc1 type bridge")
    for index in range(1, len(NODES) + 1):
        lines.append("ip link set eth%d netns vpc1" % index)
        lines.append("ip -n vpc1 link set eth%d master br-vpc1 up" % index)
    lines.append("ip -n vpc1 addr add %s/24 dev br-vpc1 && ip -n vpc1 link set br-vpc1 up" % VPC1_ROUTER)
    veths = (
        ("vpc1-tgw", "vpc1", "100.64.0.1/30", "tgw-vpc1", "tgw", "100.64.0.2/30"),
        ("tgw-fw", "tgw", "100.64.0.5/30", "fw-tgw", "firewall", "100.64.0.6/30"),
        ("fw-svc", "firewall", "10.2.0.1/24", "svc-fw", "service", SERVICE_ADDRESS + "/24"),
    )
    for a, ns_a, addr_a, b, ns_b, addr_b in veths:
        lines.append(_VETH.format(a=a, ns_a=ns_a, addr_a=addr_a, b=b, ns_b=ns_b, addr_b=addr_b))
    lines += [
        # VPC 1 route table: the service and the TGW CIDR block are behind the TGW.
        "ip -n vpc1 route add %s via 100.64.0.2" % SERVICE_CIDR,
        "ip -n vpc1 route add %s via 100.64.0.2" % TGW_CIDR,
        # TGW: VPC 1 through its VPC attachment, VPC 2 through the inspection VPC (inspection-rt's default route).
        "ip -n tgw route add 10.0.1.0/24 via 100.64.0.1",
        "ip -n tgw route add %s via 100.64.0.6" % SERVICE_CIDR,
        # The inspection VPC sends everything back to the TGW; the service VPC's default route is the firewall.
        "ip -n firewall route add default via 100.64.0.5",
        "ip -n service route add default via 10.2.0.1",
        "install -d /usr/local/lib/calico-egress-lab",
        "cat > /usr/local/lib/calico-egress-lab/echo.py <<'PY'\n%sPY" % echo_service(),
        "systemd-run --unit calico-egress-lab-echo ip netns exec service python3 /usr/local/lib/calico-egress-lab/echo.py",
    ]
    return "\n".join(lines) + "\n"


def node_netplan(address):
    """VPC 1's interface of a node as EC2 + cloud-init would configure it (address, the VPC route table's routes)."""
    return (
        "network:\n  version: 2\n  renderer: networkd\n  ethernets:\n    eth1:\n"
        "      addresses: [%s/24]\n      routes:\n"
        % address
        + "".join("        - {to: %s, via: %s}\n" % (cidr, VPC1_ROUTER) for cidr in (SERVICE_CIDR, TGW_CIDR))
    )


def link_plan(nodes):
    """QEMU dgram links: aws eth<i> <-> node eth1, with fixed MAC addresses. Returns {vm role: [link, ...]}."""
    plan = {AWS: []}
    for index, name in enumerate(nodes, start=1):
        aws_port, node_port = machine.free_udp_port(), machine.free_udp_port()
        plan[AWS].append({"local_port": aws_port, "remote_port": node_port, "mac": "52:54:00:0a:00:%02x" % index})
        plan[name] = [{"local_port": node_port, "remote_port": aws_port, "mac": "52:54:00:0b:00:%02x" % index}]
    return plan


class Topology(object):
    """The three lab VMs. machines: {"aws": Machine, "node-a": Machine, "node-b": Machine}."""

    def __init__(self, nodes=None):
        self.nodes = dict(nodes or NODES)
        self.machines = {role: machine.Machine(VM_PREFIX + role, multiplex=True) for role in [AWS, *self.nodes]}

    def running(self):
        return all(box.running() for box in self.machines.values())

    def start(self, log=print):
        """Boot the VMs in parallel and wire them; returns seconds per step."""
        plan = link_plan(self.nodes)
        errors = []

        def boot(role):
            try:
                self.machines[role].start(memory=MEMORY_MB, cpus=1, log=log, links=plan[role], hostname=role)
            except Exception as exc:  # noqa: BLE001 - reported after every thread ended
                errors.append("%s: %s" % (role, exc))

        threads = [threading.Thread(target=boot, args=(role,)) for role in self.machines]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            self.stop()
            raise machine.image.VMError("the lab VMs did not start: " + "; ".join(errors))
        self.machines[AWS].ssh("bash -s", stdin=aws_script())
        for name, address in self.nodes.items():
            box = self.machines[name]
            box.put("/etc/netplan/20-lab-vpc1.yaml", node_netplan(address), "0600")
            box.ssh("netplan apply 2>/dev/null")

    def stop(self):
        for box in self.machines.values():
            box.stop()

    def host(self, role):
        return self.machines[role]
