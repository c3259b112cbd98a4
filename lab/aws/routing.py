"""Where propagated routes and BGP session states come from: a pluggable provider.

The stand-in asks the provider, for each Connect peer, which prefixes the appliance advertises and which of
the two BGP sessions are up. The default provider is a table set through the admin API (or by tests); the
lab twin plugs in a provider that reads a live BGP speaker.
"""

import ipaddress
import threading


class RouteProvider:
    """Interface. `peer` is the stand-in's Connect peer (attributes: id, peer_address, tgw_bgp_addresses)."""

    def advertised_prefixes(self, peer):
        """Prefixes (CIDR strings) the appliance behind `peer` advertises to the TGW."""
        raise NotImplementedError

    def bgp_status(self, peer):
        """{tgw_bgp_address: "up" | "down"} for the peer's BGP sessions."""
        raise NotImplementedError


class TableRouteProvider(RouteProvider):
    """Default provider: what tests and the admin API set. Nothing advertised and every session down until set."""

    def __init__(self):
        self._lock = threading.Lock()
        self._prefixes = {}
        self._status = {}

    def reset(self):
        with self._lock:
            self._prefixes.clear()
            self._status.clear()

    def set_prefixes(self, peer_id, prefixes):
        normalised = [str(ipaddress.ip_network(prefix, strict=True)) for prefix in prefixes]
        with self._lock:
            self._prefixes[peer_id] = normalised

    def set_status(self, peer_id, status):
        """`status` is "up"/"down" for both sessions, or {tgw_bgp_address: "up"/"down"}."""
        if isinstance(status, str):
            status = {"*": status}
        for value in status.values():
            if value not in ("up", "down"):
                raise ValueError("BGP status must be 'up' or 'down', got %r" % (value,))
        with self._lock:
            self._status[peer_id] = dict(status)

    def advertised_prefixes(self, peer):
        with self._lock:
            return list(self._prefixes.get(peer.id, []))

    def bgp_status(self, peer):
        with self._lock:
            status = self._status.get(peer.id, {})
        default = status.get("*", "down")
        return {address: status.get(address, default) for address in peer.tgw_bgp_addresses}
