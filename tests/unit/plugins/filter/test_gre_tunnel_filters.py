# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.calico_egress.aws.plugins.filter.gre_tunnel import FilterModule

FILTERS = FilterModule().filters()
GOOD = {"name": "gre-tgw", "local_address": "10.0.1.10", "remote_address": "10.99.0.1", "inside_address": "169.254.6.1/29"}


def test_filters_exposed():
    assert set(FILTERS) == {"gre_tunnel_settings", "gre_tunnel_live", "gre_tunnel_differences"}


def test_settings_filter_turns_errors_into_filter_errors_naming_the_variable():
    assert FILTERS["gre_tunnel_settings"](GOOD)["tgw_inside_addresses"] == ["169.254.6.2", "169.254.6.3"]
    with pytest.raises(AnsibleFilterError, match="gre_tunnel_mtu: 9000"):
        FILTERS["gre_tunnel_settings"](dict(GOOD, mtu=9000))
    with pytest.raises(AnsibleFilterError, match="expected a dict"):
        FILTERS["gre_tunnel_settings"]("gre-tgw")


def test_live_and_differences_filters_chain():
    live = FILTERS["gre_tunnel_live"]([])
    assert FILTERS["gre_tunnel_differences"](live, FILTERS["gre_tunnel_settings"](GOOD)) == ["the link does not exist"]
