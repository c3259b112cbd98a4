# -*- coding: utf-8 -*-
"""pytest bootstrap: make this checkout importable as ansible_collections.calico_egress.aws.

The repository is the collection, but Python imports it by its FQCN. A symlink under .build/ gives
it that name without copying (ansible-test, which refuses symlinks, gets a copy from tools/).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

# Fixtures `aws_standin` / `aws`: the local AWS stand-in (lab/aws/README.md).
pytest_plugins = ["lab.aws.fixtures"]

ROOT = os.path.dirname(os.path.abspath(__file__))
COLLECTIONS = os.path.join(ROOT, ".build", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "calico_egress", "aws")

if not os.path.islink(LINK):
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    os.symlink(ROOT, LINK)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
