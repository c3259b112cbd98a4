"""TGW twin: the AWS stand-in's Connect peers -> GRE links and FRR BGP speakers in netns `tgw` of the aws VM.

Per wanted Connect peer (state pending or available):
- the TGW GRE address as /32 on `lo` (label `lo:twin`, so the twin only ever touches its own addresses);
- a GRE link `tc<last 13 hex digits of the peer id>` (15 characters), local = TGW GRE address,
  remote = PeerAddress, ttl 255, with the TGW's two inside addresses (.2/29 and .3/29), up;
- two FRR `bgpd -Z` instances, one per TGW inside address, each in its own pathspace
  `tgwtwin-<13 hex>-<last octet>` (config /etc/frr/<pathspace>/bgpd.conf): per peer rather than shared,
  so adding or removing one peer never restarts another peer's sessions. Each speaks the TGW ASN, neighbor
  .1 remote-as PeerAsn, update-source its own address, ebgp-multihop 2 (AWS: eBGP multihop TTL 2), timers
  3/9 s and connect retry 2 s (the lab, not AWS's 30/90 s), and an inbound route-map that accepts only
  routes with a non-empty AS_PATH: with PeerAsn == TGW ASN (iBGP) the session is up and nothing is accepted,
  which is what AWS does.

reconcile() observes the netns with one SSH call and applies a plan with one more; an unchanged peer set is
trusted for `resync_seconds` (30 s) without any SSH call, so calling it every 2 s costs nothing, and drift (a
crashed bgpd, a deleted link) is repaired within that time. Measured on the lab VM under TCG: create 2 peers
10.2 s, observe-only 2.6 s (mostly SSH set-up), refresh 3.4-4.3 s, BGP up and route accepted 4-9 s later.

refresh() reads FRR's live state (one vtysh per speaker, all in parallel, one SSH call in all) into a cache
that the RouteProvider methods answer from, and programs the accepted prefixes into the `tgw` kernel table
(`proto 186`) through the tunnels: via the peer's .1 on its GRE link. When a path's kept BGP next hop is the
outer address of some Connect peer advertising the prefix (the egress gateway's node has its own tunnel),
only that peer's tunnel is used; otherwise ECMP over every peer that advertises the prefix. The kept next hop
itself is never used as a gateway: in the `tgw` netns it resolves through the VPC attachment, which would
bypass the tunnels the design relies on. A path counts as accepted when it is in the speaker's table (it passed
the inbound policy) whatever FRR says about next-hop reachability: a zebra-less bgpd has no RIB to resolve it.
"""

import ipaddress
import json
import threading
import time

from lab.aws.routing import RouteProvider

LINK_PREFIX = "tc"
SPEAKER_PREFIX = "tgwtwin-"
LO_LABEL = "lo:twin"
ROUTE_PROTOCOL = 186
WANTED_STATES = ("pending", "available")
CONF_DIR = "/etc/frr"
RUN_DIR = "/var/run/frr"
BGPD = "/usr/lib/frr/bgpd"
AS_PATH_LIST = "tgwtwin-non-empty-as-path"
ROUTE_MAP = "tgwtwin-in"


def _tail(peer_id):
    return str(peer_id).rsplit("-", 1)[-1][-13:]


def link_name(peer_id):
    return LINK_PREFIX + _tail(peer_id)


def speaker_name(peer_id, address):
    return "%s%s-%s" % (SPEAKER_PREFIX, _tail(peer_id), address.rsplit(".", 1)[-1])


def render_frr_config(name, peer_id, address, tgw_asn, peer_bgp_address, peer_asn):
    """bgpd.conf of one TGW speaker."""
    neighbor = peer_bgp_address
    return "\n".join(
        [
            "! calico_egress lab TGW twin: speaker %s of Connect peer %s" % (address, peer_id),
            "frr defaults traditional",
            "hostname %s" % name,
            "!",
            "! AWS installs no route without an AS number: accept only a non-empty AS_PATH",
            "bgp as-path access-list %s permit ." % AS_PATH_LIST,
            "!",
            "route-map %s permit 10" % ROUTE_MAP,
            " match as-path %s" % AS_PATH_LIST,
            "!",
            "router bgp %d" % int(tgw_asn),
            " bgp router-id %s" % address,
            " no bgp ebgp-requires-policy",
            " no bgp network import-check",
            " neighbor %s remote-as %d" % (neighbor, int(peer_asn)),
            " neighbor %s update-source %s" % (neighbor, address),
            " neighbor %s ebgp-multihop 2" % neighbor,
            "! The node opens the session (see README): a node that sources it from its VPC address is refused.",
            " neighbor %s passive" % neighbor,
            " neighbor %s timers 3 9" % neighbor,
            " neighbor %s timers connect 2" % neighbor,
            " neighbor %s advertisement-interval 0" % neighbor,
            " address-family ipv4 unicast",
            "  neighbor %s route-map %s in" % (neighbor, ROUTE_MAP),
            " exit-address-family",
            "!",
            "",
        ]
    )


# -- desired state ------------------------------------------------------------------------------------------------
def desired_state(peers, log=print):
    """Connect peers (DescribeTransitGatewayConnectPeers items) -> links, lo addresses, speakers and a peer index."""
    state = {"links": {}, "lo": set(), "speakers": {}, "peers": {}}
    for peer in peers or []:
        if peer.get("State") not in WANTED_STATES:
            continue
        peer_id = peer["TransitGatewayConnectPeerId"]
        config = peer.get("ConnectPeerConfiguration") or {}
        tgw_address, peer_address = config.get("TransitGatewayAddress"), config.get("PeerAddress")
        if ipaddress.ip_address(tgw_address).version != 4 or ipaddress.ip_address(peer_address).version != 4:
            log("tgw twin: %s has IPv6 outer addresses; the twin builds IPv4 GRE only, skipped" % peer_id)
            continue
        inside = next(
            ipaddress.ip_network(cidr) for cidr in config.get("InsideCidrBlocks") or [] if ipaddress.ip_network(cidr).version == 4
        )
        sessions = [
            bgp
            for bgp in config.get("BgpConfigurations") or []
            if ipaddress.ip_address(bgp["TransitGatewayAddress"]).version == 4
        ]
        name = link_name(peer_id)
        state["links"][name] = {
            "local": tgw_address,
            "remote": peer_address,
            "ttl": 255,
            "addresses": sorted("%s/%d" % (bgp["TransitGatewayAddress"], inside.prefixlen) for bgp in sessions),
        }
        state["lo"].add(tgw_address)
        speakers = {}
        for bgp in sessions:
            speaker = speaker_name(peer_id, bgp["TransitGatewayAddress"])
            state["speakers"][speaker] = {
                "address": bgp["TransitGatewayAddress"],
                "config": render_frr_config(
                    speaker, peer_id, bgp["TransitGatewayAddress"], bgp["TransitGatewayAsn"], bgp["PeerAddress"], bgp["PeerAsn"]
                ),
            }
            speakers[speaker] = bgp["TransitGatewayAddress"]
        state["peers"][peer_id] = {
            "link": name,
            "peer_address": peer_address,
            "peer_bgp_address": str(inside[1]),
            "speakers": speakers,
        }
    return state


# -- observed state -----------------------------------------------------------------------------------------------
OBSERVE_SCRIPT = r"""
import glob, json, os, subprocess
NS, CONF, RUN, PREFIX = %(namespace)r, %(conf)r, %(run)r, %(prefix)r
out = subprocess.run(["ip", "-n", NS, "-j", "-d", "addr", "show"], capture_output=True, text=True, check=True).stdout
speakers = {}
for path in glob.glob("%%s/%%s*/bgpd.conf" %% (CONF, PREFIX)):
    name = path.split("/")[-2]
    try:
        with open("%%s/%%s/bgpd.pid" %% (RUN, name)) as handle:
            os.kill(int(handle.read().strip()), 0)
        running = True
    except (OSError, ValueError):
        running = False
    with open(path) as handle:
        speakers[name] = {"config": handle.read(), "running": running}
print(json.dumps({"interfaces": json.loads(out or "[]"), "speakers": speakers}))
"""


def parse_observed(raw):
    """The observe script's JSON -> the same shape as desired_state (links, lo, speakers with running)."""
    state = {"links": {}, "lo": set(), "speakers": {}}
    for interface in raw.get("interfaces") or []:
        name = interface.get("ifname", "")
        addresses = [a for a in interface.get("addr_info") or [] if a.get("family") == "inet"]
        if name == "lo":
            state["lo"] = {a["local"] for a in addresses if a.get("label") == LO_LABEL}
            continue
        info = interface.get("linkinfo") or {}
        if not name.startswith(LINK_PREFIX) or info.get("info_kind") != "gre":
            continue
        data = info.get("info_data") or {}
        state["links"][name] = {
            "local": data.get("local"),
            "remote": data.get("remote"),
            "ttl": data.get("ttl"),
            "addresses": sorted("%s/%d" % (a["local"], a["prefixlen"]) for a in addresses),
            "up": "UP" in (interface.get("flags") or []),
        }
    for name, speaker in (raw.get("speakers") or {}).items():
        if name.startswith(SPEAKER_PREFIX):
            state["speakers"][name] = {"config": speaker.get("config"), "running": bool(speaker.get("running"))}
    return state


# -- plan ---------------------------------------------------------------------------------------------------------
def _stop_speaker(name):
    pidfile = "%s/%s/bgpd.pid" % (RUN_DIR, name)
    return (
        'pid=$(cat %s 2>/dev/null || true); if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then '
        'for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done; fi; rm -rf %s/%s %s/%s'
        % (pidfile, CONF_DIR, name, RUN_DIR, name)
    )


def _start_speaker(name, speaker, namespace):
    directory = "%s/%s" % (CONF_DIR, name)
    return [
        "install -d -o frr -g frr %s %s/%s" % (directory, RUN_DIR, name),
        "cat > %s/bgpd.conf <<'TWIN_EOF'\n%sTWIN_EOF" % (directory, speaker["config"]),
        "chown frr:frr %s/bgpd.conf" % directory,
        "ip netns exec %s %s -d -Z -N %s -f %s/bgpd.conf -l %s -i %s/%s/bgpd.pid"
        % (namespace, BGPD, name, directory, speaker["address"], RUN_DIR, name),
    ]


def plan_commands(desired, observed, namespace="tgw"):
    """Shell commands that turn `observed` into `desired`; [] when they already agree."""
    ip = "ip -n %s " % namespace
    wanted_links = desired["links"]
    recreate = {
        name
        for name, link in observed["links"].items()
        if name in wanted_links and any(link[key] != wanted_links[name][key] for key in ("local", "remote", "ttl"))
    }
    link_of = {speaker: peer["link"] for peer in desired.get("peers", {}).values() for speaker in peer["speakers"]}
    restart = {
        name
        for name, speaker in observed["speakers"].items()
        if name in desired["speakers"]
        and (speaker["config"] != desired["speakers"][name]["config"] or not speaker["running"] or link_of.get(name) in recreate)
    }
    commands = []
    for name in sorted(observed["speakers"]):
        if name not in desired["speakers"] or name in restart:
            commands.append(_stop_speaker(name))
    for name in sorted(observed["links"]):
        if name not in wanted_links or name in recreate:
            commands.append(ip + "link del %s" % name)
    for address in sorted(observed["lo"] - desired["lo"]):
        commands.append(ip + "addr del %s/32 dev lo" % address)
    missing_lo = sorted(desired["lo"] - observed["lo"])
    if missing_lo:
        commands.append(ip + "link set lo up")
    for address in missing_lo:
        commands.append(ip + "addr add %s/32 dev lo label %s" % (address, LO_LABEL))
    new_links = sorted(name for name in wanted_links if name not in observed["links"] or name in recreate)
    if new_links:
        commands.append("modprobe ip_gre")
    for name in sorted(wanted_links):
        link = wanted_links[name]
        current = {"addresses": [], "up": False} if name in new_links else observed["links"][name]
        if name in new_links:
            commands.append(
                ip + "link add %s type gre local %s remote %s ttl %d" % (name, link["local"], link["remote"], link["ttl"])
            )
        for address in sorted(set(current["addresses"]) - set(link["addresses"])):
            commands.append(ip + "addr del %s dev %s" % (address, name))
        for address in sorted(set(link["addresses"]) - set(current["addresses"])):
            commands.append(ip + "addr add %s dev %s" % (address, name))
        if not current["up"]:
            commands.append(ip + "link set %s up" % name)
    for name in sorted(desired["speakers"]):
        if name not in observed["speakers"] or name in restart:
            commands += _start_speaker(name, desired["speakers"][name], namespace)
    return commands


# -- live BGP state and routes --------------------------------------------------------------------------------------
REFRESH_SCRIPT = r"""
import json, subprocess
NS, SPEAKERS, PROTO = %(namespace)r, %(speakers)r, %(proto)d
QUERIES = ("show bgp neighbors json", "show bgp ipv4 unicast json")
def documents(text):
    decoder, found, index = json.JSONDecoder(), [], 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            return found
        try:
            document, index = decoder.raw_decode(text, index)
        except ValueError:
            return found
        found.append(document)
# one vtysh per speaker (both queries), all speakers in parallel: vtysh start-up dominates under TCG
running = {
    name: subprocess.Popen(
        ["vtysh", "-N", name, "-d", "bgpd"] + [arg for query in QUERIES for arg in ("-c", query)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    for name in SPEAKERS
}
kernel = subprocess.run(["ip", "-n", NS, "-j", "route", "show", "proto", str(PROTO)], capture_output=True, text=True).stdout
found = {}
for name, process in running.items():
    parsed = documents(process.communicate()[0])
    found[name] = dict(zip(("neighbors", "routes"), parsed)) if len(parsed) == 2 else {}
print(json.dumps({"speakers": found, "kernel": json.loads(kernel or "[]")}))
"""


def parse_speaker(neighbors, routes, peer_bgp_address):
    """vtysh JSON of one speaker -> ("up" | "down", {prefix: set of BGP next hops}) for its neighbor .1."""
    neighbor = (neighbors or {}).get(peer_bgp_address) or {}
    status = "up" if neighbor.get("bgpState") == "Established" else "down"
    accepted = {}
    for prefix, paths in ((routes or {}).get("routes") or {}).items():
        for path in paths or []:
            if path.get("peerId") != peer_bgp_address:
                continue
            if not str(path.get("path", "")).strip():  # the route-map already refuses these; never trust one
                continue
            hops = {hop["ip"] for hop in path.get("nexthops") or [] if hop.get("ip")}
            accepted.setdefault(str(ipaddress.ip_network(prefix)), set()).update(hops)
    return status, accepted


def plan_routes(peers, accepted):
    """{peer_id: {'link', 'peer_address', 'peer_bgp_address'}} + {peer_id: {prefix: next hops}} -> {prefix: [(via, dev)]}."""
    by_prefix = {}
    for peer_id, prefixes in accepted.items():
        if peer_id not in peers:
            continue
        for prefix, hops in prefixes.items():
            by_prefix.setdefault(prefix, {})[peer_id] = hops
    routes = {}
    for prefix, advertisers in by_prefix.items():
        preferred = [p for p, hops in advertisers.items() if peers[p]["peer_address"] in hops]
        chosen = preferred or list(advertisers)
        routes[prefix] = sorted((peers[p]["peer_bgp_address"], peers[p]["link"]) for p in chosen)
    return routes


def parse_kernel_routes(listing):
    """`ip -j route show proto 186` -> {prefix: [(via, dev)]}."""
    routes = {}
    for route in listing or []:
        prefix = str(ipaddress.ip_network(route["dst"]))
        hops = route.get("nexthops") or [route]
        routes[prefix] = sorted((hop.get("gateway"), hop.get("dev")) for hop in hops)
    return routes


def plan_route_commands(desired, observed, namespace="tgw"):
    commands = []
    for prefix in sorted(observed):
        if prefix not in desired:
            commands.append("ip -n %s route del %s proto %d" % (namespace, prefix, ROUTE_PROTOCOL))
    for prefix in sorted(desired):
        if observed.get(prefix) != desired[prefix]:
            hops = desired[prefix]
            via = "via %s dev %s" % hops[0] if len(hops) == 1 else " ".join("nexthop via %s dev %s" % hop for hop in hops)
            commands.append("ip -n %s route replace %s proto %d %s" % (namespace, prefix, ROUTE_PROTOCOL, via))
    return commands


def _script(commands):
    return "set -eu\n" + "\n".join(commands) + "\n"


class TgwTwin(RouteProvider):
    """The TGW end of every Connect peer, in netns `namespace` of `host`; also the stand-in's RouteProvider."""

    def __init__(self, host, namespace="tgw", log=print, resync_seconds=30.0):
        self.host = host
        self.namespace = namespace
        self.log = log
        # An unchanged peer set is trusted for resync_seconds without looking at the VM (one SSH call costs ~2 s
        # under TCG); after that, or whenever the peers change, reconcile observes the netns and repairs drift.
        self.resync_seconds = resync_seconds
        self._converged = None  # (desired state, time.monotonic()) of the last reconcile that observed the VM
        self._lock = threading.Lock()
        self._peers = {}  # peer id -> {'link', 'peer_address', 'peer_bgp_address', 'speakers'}
        self._status = {}  # peer id -> {tgw bgp address: up/down}
        self._prefixes = {}  # peer id -> {prefix: next hops}

    # -- reconcile ----------------------------------------------------------------------------------------------
    def observe(self):
        script = OBSERVE_SCRIPT % {"namespace": self.namespace, "conf": CONF_DIR, "run": RUN_DIR, "prefix": SPEAKER_PREFIX}
        return parse_observed(json.loads(self.host.ssh("python3 -", stdin=script).stdout))

    def reconcile(self, peers):
        """Converge the netns to the wanted peers; returns the commands it ran ([] when nothing changed).

        If the call raises (SSH, a failed command), the next call observes again: nothing is assumed converged.
        """
        desired = desired_state(peers, log=self.log)
        if self._converged and self._converged[0] == desired and time.monotonic() - self._converged[1] < self.resync_seconds:
            return []
        commands = plan_commands(desired, self.observe(), self.namespace)
        if commands:
            self.log("tgw twin: %d change(s) for %d Connect peer(s)" % (len(commands), len(desired["peers"])))
            self.host.ssh("sh -s", stdin=_script(commands))
        self._converged = (desired, time.monotonic())
        with self._lock:
            self._peers = desired["peers"]
            self._status = {p: s for p, s in self._status.items() if p in self._peers}
            self._prefixes = {p: s for p, s in self._prefixes.items() if p in self._peers}
        return commands

    # -- refresh ------------------------------------------------------------------------------------------------
    def refresh(self):
        """Read FRR's live state into the cache and program accepted prefixes; returns the route commands it ran."""
        with self._lock:
            peers = dict(self._peers)
        speakers = sorted(name for peer in peers.values() for name in peer["speakers"])
        script = REFRESH_SCRIPT % {"namespace": self.namespace, "speakers": speakers, "proto": ROUTE_PROTOCOL}
        raw = json.loads(self.host.ssh("python3 -", stdin=script).stdout)
        status, accepted = {}, {}
        for peer_id, peer in peers.items():
            status[peer_id], accepted[peer_id] = {}, {}
            for name, address in peer["speakers"].items():
                live = (raw.get("speakers") or {}).get(name) or {}
                state, prefixes = parse_speaker(live.get("neighbors"), live.get("routes"), peer["peer_bgp_address"])
                status[peer_id][address] = state
                for prefix, hops in prefixes.items():
                    accepted[peer_id].setdefault(prefix, set()).update(hops)
        with self._lock:
            self._status, self._prefixes = status, accepted
        commands = plan_route_commands(plan_routes(peers, accepted), parse_kernel_routes(raw.get("kernel")), self.namespace)
        if commands:
            self.host.ssh("sh -s", stdin=_script(commands))
        return commands

    # -- RouteProvider (from the cache only: the stand-in calls these while serving a request) -------------------
    def bgp_status(self, peer):
        with self._lock:
            status = dict(self._status.get(peer.id, {}))
        return {address: status.get(address, "down") for address in peer.tgw_bgp_addresses}

    def advertised_prefixes(self, peer):
        with self._lock:
            return sorted(self._prefixes.get(peer.id, {}))

    def close(self):
        """Remove every speaker, link, lo address and route the twin created."""
        empty = {"links": {}, "lo": set(), "speakers": {}, "peers": {}}
        commands = plan_commands(empty, self.observe(), self.namespace)
        commands.append("ip -n %s route flush proto %d" % (self.namespace, ROUTE_PROTOCOL))
        self.host.ssh("sh -s", stdin=_script(commands))
        self._converged = None
        with self._lock:
            self._peers, self._status, self._prefixes = {}, {}, {}
