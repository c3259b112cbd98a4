"""CRD schemas from ../shared/crds turned into validators that behave like kube-apiserver's.

What is enforced (what kube-apiserver does for a structural CRD schema with field validation Strict):
types, enums, required, minimum/maximum, pattern, items, maps (additionalProperties), int-or-string,
nullable, and unknown fields refused wherever the schema lists properties and does not say
x-kubernetes-preserve-unknown-fields. Defaults are applied on write. Not enforced: CEL rules
(x-kubernetes-validations), formats, list-type uniqueness.
"""

import copy
import functools
import os
import re

import jsonschema
import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

# Which CRD folder backs which API group in each schema set.
SCHEMA_SETS = {
    "enterprise": {
        "projectcalico.org/v3": ["calico-enterprise/v3", "calico-oss-v3.32/v3:caliconodestatuses"],
        "crd.projectcalico.org/v1": ["calico-enterprise/v1"],
        "operator.tigera.io/v1": ["operator"],
    },
    "oss-v3.32": {
        "projectcalico.org/v3": ["calico-oss-v3.32/v3"],
        "crd.projectcalico.org/v1": ["calico-oss-v3.31/v1"],
        "operator.tigera.io/v1": ["operator:installations"],
    },
    "oss-v3.31": {
        "crd.projectcalico.org/v1": ["calico-oss-v3.31/v1"],
        "operator.tigera.io/v1": ["operator:installations"],
    },
}


def shared_dir():
    return os.environ.get("CALICO_EGRESS_SHARED") or os.path.join(os.path.dirname(REPO_ROOT), "shared")


def _to_jsonschema(node):
    """openAPIV3Schema (structural) -> JSON Schema with Kubernetes' unknown-field and int-or-string rules."""
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key.startswith("x-kubernetes-") or key in ("description", "format", "example", "externalDocs", "default"):
            continue
        if key == "properties":
            out[key] = {name: _to_jsonschema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not"):
            out[key] = _to_jsonschema(value) if isinstance(value, dict) else value
        elif key in ("anyOf", "allOf", "oneOf"):
            out[key] = [_to_jsonschema(sub) for sub in value]
        elif key == "nullable":
            continue
        elif key == "pattern":
            pattern = _python_pattern(value)
            if pattern is not None:
                out[key] = pattern
        else:
            out[key] = value
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["type"] = ["integer", "string"]
    if "properties" in node and "additionalProperties" not in node and not node.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    if node.get("nullable") and "type" in out:
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        out["type"] = types + ["null"]
    return out


def _python_pattern(pattern):
    """Go RE2 allows inline flags mid-pattern ('^(?i)(a|b)$'); Python wants them first."""
    if "(?i)" in pattern:
        pattern = "(?i)" + pattern.replace("(?i)", "")
    try:
        re.compile(pattern)
    except re.error:  # an RE2 construct Python lacks: not enforced (listed in the README)
        return None
    return pattern


def apply_defaults(schema, obj):
    """Fill schema defaults into obj in place (only under objects that exist, like kube-apiserver)."""
    if not isinstance(obj, dict) or not isinstance(schema, dict):
        if isinstance(obj, list) and isinstance(schema, dict) and isinstance(schema.get("items"), dict):
            for item in obj:
                apply_defaults(schema["items"], item)
        return obj
    for name, sub in (schema.get("properties") or {}).items():
        if name not in obj and isinstance(sub, dict) and "default" in sub:
            obj[name] = copy.deepcopy(sub["default"])
        if name in obj:
            apply_defaults(sub, obj[name])
    return obj


class Resource:
    """One served resource: names, scope and (for CRDs) the schema."""

    def __init__(self, group_version, kind, plural, namespaced, *, singular=None, schema=None, short_names=()):
        self.group_version = group_version
        self.group, _sep, self.version = group_version.rpartition("/")
        self.kind = kind
        self.plural = plural
        self.singular = singular or kind.lower()
        self.namespaced = namespaced
        self.raw_schema = schema
        self.short_names = list(short_names)
        self.validator = None
        if schema is not None:
            top = copy.deepcopy(schema)
            props = top.setdefault("properties", {})
            props["metadata"] = {"type": "object"}  # metadata is checked by validate_metadata
            json_schema = _to_jsonschema(top)
            json_schema["properties"]["metadata"] = {"type": "object"}
            self.validator = jsonschema.Draft7Validator(json_schema)

    def validate(self, obj):
        """Return a list of 'path: message' strings (empty when valid)."""
        errors = validate_metadata(obj.get("metadata"), self.namespaced)
        if obj.get("kind") != self.kind:
            errors.append("kind: %r does not match %s" % (obj.get("kind"), self.kind))
        if obj.get("apiVersion") != self.group_version:
            errors.append("apiVersion: %r does not match %s" % (obj.get("apiVersion"), self.group_version))
        if self.validator is not None:
            for error in sorted(self.validator.iter_errors(obj), key=lambda e: list(e.absolute_path)):
                path = ".".join(str(p) for p in error.absolute_path) or "<root>"
                if error.validator == "additionalProperties":
                    extras = sorted(set(error.instance) - set(error.schema.get("properties", {})))
                    errors.extend('%s: unknown field "%s"' % (path if path != "<root>" else "", e) for e in extras)
                else:
                    errors.append("%s: %s" % (path, error.message))
        return errors

    def default(self, obj):
        if self.raw_schema is not None:
            apply_defaults(self.raw_schema, obj)
        return obj


def validate_metadata(meta, namespaced):
    errors = []
    if not isinstance(meta, dict):
        return ["metadata: must be an object"]
    name = meta.get("name")
    if not isinstance(name, str) or not name or len(name) > 253 or not DNS_SUBDOMAIN.match(name):
        errors.append("metadata.name: Invalid value: %r: a lowercase RFC 1123 subdomain is required" % (name,))
    for key, value in (meta.get("labels") or {}).items():
        if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value):
            errors.append("metadata.labels.%s: Invalid value: %r" % (key, value))
    for key, value in (meta.get("annotations") or {}).items():
        if not isinstance(value, str):
            errors.append("metadata.annotations.%s: must be a string" % key)
    return errors


def load_crd_resources(schema_set="enterprise", root=None):
    """Resources for every CRD of a schema set, keyed by (group/version, plural) (parsed once per process)."""
    return dict(_load_crd_resources(schema_set, root or os.path.join(shared_dir(), "crds")))


@functools.cache
def _load_crd_resources(schema_set, root):
    if not os.path.isdir(root):
        raise RuntimeError("CRD schemas not found at %s (set CALICO_EGRESS_SHARED)" % root)
    resources = {}
    for group_version, folders in SCHEMA_SETS[schema_set].items():
        for entry in folders:
            folder, _sep, only = entry.partition(":")
            path = os.path.join(root, folder)
            for filename in sorted(os.listdir(path)):
                if not filename.endswith(".yaml") or (only and only not in filename):
                    continue
                with open(os.path.join(path, filename)) as handle:
                    crd = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
                names = crd["spec"]["names"]
                group = group_version.rpartition("/")[0]
                for version in crd["spec"]["versions"]:
                    if "%s/%s" % (crd["spec"]["group"], version["name"]) != group_version or group != crd["spec"]["group"]:
                        continue
                    resources[(group_version, names["plural"])] = Resource(
                        group_version,
                        names["kind"],
                        names["plural"],
                        crd["spec"]["scope"] == "Namespaced",
                        singular=names.get("singular"),
                        schema=version["schema"]["openAPIV3Schema"],
                        short_names=names.get("shortNames") or (),
                    )
    return tuple(resources.items())


def builtin_resources():
    """Core and apps resources the role touches (no schema: kube-apiserver's own types are not in ../shared)."""
    items = [
        Resource("v1", "Namespace", "namespaces", False, short_names=["ns"]),
        Resource("v1", "Node", "nodes", False, short_names=["no"]),
        Resource("v1", "ConfigMap", "configmaps", True, short_names=["cm"]),
        Resource("v1", "Pod", "pods", True, short_names=["po"]),
        Resource("apps/v1", "DaemonSet", "daemonsets", True, short_names=["ds"]),
        Resource("apps/v1", "Deployment", "deployments", True, short_names=["deploy"]),
    ]
    return {(r.group_version, r.plural): r for r in items}
