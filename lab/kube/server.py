"""A small, stateful, validating stand-in of the Kubernetes API (see README.md: what it is and is not)."""

import copy
import datetime
import ipaddress
import json
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

from lab.kube import schema as schemas

MERGE_TYPES = ("application/merge-patch+json", "application/strategic-merge-patch+json")
APPLY_TYPE = "application/apply-patch+yaml"
BIRD_TEMPLATES = ("tigera-operator", "bird-templates")
CALICO_NODE = ("calico-system", "calico-node")


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self):
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": self.message}
        body.update({"reason": self.reason, "code": self.code})
        if self.details:
            body["details"] = self.details
        return body


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def leaf_paths(obj, prefix=()):
    """Field paths a manager sets: dict leaves; lists are atomic (Calico lists have no merge keys we use)."""
    if isinstance(obj, dict) and obj:
        paths = set()
        for key, value in obj.items():
            paths |= leaf_paths(value, prefix + (key,))
        return paths
    return {prefix}


def get_path(obj, path):
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return None, False
        obj = obj[key]
    return obj, True


def delete_path(obj, path):
    parents = []
    for key in path[:-1]:
        if not isinstance(obj, dict) or key not in obj:
            return
        parents.append((obj, key))
        obj = obj[key]
    if isinstance(obj, dict):
        obj.pop(path[-1], None)
    for parent, key in reversed(parents):  # drop maps emptied by the removal
        if parent[key] == {}:
            parent.pop(key)


def parse_selector(text):
    """Label selector -> list of (key, op, values)."""
    requirements = []
    text = (text or "").strip()
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current)
    for part in (p.strip() for p in parts):
        if " notin " in part or " in " in part:
            op = "notin" if " notin " in part else "in"
            key, _sep, values = part.partition(" %s " % op)
            requirements.append((key.strip(), op, [v.strip() for v in values.strip().strip("()").split(",")]))
        elif "!=" in part:
            key, _sep, value = part.partition("!=")
            requirements.append((key.strip(), "!=", [value.strip()]))
        elif "==" in part or "=" in part:
            key, _sep, value = part.partition("==" if "==" in part else "=")
            requirements.append((key.strip(), "=", [value.strip()]))
        elif part.startswith("!"):
            requirements.append((part[1:].strip(), "!exists", []))
        else:
            requirements.append((part, "exists", []))
    return requirements


def selector_matches(requirements, labels):
    labels = labels or {}
    for key, op, values in requirements:
        present = key in labels
        if op == "=" and labels.get(key) != values[0]:
            return False
        if op == "!=" and present and labels[key] == values[0]:
            return False
        if op == "in" and labels.get(key) not in values:
            return False
        if op == "notin" and present and labels[key] in values:
            return False
        if op == "exists" and not present:
            return False
        if op == "!exists" and present:
            return False
    return True


class Cluster:
    """The stored objects and the few controllers the role relies on."""

    def __init__(
        self, schema_set="enterprise", variant="CalicoEnterprise", nodes=("node-a", "node-b", "node-c"), calico_version="v3.21.2"
    ):
        self.lock = threading.RLock()
        self.resources = schemas.builtin_resources()
        self.resources.update(schemas.load_crd_resources(schema_set))
        self.objects = {}  # (group_version, plural, namespace, name) -> object
        self.applied = {}  # same key -> {manager: applied config}
        self.revision = 0
        self.writes = []  # (verb, kind, namespace, name) of every non-dry-run mutation
        self.requests = []
        self.idle_nodes = set()  # nodes whose TGW sessions stay Active in CalicoNodeStatus
        # Optional callable(node name) -> [{peerIP, type, state, since}] or None (not reported yet): live sessions
        # (the lab's Calico twin reads BIRD). Called under the lock, so it must answer from a cache, never block.
        self.session_reporter = None
        self.rollout_reads = 1  # reads of the calico-node DaemonSet before a rollout completes
        self._rollout_pending = 0
        self.calico_version = calico_version
        self.seed(variant, list(nodes))
        self.writes = []

    # ---- discovery -------------------------------------------------------------------------------
    def groups(self):
        result = {}
        for resource in self.resources.values():
            if resource.group:
                result.setdefault(resource.group, set()).add(resource.version)
        return result

    def resource_list(self, group_version):
        items = []
        for resource in sorted(self.resources.values(), key=lambda r: r.plural):
            if resource.group_version != group_version:
                continue
            verbs = ["create", "delete", "get", "list", "patch", "update"]
            items.append(
                {
                    "name": resource.plural,
                    "singularName": resource.singular,
                    "namespaced": resource.namespaced,
                    "kind": resource.kind,
                    "verbs": verbs,
                    "shortNames": resource.short_names,
                }
            )
            items.append(
                {
                    "name": resource.plural + "/status",
                    "singularName": "",
                    "namespaced": resource.namespaced,
                    "kind": resource.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
        if not items:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": items}

    # ---- storage helpers -------------------------------------------------------------------------
    def resource(self, group_version, plural):
        resource = self.resources.get((group_version, plural))
        if resource is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource (%s %s)" % (group_version, plural))
        return resource

    def _key(self, resource, namespace, name):
        return (resource.group_version, resource.plural, namespace if resource.namespaced else None, name)

    def get(self, resource, namespace, name):
        with self.lock:
            obj = self.objects.get(self._key(resource, namespace, name))
            if obj is None:
                raise ApiError(
                    404,
                    "NotFound",
                    '%s.%s "%s" not found' % (resource.plural, resource.group or "core", name),
                    {"name": name, "kind": resource.plural},
                )
            self._on_read(resource, obj)
            return copy.deepcopy(self.objects[self._key(resource, namespace, name)])

    def list(self, resource, namespace, label_selector=None):
        requirements = parse_selector(label_selector)
        with self.lock:
            items = []
            for key, obj in sorted(self.objects.items(), key=lambda kv: tuple(str(k) for k in kv[0])):
                if key[:2] != (resource.group_version, resource.plural):
                    continue
                if resource.namespaced and namespace and key[2] != namespace:
                    continue
                if selector_matches(requirements, obj["metadata"].get("labels")):
                    self._on_read(resource, obj)
                    items.append(copy.deepcopy(self.objects[key]))
            return {
                "kind": resource.kind + "List",
                "apiVersion": resource.group_version,
                "metadata": {"resourceVersion": str(self.revision)},
                "items": items,
            }

    def _finish(self, resource, obj, namespace, old=None):
        """Validate, default and stamp obj; raise 422 like kube-apiserver on any schema error."""
        meta = obj.setdefault("metadata", {})
        if resource.namespaced:
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        obj.setdefault("apiVersion", resource.group_version)
        obj.setdefault("kind", resource.kind)
        resource.default(obj)
        errors = resource.validate(obj)
        if errors:
            raise ApiError(
                422,
                "Invalid",
                '%s "%s" is invalid: %s' % (resource.kind, meta.get("name"), "; ".join(errors)),
                {"name": meta.get("name"), "kind": resource.kind, "causes": [{"message": e} for e in errors]},
            )
        if old is not None:
            for key in ("uid", "creationTimestamp"):
                meta[key] = old["metadata"][key]
            meta["generation"] = old["metadata"].get("generation", 1)
            if {k: v for k, v in obj.items() if k not in ("metadata", "status")} != {
                k: v for k, v in old.items() if k not in ("metadata", "status")
            }:
                meta["generation"] += 1
            meta["resourceVersion"] = old["metadata"]["resourceVersion"]
        else:
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = _now()
            meta["generation"] = 1
        return obj

    def _store(self, resource, obj, dry_run, verb, old=None):
        if old is not None and obj == old:
            return copy.deepcopy(obj)  # a no-op write keeps resourceVersion, like kube-apiserver
        if dry_run:
            if old is None:
                obj["metadata"]["resourceVersion"] = str(self.revision + 1)
            return copy.deepcopy(obj)
        self.revision += 1
        obj["metadata"]["resourceVersion"] = str(self.revision)
        key = self._key(resource, obj["metadata"].get("namespace"), obj["metadata"]["name"])
        self.objects[key] = obj
        self.writes.append((verb, resource.kind, obj["metadata"].get("namespace"), obj["metadata"]["name"]))
        self._on_write(resource, obj, old)
        return copy.deepcopy(obj)

    # ---- verbs -----------------------------------------------------------------------------------
    def create(self, resource, namespace, body, dry_run=False, manager=None):
        with self.lock:
            name = (body.get("metadata") or {}).get("name")
            if name and self._key(resource, namespace, name) in self.objects:
                raise ApiError(409, "AlreadyExists", '%s "%s" already exists' % (resource.plural, name), {"name": name})
            obj = self._finish(resource, copy.deepcopy(body), namespace)
            if manager:
                obj["metadata"]["managedFields"] = [
                    {"manager": manager, "operation": "Update", "apiVersion": resource.group_version, "time": _now()}
                ]
            return self._store(resource, obj, dry_run, "create")

    def replace(self, resource, namespace, name, body, dry_run=False):
        with self.lock:
            old = self.get(resource, namespace, name)
            obj = self._finish(resource, copy.deepcopy(body), namespace, old)
            obj["metadata"]["managedFields"] = old["metadata"].get("managedFields", [])
            return self._store(resource, obj, dry_run, "update", old)

    def patch(self, resource, namespace, name, body, content_type, *, dry_run=False, manager=None, force=False):
        with self.lock:
            if content_type == APPLY_TYPE:
                return self._apply(resource, namespace, name, body, dry_run=dry_run, manager=manager, force=force)
            if content_type not in MERGE_TYPES:
                raise ApiError(415, "UnsupportedMediaType", "the stand-in does not support patch type %s" % content_type)
            old = self.get(resource, namespace, name)
            obj = merge_patch(old, body)
            obj = self._finish(resource, obj, namespace, old)
            return self._store(resource, obj, dry_run, "patch", old)

    def _apply(self, resource, namespace, name, body, *, dry_run, manager, force):
        if not manager:
            raise ApiError(400, "BadRequest", "PATCH with application/apply-patch+yaml requires fieldManager")
        if (body.get("metadata") or {}).get("name") not in (None, name):
            raise ApiError(
                400,
                "BadRequest",
                "the name of the object (%s) does not match the name on the URL (%s)" % (body["metadata"]["name"], name),
            )
        key = self._key(resource, namespace, name)
        old = copy.deepcopy(self.objects.get(key))
        applied = copy.deepcopy(body)
        applied.setdefault("metadata", {})["name"] = name
        for field in ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation"):
            applied["metadata"].pop(field, None)
        owners = copy.deepcopy(self.applied.get(key, {}))
        new_paths = leaf_paths({k: v for k, v in applied.items() if k not in ("apiVersion", "kind")}) - {
            ("metadata", "name"),
            ("metadata", "namespace"),
        }
        live = old or {}
        conflicts = []
        for other, config in owners.items():
            if other == manager:
                continue
            for path in leaf_paths(config) & new_paths:
                mine = get_path(applied, path)[0]
                current, present = get_path(live, path)
                if present and current != mine:
                    conflicts.append('conflict with "%s": .%s' % (other, ".".join(path)))
        if conflicts and not force:
            raise ApiError(409, "Conflict", "Apply failed with %d conflict(s): %s" % (len(conflicts), "; ".join(conflicts)))
        obj = copy.deepcopy(live)
        previous = owners.get(manager)
        if previous is not None:  # fields this manager applied before and dropped now are removed
            others = set()
            for other, config in owners.items():
                if other != manager:
                    others |= leaf_paths(config)
            for path in leaf_paths(previous) - new_paths - others:
                if path and path[0] not in ("apiVersion", "kind") and path != ("metadata", "name"):
                    delete_path(obj, path)
        obj = merge_patch(obj, applied)
        if force:
            for other in list(owners):
                if other != manager:
                    remaining = leaf_paths(owners[other]) - new_paths
                    owners[other] = _rebuild(owners[other], remaining)
        owners[manager] = applied
        managed = [
            {"manager": m, "operation": "Apply", "apiVersion": resource.group_version, "fieldsType": "FieldsV1"}
            for m in sorted(owners)
            if owners[m]
        ]
        if old is not None:
            old_managed = {entry["manager"]: entry for entry in old["metadata"].get("managedFields", [])}
            obj["metadata"]["managedFields"] = old["metadata"].get("managedFields", [])
            obj = self._finish(resource, obj, namespace, old)
            if obj == old:
                return copy.deepcopy(old)
            for entry in managed:
                entry["time"] = old_managed.get(entry["manager"], {}).get("time") or _now()
            obj["metadata"]["managedFields"] = managed
        else:
            obj = self._finish(resource, obj, namespace)
            for entry in managed:
                entry["time"] = _now()
            obj["metadata"]["managedFields"] = managed
        result = self._store(resource, obj, dry_run, "apply", old)
        if not dry_run:
            self.applied[key] = owners
        return result

    def delete(self, resource, namespace, name, dry_run=False):
        with self.lock:
            obj = self.get(resource, namespace, name)
            if not dry_run:
                key = self._key(resource, namespace, name)
                self.objects.pop(key)
                self.applied.pop(key, None)
                self.revision += 1
                self.writes.append(("delete", resource.kind, namespace if resource.namespaced else None, name))
            return obj

    # ---- simulated controllers -------------------------------------------------------------------
    def _put(self, group_version, plural, obj):
        """Store a controller-made object without recording it as a client write."""
        resource = self.resource(group_version, plural)
        namespace = obj["metadata"].get("namespace")
        obj = self._finish(resource, copy.deepcopy(obj), namespace)
        self.revision += 1
        obj["metadata"]["resourceVersion"] = str(self.revision)
        self.objects[self._key(resource, namespace, obj["metadata"]["name"])] = obj
        return obj

    def _on_write(self, resource, obj, old):
        meta = obj["metadata"]
        if resource.kind == "ConfigMap" and (meta.get("namespace"), meta["name"]) == BIRD_TEMPLATES:
            self._start_rollout()
        elif resource.kind == "EgressGateway":
            self._schedule_gateway(obj)

    def _start_rollout(self):
        ds = self.objects.get(("apps/v1", "daemonsets", CALICO_NODE[0], CALICO_NODE[1]))
        if ds is None:
            return
        ds["metadata"]["generation"] += 1
        ds["status"]["updatedNumberScheduled"] = 0
        self._rollout_pending = self.rollout_reads

    def _on_read(self, resource, obj):
        meta = obj["metadata"]
        if (
            resource.kind == "DaemonSet"
            and (meta.get("namespace"), meta["name"]) == CALICO_NODE
            and self._rollout_pending is not None
        ):
            if self._rollout_pending <= 0:
                status = obj["status"]
                status["observedGeneration"] = meta["generation"]
                status["updatedNumberScheduled"] = status["desiredNumberScheduled"]
                self._rollout_pending = None
            else:
                self._rollout_pending -= 1
        elif resource.kind == "CalicoNodeStatus":
            self._report_sessions(obj)

    def _report_sessions(self, obj):
        node = obj["spec"].get("node")
        if "status" not in obj:  # calico-node reports after its first update period
            obj["status"] = {}
            return
        if self.session_reporter is not None:
            peers = self.session_reporter(node)
            if peers is None:  # the node has not reported yet
                obj["status"] = {}
                return
            peers = [dict(peer) for peer in peers]
        else:
            peers = []
            for key, peer in self.objects.items():
                if key[1] != "bgppeers" or peer["spec"].get("node") != node:
                    continue
                state = "Active" if node in self.idle_nodes else "Established"
                peers.append(
                    {"peerIP": peer["spec"]["peerIP"], "type": "NodePeer", "state": state, "since": "2026-01-01 00:00:00"}
                )
        established = sum(1 for p in peers if p["state"] == "Established")
        obj["status"] = {
            "lastUpdated": _now(),
            "bgp": {
                "numberEstablishedV4": established,
                "numberNotEstablishedV4": len(peers) - established,
                "numberEstablishedV6": 0,
                "numberNotEstablishedV6": 0,
                "peersV4": peers,
            },
        }

    def _schedule_gateway(self, egw):
        """What the Tigera operator and Calico IPAM do for an EgressGateway: pods with IPs from its pools."""
        meta, spec = egw["metadata"], egw["spec"]
        namespace = meta["namespace"]
        labels = dict(
            ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {"projectcalico.org/egw": meta["name"]}
        )
        nodes = []
        for term in (
            (((spec.get("template") or {}).get("spec") or {}).get("affinity") or {})
            .get("nodeAffinity", {})
            .get("requiredDuringSchedulingIgnoredDuringExecution", {})
            .get("nodeSelectorTerms", [])
        ):
            for expression in term.get("matchExpressions", []):
                if expression.get("key") == "kubernetes.io/hostname" and expression.get("operator") == "In":
                    nodes.extend(expression.get("values", []))
        nodes = nodes or sorted(k[3] for k in self.objects if k[1] == "nodes")
        addresses = []
        for ref in spec.get("ipPools", []):
            for key, pool in self.objects.items():
                if key[1] == "ippools" and (
                    pool["metadata"]["name"] == ref.get("name") or pool["spec"]["cidr"] == ref.get("cidr")
                ):
                    addresses.extend(str(ip) for ip in ipaddress.ip_network(pool["spec"]["cidr"]))
        for key in [
            k
            for k, o in self.objects.items()
            if k[1] == "pods"
            and k[2] == namespace
            and (o["metadata"].get("labels") or {}).get("projectcalico.org/egw") == meta["name"]
        ]:
            self.objects.pop(key)
        for index in range(int(spec.get("replicas", 1))):
            pod_ip = addresses[index] if index < len(addresses) else None
            pod = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "%s-%d" % (meta["name"], index), "namespace": namespace, "labels": labels},
                "spec": {"nodeName": nodes[index % len(nodes)] if nodes else None, "containers": [{"name": "egress-gateway"}]},
                "status": {
                    "phase": "Running" if pod_ip else "Pending",
                    "podIP": pod_ip,
                    "conditions": [{"type": "Ready", "status": "True" if pod_ip else "False"}],
                },
            }
            self._put("v1", "pods", pod)

    def seed(self, variant, nodes):
        """A cluster with Calico installed by the Tigera operator: what the role expects to find."""
        for name in ("default", "kube-system", "calico-system", "tigera-operator"):
            self._put("v1", "namespaces", {"metadata": {"name": name}})
        for name in nodes:
            self._put("v1", "nodes", {"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}}})
        self._put(
            "operator.tigera.io/v1",
            "installations",
            {
                "apiVersion": "operator.tigera.io/v1",
                "kind": "Installation",
                "metadata": {"name": "default"},
                "spec": {
                    "variant": variant,
                    "calicoNetwork": {"ipPools": [{"cidr": "192.168.0.0/16", "encapsulation": "VXLANCrossSubnet"}]},
                },
                "status": {"variant": variant, "calicoVersion": self.calico_version},
            },
        )
        if ("projectcalico.org/v3", "ippools") in self.resources:
            self._put(
                "projectcalico.org/v3",
                "ippools",
                {
                    "apiVersion": "projectcalico.org/v3",
                    "kind": "IPPool",
                    "metadata": {"name": "default-ipv4-ippool"},
                    "spec": {
                        "cidr": "192.168.0.0/16",
                        "blockSize": 26,
                        "vxlanMode": "CrossSubnet",
                        "ipipMode": "Never",
                        "natOutgoing": True,
                    },
                },
            )
            self._put(
                "projectcalico.org/v3",
                "felixconfigurations",
                {
                    "apiVersion": "projectcalico.org/v3",
                    "kind": "FelixConfiguration",
                    "metadata": {"name": "default"},
                    "spec": {"logSeverityScreen": "Info", "reportingInterval": "0s", "bpfEnabled": False},
                },
            )
        self._put(
            "apps/v1",
            "daemonsets",
            {
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "metadata": {"name": CALICO_NODE[1], "namespace": CALICO_NODE[0], "labels": {"k8s-app": "calico-node"}},
                "spec": {"selector": {"matchLabels": {"k8s-app": "calico-node"}}},
                "status": {
                    "desiredNumberScheduled": len(nodes),
                    "currentNumberScheduled": len(nodes),
                    "numberReady": len(nodes),
                    "numberAvailable": len(nodes),
                    "updatedNumberScheduled": len(nodes),
                    "observedGeneration": 1,
                },
            },
        )
        for name in nodes:
            self._put(
                "v1",
                "pods",
                {
                    "metadata": {
                        "name": "calico-node-%s" % name,
                        "namespace": CALICO_NODE[0],
                        "labels": {"k8s-app": "calico-node"},
                    },
                    "spec": {
                        "nodeName": name,
                        "containers": [{"name": "calico-node", "image": "quay.io/tigera/cnx-node:%s" % self.calico_version}],
                    },
                    "status": {"phase": "Running"},
                },
            )
        self._rollout_pending = None


def _rebuild(config, paths):
    """The part of an applied config that covers only paths."""
    result = {}
    for path in paths:
        value, present = get_path(config, path)
        if not present or not path:
            continue
        node = result
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = copy.deepcopy(value)
    return result


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    cluster = None  # set by make_server

    def log_message(self, fmt, *args):  # quiet; requests are recorded on the cluster
        pass

    def _send(self, code, body):
        payload = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        try:
            if content_type == APPLY_TYPE:
                return yaml.safe_load(raw.decode()) or {}
            return json.loads(raw.decode())
        except ValueError as exc:
            raise ApiError(400, "BadRequest", "cannot decode body: %s" % exc)

    def _route(self, method):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        parts = [p for p in url.path.split("/") if p]
        cluster = self.cluster
        cluster.requests.append((method, url.path, query))
        if method == "GET" and parts == ["version"]:
            return 200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-calico-egress-standin", "platform": "linux/amd64"}
        if method == "GET" and parts == ["api"]:
            return 200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
        if method == "GET" and parts == ["apis"]:
            groups = []
            for group, versions in sorted(cluster.groups().items()):
                entries = [{"groupVersion": "%s/%s" % (group, v), "version": v} for v in sorted(versions)]
                groups.append({"name": group, "versions": entries, "preferredVersion": entries[0]})
            return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
        if parts[:1] == ["api"]:
            group_version, rest = parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            group_version, rest = "%s/%s" % (parts[1], parts[2]), parts[3:]
        elif parts[:1] == ["apis"] and len(parts) == 2:
            versions = sorted(cluster.groups().get(parts[1], []))
            if not versions:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            entries = [{"groupVersion": "%s/%s" % (parts[1], v), "version": v} for v in versions]
            return 200, {
                "kind": "APIGroup",
                "apiVersion": "v1",
                "name": parts[1],
                "versions": entries,
                "preferredVersion": entries[0],
            }
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if not rest:
            return 200, cluster.resource_list(group_version)
        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        resource = cluster.resource(group_version, rest[0])
        name = rest[1] if len(rest) > 1 else None
        subresource = rest[2] if len(rest) > 2 else None
        if subresource not in (None, "status"):
            raise ApiError(404, "NotFound", "subresource %s is not served by the stand-in" % subresource)
        if resource.namespaced and name is not None and not namespace:
            raise ApiError(404, "NotFound", "%s is namespaced" % resource.plural)
        dry_run = query.get("dryRun") == "All"
        manager = query.get("fieldManager")
        force = query.get("force") in ("true", "True", "1")
        if method == "GET":
            if name is None:
                return 200, cluster.list(resource, namespace, query.get("labelSelector"))
            return 200, cluster.get(resource, namespace, name)
        if method == "POST" and name is None:
            return 201, cluster.create(resource, namespace, self._body(), dry_run, manager)
        if method == "PUT" and name:
            return 200, cluster.replace(resource, namespace, name, self._body(), dry_run)
        if method == "PATCH" and name:
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            return 200, cluster.patch(
                resource, namespace, name, self._body(), content_type, dry_run=dry_run, manager=manager, force=force
            )
        if method == "DELETE" and name:
            return 200, cluster.delete(resource, namespace, name, dry_run)
        raise ApiError(405, "MethodNotAllowed", "%s is not supported on %s" % (method, self.path))

    def _handle(self, method):
        try:
            code, body = self._route(method)
        except ApiError as exc:
            code, body = exc.code, exc.status()
        except Exception as exc:  # the stand-in must answer, never hang the client
            code, body = 500, ApiError(500, "InternalError", "stand-in error: %r" % (exc,)).status()
        self._send(code, body)

    def do_GET(self):  # noqa: N802 - http.server naming
        self._handle("GET")

    def do_POST(self):  # noqa: N802
        self._handle("POST")

    def do_PUT(self):  # noqa: N802
        self._handle("PUT")

    def do_PATCH(self):  # noqa: N802
        self._handle("PATCH")

    def do_DELETE(self):  # noqa: N802
        self._handle("DELETE")


def make_server(cluster, host="127.0.0.1", port=0):
    handler = type("BoundHandler", (Handler,), {"cluster": cluster})
    return ThreadingHTTPServer((host, port), handler)


def kubeconfig(url):
    """A kubeconfig dict pointing at the stand-in (plain HTTP on loopback, a dummy token)."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "standin", "cluster": {"server": url}}],
        "users": [{"name": "standin", "user": {"token": "standin"}}],
        "contexts": [{"name": "standin", "context": {"cluster": "standin", "user": "standin"}}],
        "current-context": "standin",
    }
