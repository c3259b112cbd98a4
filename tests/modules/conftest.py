"""`nfw_aws`: the AWS stand-in's `aws` fixture when lab.aws.fixtures (issue 3) is available, else a local
network-firewall-only endpoint (nfw_standin.py) with the same client interface."""

import importlib.util

import pytest
from nfw_standin import LocalNetworkFirewall

HAS_FULL_STANDIN = importlib.util.find_spec("lab.aws.fixtures") is not None


@pytest.fixture(scope="session")
def _local_nfw():
    standin = LocalNetworkFirewall()
    yield standin
    standin.close()


@pytest.fixture
def nfw_aws(request):
    if HAS_FULL_STANDIN:
        return request.getfixturevalue("aws")
    standin = request.getfixturevalue("_local_nfw")
    standin.reset()
    return standin
