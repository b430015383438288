"""Topology 2 of the article, for real: device2 (10.0.0.2, the gateway, listening
on 51820) relays between device1 (10.0.0.1) and device3 (10.0.0.3).

Real WireGuard (wireguard-go under wg-quick@wg0 in systemd containers), real
handshakes, real pings, and proof that device1 <-> device3 traffic crosses device2.
"""

import pytest
from wgsdn_testkit import scenario
from wgsdn_testkit.playbooks import ROOT, changed_tasks, playbook
from wgsdn_testkit.scenario import node
from wgsdn_testkit.tunnels import ADDRESS, HOSTS, IFACE, TestTunnels, ping, ping_matrix  # noqa: F401  the shared checks and their fixture: pytest runs them in this scenario

GATEWAY = scenario.gateways()[0]
DEVICES = scenario.devices()

testinfra_hosts = HOSTS


def _peer_by_address(host):
    """Map each peer's /32 (or network) in AllowedIPs to its public key."""
    peers = {}
    for line in host.check_output(f"wg show {IFACE} allowed-ips").splitlines():
        key, *nets = line.split()
        for net in nets:
            peers[net] = key
    return peers


def _transfer(host):
    """public key -> (rx bytes, tx bytes)."""
    out = host.check_output(f"wg show {IFACE} transfer")
    return {key: (int(rx), int(tx)) for key, rx, tx in (line.split() for line in out.splitlines())}


def test_gateway_forwards(host):
    if host.backend.get_hostname() == GATEWAY:
        assert host.file("/proc/sys/net/ipv4/ip_forward").content_string.strip() == "1"
        assert "net.ipv4.ip_forward=1" in host.file("/etc/sysctl.d/60-wgsdn-forwarding.conf").content_string


def test_article_peers(host):
    """Devices: one peer, the gateway, for the whole overlay. Gateway: one /32 peer per device."""
    me = host.backend.get_hostname()
    peers = _peer_by_address(host)
    if me == GATEWAY:
        assert sorted(peers) == sorted(f"{ADDRESS[d]}/32" for d in DEVICES), peers
        assert host.check_output(f"wg show {IFACE} listen-port").strip() == "51820"
    else:
        assert list(peers) == ["10.0.0.0/24"], peers
        conf = host.file(f"/etc/wireguard/{IFACE}.conf").content_string
        assert f"Endpoint = {GATEWAY}:51820" in conf


@pytest.mark.usefixtures("ping_matrix")
def test_device_to_device_traffic_crosses_the_gateway():
    """device1 -> device3 must enter the gateway from device1's peer and leave to device3's."""
    first, last = DEVICES[0], DEVICES[-1]
    src, gw = node(first), node(GATEWAY)
    peer = _peer_by_address(gw)
    key_src, key_dst = peer[f"{ADDRESS[first]}/32"], peer[f"{ADDRESS[last]}/32"]

    # The reply was forwarded exactly once on the way back: TTL 64 - 1.
    one = ping(src, ADDRESS[last], args="-c 1 -W 2")
    assert one.rc == 0, one.stdout
    assert "ttl=63" in one.stdout, one.stdout
    direct = ping(src, ADDRESS[GATEWAY], args="-c 1 -W 2")
    assert "ttl=64" in direct.stdout, direct.stdout

    count, size = 20, 1000
    before = _transfer(gw)
    flood = src.run(f"ping -c {count} -i 0.05 -s {size} -W 2 {ADDRESS[last]}")
    after = _transfer(gw)
    assert flood.rc == 0, flood.stdout
    volume = count * size
    rx_from_src = after[key_src][0] - before[key_src][0]
    tx_to_dst = after[key_dst][1] - before[key_dst][1]
    rx_from_dst = after[key_dst][0] - before[key_dst][0]
    tx_to_src = after[key_src][1] - before[key_src][1]
    # Requests came in from device1 and went out to device3; replies the other way.
    assert rx_from_src >= volume and tx_to_dst >= volume, (before, after)
    assert rx_from_dst >= volume and tx_to_src >= volume, (before, after)


# --- Changes are applied without dropping tunnels -----------------------------
# These converge again with ansible-playbook (the same inventory and state file
# Molecule uses) and put everything back at the end.


def _converge(*args):
    return playbook("-i", scenario.inventory(), ROOT / "playbooks" / "site.yml", *args, timeout=600)


def _pids():
    return {name: node(name).check_output("pgrep -x wireguard-go") for name in HOSTS}


def _private_keys():
    keys = []
    for name in HOSTS:
        conf = node(name).file(f"/etc/wireguard/{IFACE}.conf").content_string
        keys += [line.split("=", 1)[1].strip() for line in conf.splitlines() if line.startswith(("PrivateKey", "PresharedKey"))]
    return keys


@pytest.mark.usefixtures("ping_matrix")
def test_check_diff_shows_changes_but_no_key():
    before = _pids()
    run = _converge("--check", "--diff", "-vvv", "-e", "wgsdn_persistent_keepalive=9")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "+PersistentKeepalive = 9" in run.stdout
    for key in _private_keys():
        assert key not in run.stdout and key not in run.stderr, "a key reached the output"
    assert _pids() == before
    assert "persistent-keepalive" not in node(GATEWAY).check_output(f"wg show {IFACE}")


@pytest.mark.usefixtures("ping_matrix")
def test_peer_change_is_synced_without_restart():
    before = _pids()
    run = _converge("-e", "wgsdn_persistent_keepalive=9")
    assert run.returncode == 0, run.stdout[-3000:]
    # Applied by wgsdn.fabric.wireguard_apply (wg syncconf: the task that applies what an interface lags behind), on every host.
    assert all("wgsdn.fabric.wireguard : Apply what the running interfaces lag behind" in changed_tasks(run.stdout, n) for n in HOSTS)
    assert _pids() == before, "a peer-only change restarted an interface"
    for name in HOSTS:
        keepalives = node(name).check_output(f"wg show {IFACE} persistent-keepalive").split()[1::2]
        assert keepalives and all(k == "9" for k in keepalives), (name, keepalives)
    # The tunnels kept working all along (same sessions, no new handshake needed).
    first, last = DEVICES[0], DEVICES[-1]
    assert node(first).run(f"ping -c 2 -W 2 {ADDRESS[last]}").rc == 0


@pytest.mark.usefixtures("ping_matrix")
def test_mtu_change_restarts_only_that_interface():
    before = _pids()
    last = DEVICES[-1]
    run = _converge("-e", "wgsdn_persistent_keepalive=9", "-e", '{"wireguard_mtu": 1380}', "--limit", last)
    assert run.returncode == 0, run.stdout[-3000:]
    after = _pids()
    assert after[last] != before[last], "MTU changed but the interface was not restarted"
    assert {n: p for n, p in after.items() if n != last} == {n: p for n, p in before.items() if n != last}
    assert "mtu 1380" in node(last).check_output(f"ip link show {IFACE}")
    assert ping(node(DEVICES[0]), ADDRESS[last]).rc == 0


@pytest.mark.usefixtures("ping_matrix")
def test_back_to_the_inventory_and_idempotent():
    assert _converge().returncode == 0
    again = _converge()
    assert again.returncode == 0
    recap = [line for line in again.stdout.splitlines() if "changed=" in line]
    assert len(recap) == len(HOSTS) and all("changed=0" in line for line in recap), recap
    assert "mtu 1420" in node(DEVICES[-1]).check_output(f"ip link show {IFACE}")
    for name in DEVICES:
        assert ping(node(name), ADDRESS[GATEWAY]).rc == 0
