#!/bin/sh
# The transit gateway, inside the VM, for one Connect peer of the node (root namespace):
#   netns tgw:     GRE termination and the TGW's data plane (a router); reached over veth "underlay"
#   netns tgw-bgp: the TGW's two BGP speakers (.2 and .3), one routed hop behind the GRE termination,
#                  which is why the node must use multihop (TTL >= 2) and a TTL 1 (direct) session fails.
# Usage: tgw-up.sh NODE_GRE_ADDRESS TGW_GRE_ADDRESS INSIDE_CIDR_PREFIX(e.g. 169.254.6)
set -eu
node_gre=$1
tgw_gre=$2
inside=$3

ip netns add tgw
ip netns add tgw-bgp
ip -n tgw link set lo up
ip -n tgw-bgp link set lo up

# Underlay: node <-> tgw (the VPC between the node and the TGW CIDR block).
ip link add underlay type veth peer name underlay netns tgw
ip addr add 192.168.250.1/30 dev underlay
ip link set underlay up
ip -n tgw addr add 192.168.250.2/30 dev underlay
ip -n tgw link set underlay up
ip -n tgw addr add "$tgw_gre/32" dev lo
ip route replace "$tgw_gre/32" via 192.168.250.2
ip -n tgw route add default via 192.168.250.1

# GRE termination (unnumbered: the TGW's inside addresses live on its BGP speakers).
ip -n tgw link add gre-node type gre local "$tgw_gre" remote "$node_gre" ttl 255
ip -n tgw link set gre-node mtu 8476 up
ip -n tgw route add "$inside.1/32" dev gre-node
ip netns exec tgw sysctl -qw net.ipv4.ip_forward=1

# The BGP speakers, one hop behind.
ip -n tgw link add speakers type veth peer name uplink netns tgw-bgp
ip -n tgw addr add 10.255.0.1/30 dev speakers
ip -n tgw link set speakers up
ip -n tgw-bgp addr add 10.255.0.2/30 dev uplink
ip -n tgw-bgp link set uplink up
ip -n tgw-bgp addr add "$inside.2/32" dev lo
ip -n tgw-bgp addr add "$inside.3/32" dev lo
ip -n tgw-bgp route add default via 10.255.0.1
ip -n tgw route add "$inside.2/32" via 10.255.0.2
ip -n tgw route add "$inside.3/32" via 10.255.0.2
