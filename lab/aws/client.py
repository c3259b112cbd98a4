"""StandinClient: how tests, benchmarks and the lab talk to a running stand-in (boto3 clients + admin API)."""

import json
import urllib.parse
import urllib.request

import boto3
from botocore.config import Config

ACCESS_KEY = "testing"
SECRET_KEY = "testing"


class StandinClient:
    def __init__(self, endpoint_url, region="us-east-1"):
        self.endpoint_url = endpoint_url.rstrip("/")
        self.region = region

    # -- AWS side ----------------------------------------------------------------------------------------
    def client(self, service, **config):
        """A boto3 client for `service` aimed at the stand-in (botocore still validates every request)."""
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(**config) if config else None,
        )

    def module_args(self):
        """Connection options of an AnsibleAWSModule module."""
        return {"endpoint_url": self.endpoint_url, "region": self.region, "access_key": ACCESS_KEY, "secret_key": SECRET_KEY}

    def env(self):
        """Environment for ansible-playbook / the AWS CLI / boto3 so they reach the stand-in."""
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_URL": self.endpoint_url,
        }

    # -- admin API ---------------------------------------------------------------------------------------
    def admin(self, method, path, payload=None):
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        request = urllib.request.Request(
            self.endpoint_url + "/_standin/" + path.lstrip("/"),
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback admin endpoint
            return json.loads(response.read().decode("utf-8"))

    def calls(self, service=None, mutating=None):
        query = {}
        if service is not None:
            query["service"] = service
        if mutating is not None:
            query["mutating"] = "true" if mutating else "false"
        suffix = "?" + urllib.parse.urlencode(query) if query else ""
        return self.admin("GET", "calls" + suffix)["calls"]

    def reset_calls(self):
        self.admin("POST", "calls/reset", {})

    def knobs(self):
        return self.admin("GET", "knobs")

    def set_knobs(self, **knobs):
        return self.admin("POST", "knobs", knobs)

    def advertise(self, peer_id, prefixes):
        self.admin("POST", "routes", {"connect_peer_id": peer_id, "prefixes": list(prefixes)})

    def set_bgp_status(self, peer_id, status):
        self.admin("POST", "bgp", {"connect_peer_id": peer_id, "status": status})

    def reset(self):
        self.admin("POST", "reset", {})
