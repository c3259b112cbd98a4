"""Run a module's main() in-process, the way Ansible would, and return its result.

Used by module tests against the local stand-ins: real argument parsing, real check mode and diff
handling, real exit_json/fail_json, no subprocess per call. Works on ansible-core 2.16-2.19+.
"""

import json
from contextlib import contextmanager
from unittest import mock

from ansible.module_utils import basic

try:  # ansible-core >= 2.19: the classic _ANSIBLE_ARGS patch needs a serialization profile
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # pragma: no cover - older ansible-core

    @contextmanager
    def patch_module_args(args=None):
        payload = json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}).encode()
        with mock.patch.object(basic, "_ANSIBLE_ARGS", payload):
            yield


class ModuleExit(Exception):
    """Carries the result of exit_json / fail_json out of main()."""

    def __init__(self, result):
        super().__init__(result)
        self.result = result


def _exit_json(self, **kwargs):
    kwargs.setdefault("changed", False)
    kwargs.setdefault("failed", False)
    raise ModuleExit(kwargs)


def _fail_json(self, msg=None, **kwargs):
    kwargs["failed"] = True
    kwargs["msg"] = msg
    raise ModuleExit(kwargs)


def run_module(module, args, check_mode=False, diff=False):
    """Run module.main() with args; return the result dict (result['failed'] tells failure).

    module: the imported module object (e.g. plugins.modules.tgw_connect_peer).
    """
    args = dict(args)
    args["_ansible_check_mode"] = check_mode
    args["_ansible_diff"] = diff
    with patch_module_args(args), mock.patch.multiple(basic.AnsibleModule, exit_json=_exit_json, fail_json=_fail_json):
        try:
            module.main()
        except ModuleExit as exit_:
            return exit_.result
    raise AssertionError("%s.main() returned without exit_json or fail_json" % module.__name__)
