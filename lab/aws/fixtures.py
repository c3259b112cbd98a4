"""pytest plugin: the AWS stand-in as fixtures (registered in the root conftest.py).

aws_standin: one stand-in process for the session, on a free loopback port.
aws: per test, the same stand-in wiped (state, knobs, call log) and a StandinClient for it.
"""

import os
import subprocess
import sys
import threading

import pytest

from lab.aws.client import StandinClient

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
START_TIMEOUT = 60


class StandinProcess:
    """`python -m lab.aws --port 0` in a child process (own moto state, no clash with in-process moto mocks)."""

    def __init__(self):
        env = dict(os.environ)
        env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
        # moto's default AMI catalogue makes every reset ~5x slower; tests register the images they need.
        env.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lab.aws", "--host", "127.0.0.1", "--port", "0"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.endpoint_url = self._read_endpoint()
        # Keep draining stdout so the child never blocks on a full pipe.
        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    def _read_endpoint(self):
        result = {}

        def read_first_line():
            result["line"] = self.process.stdout.readline()

        reader = threading.Thread(target=read_first_line, daemon=True)
        reader.start()
        reader.join(START_TIMEOUT)
        line = result.get("line", "")
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError("AWS stand-in did not start (first line: %r)" % line)
        return line.split(" ", 2)[2].strip()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="session")
def aws_standin():
    """The running stand-in: a StandinClient whose state persists across tests (use `aws` to start clean)."""
    process = StandinProcess()
    try:
        yield StandinClient(process.endpoint_url)
    finally:
        process.stop()


@pytest.fixture
def aws(aws_standin):
    """A clean stand-in for this test: state, knobs and call log reset."""
    aws_standin.reset()
    return aws_standin
