"""`make lab` end to end: the README's command, then one broken link at a time (issue 9's acceptance).

Real: three Linux kernels (QEMU TCG), GRE, netplan/systemd-networkd on the nodes (role gre_tunnel), BIRD 1.6 on
the nodes, FRR as the TGW's speakers, nftables as the firewall, TCP through all of it. Stand-ins: the AWS and
Kubernetes APIs (lab/aws, lab/kube) and the twins that play the TGW, Network Firewall and calico-node from their
state (lab/twin). The tests run in file order as one scenario on one lab; the module fixture stops it.
"""

import json
import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest

from lab.aws.client import StandinClient
from lab.twin import topology
from lab.vm import machine
from tests.integration.playbooks.support import ROOT, parse_recap, run_playbook, table
from tests.lab_e2e.harness import TIMINGS
from tests.support.waiting import wait_for

LAB = os.path.join(ROOT, "inventories", "lab")
SITE = os.path.join(ROOT, "playbooks", "site.yml")
VERIFY = os.path.join(ROOT, "playbooks", "verify.yml")
CHECKS = {"connect_peer_bgp", "firewall_route", "gre_link", "calico_bgp", "allowed_flow", "denied_flow"}
EGRESS_POOL = "10.10.10.0/31"


def lab_command(*args, timeout=1200):
    return subprocess.run(
        [sys.executable, "-m", "lab.twin", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


def make_lab():
    """The README's command; returns (rc, {host: recap}, output)."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    env.pop("MAKEFLAGS", None)
    env.pop("MAKELEVEL", None)
    started = time.monotonic()
    proc = subprocess.run(["make", "lab"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False)
    TIMINGS["make lab #%d" % (len(TIMINGS) + 1)] = time.monotonic() - started
    output = proc.stdout + proc.stderr
    recap = parse_recap(proc.stdout)
    return proc.returncode, recap, output


@pytest.fixture(scope="module")
def lab():
    """The lab's lifetime: the first test's `make lab` starts it, the end of the module stops it."""
    running = lab_command("status")
    assert running.returncode != 0, "a lab is already running (make lab-down first): the test would take it over"
    yield
    result = lab_command("down")
    assert result.returncode == 0, result.stderr


def world():
    result = lab_command("status")
    assert result.returncode == 0, "the lab is not running: " + result.stdout + result.stderr
    return json.loads(result.stdout)["world"]


def standin():
    aws = world()["aws"]
    return StandinClient(aws["endpoint_url"], region=aws["region"])


def lab_peers():
    peers = standin().client("ec2").describe_transit_gateway_connect_peers()["TransitGatewayConnectPeers"]
    return [p for p in peers if p["State"] == "available"]


def sessions():
    return sorted(b["BgpStatus"] for p in lab_peers() for b in p["ConnectPeerConfiguration"]["BgpConfigurations"])


def ssh(role, command):
    """A command in one lab VM (roles: aws, node-a, node-b), over the lab's own SSH access."""
    return machine.Machine(topology.VM_PREFIX + role).ssh(command, check=False, timeout=120)


def verify(tmp_path, extra=None):
    rc, _recap, output = run_playbook(tmp_path, VERIFY, extra or {}, inventory=LAB)
    return rc, table(output), output


def test_make_lab_sets_everything_up_and_ends_with_a_passing_verify_table(lab):
    rc, recap, output = make_lab()
    assert rc == 0, output[-8000:]
    assert recap["localhost"]["changed"] > 0 and recap["node-a"]["changed"] > 0
    rows = table(output)
    assert {check for check, _target in rows} == CHECKS, output[-4000:]
    assert all(result == "PASS" for result, _detail in rows.values()), output[-4000:]
    # Two peers (one per node), both sessions up: FRR's live state, through the AWS stand-in's API.
    assert sessions() == ["up"] * 4
    # The pool reached the firewall route table by propagation from the Connect attachment.
    assert rows[("firewall_route", EGRESS_POOL)][1].startswith("propagated: %s via tgw-attach-" % EGRESS_POOL)
    # The service saw the egress gateway's IP, not the client pod's nor the node's.
    assert rows[("allowed_flow", "node-a -> 10.2.0.10:5432")][1].startswith("service saw 10.10.10.0 ")
    # The node's connection died at the firewall: the stateful drop rule's counter counted its SYNs.
    assert firewall_drops() > 0
    assert "%d checks, %d passed, 0 failed" % (len(rows), len(rows)) in output


def test_second_make_lab_reuses_everything_and_changes_nothing(lab):
    before = world()["hosts"]
    rc, recap, output = make_lab()
    assert rc == 0, output[-8000:]
    assert world()["hosts"] == before, "the running lab was reused (same VMs)"
    changed = {host: counts["changed"] for host, counts in recap.items()}
    assert changed == {"localhost": 0, "node-a": 0, "node-b": 0}, output[-6000:]
    assert all(result == "PASS" for result, _detail in table(output).values())


def test_check_mode_shows_no_change_and_writes_nothing(lab, tmp_path):
    client = standin()
    client.reset_calls()
    rc, recap, output = run_playbook(tmp_path, SITE, {}, "--check", "--diff", inventory=LAB)
    assert rc == 0, output[-6000:]
    assert {host: counts["changed"] for host, counts in recap.items()} == {"localhost": 0, "node-a": 0, "node-b": 0}
    assert client.calls(mutating=True) == []


def firewall_drops():
    """Packets counted by the firewall namespace's drop rules (nftables named counters)."""
    listing = ssh("aws", "ip netns exec firewall nft -j list ruleset")
    assert listing.returncode == 0, listing.stderr
    items = json.loads(listing.stdout)["nftables"]
    packets = {item["counter"]["name"]: item["counter"]["packets"] for item in items if "counter" in item}
    rules = [item["rule"]["expr"] for item in items if "rule" in item]
    return sum(packets[e["counter"]] for expr in rules if {"drop": None} in expr for e in expr if "counter" in e)


def firewall_ruleset():
    """The firewall namespace's rules without their counters (which change with every packet)."""
    listing = ssh("aws", "ip netns exec firewall nft -j list ruleset")
    return [item["rule"]["expr"] for item in json.loads(listing.stdout or '{"nftables": []}')["nftables"] if "rule" in item]


def test_firewall_rule_removed_times_out_the_pod_flow(lab, tmp_path):
    before = firewall_ruleset()
    rc, _recap, output = run_playbook(tmp_path, SITE, {"network_firewall_egress_rules": []}, "--tags", "firewall", inventory=LAB)
    assert rc == 0, output[-6000:]
    assert wait_for(lambda: firewall_ruleset() != before, 30), "the firewall twin did not pick up the new rule group"
    rc, rows, output = verify(tmp_path)
    assert rc != 0
    failed = {key: value for key, value in rows.items() if value[0] == "FAIL"}
    assert list(failed) == [("allowed_flow", "node-a -> 10.2.0.10:5432")], output[-4000:]
    # Back to the design: the role puts the rule back, the flow works again.
    rc, _recap, output = run_playbook(tmp_path, SITE, {}, "--tags", "firewall", inventory=LAB)
    assert rc == 0, output[-6000:]
    assert wait_for(lambda: firewall_ruleset() == before, 30)


def patch_bgp_peers(spec):
    """What someone editing the BGPPeers by hand does (kubectl patch --type merge)."""
    info = world()
    with open(info["kubeconfig"]) as handle:
        server = re.search(r"server: (\S+)", handle.read()).group(1)
    base = server + "/apis/projectcalico.org/v3/bgppeers"
    with urllib.request.urlopen(base, timeout=30) as response:  # noqa: S310 - the lab's loopback stand-in
        names = [item["metadata"]["name"] for item in json.loads(response.read())["items"]]
    for name in names:
        request = urllib.request.Request(
            base + "/" + name,
            data=json.dumps({"spec": spec}).encode(),
            method="PATCH",
            headers={"Content-Type": "application/merge-patch+json"},
        )
        urllib.request.urlopen(request, timeout=30).close()  # noqa: S310
    return names


def test_source_address_use_node_ip_never_brings_the_sessions_up(lab, tmp_path):
    assert patch_bgp_peers({"sourceAddress": "UseNodeIP"})
    assert wait_for(lambda: "up" not in sessions(), 60), sessions()
    time.sleep(10)  # longer than BIRD's connect retry and FRR's hold time: the sessions stay down
    assert "up" not in sessions()
    rc, rows, output = verify(tmp_path)
    assert rc != 0
    failed = sorted({check for (check, _target), (result, _detail) in rows.items() if result == "FAIL"})
    assert {"connect_peer_bgp", "calico_bgp", "firewall_route", "allowed_flow"} <= set(failed), output[-4000:]
    assert "down: " in rows[("connect_peer_bgp", "node-a")][1]
    # The calico role puts sourceAddress None back; the sessions come up again.
    rc, _recap, output = run_playbook(tmp_path, SITE, {}, "--tags", "cluster", inventory=LAB)
    assert rc == 0, output[-6000:]
    assert wait_for(lambda: sessions() == ["up"] * 4, 90), sessions()


def test_peer_asn_equal_to_the_tgw_asn_brings_sessions_up_but_installs_no_route(lab, tmp_path):
    ibgp = {
        "tgw_connect_peer_asn": 64513,
        "tgw_connect_allow_ibgp": True,
        "tgw_connect_replace": True,
        "calico_bgp_as_number": 64513,
        "calico_bgp_allow_ibgp": True,
        "calico_status_enabled": False,
    }
    rc, _recap, output = run_playbook(tmp_path, SITE, ibgp, "--tags", "aws,nodes,cluster", inventory=LAB)
    assert rc == 0, output[-6000:]
    assert wait_for(lambda: sessions() == ["up"] * 4, 120), sessions()
    # Verified with the inventory that made the mistake (its Connect peer facts are read with the same values).
    rc, rows, output = verify(tmp_path, ibgp)
    assert rc != 0
    assert rows[("connect_peer_bgp", "node-a")][0] == "FAIL"
    assert "iBGP: peer ASN 64513 equals the TGW ASN" in rows[("connect_peer_bgp", "node-a")][1]
    assert rows[("firewall_route", EGRESS_POOL)][0] == "FAIL"
    assert rows[("allowed_flow", "node-a -> 10.2.0.10:5432")][0] == "FAIL"
    calico = [result for (check, _target), (result, _detail) in rows.items() if check == "calico_bgp"]
    assert calico and set(calico) == {"PASS"}, "BIRD itself is happy: only the TGW drops the routes"


def test_teardown_removes_what_the_collection_built_and_the_twins_follow(lab, tmp_path):
    rc, _recap, output = run_playbook(tmp_path, os.path.join(ROOT, "playbooks", "teardown.yml"), {}, inventory=LAB)
    assert rc == 0, output[-6000:]
    assert lab_peers() == []
    for node in ("node-a", "node-b"):
        assert ssh(node, "ip link show dev gre-tgw").returncode != 0, "the gre_tunnel role removed the tunnel"
    # The TGW twin followed the stand-in: no tunnel and no BGP speaker left in the TGW namespace.
    assert wait_for(lambda: ssh("aws", "ip -n tgw -o link show type gre").stdout.count("@NONE") <= 1, 30)
    assert wait_for(lambda: ssh("aws", "pgrep -c bgpd").stdout.strip() == "0", 30)
    rc, recap, output = run_playbook(tmp_path, os.path.join(ROOT, "playbooks", "teardown.yml"), {}, inventory=LAB)
    assert rc == 0 and recap["localhost"]["changed"] == 0, output[-6000:]
