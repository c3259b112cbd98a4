# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja2 filters of the gre_tunnel role (docs: one YAML file per filter)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.calico_egress.aws.plugins.module_utils import connect_addressing, gre_tunnel


def _wrap(function):
    def filter_function(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (gre_tunnel.TunnelSettingsError, connect_addressing.AddressingError) as exc:
            raise AnsibleFilterError(to_native(exc))

    filter_function.__name__ = function.__name__
    return filter_function


def gre_tunnel_settings(options):
    """options: a dict of the role's inputs without the gre_tunnel_ prefix."""
    if not isinstance(options, dict):
        raise AnsibleFilterError("gre_tunnel_settings: expected a dict of options, got %s" % type(options).__name__)
    return gre_tunnel.tunnel_settings(options)


def gre_tunnel_live(ip_json):
    return gre_tunnel.live_tunnel(ip_json)


def gre_tunnel_differences(live, settings):
    return gre_tunnel.tunnel_differences(settings, live)


class FilterModule(object):
    def filters(self):
        return {function.__name__: _wrap(function) for function in (gre_tunnel_settings, gre_tunnel_live, gre_tunnel_differences)}
