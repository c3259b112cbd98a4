"""TGW twin: desired state, plans, FRR rendering, vtysh parsing and route planning (pure), driven by a fake host."""

import ipaddress
import json
import os
import subprocess
import sys
import types

from lab.aws.ec2_connect import ConnectPeer, peer_view
from lab.aws.routing import RouteProvider, TableRouteProvider
from lab.aws.state import Lifecycle
from lab.twin import tgw
from lab.twin.tgw import TgwTwin

PEER_A = "tgw-connect-peer-0123456789abcdef0"
PEER_B = "tgw-connect-peer-0fedcba9876543210"
TGW_ASN = 64513
NODE_ASN = 64512


def stand_in_peer(peer_id, node, tgw_address, inside, peer_asn=NODE_ASN, state="available"):
    """A peer exactly as the stand-in's DescribeTransitGatewayConnectPeers renders it (its own peer_view)."""
    attachment = types.SimpleNamespace(id="tgw-attach-0123456789abcdef0", transit_gateway_id="tgw-0123456789abcdef0")
    lifecycle = Lifecycle(0)
    if state in ("deleting", "deleted"):
        lifecycle.delete(3600 if state == "deleting" else 0, 3600)
    peer = ConnectPeer(
        attachment,
        peer_address=node,
        tgw_address=tgw_address,
        inside_cidrs=[ipaddress.ip_network(inside)],
        peer_asn=peer_asn,
        tgw_asn=TGW_ASN,
        lifecycle=lifecycle,
    )
    peer.id = peer_id
    view = peer_view(types.SimpleNamespace(tags={}), peer, TableRouteProvider())
    assert view["State"] == state
    return view, peer


def peers_ab(**overrides):
    a, _peer = stand_in_peer(PEER_A, "10.0.1.10", "10.99.0.1", "169.254.6.0/29", **overrides)
    b, _peer = stand_in_peer(PEER_B, "10.0.1.11", "10.99.0.2", "169.254.7.0/29")
    return [a, b]


class FakeVM:
    """Plays the aws VM's tgw netns: applies the twin's shell plans to an in-memory model, answers its scripts."""

    def __init__(self):
        self.links, self.lo, self.speakers, self.kernel, self.bgp = {}, set(), {}, [], {}
        self.commands = []

    def ssh(self, command, check=True, timeout=180, stdin=None):
        self.commands.append((command, stdin))
        if command == "python3 -" and "glob" in stdin:
            return self._done(json.dumps(self.observe_output()))
        if command == "python3 -":
            return self._done(json.dumps({"speakers": self.bgp, "kernel": self.kernel}))
        assert command == "sh -s", command
        self.apply(stdin)
        return self._done("")

    @staticmethod
    def _done(stdout):
        return subprocess.CompletedProcess("", 0, stdout, "")

    def mutations(self):
        return [stdin for command, stdin in self.commands if command == "sh -s"]

    def observe_output(self):
        interfaces = [{"ifname": "lo", "flags": ["UP"], "addr_info": [{"family": "inet", "local": "127.0.0.1", "prefixlen": 8}]}]
        interfaces[0]["addr_info"] += [
            {"family": "inet", "local": a, "prefixlen": 32, "label": "lo:twin"} for a in sorted(self.lo)
        ]
        interfaces.append({"ifname": "tgw-vpc1", "flags": ["UP"], "linkinfo": {"info_kind": "veth"}, "addr_info": []})
        for name, link in self.links.items():
            interfaces.append(
                {
                    "ifname": name,
                    "flags": ["UP"] if link["up"] else [],
                    "linkinfo": {
                        "info_kind": "gre",
                        "info_data": {"local": link["local"], "remote": link["remote"], "ttl": link["ttl"]},
                    },
                    "addr_info": [
                        {"family": "inet", "local": a.split("/")[0], "prefixlen": int(a.split("/")[1])} for a in link["addresses"]
                    ],
                }
            )
        return {"interfaces": interfaces, "speakers": {n: dict(s) for n, s in self.speakers.items()}}

    def apply(self, script):
        lines = script.splitlines()
        index = 0
        while index < len(lines):
            words = lines[index].split()
            if lines[index].startswith("cat > "):
                name = lines[index].split("/")[3]
                end = lines.index("TWIN_EOF", index)
                self.speakers[name] = {"config": "\n".join(lines[index + 1 : end]) + "\n", "running": False}
                index = end
            elif "/usr/lib/frr/bgpd" in words:
                self.speakers[words[words.index("-N") + 1]]["running"] = True
            elif lines[index].startswith("pid=$(cat"):
                self.speakers.pop(lines[index].split("/")[4], None)
            elif words[:3] == ["ip", "-n", "tgw"]:
                self._ip(words[3:])
            index += 1

    def _ip(self, words):
        if words[:2] == ["link", "add"]:
            self.links[words[2]] = {"local": words[6], "remote": words[8], "ttl": int(words[10]), "addresses": [], "up": False}
        elif words[:2] == ["link", "del"]:
            del self.links[words[2]]
        elif words[:2] == ["link", "set"] and words[2] != "lo":
            self.links[words[2]]["up"] = True
        elif words[:2] == ["addr", "add"] and words[4] == "lo":
            self.lo.add(words[2].split("/")[0])
        elif words[:2] == ["addr", "del"] and words[4] == "lo":
            self.lo.discard(words[2].split("/")[0])
        elif words[:2] == ["addr", "add"]:
            self.links[words[4]]["addresses"] = sorted(self.links[words[4]]["addresses"] + [words[2]])
        elif words[:2] == ["route", "replace"]:
            self.kernel = [r for r in self.kernel if r["dst"] != words[2]]
            hops = [{"gateway": words[i + 1], "dev": words[i + 3]} for i, w in enumerate(words) if w == "via"]
            self.kernel.append(dict(dst=words[2], **hops[0]) if len(hops) == 1 else {"dst": words[2], "nexthops": hops})
        elif words[:2] == ["route", "del"]:
            self.kernel = [r for r in self.kernel if r["dst"] != words[2]]
        elif words[:2] == ["route", "flush"]:
            self.kernel = []


def test_names_fit_linux_and_are_derived_from_the_peer_id():
    assert tgw.link_name(PEER_A) == "tc456789abcdef0" and len(tgw.link_name(PEER_A)) == 15
    assert tgw.link_name(PEER_B) == "tc" + PEER_B[-13:] != tgw.link_name(PEER_A)
    assert tgw.speaker_name(PEER_A, "169.254.6.2") == "tgwtwin-456789abcdef0-2"


def test_frr_config_is_the_aws_side_of_a_connect_peer():
    config = tgw.render_frr_config("tgwtwin-x-2", PEER_A, "169.254.6.2", TGW_ASN, "169.254.6.1", NODE_ASN)
    for line in (
        "router bgp 64513",
        " neighbor 169.254.6.1 remote-as 64512",
        " neighbor 169.254.6.1 update-source 169.254.6.2",
        " neighbor 169.254.6.1 ebgp-multihop 2",
        " neighbor 169.254.6.1 passive",
        " neighbor 169.254.6.1 timers 3 9",
        "bgp as-path access-list tgwtwin-non-empty-as-path permit .",
        " match as-path tgwtwin-non-empty-as-path",
        "  neighbor 169.254.6.1 route-map tgwtwin-in in",
    ):
        assert line in config.splitlines(), line


def test_first_reconcile_builds_links_addresses_and_two_speakers_per_peer_then_nothing():
    vm = FakeVM()
    twin = TgwTwin(vm, log=lambda _m: None)
    assert isinstance(twin, RouteProvider)
    assert twin.reconcile(peers_ab())
    link = vm.links[tgw.link_name(PEER_A)]
    assert link == {
        "local": "10.99.0.1",
        "remote": "10.0.1.10",
        "ttl": 255,
        "addresses": ["169.254.6.2/29", "169.254.6.3/29"],
        "up": True,
    }
    assert vm.lo == {"10.99.0.1", "10.99.0.2"}
    sessions = [(PEER_A, "169.254.6.2"), (PEER_A, "169.254.6.3"), (PEER_B, "169.254.7.2"), (PEER_B, "169.254.7.3")]
    assert sorted(vm.speakers) == sorted(tgw.speaker_name(p, a) for p, a in sessions)
    script = vm.mutations()[0]
    assert "ip netns exec tgw /usr/lib/frr/bgpd -d -Z -N %s" % tgw.speaker_name(PEER_A, "169.254.6.3") in script
    assert "-l 169.254.6.3 -i /var/run/frr/%s/bgpd.pid" % tgw.speaker_name(PEER_A, "169.254.6.3") in script
    assert script.index("addr add 169.254.6.3/29") < script.index("-l 169.254.6.3"), "the address exists before bgpd binds it"
    # unchanged peers within resync_seconds: not even an SSH call (the daemon calls this every 2 s)
    calls = len(vm.commands)
    assert twin.reconcile(peers_ab()) == [] and len(vm.commands) == calls
    # a changed peer set is always observed and applied at once
    assert twin.reconcile(peers_ab()[1:]) and tgw.link_name(PEER_A) not in vm.links
    assert twin.reconcile(peers_ab()) and tgw.link_name(PEER_A) in vm.links
    calls = len(vm.commands)
    # after resync_seconds it observes, and finds nothing to do
    twin.resync_seconds = 0
    assert twin.reconcile(peers_ab()) == []
    assert [c for c, _s in vm.commands[calls:]] == ["python3 -"], "observed only, nothing mutated"


def test_deleted_peers_are_removed_and_other_peers_untouched():
    vm = FakeVM()
    twin = TgwTwin(vm, log=lambda _m: None)
    twin.reconcile(peers_ab())
    deleting, _peer = stand_in_peer(PEER_A, "10.0.1.10", "10.99.0.1", "169.254.6.0/29", state="deleting")
    commands = twin.reconcile([deleting, peers_ab()[1]])
    assert list(vm.links) == [tgw.link_name(PEER_B)] and vm.lo == {"10.99.0.2"}
    assert all(PEER_B[-13:] not in command for command in commands), "peer B's speakers were not restarted"
    assert twin.reconcile([]) and vm.links == {} and vm.speakers == {} and vm.lo == set()


def test_drift_is_repaired_a_crashed_speaker_restarts_and_a_changed_asn_restarts_only_its_speakers():
    vm = FakeVM()
    twin = TgwTwin(vm, log=lambda _m: None, resync_seconds=0)
    twin.reconcile(peers_ab())
    crashed = tgw.speaker_name(PEER_B, "169.254.7.2")
    vm.speakers[crashed]["running"] = False
    vm.links[tgw.link_name(PEER_B)]["up"] = False
    commands = twin.reconcile(peers_ab())
    assert vm.speakers[crashed]["running"] and vm.links[tgw.link_name(PEER_B)]["up"]
    assert [c for c in commands if "bgpd -d" in c] == [c for c in commands if "-N %s " % crashed in c and "bgpd -d" in c]
    commands = twin.reconcile(peers_ab(peer_asn=TGW_ASN))  # peer A becomes iBGP (delete + create in AWS, same id here)
    started = sorted(c.split(" -N ")[1].split()[0] for c in commands if "bgpd -d" in c)
    assert started == sorted([tgw.speaker_name(PEER_A, "169.254.6.2"), tgw.speaker_name(PEER_A, "169.254.6.3")])
    assert " neighbor 169.254.6.1 remote-as 64513" in vm.speakers[started[0]]["config"].splitlines()


def test_a_link_with_another_remote_is_recreated_and_its_speakers_restarted():
    vm = FakeVM()
    twin = TgwTwin(vm, log=lambda _m: None, resync_seconds=0)
    twin.reconcile(peers_ab())
    vm.links[tgw.link_name(PEER_A)]["remote"] = "10.0.1.99"
    commands = twin.reconcile(peers_ab())
    assert "ip -n tgw link del %s" % tgw.link_name(PEER_A) in commands
    assert vm.links[tgw.link_name(PEER_A)]["remote"] == "10.0.1.10"
    assert sum("bgpd -d" in c for c in commands) == 2


def neighbors(address, state="Established"):
    return {address: {"remoteAs": NODE_ASN, "localAs": TGW_ASN, "bgpState": state}}


def routes(*entries):
    """entries: (prefix, peer id, as path, next hop)."""
    table = {}
    for prefix, peer, path, hop in entries:
        table.setdefault(prefix, []).append(
            {"valid": True, "peerId": peer, "path": path, "nexthops": [{"ip": hop, "afi": "ipv4", "used": True}]}
        )
    return {"vrfId": 0, "routerId": "169.254.6.2", "routes": table}


def test_parse_speaker_reads_state_and_accepted_prefixes_of_its_neighbor_only():
    status, accepted = tgw.parse_speaker(
        neighbors("169.254.6.1"),
        routes(("10.10.10.0/31", "169.254.6.1", "64512", "10.0.1.11"), ("10.3.0.0/16", "169.254.9.1", "64512", "10.0.1.12"),
               ("10.4.0.0/16", "169.254.6.1", "", "10.0.1.11")),
        "169.254.6.1",
    )  # fmt: skip
    assert status == "up"
    assert accepted == {"10.10.10.0/31": {"10.0.1.11"}}, "other neighbors' and empty-AS_PATH paths are not accepted"
    assert tgw.parse_speaker(neighbors("169.254.6.1", "Active"), None, "169.254.6.1") == ("down", {})
    assert tgw.parse_speaker(None, None, "169.254.6.1") == ("down", {})


def test_plan_routes_prefers_the_tunnel_of_the_kept_next_hop_else_ecmp():
    peers = {
        PEER_A: {"link": "tcA", "peer_address": "10.0.1.10", "peer_bgp_address": "169.254.6.1"},
        PEER_B: {"link": "tcB", "peer_address": "10.0.1.11", "peer_bgp_address": "169.254.7.1"},
    }
    kept = {PEER_A: {"10.10.10.0/31": {"10.0.1.11"}}, PEER_B: {"10.10.10.0/31": {"10.0.1.11"}}}
    assert tgw.plan_routes(peers, kept) == {"10.10.10.0/31": [("169.254.7.1", "tcB")]}
    elsewhere = {PEER_A: {"10.10.10.0/31": {"10.0.1.50"}}, PEER_B: {"10.10.10.0/31": {"10.0.1.50"}}}
    assert tgw.plan_routes(peers, elsewhere) == {"10.10.10.0/31": [("169.254.6.1", "tcA"), ("169.254.7.1", "tcB")]}
    assert tgw.plan_routes(peers, {"tgw-connect-peer-gone": {"10.9.0.0/16": set()}}) == {}


def test_refresh_caches_status_and_prefixes_and_programs_routes_idempotently():
    vm = FakeVM()
    twin = TgwTwin(vm, log=lambda _m: None)
    views = [
        stand_in_peer(PEER_A, "10.0.1.10", "10.99.0.1", "169.254.6.0/29"),
        stand_in_peer(PEER_B, "10.0.1.11", "10.99.0.2", "169.254.7.0/29"),
    ]
    twin.reconcile([view for view, _peer in views])
    (_a, peer_a), (_b, peer_b) = views
    assert twin.bgp_status(peer_a) == {"169.254.6.2": "down", "169.254.6.3": "down"} and twin.advertised_prefixes(peer_a) == []
    egress = routes(("10.10.10.0/31", "169.254.6.1", "64512", "10.0.1.10"))
    vm.bgp = {
        tgw.speaker_name(PEER_A, "169.254.6.2"): {"neighbors": neighbors("169.254.6.1"), "routes": egress},
        tgw.speaker_name(PEER_A, "169.254.6.3"): {"neighbors": neighbors("169.254.6.1", "Connect"), "routes": egress},
        # peer B is iBGP: its sessions are up, its route has an empty AS_PATH and FRR's policy refused it
        tgw.speaker_name(PEER_B, "169.254.7.2"): {"neighbors": neighbors("169.254.7.1"), "routes": routes()},
        tgw.speaker_name(PEER_B, "169.254.7.3"): {"neighbors": neighbors("169.254.7.1"), "routes": routes()},
    }
    commands = twin.refresh()
    assert commands == ["ip -n tgw route replace 10.10.10.0/31 proto 186 via 169.254.6.1 dev %s" % tgw.link_name(PEER_A)]
    assert twin.bgp_status(peer_a) == {"169.254.6.2": "up", "169.254.6.3": "down"}
    assert twin.bgp_status(peer_b) == {"169.254.7.2": "up", "169.254.7.3": "up"}
    assert twin.advertised_prefixes(peer_a) == ["10.10.10.0/31"] and twin.advertised_prefixes(peer_b) == []
    assert twin.refresh() == []
    # the node withdraws: the route goes
    for name in list(vm.bgp):
        vm.bgp[name]["routes"] = routes()
    assert twin.refresh() == ["ip -n tgw route del 10.10.10.0/31 proto 186"]
    assert vm.kernel == [] and twin.advertised_prefixes(peer_a) == []


def test_provider_methods_never_touch_the_host():
    vm = FakeVM()
    twin = TgwTwin(vm)
    _view, peer = stand_in_peer(PEER_A, "10.0.1.10", "10.99.0.1", "169.254.6.0/29")
    assert twin.bgp_status(peer) == {"169.254.6.2": "down", "169.254.6.3": "down"}
    assert twin.advertised_prefixes(peer) == []
    assert vm.commands == []


def test_ecmp_kernel_routes_parse_and_stale_ones_are_replaced():
    listing = [
        {
            "dst": "10.10.10.0/31",
            "protocol": "186",
            "nexthops": [{"gateway": "169.254.7.1", "dev": "tcB"}, {"gateway": "169.254.6.1", "dev": "tcA"}],
        },
        {"dst": "10.10.20.1", "gateway": "169.254.6.1", "dev": "tcA", "protocol": "186"},
    ]
    observed = tgw.parse_kernel_routes(listing)
    assert observed == {
        "10.10.10.0/31": [("169.254.6.1", "tcA"), ("169.254.7.1", "tcB")],
        "10.10.20.1/32": [("169.254.6.1", "tcA")],
    }
    desired = {"10.10.10.0/31": [("169.254.6.1", "tcA")]}
    assert tgw.plan_route_commands(desired, observed) == [
        "ip -n tgw route del 10.10.20.1/32 proto 186",
        "ip -n tgw route replace 10.10.10.0/31 proto 186 via 169.254.6.1 dev tcA",
    ]
    two = {"10.9.0.0/16": [("169.254.6.1", "tcA"), ("169.254.7.1", "tcB")]}
    assert tgw.plan_route_commands(two, {}) == [
        "ip -n tgw route replace 10.9.0.0/16 proto 186 nexthop via 169.254.6.1 dev tcA nexthop via 169.254.7.1 dev tcB"
    ]


def test_close_removes_everything_the_twin_created_and_nothing_else():
    vm = FakeVM()
    twin = TgwTwin(vm, log=lambda _m: None)
    twin.reconcile(peers_ab())
    vm.kernel = [{"dst": "10.10.10.0/31", "gateway": "169.254.6.1", "dev": tgw.link_name(PEER_A)}]
    twin.close()
    assert vm.links == {} and vm.speakers == {} and vm.lo == set() and vm.kernel == []
    assert "tgw-vpc1" not in vm.mutations()[-1], "the topology's veths are not the twin's"


def fake_tools(tmp_path, tools):
    """Executables on a PATH of their own: {name: shell body}."""
    directory = tmp_path / "bin"
    directory.mkdir()
    for name, body in tools.items():
        (directory / name).write_text("#!/bin/sh\n" + body)
        (directory / name).chmod(0o755)
    return dict(os.environ, PATH="%s:%s" % (directory, os.environ["PATH"]))


def run_remote(script, environment):
    result = subprocess.run([sys.executable, "-"], input=script, env=environment, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def test_the_refresh_script_splits_vtysh_output_and_reads_kernel_routes(tmp_path):
    session = neighbors("169.254.6.1")
    table = routes(("10.10.10.0/31", "169.254.6.1", "64512", "10.0.1.10"))
    # vtysh prints one JSON document per -c, back to back (FRR 8.4); a speaker that is gone prints an error
    (tmp_path / "answer").write_text(json.dumps(session, indent=2) + "\n" + json.dumps(table, indent=2) + "\n")
    environment = fake_tools(
        tmp_path,
        {
            "vtysh": 'case "$2" in *-2) cat %s;; *) echo "Exiting: failed to connect to any daemons.";; esac\n'
            % (tmp_path / "answer"),
            "ip": 'echo \'[{"dst":"10.10.10.0/31","gateway":"169.254.6.1","dev":"tcA","protocol":"186"}]\'\n',
        },
    )
    script = tgw.REFRESH_SCRIPT % {"namespace": "tgw", "speakers": ["tgwtwin-x-2", "tgwtwin-x-3"], "proto": 186}
    found = run_remote(script, environment)
    assert found["speakers"]["tgwtwin-x-2"] == {"neighbors": session, "routes": table}
    assert found["speakers"]["tgwtwin-x-3"] == {}, "a speaker that does not answer reads as nothing (sessions down)"
    assert tgw.parse_kernel_routes(found["kernel"]) == {"10.10.10.0/31": [("169.254.6.1", "tcA")]}


def test_the_observe_script_reports_interfaces_and_which_speakers_run(tmp_path):
    conf, run = tmp_path / "etc", tmp_path / "run"
    for name, pid in (("tgwtwin-a-2", os.getpid()), ("tgwtwin-a-3", 2**22 + 1)):  # above any pid_max: never running
        (conf / name).mkdir(parents=True)
        (conf / name / "bgpd.conf").write_text("router bgp 64513\n")
        (run / name).mkdir(parents=True)
        (run / name / "bgpd.pid").write_text("%d\n" % pid)
    (conf / "other").mkdir()
    (conf / "other" / "bgpd.conf").write_text("not ours\n")
    environment = fake_tools(tmp_path, {"ip": 'echo \'[{"ifname": "lo", "addr_info": []}]\'\n'})
    script = tgw.OBSERVE_SCRIPT % {"namespace": "tgw", "conf": str(conf), "run": str(run), "prefix": tgw.SPEAKER_PREFIX}
    found = run_remote(script, environment)
    assert found["interfaces"] == [{"ifname": "lo", "addr_info": []}]
    assert found["speakers"] == {
        "tgwtwin-a-2": {"config": "router bgp 64513\n", "running": True},
        "tgwtwin-a-3": {"config": "router bgp 64513\n", "running": False},
    }
