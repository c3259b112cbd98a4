"""Fixtures of the stand-in layer (helpers live in kube_support.py)."""

import pytest
from kube_support import start


@pytest.fixture
def kube(tmp_path):
    instance = start(tmp_path)
    yield instance
    instance.server.shutdown()
    instance.server.server_close()


@pytest.fixture
def kube_factory(tmp_path):
    started = []

    def factory(**cluster_args):
        instance = start(tmp_path, **cluster_args)
        started.append(instance)
        return instance

    yield factory
    for instance in started:
        instance.server.shutdown()
        instance.server.server_close()
