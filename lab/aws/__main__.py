"""`python -m lab.aws --port N`: run the AWS stand-in until interrupted."""

import argparse
import sys

from lab.aws.server import make_server


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m lab.aws", description="Local AWS stand-in (moto + TGW Connect + NFW).")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    parser.add_argument("--port", type=int, default=5000, help="port to bind; 0 picks a free one (default: 5000)")
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port)
    # The first line names the endpoint: the pytest fixture reads it when it asked for port 0.
    sys.stdout.write("listening on http://%s:%d\n" % (args.host, server.server_port))
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
