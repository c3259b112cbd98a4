"""lab.vm without booting anything: image cache key, host tool check, generated inventory."""

import json

import pytest
import yaml

from lab.vm import image, machine


def test_image_key_follows_every_input(monkeypatch):
    key = image.image_key()
    assert key == image.image_key() and len(key) == 16
    monkeypatch.setattr(image, "PACKAGES", image.PACKAGES + ("gobgpd",))
    assert image.image_key() != key


def test_cache_lives_outside_the_repository(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert image.image_dir() == str(tmp_path / "calico-egress-lab" / "vm" / image.image_key())


def test_missing_host_tools_fail_loudly_naming_the_packages(monkeypatch):
    missing = ("qemu-system-x86_64", "mmdebstrap")
    monkeypatch.setattr(image.shutil, "which", lambda tool: None if tool in missing else "/usr/bin/" + tool)
    with pytest.raises(image.VMError, match="mmdebstrap, qemu-system-x86"):
        image.check_host_tools()


def test_inventory_reaches_the_vm_over_loopback(monkeypatch, tmp_path):
    vm = machine.Machine("unit")
    monkeypatch.setattr(machine.Machine, "state", lambda self: {"port": 40022, "image": "/cache/img"})
    path = vm.write_inventory(str(tmp_path / "inv.yml"), {"np": {"gre_tunnel_provider": "netplan"}, "nd": {}})
    with open(path) as handle:
        text = handle.read()
    assert json.loads(text) == yaml.safe_load(text)  # JSON is YAML: ansible's yaml inventory plugin reads it
    hosts = yaml.safe_load(text)["nodes"]["hosts"]
    assert sorted(hosts) == ["nd", "np"]
    assert hosts["np"]["ansible_host"] == "127.0.0.1" and hosts["np"]["ansible_port"] == 40022
    assert hosts["np"]["ansible_ssh_private_key_file"] == "/cache/img/id_ed25519"
    assert hosts["np"]["gre_tunnel_provider"] == "netplan" and "gre_tunnel_provider" not in hosts["nd"]
