"""Shared by tests/vm/conftest.py and the VM tests (one module instance, so TIMINGS is shared)."""

import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FILES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "files")
TIMINGS = {}


class PlaybookRun(object):
    """Result of one ansible-playbook run read from the ansible.posix.json callback."""

    def __init__(self, completed):
        self.returncode = completed.returncode
        self.stderr = completed.stderr
        start = completed.stdout.find("{")
        self.data = json.loads(completed.stdout[start:]) if start >= 0 else {"plays": [], "stats": {}}
        self.stats = self.data.get("stats", {})

    def changed(self, host):
        return self.stats[host]["changed"]

    def failed(self, host):
        return self.stats[host]["failures"] + self.stats[host]["unreachable"]

    def results(self, host):
        for play in self.data["plays"]:
            for task in play["tasks"]:
                if host in task["hosts"]:
                    yield task["task"]["name"], task["hosts"][host]

    def failure_message(self, host):
        return " | ".join("%s: %s" % (name, result.get("msg")) for name, result in self.results(host) if result.get("failed"))

    def fact(self, host, name):
        value = None
        for _name, result in self.results(host):
            value = result.get("ansible_facts", {}).get(name, value)
        return value
