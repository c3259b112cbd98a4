"""The Calico twin for real on this host's kernel: network namespaces, real BIRD 1.6 on both sides, a real packet path.

Topology (no VM; the host kernel has netns, veth and nftables NAT but no GRE, so the Connect tunnel is replaced by
the veth that also carries the VPC):

    netns tct-node ("node-a"): eth1 10.0.1.10/24 + 169.254.6.1/29 (the tunnel's .1), default via 10.0.1.1;
        the twin adds its BIRD (AS 64512), egw-egress-gateway-0 and client-app namespaces
    netns tct-tgw ("TGW"): vpc 10.0.1.1/24 + 169.254.6.2/29 + 169.254.6.3/29, BIRD AS 64513 with two sessions
        (multihop 2, sourced from .2 and .3), installs the routes it learns; the service 10.2.0.10:5432 on lo
        answers with the client's source address.

Inputs are the role's objects for the example inventory (build_manifests applied to the Kubernetes stand-in).
Skipped, saying why, when not root, when network namespaces cannot be made, or when bird/nft are missing.
"""

import os
import shlex
import shutil
import subprocess
import sys
import time

import pytest

from lab.twin import calico, topology
from lab.twin.tests.test_calico import calico_manifests, role_cluster
from tests.support.waiting import wait_for

NODE_NS, TGW_NS = "tct-node", "tct-tgw"
TGW_BIRD = """
router id {address};
listen bgp address {address};
protocol device {{ scan time 1; }}
protocol direct {{ interface "*"; }}
{kernel}
protocol bgp tgw {{
  local as 64513;
  neighbor 169.254.6.1 as 64512;
  source address {address};
  multihop 2;
  import all;
  export none;
  connect delay time 1;
  connect retry time 2;
  error wait time 1, 5;
}}
"""
KERNEL = "protocol kernel { scan time 1; import none; export where source = RTS_BGP; }"
PROBE = "exec 3<>/dev/tcp/10.2.0.10/5432; timeout 5 cat <&3"


def run(*argv, check=True):
    return subprocess.run(list(argv), capture_output=True, text=True, check=check, timeout=60)


class NetnsHost(object):
    """lab.vm.machine.Machine's interface, on a network namespace of this host."""

    def __init__(self, netns):
        self.netns = netns
        self.calls = 0

    def ssh(self, command, check=True, timeout=180, stdin=None):
        self.calls += 1
        result = subprocess.run(
            # nsenter, not `ip netns exec`: that one unshares the mount namespace, so the namespaces the twin
            # adds (bind mounts under /run/netns) would vanish with the command, unlike on a VM reached by SSH.
            ["nsenter", "--net=/run/netns/" + self.netns, "bash", "-c", command],
            capture_output=True,
            text=True,
            timeout=timeout,
            input=stdin,
            check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError("rc=%d: %s\n%s%s" % (result.returncode, command, result.stdout, result.stderr))
        return result

    def put(self, path, text, mode="0644"):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(text)
        os.chmod(path, int(mode, 8))


@pytest.fixture
def lab(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("needs root for network namespaces: the real-kernel check did not run")
    for tool in ("bird", "birdc", "nft", "ip", "nsenter"):
        if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
            pytest.fail("%s is not installed (tools/apt-install.sh bird nftables): the real-kernel check did not run" % tool)
    if os.path.exists(calico.RUN_DIR):
        pytest.fail("%s exists: another twin runs on this host" % calico.RUN_DIR)
    for ns in (NODE_NS, TGW_NS, "egw-egress-gateway-0", "client-app"):
        run("ip", "netns", "del", ns, check=False)
    if run("ip", "netns", "add", NODE_NS, check=False).returncode != 0:
        pytest.fail("cannot create network namespaces here: the real-kernel check did not run")
    processes = []
    try:
        run("ip", "netns", "add", TGW_NS)
        for ns in (NODE_NS, TGW_NS):
            run("ip", "-n", ns, "link", "set", "lo", "up")
        # Strict reverse-path filtering everywhere on the node, as the lab image has it (lab/vm/customize.sh).
        run("ip", "netns", "exec", NODE_NS, "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=1", "net.ipv4.conf.default.rp_filter=1")
        run("ip", "-n", NODE_NS, "link", "add", "eth1", "type", "veth", "peer", "name", "vpc", "netns", TGW_NS)
        for address in ("10.0.1.10/24", "169.254.6.1/29"):
            run("ip", "-n", NODE_NS, "addr", "add", address, "dev", "eth1")
        for address in ("10.0.1.1/24", "169.254.6.2/29", "169.254.6.3/29"):
            run("ip", "-n", TGW_NS, "addr", "add", address, "dev", "vpc")
        run("ip", "-n", TGW_NS, "addr", "add", "10.2.0.10/32", "dev", "lo")
        run("ip", "-n", NODE_NS, "link", "set", "eth1", "up")
        run("ip", "-n", TGW_NS, "link", "set", "vpc", "up")
        run("ip", "-n", NODE_NS, "route", "add", "default", "via", "10.0.1.1")
        # Two speakers, as the TGW has (one BIRD cannot hold two sessions to one neighbour); only one has a kernel
        # protocol: a second one would delete the first's routes (both are proto bird in one table).
        for suffix, kernel in (("2", KERNEL), ("3", "")):
            config = tmp_path / ("tgw%s.cfg" % suffix)
            config.write_text(TGW_BIRD.format(address="169.254.6." + suffix, kernel=kernel))
            ctl, pid = str(tmp_path / ("tgw%s.ctl" % suffix)), str(tmp_path / ("tgw%s.pid" % suffix))
            run("ip", "netns", "exec", TGW_NS, "bird", "-c", str(config), "-s", ctl, "-P", pid)
        tgw_ctl = str(tmp_path / "tgw2.ctl")
        processes.append(subprocess.Popen(["ip", "netns", "exec", TGW_NS, sys.executable, "-c", topology.echo_service()]))
        yield {"node": NetnsHost(NODE_NS), "tgw_ctl": tgw_ctl, "tmp": tmp_path}
    finally:
        for suffix in ("2", "3"):
            pid_file = tmp_path / ("tgw%s.pid" % suffix)
            if pid_file.exists():
                run("kill", pid_file.read_text().strip(), check=False)
        for process in processes:
            process.kill()
            process.wait()
        for ns in (NODE_NS, TGW_NS, "egw-egress-gateway-0", "client-app"):
            run("ip", "netns", "del", ns, check=False)
        shutil.rmtree(calico.RUN_DIR, ignore_errors=True)
        shutil.rmtree(calico.CONFIG_DIR, ignore_errors=True)


def diagnostics(lab):
    node = run("birdc", "-s", calico.BIRD_CTL, "show", "protocols", "all", check=False).stdout
    tgw = "".join(
        run("birdc", "-s", str(lab["tmp"] / (s + ".ctl")), "show", "protocols", "all", check=False).stdout
        for s in ("tgw2", "tgw3")
    )
    return "node BIRD:\n%s\nTGW BIRD:\n%s" % (node, tgw)


def tgw_routes(lab):
    return run("ip", "-n", TGW_NS, "-4", "route", "show", "proto", "bird", check=False).stdout


def test_twin_peers_with_a_real_bird_and_carries_client_traffic_through_the_gateway(lab, capsys):
    cluster = role_cluster()
    host = lab["node"]
    messages = []
    twin = calico.CalicoTwin(cluster, {"node-a": (host, "10.0.1.10")}, log=messages.append)
    try:
        started = time.monotonic()
        assert twin.reconcile() == {"node-a": "changed"}, messages
        applied = time.monotonic() - started

        def established():
            twin.reconcile()
            states = {p["peerIP"]: p["state"] for p in twin.sessions("node-a") or []}
            return states if states == {"169.254.6.2": "Established", "169.254.6.3": "Established"} else None

        assert wait_for(established, 30), diagnostics(lab)
        up = time.monotonic() - started
        # The TGW learned only the egress block, with the tunnel's .1 as next hop (no source address: BIRD used .1).
        assert wait_for(lambda: "10.10.10.0/31 via 169.254.6.1" in tgw_routes(lab), 15), tgw_routes(lab)
        routes = tgw_routes(lab)
        # Only the egress pool leaves: its /31 block and, because the BGPFilter's "In pool -> Accept" runs before
        # calico_aggr(), also the gateway pod's /32 that BIRD learned from the kernel (as Calico v3.31 would).
        prefixes = sorted(line.split()[0] for line in routes.splitlines() if line.strip())
        assert prefixes == ["10.10.10.0", "10.10.10.0/31"], routes
        for suffix in ("2", "3"):
            session = run("birdc", "-s", str(lab["tmp"] / ("tgw%s.ctl" % suffix)), "show", "protocols", "all", "tgw").stdout
            assert "Established" in session and "Neighbor address: 169.254.6.1" in session, session
            assert "Source address:   169.254.6.%s" % suffix in session, session
        # The client namespace's flow leaves through the gateway: the service sees the egress IP.
        flow_started = time.monotonic()
        answer = host.ssh("ip netns exec client-app timeout 10 bash -c %s" % shlex.quote(PROBE), check=False, timeout=30)
        flow = time.monotonic() - flow_started
        assert answer.stdout.strip() == "client 10.10.10.0", (answer.stdout, answer.stderr)
        # The node's own connection is not masqueraded (the lab's firewall is what makes it time out).
        direct = host.ssh("timeout 10 bash -c %s" % shlex.quote(PROBE), check=False, timeout=30)
        assert direct.stdout.strip() == "client 10.0.1.10"
        # Steady state: one observation per pass, nothing else.
        calls = host.calls
        assert twin.reconcile() == {"node-a": "unchanged"} and host.calls == calls + 1
        # The stand-in's CalicoNodeStatus now comes from BIRD.
        resource = next(r for r in cluster.resources.values() if r.kind == "CalicoNodeStatus")
        status = calico_manifests.calico_node_status("node-a")
        cluster.create(resource, None, status)
        cluster.get(resource, None, status["metadata"]["name"])
        report = calico_manifests.bgp_session_report(
            [cluster.get(resource, None, status["metadata"]["name"])],
            [{"name": "node-a", "tgw_addresses": ["169.254.6.2", "169.254.6.3"]}],
        )
        assert report["established"], report
        with capsys.disabled():
            print(
                "\n[calico twin on host netns] first reconcile %.2f s; both TGW sessions Established %.1f s after start; "
                "client flow via gateway %.2f s" % (applied, up, flow)
            )
    finally:
        twin.close()
    # close() removed what the twin created on the node
    assert "egw-egress-gateway-0" not in run("ip", "netns", "list").stdout
    assert "client-app" not in run("ip", "netns", "list").stdout
    assert not os.path.exists(calico.RUN_DIR) and not os.path.exists(calico.CONFIG_DIR)
    assert host.ssh("ip -4 rule show").stdout.count("lookup 200") == 0
    assert host.ssh("ip route show proto 80").stdout.strip() == ""
    assert "bird" not in host.ssh("ip route show proto bird").stdout
