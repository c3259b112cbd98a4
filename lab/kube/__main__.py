"""python -m lab.kube --port N: serve the Kubernetes API stand-in on loopback until interrupted."""

import argparse
import json
import os
import sys

import yaml

from lab.kube.server import Cluster, kubeconfig, make_server


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m lab.kube", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--schemas", default="enterprise", choices=["enterprise", "oss-v3.32", "oss-v3.31"])
    parser.add_argument("--variant", default="CalicoEnterprise", choices=["Calico", "CalicoEnterprise"])
    parser.add_argument("--nodes", default="node-a,node-b,node-c", help="comma-separated node names")
    parser.add_argument("--kubeconfig", help="write a kubeconfig for the stand-in to this file")
    args = parser.parse_args(argv)
    cluster = Cluster(args.schemas, args.variant, [n for n in args.nodes.split(",") if n])
    server = make_server(cluster, port=args.port)
    url = "http://127.0.0.1:%d" % server.server_address[1]
    if args.kubeconfig:
        with open(os.open(args.kubeconfig, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
            yaml.safe_dump(kubeconfig(url), handle)
    print(json.dumps({"url": url, "kubeconfig": args.kubeconfig}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
