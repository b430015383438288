#!/bin/bash
# Runs inside `docker build` for wgsdn/node:bookworm and wgsdn/node:trixie.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# No init runs during a build; keep maintainer scripts from trying to start
# services anyway (bird2's postinst calls deb-systemd-invoke / invoke-rc.d).
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod +x /usr/sbin/policy-rc.d

apt-get update
# python3-apt: Ansible's apt module needs it (else it installs it itself,
# which needs fresh package lists).
apt-get install -y --no-install-recommends \
    bird2 wireguard-tools wireguard-go \
    tcpdump procps iptables fping iputils-ping iproute2 \
    python3-apt less \
    nftables prometheus-node-exporter prometheus-bird-exporter \
    prometheus frr socat curl

rm -f /usr/sbin/policy-rc.d

# bird.service stays enabled (as on a host after `apt install bird2`); the
# roles write /etc/bird/bird.conf and reload. The packaged default config
# parses, so bird starts cleanly at boot given the container capabilities.
bird -p -c /etc/bird/bird.conf
systemctl is-enabled bird.service

# The new storeys' packages are baked in but off, as on a host that has never
# run the roles: the policy and metrics roles enable what they configure; the
# test scraper (prometheus) and the external router (frr) are started by the
# scenarios that use them.
systemctl disable nftables.service prometheus-node-exporter.service \
    prometheus-bird-exporter.service prometheus.service frr.service 2>/dev/null || true
for unit in prometheus-node-exporter-apt.timer prometheus-node-exporter-ipmitool-sensor.timer \
    prometheus-node-exporter-mellanox-hca-temp.timer prometheus-node-exporter-nvme.timer \
    prometheus-node-exporter-smartmon.timer; do
    systemctl disable "$unit" 2>/dev/null || true
done

apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt/* /var/log/dpkg.log /tmp/* /var/tmp/*
