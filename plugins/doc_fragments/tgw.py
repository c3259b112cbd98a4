# -*- coding: utf-8 -*-
# Copyright: calico_egress.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    """Options shared by the transit gateway modules."""

    # Waiting (there are no botocore waiters for TGW objects: the modules poll one describe call for all ids).
    WAIT = r"""
options:
  wait:
    description: Wait until the objects changed reach their final state (C(available), or gone when deleted).
    type: bool
    default: true
  wait_timeout:
    description: How long to wait, in seconds.
    type: int
    default: 600
"""

    # Tags of Connect attachments and peers (their only mutable attribute).
    TAGS = r"""
options:
  tags:
    description: Tags for the object (C(Name) is set from O(name) where the module has it).
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags that are not in O(tags) (C(aws:) tags are never removed).
    type: bool
    default: false
"""
