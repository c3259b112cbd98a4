# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Options shared by the network_firewall_* modules that change AWS objects.
    WAIT = r"""
options:
  wait:
    description: Wait until the changed object is C(ACTIVE) (or gone, after a deletion).
    type: bool
    default: true
  wait_timeout:
    description: How long to wait, in seconds.
    type: int
    default: 300
"""
