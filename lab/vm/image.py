"""Build (once) and cache the Debian bookworm image the VM boots.

The cache lives outside the repository, keyed by everything that goes into the image (suite, mirror,
package list, customize hook, this builder's version), so a change to any input builds a new image and
an unchanged one is reused: ~/.cache/calico-egress-lab/vm/<key>/{rootfs.ext4,vmlinuz,initrd.img,id_ed25519}.
"""

import fcntl
import glob
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CUSTOMIZE = os.path.join(HERE, "customize.sh")
BUILDER_VERSION = 1
SUITE = "bookworm"
MIRROR = os.environ.get("CALICO_EGRESS_VM_MIRROR", "http://deb.debian.org/debian")
DISK_SIZE = "3G"
PACKAGES = (
    "systemd-sysv",
    "udev",
    "dbus",
    "kmod",
    "iproute2",
    "iputils-ping",
    "procps",
    "tcpdump",
    "nftables",
    "netplan.io",
    "network-manager",
    "openssh-server",
    "python3",
    "bird",
    "frr",
    "linux-image-cloud-amd64",
)
# Host tools the build and the boot need (installed by tools/apt-install.sh from the Makefile).
HOST_TOOLS = {
    "mmdebstrap": "mmdebstrap",
    "mkfs.ext4": "e2fsprogs",
    "qemu-system-x86_64": "qemu-system-x86",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
}
IMAGE_FILES = ("rootfs.ext4", "vmlinuz", "initrd.img", "id_ed25519", "id_ed25519.pub", "inputs.json")


class VMError(RuntimeError):
    """The VM layer cannot work on this machine; the message says what is missing."""


def cache_root():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "calico-egress-lab", "vm")


def inputs():
    with open(CUSTOMIZE, "rb") as handle:
        customize = handle.read().decode()
    return {
        "builder": BUILDER_VERSION,
        "suite": SUITE,
        "mirror": MIRROR,
        "packages": sorted(PACKAGES),
        "customize": customize,
        "disk_size": DISK_SIZE,
    }


def image_key():
    return hashlib.sha256(json.dumps(inputs(), sort_keys=True).encode()).hexdigest()[:16]


def image_dir():
    return os.path.join(cache_root(), image_key())


def check_host_tools():
    missing = sorted({package for tool, package in HOST_TOOLS.items() if not shutil.which(tool)})
    if missing:
        raise VMError("the VM layer needs the Debian packages %s on this host (make vm-deps installs them)" % ", ".join(missing))


def _run(argv, **kwargs):
    result = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        raise VMError("%s failed (rc=%d):\n%s\n%s" % (argv[0], result.returncode, result.stdout[-3000:], result.stderr[-3000:]))
    return result


def ensure_image(log=print):
    """Return the cached image directory, building it first when it is missing."""
    target = image_dir()
    if all(os.path.exists(os.path.join(target, name)) for name in IMAGE_FILES):
        return target
    check_host_tools()
    if os.geteuid() != 0:
        raise VMError("building the VM image needs root (mmdebstrap into a directory, then mkfs.ext4 -d)")
    os.makedirs(cache_root(), exist_ok=True)
    with open(os.path.join(cache_root(), ".build.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if all(os.path.exists(os.path.join(target, name)) for name in IMAGE_FILES):
            return target
        started = time.monotonic()
        work = tempfile.mkdtemp(prefix="build-", dir=cache_root())
        try:
            _build(work, log)
            with open(os.path.join(work, "inputs.json"), "w") as handle:
                json.dump(dict(inputs(), build_seconds=round(time.monotonic() - started, 1)), handle, indent=1)
            os.rename(work, target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        log("vm: image %s built in %.0f s" % (target, time.monotonic() - started))
    return target


def _build(work, log):
    key = os.path.join(work, "id_ed25519")
    _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "calico-egress-lab", "-f", key])
    rootfs = os.path.join(work, "rootfs")
    log("vm: mmdebstrap %s (%d packages) from %s" % (SUITE, len(PACKAGES), MIRROR))
    _run(
        [
            "mmdebstrap",
            "--variant=minbase",
            "--mode=root",
            "--include=" + ",".join(PACKAGES),
            '--customize-hook=sh %s "$1" %s' % (CUSTOMIZE, key + ".pub"),
            SUITE,
            rootfs,
            MIRROR,
        ]
    )
    # The kernel package version moves (6.1.0-NN): take whatever the metapackage installed.
    for pattern, name in (("vmlinuz-*", "vmlinuz"), ("initrd.img-*", "initrd.img")):
        found = sorted(glob.glob(os.path.join(rootfs, "boot", pattern)))
        if not found:
            raise VMError("the image has no /boot/%s: linux-image-cloud-amd64 did not install a kernel" % pattern)
        shutil.copyfile(found[-1], os.path.join(work, name))
    _run(["mkfs.ext4", "-q", "-F", "-L", "root", "-d", rootfs, os.path.join(work, "rootfs.ext4"), DISK_SIZE])
    shutil.rmtree(rootfs)
