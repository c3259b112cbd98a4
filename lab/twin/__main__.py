"""python -m lab.twin {up,down,status}: the lab of `make lab` (README "Local lab")."""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

from lab.twin import daemon, topology

UP_TIMEOUT = 900


def _daemon_pid():
    try:
        with open(daemon.pid_file()) as handle:
            pid = int(handle.read().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def _log_tail(lines=40):
    try:
        with open(os.path.join(daemon.state_dir(), "daemon.log"), errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return "(no daemon log)"


def up():
    """Start the lab unless it runs; print world.json. Exit 1 with the daemon's log when it fails."""
    if _daemon_pid() is not None and daemon.read_world() is not None:
        print(json.dumps(daemon.read_world(), indent=1))
        return 0
    down()  # a daemon that never got ready, or VMs of a lab whose daemon died
    os.makedirs(daemon.state_dir(), exist_ok=True)
    for stale in ("world.json", "daemon.log"):
        if os.path.exists(os.path.join(daemon.state_dir(), stale)):
            os.unlink(os.path.join(daemon.state_dir(), stale))
    with open(os.path.join(daemon.state_dir(), "daemon.stderr"), "w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "lab.twin", "daemon"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    deadline = time.monotonic() + UP_TIMEOUT
    while time.monotonic() < deadline:
        if daemon.read_world() is not None:
            print(json.dumps(daemon.read_world(), indent=1))
            return 0
        if process.poll() is not None:
            break
        time.sleep(2)
    sys.stderr.write("the lab did not come up; daemon log:\n%s\n" % _log_tail())
    down()
    return 1


def down():
    pid = _daemon_pid()
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and _daemon_pid() is not None:
            time.sleep(1)
    topology.Topology().stop()
    return 0


def status():
    world = daemon.read_world()
    running = _daemon_pid() is not None
    print(json.dumps({"running": running, "world": world if running else None}, indent=1))
    return 0 if running else 3


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m lab.twin", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status", "daemon"])
    args = parser.parse_args(argv)
    if args.command == "daemon":
        daemon.run()
        return 0
    return {"up": up, "down": down, "status": status}[args.command]()


if __name__ == "__main__":
    sys.exit(main())
