"""Smoke test of the Molecule test bed (wgsdn/node:bookworm under Docker).

Proves what the collection's scenarios rely on: systemd as PID 1, wg-quick
with the wireguard-go fallback, a WireGuard handshake and traffic over the
tunnel, and bird running under systemd with the capabilities it keeps.
"""

import os
import time

import testinfra.utils.ansible_runner

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"]).get_hosts("all")

IFACE = "wgsmoke"


def _peer_ips(host):
    me = host.ansible.get_variables()["inventory_hostname"]
    runner = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"])
    return [runner.get_variables(h)["smoke_overlay_ip"] for h in runner.get_hosts("all") if h != me]


def test_systemd_is_pid1_and_running(host):
    assert host.file("/proc/1/comm").content_string.strip() == "systemd"
    state = host.run("systemctl is-system-running").stdout.strip()
    failed = host.run("systemctl --failed --no-legend --plain").stdout
    assert state in ("running", "degraded"), state
    # Nothing in the image should fail at boot.
    assert state == "running", f"degraded, failed units:\n{failed}"


def test_wireguard_go_backs_the_interface(host):
    assert host.run("test -c /dev/net/tun").rc == 0, "/dev/net/tun missing"
    assert host.service(f"wg-quick@{IFACE}").is_running
    # No kernel module: wg-quick fell back to the userspace implementation.
    assert host.process.filter(comm="wireguard-go"), "wireguard-go not running"
    assert host.file(f"/var/run/wireguard/{IFACE}.sock").is_socket
    link = host.check_output(f"ip -d link show {IFACE}")
    assert "tun" in link, link


def test_ping_over_tunnel_and_handshake(host):
    for ip in _peer_ips(host):
        ping = host.run(f"ping -c 3 -W 2 -I {IFACE} {ip}")
        assert ping.rc == 0, ping.stdout + ping.stderr
    # A handshake happened with every peer (epoch seconds, 0 = never).
    deadline = time.time() + 20
    while True:
        out = host.check_output(f"wg show {IFACE} latest-handshakes")
        stamps = [int(line.split()[1]) for line in out.splitlines()]
        if stamps and all(s > 0 for s in stamps):
            break
        assert time.time() < deadline, f"no handshake: {out!r}"
        time.sleep(1)
    transfer = host.check_output(f"wg show {IFACE} transfer")
    assert all(int(line.split()[1]) > 0 for line in transfer.splitlines()), transfer


def test_overlay_traffic_uses_the_tunnel(host):
    for ip in _peer_ips(host):
        route = host.check_output(f"ip route get {ip}")
        assert f"dev {IFACE}" in route, route


def test_bird_runs_under_systemd(host):
    bird = host.service("bird")
    assert bird.is_enabled
    assert host.run("systemctl is-active bird").stdout.strip() == "active"
    status = host.check_output("birdc show status")
    assert "Daemon is up and running" in status, status
    journal = host.run("journalctl -u bird --no-pager -b").stdout
    assert "capset" not in journal, journal
    # bird dropped root and kept the capabilities it needs.
    assert host.check_output("ps -o user= -C bird").strip() == "bird"


def test_sysctls_from_the_platform(host):
    assert host.file("/proc/sys/net/ipv4/ip_forward").content_string.strip() == "1"
    rp = host.file("/proc/sys/net/ipv4/conf/all/rp_filter").content_string.strip()
    assert rp == "2"
