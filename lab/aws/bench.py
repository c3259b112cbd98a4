"""`python -m lab.aws.bench`: how fast the stand-in answers (prints numbers; not a test).

Starts its own stand-in, builds a TGW with Connect attachments and peers, advertises prefixes, then times the
calls the collection's modules make most. Knobs are at their defaults (no latency, no throttling).
"""

import argparse
import statistics
import time

from lab.aws.client import StandinClient
from lab.aws.fixtures import StandinProcess


def timed(call, repeat):
    samples = []
    for _index in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000.0)
    return samples


def build(aws, ec2, attachments, peers_per_attachment, prefixes_per_peer):
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    tgw = ec2.create_transit_gateway(Options={"TransitGatewayCidrBlocks": ["10.99.0.0/24"]})["TransitGateway"]
    transport = ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=tgw["TransitGatewayId"], VpcId=vpc_id, SubnetIds=[subnet_id]
    )
    transport_id = transport["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    block = 10
    for _attachment in range(attachments):
        connect = ec2.create_transit_gateway_connect(
            TransportTransitGatewayAttachmentId=transport_id, Options={"Protocol": "gre"}
        )
        connect_id = connect["TransitGatewayConnect"]["TransitGatewayAttachmentId"]
        for _peer in range(peers_per_attachment):
            peer = ec2.create_transit_gateway_connect_peer(
                TransitGatewayAttachmentId=connect_id,
                PeerAddress="10.0.1.%d" % block,
                InsideCidrBlocks=["169.254.%d.0/29" % block],
                BgpOptions={"PeerAsn": 65010},
            )["TransitGatewayConnectPeer"]
            aws.advertise(
                peer["TransitGatewayConnectPeerId"], ["10.%d.%d.0/31" % (block, index) for index in range(prefixes_per_peer)]
            )
            aws.set_bgp_status(peer["TransitGatewayConnectPeerId"], "up")
            block += 1
    return tgw["Options"]["AssociationDefaultRouteTableId"]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m lab.aws.bench")
    parser.add_argument("--attachments", type=int, default=4)
    parser.add_argument("--peers", type=int, default=4, help="peers per Connect attachment (AWS allows 4)")
    parser.add_argument("--prefixes", type=int, default=50, help="prefixes advertised per peer")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args(argv)
    process = StandinProcess()
    try:
        aws = StandinClient(process.endpoint_url)
        ec2 = aws.client("ec2")
        started = time.perf_counter()
        table_id = build(aws, ec2, args.attachments, args.peers, args.prefixes)
        print(
            "built %d attachments x %d peers x %d prefixes in %.2f s"
            % (args.attachments, args.peers, args.prefixes, time.perf_counter() - started)
        )
        calls = {
            "DescribeTransitGatewayConnectPeers (all)": ec2.describe_transit_gateway_connect_peers,
            "DescribeTransitGatewayAttachments (all)": ec2.describe_transit_gateway_attachments,
            "SearchTransitGatewayRoutes (propagated)": lambda: ec2.search_transit_gateway_routes(
                TransitGatewayRouteTableId=table_id, Filters=[{"Name": "type", "Values": ["propagated"]}]
            ),
            "SearchTransitGatewayRoutes (exact match)": lambda: ec2.search_transit_gateway_routes(
                TransitGatewayRouteTableId=table_id, Filters=[{"Name": "route-search.exact-match", "Values": ["10.10.0.0/31"]}]
            ),
            "DescribeVpcs (moto)": ec2.describe_vpcs,
        }
        for name, call in calls.items():
            samples = timed(call, args.repeat)
            print(
                "%-42s median %6.1f ms  p95 %6.1f ms  (n=%d)"
                % (name, statistics.median(samples), sorted(samples)[int(len(samples) * 0.95) - 1], len(samples))
            )
    finally:
        process.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
