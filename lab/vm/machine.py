"""Boot, reach, reboot and stop the lab VM (QEMU TCG, SSH forwarded to a loopback port).

-accel kvm is never used: this host's /dev/kvm is PVM-only and hangs QEMU silently with a stock kernel.
-cpu qemu64 (override: CALICO_EGRESS_VM_CPU): under TCG, Python starts ~1.5x faster than with -cpu max, whose
AVX2 code paths TCG emulates slowly (measured here: 0.35-0.48 s vs 0.58-0.72 s per interpreter start).
-snapshot keeps the cached image pristine; guest reboots keep their changes (same QEMU process).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import time

from lab.vm import image

SSH_TIMEOUT = 240
SSH_OPTIONS = (
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "LogLevel=ERROR",
    "-o", "ConnectTimeout=5",
    "-o", "BatchMode=yes",
)  # fmt: skip


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _link_arguments(links):
    argv = []
    for index, link in enumerate(links, start=1):
        argv += [
            "-netdev",
            "dgram,id=l%d,local.type=inet,local.host=127.0.0.1,local.port=%d,remote.type=inet,remote.host=127.0.0.1,remote.port=%d"
            % (index, link["local_port"], link["remote_port"]),
            "-device",
            "virtio-net-pci,netdev=l%d,mac=%s" % (index, link["mac"]),
        ]
    return argv


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Machine(object):
    """One named VM; its runtime files live in <cache>/run/<name>/."""

    def __init__(self, name="default", multiplex=False):
        self.name = name
        # One SSH connection reused by every command (the lab twins poll the VMs every few seconds).
        self.multiplex = multiplex
        self.run_dir = os.path.join(image.cache_root(), "run", name)
        self.state_file = os.path.join(self.run_dir, "state.json")

    # -- state --------------------------------------------------------------------------------
    def state(self):
        try:
            with open(self.state_file) as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return None

    def pid(self):
        try:
            with open(os.path.join(self.run_dir, "qemu.pid")) as handle:
                pid = int(handle.read().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def running(self):
        return self.pid() is not None and self.state() is not None

    @property
    def port(self):
        return self.state()["port"]

    @property
    def key(self):
        return os.path.join(self.state()["image"], "id_ed25519")

    @property
    def inventory(self):
        return os.path.join(self.run_dir, "inventory.yml")

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self, memory=1024, cpus=2, log=print, links=(), hostname=None):
        """Boot the VM. links: [{"local_port", "remote_port", "mac"}], each an extra NIC (eth1, eth2, ... in order)
        that is one end of a point-to-point Ethernet over UDP on host loopback (QEMU dgram) to another VM."""
        if self.running():
            return self.state()
        image.check_host_tools()
        image_path = image.ensure_image(log)
        os.makedirs(self.run_dir, exist_ok=True)
        for stale in ("qemu.pid", "console.log", "state.json"):
            if os.path.exists(os.path.join(self.run_dir, stale)):
                os.unlink(os.path.join(self.run_dir, stale))
        port = _free_port()
        started = time.monotonic()
        argv = [
            "qemu-system-x86_64",
            "-accel", "tcg,thread=multi",
            "-cpu", os.environ.get("CALICO_EGRESS_VM_CPU", "qemu64"),
            "-smp", str(cpus),
            "-m", str(memory),
            "-display", "none",
            "-serial", "file:" + os.path.join(self.run_dir, "console.log"),
            "-kernel", os.path.join(image_path, "vmlinuz"),
            "-initrd", os.path.join(image_path, "initrd.img"),
            "-append", "root=/dev/vda rw console=ttyS0 net.ifnames=0 quiet",
            "-drive", "file=%s,format=raw,if=virtio,cache=unsafe" % os.path.join(image_path, "rootfs.ext4"),
            "-snapshot",
            "-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:22" % port,
            "-device", "virtio-net-pci,netdev=n0",
            *_link_arguments(links),
            "-pidfile", os.path.join(self.run_dir, "qemu.pid"),
            "-daemonize",
        ]  # fmt: skip
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise image.VMError("qemu-system-x86_64 did not start (rc=%d): %s" % (result.returncode, result.stderr.strip()))
        state = {"name": self.name, "port": port, "image": image_path, "started": time.time(), "links": list(links)}
        with open(self.state_file, "w") as handle:
            json.dump(state, handle)
        self._write_inventory(port, os.path.join(image_path, "id_ed25519"))
        self.wait_ssh()
        if hostname:
            self.ssh("hostnamectl set-hostname %s && sed -i 's/\\bnode1\\b/%s/' /etc/hosts" % (hostname, hostname))
        state["boot_seconds"] = round(time.monotonic() - started, 1)
        with open(self.state_file, "w") as handle:
            json.dump(state, handle)
        log("vm: %s up on 127.0.0.1:%d after %.0f s" % (self.name, port, state["boot_seconds"]))
        return state

    def stop(self, timeout=60):
        pid = self.pid()
        if pid is not None:
            # A clean poweroff first (keeps the console log whole); the pid is the fallback.
            subprocess.run(self.ssh_argv("systemctl poweroff"), capture_output=True, timeout=30, check=False)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.pid() is not None:
                time.sleep(0.5)
            if self.pid() is not None:
                os.kill(pid, signal.SIGTERM)
                time.sleep(1)
        if os.path.isdir(self.run_dir):
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def status(self):
        state = self.state()
        if state is None or self.pid() is None:
            return {"name": self.name, "running": False}
        return dict(state, running=True, pid=self.pid(), inventory=self.inventory)

    # -- access -------------------------------------------------------------------------------
    def ssh_argv(self, command):
        multiplex = ()
        if self.multiplex:
            control = os.path.join(self.run_dir, "ssh-control")
            multiplex = ("-o", "ControlMaster=auto", "-o", "ControlPath=" + control, "-o", "ControlPersist=300")
        return ["ssh", *SSH_OPTIONS, *multiplex, "-i", self.key, "-p", str(self.port), "root@127.0.0.1", command]

    def ssh(self, command, check=True, timeout=180, stdin=None):
        """Run a shell command in the VM; return CompletedProcess (text)."""
        result = subprocess.run(self.ssh_argv(command), capture_output=True, text=True, timeout=timeout, input=stdin, check=False)
        if check and result.returncode != 0:
            raise image.VMError(
                "vm command failed (rc=%d): %s\nstdout: %s\nstderr: %s"
                % (result.returncode, command, result.stdout[-2000:], result.stderr[-2000:])
            )
        return result

    def put(self, path, text, mode="0644"):
        """Write text to a file in the VM."""
        self.ssh("install -d $(dirname %s) && cat > %s && chmod %s %s" % (path, path, mode, path), stdin=text)

    def json(self, command):
        return json.loads(self.ssh(command).stdout or "null")

    def wait_ssh(self, timeout=SSH_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pid() is None:
                raise image.VMError("qemu exited during boot; console log: %s" % self.console_tail())
            try:
                if self.ssh("true", check=False, timeout=15).returncode == 0:
                    return
            except subprocess.TimeoutExpired:
                pass
            time.sleep(2)
        raise image.VMError("no SSH after %d s; console log: %s" % (timeout, self.console_tail()))

    def boot_id(self):
        return self.ssh("cat /proc/sys/kernel/random/boot_id").stdout.strip()

    def reboot(self):
        """Really reboot the guest (same QEMU process, so -snapshot changes survive); return seconds."""
        before = self.boot_id()
        started = time.monotonic()
        self.ssh("systemctl reboot", check=False, timeout=30)
        deadline = time.monotonic() + SSH_TIMEOUT
        while time.monotonic() < deadline:
            time.sleep(3)
            try:
                result = self.ssh("cat /proc/sys/kernel/random/boot_id", check=False, timeout=15)
            except subprocess.TimeoutExpired:
                continue
            if result.returncode == 0 and result.stdout.strip() not in ("", before):
                return time.monotonic() - started
        raise image.VMError("the VM did not come back after reboot; console log: %s" % self.console_tail())

    def console_tail(self, lines=30):
        try:
            with open(os.path.join(self.run_dir, "console.log"), errors="replace") as handle:
                return "".join(handle.readlines()[-lines:])
        except OSError:
            return "(no console log)"

    def connection_vars(self):
        """Ansible connection variables for this VM (SSH on loopback, root, the lab key, pipelining)."""
        return {
            "ansible_host": "127.0.0.1",
            "ansible_port": self.port,
            "ansible_user": "root",
            "ansible_ssh_private_key_file": self.key,
            "ansible_ssh_common_args": " ".join(SSH_OPTIONS),
            "ansible_python_interpreter": "/usr/bin/python3",
            "ansible_pipelining": True,
        }

    def write_inventory(self, path, hosts):
        """Write a YAML inventory: group `nodes` with one entry per alias, all reaching this VM.

        hosts: {alias: extra host vars}. Several aliases on one VM let one playbook run exercise several
        tunnels (providers) in parallel.
        """
        inventory = {"nodes": {"hosts": {alias: dict(self.connection_vars(), **(extra or {})) for alias, extra in hosts.items()}}}
        with open(path, "w") as handle:
            json.dump(inventory, handle, indent=1)  # JSON is YAML; ansible reads it with the yaml plugin
        return path

    def _write_inventory(self, port, key):
        self.write_inventory(self.inventory, {"node1": {}})
