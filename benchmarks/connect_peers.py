"""Benchmark tgw_connect_peers against the AWS stand-in and print a table from its call log.

For N = 4, 16, 64, 256 nodes (or --sizes):
- initial converge: AWS calls (reads / writes, CreateTransitGatewayConnectPeer and CreateTransitGatewayConnect counts)
  and wall time;
- converged re-run: calls (expected: a few reads, no write) and wall time;
- with a Connect peer pending delay T (--pending, seconds): wall time of the initial converge, to show that N peers
  are waited for together (about T plus one poll interval, not N x T).

Not a test: it prints numbers. Run: .venv/bin/python benchmarks/connect_peers.py [--sizes 4,16] [--pending 5]
"""

import argparse
import math
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, ".build", "collections")]

import conftest  # noqa: E402 - creates the ansible_collections symlink
from ansible_collections.calico_egress.aws.plugins.modules import tgw_cidr_block, tgw_connect_peers  # noqa: E402
from lab.aws.client import StandinClient  # noqa: E402
from lab.aws.fixtures import StandinProcess  # noqa: E402
from tests.support.modules import run_module  # noqa: E402

assert conftest.LINK  # the import is for its side effect: the ansible_collections symlink


def nodes(count):
    return [{"name": "node-%03d" % i, "address": "10.0.%d.%d" % (1 + i // 250, 1 + i % 250)} for i in range(count)]


def build(aws):
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    tgw = ec2.create_transit_gateway(Options={"AmazonSideAsn": 64513})["TransitGateway"]["TransitGatewayId"]
    transport = ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw, VpcId=vpc, SubnetIds=[subnet])
    result = run_module(tgw_cidr_block, dict(aws.module_args(), transit_gateway_id=tgw, cidr_block="10.99.0.0/22"))
    assert result["changed"], result
    return tgw, transport["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]


def measure(aws, args):
    aws.reset_calls()
    start = time.monotonic()
    result = run_module(tgw_connect_peers, args)
    elapsed = time.monotonic() - start
    if result.get("failed"):
        raise SystemExit("tgw_connect_peers failed: %s" % result["msg"])
    calls = aws.calls()
    actions = [c["action"] for c in calls]
    return {
        "changed": result["changed"],
        "reads": sum(1 for c in calls if not c["mutating"]),
        "writes": sum(1 for c in calls if c["mutating"]),
        "peers": actions.count("CreateTransitGatewayConnectPeer"),
        "attachments": actions.count("CreateTransitGatewayConnect"),
        "seconds": elapsed,
    }


def fresh_args(aws, count, pending):
    """A wiped stand-in with a transit gateway ready for `count` nodes; the module arguments."""
    aws.reset()
    aws.set_knobs(connect_peer_pending_seconds=pending)
    tgw, transport = build(aws)
    args = dict(aws.module_args(), cluster="bench", nodes=nodes(count), transit_gateway_id=tgw, transport_attachment_id=transport)
    args.update(peer_asn=64512, wait_timeout=600)
    return args


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="4,16,64,256")
    parser.add_argument("--pending", type=float, default=5.0, help="Connect peer pending delay T in seconds")
    options = parser.parse_args()
    sizes = [int(s) for s in options.sizes.split(",")]
    process = StandinProcess()
    try:
        aws = StandinClient(process.endpoint_url)
        header = "| N | initial: reads | writes | peers created | attachments created | s | re-run: reads | writes | s |"
        print("tgw_connect_peers, peer pending delay 0 s")
        print(header)
        print("|---|---|---|---|---|---|---|---|---|")
        for count in sizes:
            args = fresh_args(aws, count, 0)
            first, again = measure(aws, args), measure(aws, args)
            assert first["peers"] == count and first["attachments"] == math.ceil(count / 4)
            initial = (first["reads"], first["writes"], first["peers"], first["attachments"], first["seconds"])
            print(
                "| %d | %d | %d | %d | %d | %.1f " % ((count,) + initial)
                + "| %d | %d | %.2f |" % (again["reads"], again["writes"], again["seconds"])
            )
        print()
        print("Initial converge with a peer pending delay T = %.0f s" % options.pending)
        print("| N | wall time s | DescribeTransitGatewayConnectPeers polls + reads |")
        print("|---|---|---|")
        for count in sizes:
            first = measure(aws, fresh_args(aws, count, options.pending))
            polls = [c["action"] for c in aws.calls()].count("DescribeTransitGatewayConnectPeers")
            print("| %d | %.1f | %d |" % (count, first["seconds"], polls))
    finally:
        process.stop()


if __name__ == "__main__":
    main()
