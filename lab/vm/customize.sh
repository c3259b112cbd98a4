#!/bin/sh
# mmdebstrap customize hook: $1 = root of the new file system, $2 = SSH public key for root.
# Everything here is part of the image cache key (lab/vm/image.py hashes this file).
set -eu
root=$1
pubkey=$2

echo node1 > "$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 node1\n' > "$root/etc/hosts"
printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' > "$root/etc/fstab"

install -d -m 0700 "$root/root/.ssh"
install -m 0600 "$pubkey" "$root/root/.ssh/authorized_keys"

# eth0 (QEMU user networking) by DHCP through netplan -> systemd-networkd, as on Ubuntu cloud images.
install -d "$root/etc/netplan"
cat > "$root/etc/netplan/10-lab-eth0.yaml" <<'YAML'
network:
  version: 2
  renderer: networkd
  ethernets:
    eth0:
      dhcp4: true
YAML
chmod 0600 "$root/etc/netplan/10-lab-eth0.yaml"

# NetworkManager runs (the nm provider needs it) but keeps its hands off the lab's management NIC.
install -d "$root/etc/NetworkManager/conf.d"
cat > "$root/etc/NetworkManager/conf.d/90-lab.conf" <<'INI'
[main]
no-auto-default=*
[keyfile]
unmanaged-devices=interface-name:eth0;interface-name:lo
INI

chroot "$root" systemctl enable systemd-networkd NetworkManager ssh
# BIRD and FRR are started by the tests, with the tests' own configuration.
chroot "$root" systemctl disable bird bird6 frr 2>/dev/null || true
# Nothing waits for "online" in the lab; these only slow the boot under TCG.
chroot "$root" systemctl mask systemd-networkd-wait-online NetworkManager-wait-online \
  apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer man-db.timer fstrim.timer 2>/dev/null || true
# No secrets in the image: the only login is root with the lab key.
sed -i 's/^#\?PasswordAuthentication.*/PasswordAuthentication no/' "$root/etc/ssh/sshd_config"
sed -i 's/^#\?UseDNS.*/UseDNS no/' "$root/etc/ssh/sshd_config"
# Hardened like many fleets (strict reverse path filter everywhere), so a test can tell whether the role
# really made the tunnel loose; the role's own file sorts after this one.
cat > "$root/etc/sysctl.d/80-lab-strict-rp-filter.conf" <<'CONF'
net.ipv4.conf.default.rp_filter = 1
net.ipv4.conf.all.rp_filter = 1
net.ipv4.conf.*.rp_filter = 1
CONF
