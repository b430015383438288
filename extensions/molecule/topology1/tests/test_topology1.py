"""Topology 1 of the article, for real: device1 10.0.0.1 <-> device2 10.0.0.2:51820.

Real WireGuard (wireguard-go under wg-quick@wg0 in systemd containers), real
handshakes, real pings over the overlay.
"""

import os
import time

import pytest
import testinfra
import testinfra.utils.ansible_runner

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY)
HOSTS = sorted(RUNNER.get_hosts("all"))
ADDRESS = {name: RUNNER.get_variables(name)["wgsdn_address"] for name in HOSTS}
IFACE = "wg0"

testinfra_hosts = HOSTS


def _host(name):
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}")


def _ping(host, address, deadline=20):
    """Ping over the overlay, allowing for the first handshake; returns the last result."""
    end = time.time() + deadline
    while True:
        result = host.run(f"ping -c 2 -W 2 {address}")
        if result.rc == 0 or time.time() > end:
            return result
        time.sleep(1)


def test_config_is_root_0600(host):
    conf = host.file(f"/etc/wireguard/{IFACE}.conf")
    assert conf.exists
    assert conf.user == "root"
    assert conf.group == "root"
    assert conf.mode == 0o600


def test_redacted_copy_holds_no_key(host):
    real = host.file(f"/etc/wireguard/{IFACE}.conf").content_string
    private = [line.split("=", 1)[1].strip() for line in real.splitlines() if line.startswith("PrivateKey")]
    assert len(private) == 1 and len(private[0]) == 44
    copy = host.file(f"/var/lib/wgsdn/wireguard/{IFACE}.conf.redacted").content_string
    assert "PrivateKey = (hidden)" in copy
    assert private[0] not in copy


def test_unit_runs_on_wireguard_go(host):
    unit = host.service(f"wg-quick@{IFACE}")
    assert unit.is_enabled
    assert unit.is_running
    assert host.process.filter(comm="wireguard-go"), "wireguard-go is not running"


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


@pytest.fixture(scope="module")
def ping_matrix():
    """Ping every host from every other host over the overlay; {(src, dst): result}.

    A host that does not listen is reachable only once it has sent a handshake to
    the host that relays or answers for it (there is no keepalive by default), so
    hosts first contact the peers they hold an Endpoint for, then the matrix runs.
    """
    for name in HOSTS:
        node = _host(name)
        conf = node.file(f"/etc/wireguard/{IFACE}.conf").content_string
        for other in HOSTS:
            if f"Endpoint = {other}:" in conf:
                _ping(node, ADDRESS[other])
    results = {}
    for name in HOSTS:
        node = _host(name)
        for other in HOSTS:
            if other != name:
                results[(name, other)] = (node.check_output(f"ip route get {ADDRESS[other]}"), _ping(node, ADDRESS[other]))
    return results


def test_every_host_pings_every_other_over_the_overlay(ping_matrix):
    assert len(ping_matrix) == len(HOSTS) * (len(HOSTS) - 1)
    for (name, other), (route, result) in ping_matrix.items():
        assert f"dev {IFACE}" in route, route
        assert result.rc == 0, f"{name} -> {other}: {result.stdout}{result.stderr}"


def test_handshakes_on_every_link(host, ping_matrix):
    out = host.check_output(f"wg show {IFACE} latest-handshakes")
    stamps = [int(line.split()[1]) for line in out.splitlines()]
    assert stamps, "no peers"
    assert all(s > 0 for s in stamps), f"no handshake: {out}"
    # ... and recent (not an artefact of some earlier run).
    assert all(time.time() - s < 300 for s in stamps), out


def test_traffic_crossed_the_tunnel(host, ping_matrix):
    transfer = host.check_output(f"wg show {IFACE} transfer")
    for line in transfer.splitlines():
        _, rx, tx = line.split()
        assert int(rx) > 0 and int(tx) > 0, transfer
