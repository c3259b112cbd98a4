# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja2 filters over the TGW Connect addressing rules (docs: one YAML file per filter)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.calico_egress.aws.plugins.module_utils import connect_addressing


def _wrap(function):
    def filter_function(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except connect_addressing.AddressingError as exc:
            raise AnsibleFilterError("%s: %s" % (function.__name__, to_native(exc)))

    filter_function.__name__ = function.__name__
    return filter_function


def connect_inside_addresses(cidr):
    return connect_addressing.inside_addresses(cidr)


def connect_allocate_inside_cidrs(in_use, count=1, pool=connect_addressing.INSIDE_POOL_V4):
    return connect_addressing.allocate_inside_cidrs(int(count), list(in_use or []), pool)


def connect_assign_inside_cidrs(names, existing=None, in_use=None, pool=connect_addressing.INSIDE_POOL_V4):
    return connect_addressing.assign_inside_cidrs(list(names or []), existing or {}, list(in_use or []), pool)


class FilterModule(object):
    def filters(self):
        return {
            function.__name__: _wrap(function)
            for function in (connect_inside_addresses, connect_allocate_inside_cidrs, connect_assign_inside_cidrs)
        }
