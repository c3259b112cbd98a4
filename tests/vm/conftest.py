"""The VM layer: one Debian VM (real kernel, systemd, netplan, NetworkManager, BIRD, FRR) per test session.

When the VM cannot start on this machine the fixture raises: every test of the layer errors, none is skipped.
"""

import json
import os
import subprocess
import sys
import time

import pytest

from lab.vm import image, machine

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FILES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "files")
BIN = os.path.dirname(sys.executable)
TIMINGS = {}


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.write_sep("-", "VM layer timings (seconds)")
        for name, seconds in TIMINGS.items():
            terminalreporter.write_line("%-40s %7.1f" % (name, seconds))


@pytest.fixture(scope="session")
def vm():
    started = time.monotonic()
    had_image = os.path.exists(os.path.join(image.image_dir(), "rootfs.ext4"))
    image.ensure_image(log=lambda message: None)
    if not had_image:
        TIMINGS["image build"] = time.monotonic() - started
    else:
        with open(os.path.join(image.image_dir(), "inputs.json")) as handle:
            TIMINGS["image build (cached; when built)"] = json.load(handle)["build_seconds"]
    box = machine.Machine("pytest-%d" % os.getpid())
    state = box.start(log=lambda message: None)
    TIMINGS["boot to SSH"] = state["boot_seconds"]
    yield box
    box.stop()
    TIMINGS["VM layer total (build/boot/tests/stop)"] = time.monotonic() - started


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


@pytest.fixture(scope="session")
def run_playbook():
    def run(inventory, playbook="site.yml", extra_vars=None, check=False, timeout=900):
        argv = [os.path.join(BIN, "ansible-playbook"), "-i", inventory, os.path.join(FILES, playbook), "--diff"]
        if check:
            argv.append("--check")
        if extra_vars:
            argv += ["-e", json.dumps(extra_vars)]
        env = dict(
            os.environ,
            ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"),
            ANSIBLE_HOME=os.path.join(ROOT, ".build", "ansible-home"),
            ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
            ANSIBLE_HOST_KEY_CHECKING="False",
            ANSIBLE_FORKS="10",
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_RETRY_FILES_ENABLED="False",
        )
        started = time.monotonic()
        completed = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout, check=False)
        label = "ansible-playbook%s%s" % (" --check" if check else "", " " + json.dumps(extra_vars) if extra_vars else "")
        TIMINGS["%s (#%d)" % (label, len(TIMINGS))] = time.monotonic() - started
        return PlaybookRun(completed)

    return run
