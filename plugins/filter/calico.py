# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja2 filters over the Calico manifest builder and the BIRD template patch (docs: one YAML file per filter)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.calico_egress.aws.plugins.module_utils import bird_template
from ansible_collections.calico_egress.aws.plugins.module_utils import calico_manifests as manifests


def _wrap(function):
    def filter_function(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (manifests.CalicoManifestError, bird_template.BirdTemplateError) as exc:
            raise AnsibleFilterError("%s: %s" % (function.__name__, to_native(exc)))

    filter_function.__name__ = function.__name__
    return filter_function


def calico_manifests(config):
    return manifests.build_manifests(dict(config or {}))


def calico_bird_template_patch(template, calico_node_version=None):
    return bird_template.patch_bird_template(template, calico_node_version)


def calico_node_status_manifest(node, api_version=manifests.CALICO_API_VERSION, instance="default", prefix="tgw", period=5):
    return manifests.calico_node_status(node, api_version, instance, prefix, period)


def calico_bgp_session_report(statuses, nodes):
    return manifests.bgp_session_report(list(statuses or []), list(nodes or []))


def calico_stale_objects(existing, desired_names):
    return manifests.stale_objects(list(existing or []), list(desired_names or []))


def calico_pod_pools(ippools):
    return manifests.pod_pools(list(ippools or []))


def calico_tunnel_node(host_vars):
    return manifests.tunnel_node(host_vars)


def calico_owner_selector(instance):
    return manifests.owner_selector(instance)


def calico_field_managed(objects, manager):
    return manifests.field_managed(list(objects or []), manager)


def calico_allocated_pools(ippools, pods):
    return manifests.allocated_pools(list(ippools or []), list(pods or []))


def calico_manifest_filename(obj, index):
    return manifests.manifest_filename(int(index), obj)


class FilterModule(object):
    def filters(self):
        return {
            function.__name__: _wrap(function)
            for function in (
                calico_manifests,
                calico_bird_template_patch,
                calico_node_status_manifest,
                calico_bgp_session_report,
                calico_stale_objects,
                calico_pod_pools,
                calico_tunnel_node,
                calico_manifest_filename,
                calico_owner_selector,
                calico_field_managed,
                calico_allocated_pools,
            )
        }
