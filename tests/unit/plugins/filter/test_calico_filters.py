# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.calico_egress.aws.plugins.filter.calico import FilterModule

FILTERS = FilterModule().filters()
FILTER_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "filter")
CONFIG = {
    "bgp_as_number": 65010,
    "tunnel_nodes": [
        {"name": "node-a", "peer": {"tgw_inside_addresses": ["169.254.6.2", "169.254.6.3"], "tgw_asn": 64512, "peer_asn": 65010}}
    ],
    "egress_ip_pools": [{"name": "egress-pool", "cidr": "10.10.10.0/31"}],
}


def test_every_filter_has_its_documentation_file():
    for name in FILTERS:
        assert os.path.isfile(os.path.join(FILTER_DIR, name + ".yml")), name


def test_manifests_filter_returns_objects_and_names():
    built = FILTERS["calico_manifests"](CONFIG)
    assert built["bgp_peer_names"] == ["tgw-node-a-169-254-6-2", "tgw-node-a-169-254-6-3"]
    assert built["egress_gateway_cidrs"] == ["10.10.10.0/31"]


def test_errors_become_filter_errors_naming_the_variable():
    with pytest.raises(AnsibleFilterError, match="calico_manifests: calico_bgp_bind_mode"):
        FILTERS["calico_manifests"](dict(CONFIG, bgp_bind_mode="NodeIP"))
    with pytest.raises(AnsibleFilterError, match="calico_bird_template_patch: .*calico-node v9"):
        FILTERS["calico_bird_template_patch"]("protocol kernel {\n}\n", "v9")


def test_small_filters():
    status = FILTERS["calico_node_status_manifest"]("node-a")
    assert status["spec"] == {"node": "node-a", "classes": ["BGP"], "updatePeriodSeconds": 5}
    report = FILTERS["calico_bgp_session_report"]([], [{"name": "node-a", "tgw_addresses": ["169.254.6.2"]}])
    assert report["not_established"] == ["node-a 169.254.6.2: NotReported"]
    assert (
        FILTERS["calico_manifest_filename"]({"kind": "EgressGateway", "metadata": {"name": "gw", "namespace": "apps"}}, 9)
        == "09-egressgateway-apps-gw.yaml"
    )


def test_teardown_filters():
    selector = FILTERS["calico_owner_selector"]("blue")
    assert selector == "app.kubernetes.io/managed-by=calico_egress.aws,calico-egress.aws/instance=blue"
    namespaces = [{"metadata": {"name": "apps", "managedFields": [{"manager": "calico-egress-aws"}]}}]
    assert FILTERS["calico_field_managed"](namespaces, "calico-egress-aws") == ["apps"]
    pools = [{"metadata": {"name": "egress"}, "spec": {"cidr": "10.10.10.0/31"}}]
    assert FILTERS["calico_allocated_pools"](pools, [{"status": {"podIP": "10.10.10.0"}}]) == ["egress"]
