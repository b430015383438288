"""The role on a bare Debian 12 host: packages installed, then a real tunnel, on an IPv6-only overlay."""

import time

from wgsdn_testkit.scenario import address, names
from wgsdn_testkit.scenario import node as _host

HOSTS = names()
BARE = HOSTS[0]
IFACE = "wg0"

testinfra_hosts = HOSTS


def test_the_bare_host_had_nothing_and_got_everything():
    bare = _host(BARE)
    # The image ships without them: the role installed them (apt's own log says so).
    history = bare.file("/var/log/apt/history.log").content_string
    for package in ("wireguard-tools", "wireguard-go"):
        assert bare.package(package).is_installed, package
        assert package in history, f"{package} was not installed by apt during the converge"
    assert bare.exists("wg-quick")
    assert bare.file("/lib/systemd/system/wg-quick@.service").exists


def test_config_is_root_0600(host):
    conf = host.file(f"/etc/wireguard/{IFACE}.conf")
    assert conf.user == "root"
    assert conf.mode == 0o600


def test_tunnel_works_both_ways():
    # i-device1 dials i-device2 (which listens), then both directions work.
    order = [BARE] + [h for h in HOSTS if h != BARE]
    for name in order:
        node = _host(name)
        assert node.service(f"wg-quick@{IFACE}").is_running
        # wireguard-go serves the interface (no kernel module here): its control socket.
        assert node.file(f"/var/run/wireguard/{IFACE}.sock").is_socket
        for other in HOSTS:
            if other == name:
                continue
            deadline = time.time() + 20
            while (result := node.run(f"ping -c 2 -W 2 {address(other)}")).rc != 0 and time.time() < deadline:
                time.sleep(1)
            assert result.rc == 0, f"{name} -> {other}: {result.stdout}"
        stamps = node.check_output(f"wg show {IFACE} latest-handshakes").split()[1::2]
        assert stamps and all(int(s) > 0 for s in stamps)
