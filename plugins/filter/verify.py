# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the verify role: turn API answers into check results and the summary table."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.calico_egress.aws.plugins.module_utils import verify_checks

# verify_checks guards its netaddr import; the filters say so by name when it is missing.
HAS_NETADDR = verify_checks.HAS_NETADDR


def _needs_netaddr(function):
    def wrapper(*args, **kwargs):
        if not HAS_NETADDR:
            raise AnsibleFilterError("%s requires the netaddr Python library" % function.__name__)
        return function(*args, **kwargs)

    wrapper.__name__ = function.__name__
    return wrapper


def verify_connect_peers(connect_peers, expected_nodes=None):
    return verify_checks.connect_peer_results(connect_peers, expected_nodes)


def verify_propagated_routes(routes, egress_cidrs):
    return verify_checks.propagated_route_results(routes, egress_cidrs)


def verify_gre_links(probes, name):
    return verify_checks.gre_link_results(probes, name)


def verify_calico_sessions(report, error=""):
    return verify_checks.calico_session_results(report, error)


def verify_flow(connected, check, target, expect_connect, seen_source=None, allowed_sources=None, detail=""):
    return [verify_checks.flow_result(check, target, expect_connect, connected, seen_source, allowed_sources, detail)]


def verify_table(results):
    return verify_checks.render_table(results)


class FilterModule(object):
    def filters(self):
        functions = (
            verify_connect_peers,
            verify_propagated_routes,
            verify_gre_links,
            verify_calico_sessions,
            verify_flow,
            verify_table,
        )
        return {function.__name__: _needs_netaddr(function) for function in functions}
