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
from tests.vm.harness import FILES, ROOT, TIMINGS, PlaybookRun

BIN = os.path.dirname(sys.executable)


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.write_sep("-", "VM layer timings (seconds)")
        for name, seconds in TIMINGS.items():
            terminalreporter.write_line("%-40s %7.1f" % (name, seconds))


# Module scope: the VM is gone before the lab layer (tests/lab_e2e) boots its three.
@pytest.fixture(scope="module")
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
