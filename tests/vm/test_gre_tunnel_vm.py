"""Role gre_tunnel on a real kernel, systemd, netplan and NetworkManager, plus BGP interop (BIRD 1.6 <-> FRR).

One VM for the module; three inventory aliases point at it, one per provider, so each playbook run
exercises netplan, systemd-networkd and NetworkManager side by side (in parallel). The tests run in file
order as one scenario: bad input -> check mode -> apply -> BGP -> reboot -> second run (changed=0) -> absent.
"""

import os
import time

import pytest

from tests.support.waiting import wait_for
from tests.vm.harness import FILES, TIMINGS

NODE_IP = "10.0.2.15"  # the VM's primary IPv4 (QEMU user networking)
NODE_ASN = 64512
TGW_ASN = 64513
EGRESS_PREFIX = "10.10.10.0/31"
GATEWAY_NODE = "10.0.2.20"  # the node hosting the egress gateway pod: the next hop BIRD must keep
TUNNELS = {
    # alias: (provider, tunnel name, TGW GRE address, inside /29 prefix, role/host variables)
    "np": (
        "netplan",
        "gre-np",
        "10.250.0.1",
        "169.254.6",
        # Defaults from the tgw_connect fact; no node_gre_address: the primary IPv4 is the local address.
        {"calico_egress_connect_peer": {"node_inside_address": "169.254.6.1/29", "tgw_gre_address": "10.250.0.1"}},
    ),
    "nd": (
        "networkd",
        "gre-nd",
        "10.250.0.2",
        "169.254.7",
        {
            "calico_egress_connect_peer": {
                "node_inside_address": "169.254.7.1/29",
                "tgw_gre_address": "10.250.0.2",
                "node_gre_address": NODE_IP,
                "inside_cidr": "169.254.7.0/29",
                "tgw_inside_addresses": ["169.254.7.2", "169.254.7.3"],
            }
        },
    ),
    "nm": (
        "nm",
        "gre-nm",
        "10.250.0.3",
        "169.254.8",
        {
            "gre_tunnel_local_address": NODE_IP,
            "gre_tunnel_remote_address": "10.250.0.3",
            "gre_tunnel_inside_address": "169.254.8.1/29",
        },
    ),
}
OWNED_FILES = (
    "/etc/netplan/*calico-egress* /etc/systemd/network/*calico-egress* /etc/sysctl.d/*calico-egress* /run/systemd/network/*gre-*"
)


@pytest.fixture(scope="module")
def inventory(vm, tmp_path_factory):
    hosts = {}
    for alias, (provider, name, _remote, _inside, variables) in TUNNELS.items():
        hosts[alias] = dict(variables, gre_tunnel_provider=provider, gre_tunnel_name=name)
    return vm.write_inventory(str(tmp_path_factory.mktemp("inventory") / "nodes.yml"), hosts)


def link(vm, name):
    return vm.json("ip -d -j addr show dev %s 2>/dev/null || echo '[]'" % name)


def assert_tunnel_up(vm, alias):
    provider, name, remote, inside, _variables = TUNNELS[alias]
    links = link(vm, name)
    assert links, "%s (%s): no link %s" % (alias, provider, name)
    data = links[0]["linkinfo"]["info_data"]
    assert links[0]["linkinfo"]["info_kind"] == "gre"
    assert (data["local"], data["remote"], data["ttl"], links[0]["mtu"]) == (NODE_IP, remote, 255, 8476)
    assert [(a["local"], a["prefixlen"]) for a in links[0]["addr_info"] if a["family"] == "inet"] == [(inside + ".1", 29)]
    assert "UP" in links[0]["flags"]
    # Loose, although the lab image makes every other interface strict (sysctl.d/80-lab-strict-rp-filter.conf).
    assert vm.ssh("cat /proc/sys/net/ipv4/conf/%s/rp_filter" % name).stdout.strip() == "2"


def owned_files(vm):
    return vm.ssh("ls -1 %s 2>/dev/null || true" % OWNED_FILES).stdout.split()


def test_bad_input_fails_before_anything_is_written(vm, run_playbook, tmp_path):
    good = {"gre_tunnel_provider": "networkd", "gre_tunnel_local_address": NODE_IP, "gre_tunnel_remote_address": "10.250.0.9"}
    inside = "169.254.9.1/29"
    cases = {
        "mtu9000": ({"gre_tunnel_name": "gre-bad1", "gre_tunnel_inside_address": inside, "gre_tunnel_mtu": 9000},
                    "gre_tunnel_mtu: 9000 is out of range 68-8476"),
        "outside": ({"gre_tunnel_name": "gre-bad2", "gre_tunnel_inside_address": "10.9.9.1/29"},
                    "gre_tunnel_inside_address: 10.9.9.1/29 is outside 169.254.0.0/16"),
        "longname": ({"gre_tunnel_name": "gre-tgw-far-too-long", "gre_tunnel_inside_address": inside},
                     "gre_tunnel_name: 'gre-tgw-far-too-long' is 20 characters long"),
        "noremote": ({"gre_tunnel_name": "gre-bad4", "gre_tunnel_inside_address": inside, "gre_tunnel_remote_address": ""},
                     "gre_tunnel_remote_address: is required"),
    }  # fmt: skip
    inventory = vm.write_inventory(
        str(tmp_path / "bad.yml"), {alias: dict(good, **variables) for alias, (variables, _m) in cases.items()}
    )
    run = run_playbook(inventory)
    for alias, (_variables, message) in cases.items():
        assert run.failed(alias) == 1, alias
        assert message in run.failure_message(alias), (alias, run.failure_message(alias))
        assert run.changed(alias) == 0
    assert owned_files(vm) == []
    assert "ip_gre" not in vm.ssh("cat /proc/modules").stdout


def test_check_mode_on_a_fresh_node_changes_nothing(vm, inventory, run_playbook):
    run = run_playbook(inventory, check=True)
    for alias in TUNNELS:
        assert run.failed(alias) == 0, run.failure_message(alias)
        assert run.changed(alias) > 0, "check mode must report what it would change"
        assert run.fact(alias, "gre_tunnel_status")["live"] == {"exists": False}
    assert owned_files(vm) == []
    for _provider, name, _remote, _inside, _variables in TUNNELS.values():
        assert link(vm, name) == []
    assert vm.ssh("nmcli -t -f NAME connection show").stdout.split() == []
    assert "ip_gre" not in vm.ssh("cat /proc/modules").stdout
    assert vm.ssh("ls /etc/modules-load.d/").stdout.split() == ["modules.conf"]


def test_apply_creates_each_providers_tunnel(vm, inventory, run_playbook):
    run = run_playbook(inventory)
    for alias, (provider, _name, remote, inside, _variables) in TUNNELS.items():
        assert run.failed(alias) == 0, run.failure_message(alias)
        assert run.changed(alias) > 0
        assert_tunnel_up(vm, alias)
        status = run.fact(alias, "gre_tunnel_status")
        assert status["provider"] == provider and status["in_sync"] is True
        assert status["tgw_inside_addresses"] == [inside + ".2", inside + ".3"]
        assert (status["live"]["remote_address"], status["live_rp_filter"]) == (remote, "2")
    assert "ip_gre" in vm.ssh("cat /proc/modules").stdout
    assert vm.ssh("cat /etc/modules-load.d/ip_gre.conf").stdout.strip() == "ip_gre"
    # Each provider's own format, and nothing else.
    netplan = vm.ssh(
        "stat -c %a /etc/netplan/60-calico-egress-gre-np.yaml && cat /etc/netplan/60-calico-egress-gre-np.yaml"
    ).stdout
    assert netplan.startswith("600\n") and "mode: gre" in netplan and "remote: 10.250.0.1" in netplan
    netdev = vm.ssh("cat /etc/systemd/network/60-calico-egress-gre-nd.netdev").stdout
    assert "Kind=gre" in netdev and "Remote=10.250.0.2" in netdev and "TTL=255" in netdev
    nm = vm.ssh(
        "nmcli -g ip-tunnel.mode,ip-tunnel.remote,ip-tunnel.ttl,ip-tunnel.mtu,ipv4.addresses connection show gre-nm"
    ).stdout
    assert nm.split() == ["gre", "10.250.0.3", "255", "8476", "169.254.8.1/29"]
    # The management NIC kept its address (nothing re-applied it).
    assert NODE_IP in vm.ssh("ip -4 -br addr show dev eth0").stdout


def render(template, **values):
    with open(os.path.join(FILES, template)) as handle:
        text = handle.read()
    for key, value in values.items():
        text = text.replace("@%s@" % key, str(value))
    assert "@" not in text.replace("@@", ""), "unfilled placeholder in %s" % template
    return text


def bird_config(inside, mode_2):
    return render(
        "bird.conf.tmpl",
        ROUTER_ID=NODE_IP,
        GATEWAY_NODE=GATEWAY_NODE,
        EGRESS_PREFIX=EGRESS_PREFIX,
        NODE_ASN=NODE_ASN,
        TGW_ASN=TGW_ASN,
        P2=(inside + ".2").replace(".", "_"),
        P3=(inside + ".3").replace(".", "_"),
        TGW2=inside + ".2",
        TGW3=inside + ".3",
        MODE_2=mode_2,
    )


def bird_states(vm):
    lines = vm.ssh("birdc -s /run/bird/lab.ctl show protocols").stdout.splitlines()
    return {
        line.split()[0]: line.split()[5] if len(line.split()) > 5 else line.split()[3]
        for line in lines
        if line.startswith("Global_")
    }


@pytest.fixture(scope="module")
def tgw(vm):
    """The TGW of the netplan tunnel (gre-np): GRE termination + two FRR speakers, and BIRD on the node."""
    _provider, name, remote, inside, _variables = TUNNELS["np"]
    with open(os.path.join(FILES, "tgw-up.sh")) as handle:
        vm.put("/root/lab/tgw-up.sh", handle.read(), "0755")
    vm.ssh("/root/lab/tgw-up.sh %s %s %s" % (NODE_IP, remote, inside))
    for suffix, speaker in (("a", inside + ".2"), ("b", inside + ".3")):
        config = render("frr.conf.tmpl", SPEAKER=speaker, NAME=suffix, TGW_ASN=TGW_ASN, NODE=inside + ".1", NODE_ASN=NODE_ASN)
        vm.put("/etc/frr/tgw-%s/bgpd.conf" % suffix, config)
        # bgpd without zebra (-Z): two speakers in one namespace, each bound to its own address.
        vm.ssh(
            "chown -R frr:frr /etc/frr && install -d -o frr -g frr /var/run/frr/tgw-{s} && "
            "ip netns exec tgw-bgp /usr/lib/frr/bgpd -d -Z -N tgw-{s} -f /etc/frr/tgw-{s}/bgpd.conf -l {a} "
            "-i /var/run/frr/tgw-{s}/bgpd.pid".format(s=suffix, a=speaker)
        )
    vm.put("/etc/bird/lab.conf", bird_config(inside, "multihop"))
    vm.ssh("install -d /run/bird && bird -c /etc/bird/lab.conf -s /run/bird/lab.ctl -P /run/bird/lab.pid")
    yield inside
    vm.ssh(
        "kill $(cat /run/bird/lab.pid /var/run/frr/tgw-a/bgpd.pid /var/run/frr/tgw-b/bgpd.pid) 2>/dev/null; "
        "ip netns del tgw-bgp; ip netns del tgw; ip link del underlay 2>/dev/null; true",
        check=False,
    )


def frr(vm, speaker, command):
    return vm.json("vtysh -N tgw-%s -d bgpd -c '%s json' 2>/dev/null" % (speaker, command))


def test_bgp_sessions_over_the_tunnel_with_calico_rendering(vm, tgw):
    inside = tgw
    started = time.monotonic()
    established = wait_for(lambda: set(bird_states(vm).values()) == {"Established"} and len(bird_states(vm)) == 2, 60)
    TIMINGS["BGP: both sessions Established"] = time.monotonic() - started
    assert established, bird_states(vm)
    for speaker, address in (("a", inside + ".2"), ("b", inside + ".3")):
        neighbor = frr(vm, speaker, "show bgp neighbors %s.1" % inside)[inside + ".1"]
        assert neighbor["bgpState"] == "Established"
        assert neighbor["remoteAs"] == NODE_ASN and neighbor["localAs"] == TGW_ASN
        # The node sourced the session from the tunnel's .1 (no "source address" in the BIRD config).
        assert neighbor["hostLocal"] == address and neighbor["hostForeign"] == inside + ".1"
        route = wait_for(lambda s=speaker: frr(vm, s, "show bgp ipv4 unicast %s" % EGRESS_PREFIX).get("paths"), 20)
        assert route, "the TGW speaker %s did not receive %s" % (address, EGRESS_PREFIX)
        assert [hop["ip"] for hop in route[0]["nexthops"]] == [GATEWAY_NODE], "next hop keep: the gateway node, not .1"
        assert route[0]["aspath"]["string"] == str(NODE_ASN)
    # Only the egress pool is exported.
    assert list(frr(vm, "a", "show bgp ipv4 unicast")["routes"]) == [EGRESS_PREFIX]


def test_direct_session_with_ttl_1_does_not_come_up(vm, tgw):
    inside = tgw
    session = "Global_" + (inside + ".2").replace(".", "_")
    drops_before = vm.json("ip netns exec tgw nstat -az -j IcmpOutTimeExcds")["kernel"]["IcmpOutTimeExcds"]
    vm.put("/etc/bird/lab.conf", bird_config(inside, "direct"))
    vm.ssh("birdc -s /run/bird/lab.ctl configure && birdc -s /run/bird/lab.ctl restart %s" % session)
    seen = set()
    deadline = time.monotonic() + 20  # hold time 9 s on the TGW side, connect retry 2 s on the node
    while time.monotonic() < deadline:
        seen.add(bird_states(vm)[session])
        time.sleep(1)
    assert "Established" not in seen, seen
    assert bird_states(vm)["Global_" + (inside + ".3").replace(".", "_")] == "Established", "the multihop session is unaffected"
    drops = vm.json("ip netns exec tgw nstat -az -j IcmpOutTimeExcds")["kernel"]["IcmpOutTimeExcds"]
    assert drops > drops_before, "the TGW router dropped the node's TTL 1 packets (ICMP time exceeded)"
    # Back to multihop: the same session comes up, so TTL was the only difference.
    vm.put("/etc/bird/lab.conf", bird_config(inside, "multihop"))
    vm.ssh("birdc -s /run/bird/lab.ctl configure && birdc -s /run/bird/lab.ctl restart %s" % session)
    assert wait_for(lambda: bird_states(vm)[session] == "Established", 60), bird_states(vm)


def test_tunnels_and_ip_gre_come_back_after_a_reboot(vm):
    # The lab TGW (namespaces, daemons) is not persistent: after the reboot only what the role configured is back.
    TIMINGS["reboot to SSH"] = vm.reboot()
    assert "ip_gre" in vm.ssh("cat /proc/modules").stdout

    def all_up():
        try:
            for alias in TUNNELS:
                assert_tunnel_up(vm, alias)
        except (AssertionError, KeyError, IndexError):
            return False
        return True

    if not wait_for(all_up, 60, interval=2):
        for alias in TUNNELS:
            assert_tunnel_up(vm, alias)  # fails with the detail


def test_second_run_after_the_reboot_changes_nothing(inventory, run_playbook):
    run = run_playbook(inventory)
    for alias in TUNNELS:
        assert run.failed(alias) == 0, run.failure_message(alias)
        assert run.changed(alias) == 0, [name for name, result in run.results(alias) if result.get("changed")]


def test_state_absent_removes_link_and_files(vm, inventory, run_playbook):
    run = run_playbook(inventory, extra_vars={"gre_tunnel_state": "absent"})
    for alias, (_provider, name, _remote, _inside, _variables) in TUNNELS.items():
        assert run.failed(alias) == 0, run.failure_message(alias)
        assert run.changed(alias) > 0
        assert link(vm, name) == []
        assert run.fact(alias, "gre_tunnel_status")["live"] == {"exists": False}
    assert owned_files(vm) == []
    assert "gre-nm" not in vm.ssh("nmcli -t -f NAME connection show").stdout
    # Only the ip_gre module's own fallback device is left.
    assert [item["ifname"] for item in vm.json("ip -j link show type gre")] == ["gre0"]
