"""The role's k8s_exec read of the stock template, at unit level: the module runs in-process and the
exec websocket (which the stand-in does not serve) is replaced by a fake delivering the template in chunks."""

import os
from unittest import mock

import yaml
from ansible_collections.kubernetes.core.plugins.modules import k8s_exec
from kube_support import TEMPLATE

from ansible_collections.calico_egress.aws.plugins.filter.calico import FilterModule
from tests.support.modules import run_module

TASKS = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "roles", "calico", "tasks", "template.yml"
)


class FakeExec:
    """Just enough of kubernetes.stream.ws_client.WSClient for k8s_exec."""

    def __init__(self, text):
        self.chunks = [text[i : i + 1000] for i in range(0, len(text), 1000)]

    def is_open(self):
        return bool(self.chunks)

    def update(self, timeout=0):
        pass

    def peek_stdout(self):
        return bool(self.chunks)

    def read_stdout(self):
        return self.chunks.pop(0)

    def peek_stderr(self):
        return False

    def read_channel(self, channel):
        return "status: Success\n"


def exec_task():
    with open(TASKS) as handle:
        block = next(task for task in yaml.safe_load(handle) if "block" in task)["block"]
    return next(task for task in block if "kubernetes.core.k8s_exec" in task)["kubernetes.core.k8s_exec"]


def test_template_read_through_k8s_exec_is_byte_identical_and_patchable(kube):
    with open(TEMPLATE) as handle:
        stock = handle.read()
    task = exec_task()
    calls = []

    def fake_stream(function, pod, namespace, **kwargs):
        calls.append((pod, namespace, kwargs))
        return FakeExec(stock)

    with mock.patch.object(k8s_exec, "stream", fake_stream, create=True):
        result = run_module(
            k8s_exec,
            {
                "kubeconfig": kube.kubeconfig,
                "namespace": task["namespace"],
                "pod": "calico-node-node-a",
                "container": task["container"],
                "command": task["command"],
            },
        )
    assert result["failed"] is False, result
    assert result["stdout"] == stock
    pod, namespace, kwargs = calls[0]
    assert (pod, namespace, kwargs["container"]) == ("calico-node-node-a", "calico-system", "calico-node")
    assert kwargs["command"] == ["cat", "/etc/calico/confd/templates/bird.cfg.template"]
    patched = FilterModule().filters()["calico_bird_template_patch"](result["stdout"], "quay.io/tigera/cnx-node:v3.21.2")
    assert patched["changed"] and "multihop 2;" in patched["template"]
