# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.calico_egress.aws.plugins.filter.connect import FilterModule

FILTERS = FilterModule().filters()


def test_filters_exposed():
    assert set(FILTERS) == {"connect_inside_addresses", "connect_allocate_inside_cidrs", "connect_assign_inside_cidrs"}


def test_inside_addresses_filter():
    assert FILTERS["connect_inside_addresses"]("169.254.6.0/29")["tgw_addresses"] == ["169.254.6.2", "169.254.6.3"]


def test_allocate_filter_matches_documented_example():
    assert FILTERS["connect_allocate_inside_cidrs"](["169.254.6.0/29"], 2, pool="169.254.6.0/24") == [
        "169.254.6.8/29",
        "169.254.6.16/29",
    ]


def test_assign_filter():
    got = FILTERS["connect_assign_inside_cidrs"](["b", "a"], existing={"b": "169.254.6.0/29"}, in_use=["169.254.0.8/29"])
    assert got == {"a": "169.254.0.16/29", "b": "169.254.6.0/29"}


def test_filter_errors_become_ansible_filter_errors():
    with pytest.raises(AnsibleFilterError, match="connect_inside_addresses: inside_cidr: 169.254.1.0/29 is reserved"):
        FILTERS["connect_inside_addresses"]("169.254.1.0/29")
