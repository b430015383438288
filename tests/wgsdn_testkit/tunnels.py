"""Checks shared by the WireGuard-only scenarios (topology1, topology2).

Real WireGuard (wireguard-go under wg-quick@wg0 in systemd containers), no
routing daemon: every host pings every other over the overlay. A scenario's test
module imports ``TestTunnels`` (and the ``ping_matrix`` fixture it uses), and pytest runs
the checks there on every host.
"""

import time

import pytest

from . import scenario

HOSTS = scenario.names()
ADDRESS = {name: scenario.address(name) for name in HOSTS}
IFACE = "wg0"


def ping(host, address, args="-c 2 -W 2", deadline=20):
    """Ping over the overlay, allowing for the first handshake; returns the last result."""
    end = time.time() + deadline
    while True:
        result = host.run(f"ping {args} {address}")
        if result.rc == 0 or time.time() > end:
            return result
        time.sleep(1)


@pytest.fixture(scope="module")
def ping_matrix():
    """Ping every host from every other host over the overlay; {(src, dst): (route, result)}.

    A host that does not listen is reachable only once it has sent a handshake to
    the host that relays or answers for it (there is no keepalive by default), so
    hosts first contact the peers they hold an Endpoint for, then the matrix runs.
    """
    for name in HOSTS:
        host = scenario.node(name)
        conf = host.file(f"/etc/wireguard/{IFACE}.conf").content_string
        for other in HOSTS:
            if f"Endpoint = {other}:" in conf:
                ping(host, ADDRESS[other])
    results = {}
    for name in HOSTS:
        host = scenario.node(name)
        for other in HOSTS:
            if other != name:
                results[(name, other)] = (host.check_output(f"ip route get {ADDRESS[other]}"), ping(host, ADDRESS[other]))
    return results


class TestTunnels:
    """The checks every WireGuard-only scenario runs on every host."""

    def test_config_is_root_0600(self, host):
        conf = host.file(f"/etc/wireguard/{IFACE}.conf")
        assert conf.exists
        assert conf.user == "root"
        assert conf.group == "root"
        assert conf.mode == 0o600
        assert host.file("/etc/wireguard").mode == 0o700

    def test_redacted_copy_holds_no_key(self, host):
        real = host.file(f"/etc/wireguard/{IFACE}.conf").content_string
        private = [line.split("=", 1)[1].strip() for line in real.splitlines() if line.startswith("PrivateKey")]
        assert len(private) == 1 and len(private[0]) == 44
        copy = host.file(f"/var/lib/wgsdn/wireguard/{IFACE}.conf.redacted").content_string
        assert "PrivateKey = (hidden)" in copy
        assert private[0] not in copy

    def test_unit_runs_on_wireguard_go(self, host):
        unit = host.service(f"wg-quick@{IFACE}")
        assert unit.is_enabled
        assert unit.is_running
        assert host.process.filter(comm="wireguard-go"), "wireguard-go is not running"

    def test_every_host_pings_every_other_over_the_overlay(self, ping_matrix):
        assert len(ping_matrix) == len(HOSTS) * (len(HOSTS) - 1)
        for (name, other), (route, result) in ping_matrix.items():
            assert f"dev {IFACE}" in route, route
            assert result.rc == 0, f"{name} -> {other}: {result.stdout}{result.stderr}"

    def test_handshakes_on_every_link(self, host, ping_matrix):
        out = host.check_output(f"wg show {IFACE} latest-handshakes")
        stamps = [int(line.split()[1]) for line in out.splitlines()]
        assert stamps, "no peers"
        assert all(s > 0 for s in stamps), f"no handshake: {out}"
        # ... and recent (not an artefact of some earlier run).
        assert all(time.time() - s < 300 for s in stamps), out
