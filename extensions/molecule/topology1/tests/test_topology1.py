"""Topology 1 of the article, for real: device1 10.0.0.1 <-> device2 10.0.0.2:51820.

Real WireGuard (wireguard-go under wg-quick@wg0 in systemd containers), real
handshakes, real pings over the overlay.
"""

import pytest
from wgsdn_testkit.tunnels import ADDRESS, HOSTS, IFACE, TestTunnels, ping_matrix  # noqa: F401  the shared checks and their fixture: pytest runs them in this scenario

testinfra_hosts = HOSTS


def test_article_peers(host):
    """Each side's AllowedIPs is the other's /32; only device1 has an Endpoint (device2 listens)."""
    me = host.backend.get_hostname()
    other = next(h for h in HOSTS if h != me)
    allowed = host.check_output(f"wg show {IFACE} allowed-ips").split()
    assert allowed[1:] == [f"{ADDRESS[other]}/32"], allowed
    listen = host.check_output(f"wg show {IFACE} listen-port").strip()
    if me.endswith("device2"):
        assert listen == "51820"
    conf = host.file(f"/etc/wireguard/{IFACE}.conf").content_string
    if me.endswith("device1"):
        assert f"Endpoint = {other}:51820" in conf
    else:
        assert "Endpoint" not in conf


@pytest.mark.usefixtures("ping_matrix")
def test_traffic_crossed_the_tunnel(host):
    transfer = host.check_output(f"wg show {IFACE} transfer")
    for line in transfer.splitlines():
        _, rx, tx = line.split()
        assert int(rx) > 0 and int(tx) > 0, transfer
