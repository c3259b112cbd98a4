"""Helpers: the Kubernetes API stand-in on a free loopback port, and ansible-playbook runs against it."""

import json
import os
import subprocess
import sys
import threading

import yaml

from lab.kube.server import Cluster, kubeconfig, make_server

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "playbooks", "calico.yml")
FIXTURES = os.path.join(ROOT, "tests", "unit", "plugins", "module_utils", "fixtures")
TEMPLATE = os.path.join(FIXTURES, "bird-enterprise-like.cfg.template")

# Per-node facts as the tgw_connect role publishes them (one /29 per node, TGW ASN 64512, nodes 65010).
PEERS = {
    "node-a": {
        "tgw_inside_addresses": ["169.254.6.2", "169.254.6.3"],
        "tgw_asn": 64512,
        "peer_asn": 65010,
        "node_inside_address": "169.254.6.1",
        "inside_cidr": "169.254.6.0/29",
    },
    "node-b": {
        "tgw_inside_addresses": ["169.254.6.10", "169.254.6.11"],
        "tgw_asn": 64512,
        "peer_asn": 65010,
        "node_inside_address": "169.254.6.9",
        "inside_cidr": "169.254.6.8/29",
    },
}


class Kube:
    def __init__(self, cluster, server, path):
        self.cluster, self.server, self.kubeconfig = cluster, server, path
        self.url = "http://127.0.0.1:%d" % server.server_address[1]

    def objects(self, kind):
        with self.cluster.lock:
            return [json.loads(json.dumps(o)) for o in self.cluster.objects.values() if o["kind"] == kind]

    def names(self, kind):
        return sorted(o["metadata"]["name"] for o in self.objects(kind))


def start(tmp_path, **cluster_args):
    cluster = Cluster(**cluster_args)
    server = make_server(cluster)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(kubeconfig("http://127.0.0.1:%d" % server.server_address[1])))
    return Kube(cluster, server, str(path))


def inventory(tmp_path, nodes=("node-a", "node-b"), peers=None):
    peers = peers or PEERS
    data = {
        "all": {
            "hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}},
            "children": {"tunnel_nodes": {"hosts": {name: {"calico_egress_connect_peer": peers[name]} for name in nodes}}},
        }
    }
    path = tmp_path / ("inventory-%s.yml" % "-".join(nodes))
    path.write_text(yaml.safe_dump(data))
    return str(path)


def run_playbook(kube, tmp_path, *, extra=None, nodes=("node-a", "node-b"), check=False, peers=None, tags=None):
    """Run the calico role against the stand-in; return (returncode, recap dict, output)."""
    extra_vars = {
        "calico_kubeconfig": kube.kubeconfig if kube else "",
        "calico_bird_template_source": "file",
        "calico_bird_template_file": TEMPLATE,
        "calico_status_poll_interval": 1,
        "calico_status_timeout": 4,
        "calico_rollout_timeout": 30,
    }
    extra_vars.update(extra or {})
    vars_file = tmp_path / "extra-vars.json"
    vars_file.write_text(json.dumps(extra_vars))
    command = [
        os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
        "-i",
        inventory(tmp_path, nodes, peers),
        PLAYBOOK,
        "-e",
        "@%s" % vars_file,
    ]
    if check:
        command.append("--check")
    if tags:
        command += ["--tags", tags]
    env = dict(os.environ)
    env["ANSIBLE_COLLECTIONS_PATH"] = os.path.join(ROOT, ".build", "collections")
    env["ANSIBLE_HOME"] = str(tmp_path / "ansible-home")
    env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.default"
    env["ANSIBLE_NOCOLOR"] = "1"
    env["ANSIBLE_RETRY_FILES_ENABLED"] = "0"
    env.pop("K8S_AUTH_HOST", None)
    proc = subprocess.run(command, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=600, check=False)
    output = proc.stdout + proc.stderr
    recap = {}
    for line in output.splitlines():
        if line.startswith("localhost") and "ok=" in line:
            recap = dict(part.split("=") for part in line.split()[2:])
            recap = {k: int(v) for k, v in recap.items()}
    return proc.returncode, recap, output
