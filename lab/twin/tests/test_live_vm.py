"""The AWS-side twins on a real kernel: one lab VM, real GRE, FRR bgpd against BIRD 1.6, nftables, real TCP.

Inside the VM: netns `tgw` (the twin's), two "nodes" as namespaces (node a: eBGP AS 64512, node b: iBGP, its
PeerAsn equal to the TGW ASN) each with a GRE link to its TGW GRE address and BIRD exporting the egress pool;
netns `firewall` between a client namespace (egress pool address and node address) and a service namespace
answering on TCP 5432 with the client's address. When the VM cannot start, the fixture raises: these tests
error, none is skipped.
"""

import os
import time

import pytest

from lab.twin import topology
from lab.twin.firewall import FirewallTwin
from lab.twin.tests.test_firewall import ARN, group, policy, role_rules, rule
from lab.twin.tests.test_tgw import PEER_A, PEER_B, TGW_ASN, stand_in_peer
from lab.twin.tgw import TgwTwin, link_name
from lab.vm import image, machine

TOPOLOGY = r"""set -eu
modprobe ip_gre
ip netns add tgw
ip -n tgw link set lo up
ip netns exec tgw sysctl -qw net.ipv4.ip_forward=1
n=0
for node in a b; do
  n=$((n+1)); addr=10.0.1.1$((n-1)); tgwgre=10.99.0.$n; inside=169.254.$((5+n))
  ip netns add node$node
  ip -n node$node link set lo up
  ip link add tgw-$node netns tgw type veth peer name uplink netns node$node
  ip -n tgw addr add 100.64.$n.2/30 dev tgw-$node; ip -n tgw link set tgw-$node up
  ip -n node$node addr add 100.64.$n.1/30 dev uplink; ip -n node$node link set uplink up
  ip -n node$node addr add $addr/32 dev lo
  ip -n tgw route add $addr/32 via 100.64.$n.1
  ip -n node$node route add 10.99.0.0/24 via 100.64.$n.2 src $addr
  ip -n node$node link add gre-tgw type gre local $addr remote $tgwgre ttl 255
  ip -n node$node addr add $inside.1/29 dev gre-tgw; ip -n node$node link set gre-tgw up
done
ip -n nodea addr add 10.10.10.0/32 dev lo
install -d /run/bird
ip netns add firewall; ip netns add client; ip netns add service
for n in firewall client service; do ip -n $n link set lo up; done
ip link add fw-client netns firewall type veth peer name uplink netns client
ip link add fw-svc netns firewall type veth peer name uplink netns service
ip -n firewall addr add 100.64.9.2/30 dev fw-client; ip -n firewall link set fw-client up
ip -n firewall addr add 10.2.0.1/24 dev fw-svc; ip -n firewall link set fw-svc up
ip -n client addr add 100.64.9.1/30 dev uplink; ip -n client link set uplink up
ip -n client route add default via 100.64.9.2
ip -n client addr add 10.10.10.0/32 dev lo; ip -n client addr add 10.0.1.10/32 dev lo
ip -n service addr add 10.2.0.10/24 dev uplink; ip -n service link set uplink up
ip -n service route add default via 10.2.0.1
ip -n firewall route add 10.10.10.0/31 via 100.64.9.1; ip -n firewall route add 10.0.1.10/32 via 100.64.9.1
ip netns exec firewall sysctl -qw net.ipv4.ip_forward=1
"""
PROBE = """import socket
client = socket.socket()
client.settimeout(3)
client.bind(("%s", 0))
try:
    client.connect(("10.2.0.10", 5432))
    print(client.recv(100).decode().strip())
except OSError as error:
    print("FAILED " + type(error).__name__)
"""
BIRD = """router id @RID@;
protocol device { scan time 2; }
protocol static egress_pool { route 10.10.10.0/31 blackhole; }
filter export_pool { if ( net ~ 10.10.10.0/31 ) then { accept; } reject; }
template bgp t {
  local as @ASN@; gateway recursive; import all; export filter export_pool; add paths on; graceful restart;
  connect delay time 1; connect retry time 2; error wait time 1, 5;
}
protocol bgp s2 from t { ttl security off; multihop; neighbor @IN@.2 as 64513; next hop keep; }
protocol bgp s3 from t { ttl security off; multihop; neighbor @IN@.3 as 64513; next hop keep; }
"""
TIMINGS = {}


@pytest.fixture(scope="module")
def aws_vm():
    image.ensure_image(log=lambda message: None)
    box = machine.Machine("twin-aws-%d" % os.getpid())
    started = box.start(log=lambda message: None)
    TIMINGS["boot to SSH"] = started["boot_seconds"]
    try:
        box.ssh("sh -s", stdin=TOPOLOGY)
        box.put("/root/service.py", topology.echo_service())
        box.ssh("ip netns exec service sh -c 'nohup python3 /root/service.py >/dev/null 2>&1 &'")
        for node, router_id, asn, inside in (("a", "10.0.1.10", 64512, "169.254.6"), ("b", "10.0.1.11", TGW_ASN, "169.254.7")):
            config = BIRD.replace("@RID@", router_id).replace("@ASN@", str(asn)).replace("@IN@", inside)
            box.put("/etc/bird/%s.conf" % node, config)
            box.ssh(
                "ip netns exec node%s bird -c /etc/bird/%s.conf -s /run/bird/%s.ctl -P /run/bird/%s.pid"
                % (node, node, node, node)
            )
        yield box
    finally:
        box.stop()


def timed(name, function, *args):
    started = time.monotonic()
    result = function(*args)
    TIMINGS[name] = time.monotonic() - started
    return result


def test_tgw_twin_brings_up_gre_and_bgp_accepts_only_ebgp_routes_and_cleans_up(aws_vm):
    twin = TgwTwin(aws_vm, log=lambda message: None)
    view_a, peer_a = stand_in_peer(PEER_A, "10.0.1.10", "10.99.0.1", "169.254.6.0/29")
    view_b, peer_b = stand_in_peer(PEER_B, "10.0.1.11", "10.99.0.2", "169.254.7.0/29", peer_asn=TGW_ASN)
    assert timed("tgw reconcile (2 peers, create)", twin.reconcile, [view_a, view_b])
    twin.resync_seconds = 0  # observe the VM (not the cache of the last reconcile) and find nothing to do
    assert timed("tgw reconcile (no change, observed)", twin.reconcile, [view_a, view_b]) == []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        twin.refresh()
        if set(twin.bgp_status(peer_a).values()) == set(twin.bgp_status(peer_b).values()) == {"up"} and twin.advertised_prefixes(
            peer_a
        ):
            break
        time.sleep(1)
    TIMINGS["tgw: 4 sessions up, route accepted"] = 60 - (deadline - time.monotonic())
    assert twin.bgp_status(peer_a) == {"169.254.6.2": "up", "169.254.6.3": "up"}
    assert twin.bgp_status(peer_b) == {"169.254.7.2": "up", "169.254.7.3": "up"}, "iBGP: the sessions come up"
    assert twin.advertised_prefixes(peer_a) == ["10.10.10.0/31"]
    assert twin.advertised_prefixes(peer_b) == [], "iBGP: an empty AS_PATH is not accepted (AWS's behaviour)"
    assert timed("tgw refresh (steady)", twin.refresh) == []
    route = aws_vm.ssh("ip -n tgw route show proto 186").stdout.strip()
    assert route == "10.10.10.0/31 via 169.254.6.1 dev %s" % link_name(PEER_A)
    # the return path really goes through the tunnel: node a owns 10.10.10.0 and answers over GRE
    assert " 0% packet loss" in aws_vm.ssh("ip netns exec tgw ping -c 2 -W 2 10.10.10.0", check=False).stdout
    deleting, _peer = stand_in_peer(PEER_A, "10.0.1.10", "10.99.0.1", "169.254.6.0/29", state="deleting")
    twin.reconcile([deleting, view_b])
    links = aws_vm.ssh("ip -n tgw -br link show type gre").stdout
    assert link_name(PEER_A) not in links and link_name(PEER_B) in links
    assert twin.refresh() == [] and aws_vm.ssh("ip -n tgw route show proto 186").stdout.strip() == ""
    twin.close()
    assert aws_vm.ssh("pgrep -c bgpd", check=False).stdout.strip() == "0"
    assert link_name(PEER_B) not in aws_vm.ssh("ip -n tgw -br link").stdout
    assert "10.99.0" not in aws_vm.ssh("ip -n tgw -br addr show dev lo").stdout
    assert "tgw-a" in aws_vm.ssh("ip -n tgw -br link").stdout, "the topology's own links stay"


def probe(host, source):
    return host.ssh("ip netns exec client python3 -", stdin=PROBE % source).stdout.strip()


def test_firewall_twin_passes_the_egress_pool_drops_the_node_and_fails_closed(aws_vm):
    twin = FirewallTwin(aws_vm, log=lambda message: None)
    groups = {ARN: group(role_rules())}
    assert timed("firewall reconcile (apply)", twin.reconcile, policy(), groups) is True
    assert twin.status == {"ok": True, "error": None, "rules": 2}
    assert probe(aws_vm, "10.10.10.0") == "client 10.10.10.0", "the service sees the egress pool address"
    assert probe(aws_vm, "10.0.1.10") == "FAILED TimeoutError"
    counters = twin.counters()
    pass_key, drop_key = ("calico-egress:%s" % r["RuleOptions"][-1]["Settings"][0] for r in role_rules())
    assert counters[pass_key] >= 1 and counters[drop_key] >= 1, counters
    twin.reconcile(policy(), {ARN: group([rule("PASS", 9, protocol="TLS")])})
    assert twin.status["ok"] is False
    assert probe(aws_vm, "10.10.10.0") == "FAILED TimeoutError", "fail closed: even the egress pool is dropped"
    assert twin.counters()["fail-closed"] >= 1
    twin.close()
    assert aws_vm.ssh("ip netns exec firewall nft list ruleset").stdout.strip() == ""
    assert probe(aws_vm, "10.0.1.10") == "client 10.0.1.10", "no table, no filtering"
