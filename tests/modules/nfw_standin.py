"""Fallback endpoint for the Network Firewall module tests while the full stand-in (lab.aws, issue 3) is absent.

Serves only the network-firewall JSON protocol on a loopback port with lab.aws.network_firewall's backend and
keeps a call log shaped like the stand-in's admin API. When lab.aws.fixtures is installed, the tests use its
`aws` fixture instead (see conftest.py).
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3

from lab.aws.errors import ServiceError
from lab.aws.network_firewall import NetworkFirewallBackend

READ_PREFIXES = ("Describe", "Get", "List", "Search")


class LocalNetworkFirewall:
    region = "us-east-1"

    def __init__(self):
        self.backend = NetworkFirewallBackend(region=self.region)
        self.log = []
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802 - http.server's name
                action = self.headers.get("X-Amz-Target", "").split(".")[-1]
                params = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                try:
                    status, body, code = 200, standin.backend.dispatch(action, params), None
                except ServiceError as error:
                    status, body, code = error.status, {"__type": error.code, "message": error.message}, error.code
                standin.log.append(
                    {"service": "network-firewall", "action": action, "params": params, "error_code": code,
                     "mutating": not action.startswith(READ_PREFIXES)}
                )  # fmt: skip
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint_url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def reset(self):
        self.backend.reset()
        self.log.clear()

    def client(self, service):
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def module_args(self):
        return {"endpoint_url": self.endpoint_url, "region": self.region, "access_key": "testing", "secret_key": "testing"}

    def calls(self, service=None, mutating=None):
        return [
            c
            for c in self.log
            if (service is None or c["service"] == service) and (mutating is None or c["mutating"] == mutating)
        ]

    def reset_calls(self):
        self.log.clear()
