"""Topology 3 of the source article, live: BGP, BFD, reachability, failover.

gateway1 10.0.0.2 serves device1 .1 and device2 .3; gateway2 10.0.0.5 serves
device3 .4 and device4 .6. Checked on the running containers: every BGP
session Established, every BFD session Up, every host pings every other, and
when device3 is paused gateway1's kernel loses its route to 10.0.0.4 in < 1 s
(and gets it back after unpause).
"""

import re
import subprocess
import time

import pytest
from wgsdn_testkit import fabric, ping, routed, scenario

GW1, GW2 = "t3-gateway1", "t3-gateway2"
DEV1, DEV3 = "t3-device1", "t3-device3"
DEV2, DEV4 = "t3-device2", "t3-device4"
ROUTER = "t3-router"
SERVICE, PORT, PROVIDERS = "10.0.0.53", 8053, (DEV2, DEV4)
LAN = "192.168.77.0/24"
OVERLAY = "10.0.0.0/24"


def test_article_addresses():
    assert {n: scenario.address(n) for n in scenario.names()} == {
        "t3-device1": "10.0.0.1",
        "t3-gateway1": "10.0.0.2",
        "t3-device2": "10.0.0.3",
        "t3-device3": "10.0.0.4",
        "t3-gateway2": "10.0.0.5",
        "t3-device4": "10.0.0.6",
    }


@pytest.mark.parametrize("gw", [GW1, GW2])
def test_bgp_established(gw):
    states = fabric.established(gw)
    other = GW2 if gw == GW1 else GW1
    # eBGP with the other gateway, plus one session per attached device, named from it.
    # gateway1 also peers with the external router (wgsdn_bgp_peers).
    external = ["ext_office_core"] if gw == GW1 else []
    devices = [f"dev_{d.replace('-', '_')}" for d in scenario.devices() if gw in scenario.uplinks(d)]
    assert len(devices) == 2 and sorted(states) == sorted([f"bgp_{other.replace('-', '_')}", *devices, *external]), states


@pytest.mark.parametrize("dev", scenario.devices())
def test_devices_learn_routes_from_their_gateway(dev):
    states = fabric.established(dev)
    assert list(states) == ["wgsdn_uplink1"], states


# BFD Up on every link, then every host pings every other (the shared routed checks).
TestRoutedFabric = routed.TestRoutedFabric


@pytest.mark.parametrize("name", scenario.names())
def test_kernel_routes_come_from_bird(name):
    h = scenario.host(name)
    routes = h.check_output("ip -4 route show proto bird")
    # Beyond the hosts: the anycast service (a provider reaches it locally and its gateway
    # never sends a provider's own route back) and the external router's LAN.
    extra = [LAN] + ([SERVICE] if name not in PROVIDERS else [])
    prefixes = [line.split()[0] for line in routes.splitlines() if line.split()[0] not in extra]
    assert sorted(extra) == sorted(line.split()[0] for line in routes.splitlines() if line.split()[0] in extra), routes
    if name in scenario.gateways():
        assert sorted(prefixes) == sorted(scenario.address(n) for n in scenario.names() if n != name), routes
        # Own prefix is announced, never installed by BIRD.
        assert scenario.address(name) not in prefixes, routes
        assert "src " + scenario.address(name) in routes, routes
    else:
        # One route per other host, learned from the gateway (never its own address).
        gw = scenario.address(scenario.uplinks(name)[0])
        assert sorted(prefixes) == sorted(scenario.address(n) for n in scenario.names() if n != name), routes
        assert all(f"via {gw} " in line for line in routes.splitlines()), routes
        assert "src " + scenario.address(name) in routes, routes


def test_device1_and_device3_ping_each_other():
    assert ping.ping_all(scenario.host(DEV1), ["10.0.0.4"]) == {"10.0.0.4": 0}
    assert ping.ping_all(scenario.host(DEV3), ["10.0.0.1"]) == {"10.0.0.1": 0}
    # device1 reaches device3 through gateway1 then gateway2.
    path = scenario.host(DEV1).check_output("ip route get 10.0.0.4")
    assert "via 10.0.0.2 dev wg-gateway1" in path, path
    assert "src 10.0.0.1" in path, path


def test_paused_device3_route_withdrawn_within_1s():
    gw1 = scenario.host(GW1)
    assert "via 10.0.0.5 dev wg-gateway2" in fabric.kernel_route(gw1, "10.0.0.4/32")
    try:
        elapsed = fabric.time_until_route_gone(GW1, "10.0.0.4/32", DEV3)
        print(f"gateway1 lost its route to 10.0.0.4 {elapsed * 1000:.0f} ms after `docker pause` of device3")
        assert elapsed < 1.0, f"route withdrawn after {elapsed:.3f}s"
        # The others are untouched.
        assert ping.ping_all(scenario.host(DEV1), ["10.0.0.6", "10.0.0.3"]) == {"10.0.0.6": 0, "10.0.0.3": 0}
        # gateway2 saw device3's BFD session go down.
        states = {s[0]: s[2] for s in fabric.bfd_sessions(scenario.host(GW2))}
        assert states["10.0.0.4"] != "Up", states
    finally:
        subprocess.run(["docker", "unpause", DEV3], check=False, capture_output=True)
    start = time.monotonic()
    fabric.wait_for("gateway1's route to 10.0.0.4 back", lambda: fabric.kernel_route(gw1, "10.0.0.4/32"), timeout=60, interval=0.2)
    print(f"route back {time.monotonic() - start:.1f} s after unpause")
    fabric.wait_for("device1 reaching device3 again", lambda: ping.ping_all(scenario.host(DEV1), ["10.0.0.4"]) == {"10.0.0.4": 0}, timeout=30)


# --- Anycast service 10.0.0.53 (wgsdn_services on device2 and device4, check tcp:8053) ---

# Withdrawal bound of the services role's defaults: fall (2) x (interval 1 s + timeout 1 s),
# plus BGP propagation; the check of a stopped server fails at once (connection refused).
CHECK_BOUND = 2 * (1 + 1) + 0.5


def answer(client, timeout=0.3):
    """Who answers a TCP connection to the service from ``client`` ('' when nobody does)."""
    cmd = f"socat -T1 - TCP:{SERVICE}:{PORT},connect-timeout={timeout} </dev/null 2>/dev/null || true"
    return scenario.host(client).check_output(cmd).strip()


def gateway_next_hop(gw):
    return fabric.kernel_route(scenario.host(gw), f"{SERVICE}/32")


def test_service_reaches_the_nearest_provider():
    fabric.wait_for("device1 reaching the service", lambda: answer(DEV1) == DEV2, timeout=60, interval=0.5)
    fabric.wait_for("device3 reaching the service", lambda: answer(DEV3) == DEV4, timeout=60, interval=0.5)
    # Each gateway prefers its own attached provider (shorter AS path) over the other gateway's.
    assert "via 10.0.0.3 dev wg0" in gateway_next_hop(GW1)
    assert "via 10.0.0.6 dev wg0" in gateway_next_hop(GW2)
    # The providers' checkers run and hold the service's BIRD protocol up.
    for dev in PROVIDERS:
        h = scenario.host(dev)
        assert h.service("wgsdn-service-echo").is_running
        assert "up" in h.check_output("birdc show protocols wgsdn_svc_echo").split("\n")[-1]


def _time_until_answer(client, expected, timeout):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if answer(client, timeout=0.1) == expected:
            return time.monotonic() - start
        time.sleep(0.02)
    raise AssertionError(f"{client} still not answered by {expected} after {timeout}s")


def test_paused_provider_moves_clients_within_1s():
    assert answer(DEV1) == DEV2
    try:
        t0 = time.monotonic()
        subprocess.run(["docker", "pause", DEV2], check=True)
        # gateway1's route to the service leaves device2 (BFD) for gateway2's provider.
        fabric.wait_for("gateway1 routing the service to gateway2", lambda: "wg-gateway2" in gateway_next_hop(GW1), timeout=5, interval=0.02)
        elapsed = time.monotonic() - t0
        served = _time_until_answer(DEV1, DEV4, timeout=5) + elapsed
        print(
            f"MEASUREMENTS: service failover on provider pause: gateway1 rerouted in {elapsed * 1000:.0f} ms, device1 served by device4 after {served * 1000:.0f} ms"
        )
        assert elapsed < 1.0, f"rerouted after {elapsed:.3f}s"
    finally:
        subprocess.run(["docker", "unpause", DEV2], check=False, capture_output=True)
    fabric.wait_for("device1 served by device2 again", lambda: answer(DEV1) == DEV2, timeout=60, interval=0.5)


def test_failed_check_withdraws_within_bound_and_returns():
    dev2 = scenario.host(DEV2)
    assert answer(DEV1) == DEV2
    t0 = time.monotonic()
    dev2.check_output("systemctl stop t3-echo")
    try:
        fabric.wait_for("gateway1 dropping device2's service route", lambda: "10.0.0.3" not in gateway_next_hop(GW1), timeout=10, interval=0.05)
        withdrawn = time.monotonic() - t0
        print(f"MEASUREMENTS: service withdrawal after its check fails: {withdrawn * 1000:.0f} ms (bound {CHECK_BOUND:.1f} s)")
        assert withdrawn < CHECK_BOUND
        # Every client now reaches the healthy provider, none the failing one.
        answers = [answer(DEV1) for _ in range(10)]
        assert answers == [DEV4] * 10, answers
        assert "down" in dev2.check_output("birdc show protocols wgsdn_svc_echo").split("\n")[-1]
    finally:
        dev2.check_output("systemctl start t3-echo")
    t1 = time.monotonic()
    fabric.wait_for("device1 served by device2 again", lambda: answer(DEV1) == DEV2, timeout=30, interval=0.1)
    print(f"MEASUREMENTS: service back {(time.monotonic() - t1) * 1000:.0f} ms after the server restarted")


def test_crashed_checker_withdraws():
    """Fail safe: killing the checker (SIGKILL) withdraws the service at once; systemd restarts it."""
    dev2 = scenario.host(DEV2)
    assert answer(DEV1) == DEV2
    dev2.check_output("systemctl kill -s KILL wgsdn-service-echo")
    fabric.wait_for("gateway1 dropping device2's service route", lambda: "10.0.0.3" not in gateway_next_hop(GW1), timeout=3, interval=0.05)
    fabric.wait_for("device1 served by device2 again", lambda: answer(DEV1) == DEV2, timeout=30, interval=0.2)


# --- External BGP peer: t3-router (frr), AS 65010, over the underlay 192.0.2.0/24 ---


def router(cmd):
    return subprocess.run(["docker", "exec", ROUTER, "vtysh", "-c", cmd], check=True, capture_output=True, text=True).stdout


def test_external_session_with_bfd_and_password():
    gw1 = scenario.host(GW1)
    fabric.wait_for("ext_office_core Established", lambda: "Established" in gw1.check_output("birdc show protocols all ext_office_core"), timeout=90)
    assert "Established" in router("show bgp neighbors 192.0.2.2")
    assert any(s[0] == "192.0.2.1" and s[2] == "Up" for s in fabric.bfd_sessions(gw1)), fabric.bfd_sessions(gw1)
    # The password is only in the secrets fragment (0640 root:bird), never in bird.conf.
    assert "t3-md5-secret" not in gw1.file("/etc/bird/bird.conf").content_string
    secrets = gw1.file("/etc/bird/bird.d/wgsdn-secrets.conf")
    assert (secrets.mode, secrets.user, secrets.group) == (0o640, "root", "bird")


def learned_from_gateway1():
    """The prefixes t3-router accepted from gateway1 (`show ip bgp neighbors ... routes`)."""
    return set(re.findall(r"\b\d+\.\d+\.\d+\.\d+/\d+\b", router("show ip bgp neighbors 192.0.2.2 routes")))


def test_router_learns_the_overlay_as_one_aggregate():
    """export: overlay is the overlay prefix (no LAN in this inventory, the service lies inside it), no host route;
    gateway1 presents local_asn 64500 with no private AS behind it and adds the community 65010:100."""
    fabric.wait_for("router learning the aggregate", lambda: OVERLAY in learned_from_gateway1(), timeout=60)
    assert learned_from_gateway1() == {OVERLAY}, router("show ip bgp neighbors 192.0.2.2 routes")
    detail = router(f"show ip bgp {OVERLAY}")
    path = re.search(r"^\s+(64500)(?: \(.*)?$", detail, re.MULTILINE)
    assert path and "4200000" not in detail, detail
    assert re.search(r"Community: .*\b65010:100\b", detail), detail


def test_refused_prefixes():
    """The router also announces 172.31.0.0/16 and a part of the overlay, 10.0.0.128/25: both refused.
    (Not the overlay's aggregate itself: the router would prefer its own 10.0.0.0/24 to gateway1's and
    send the replies to the overlay nowhere.)"""
    gw1 = scenario.host(GW1)
    routes = gw1.check_output("birdc show route protocol ext_office_core")
    assert "192.168.77.0/24" in routes and "172.31.0.0/16" not in routes and "10.0.0.128/25" not in routes, routes
    assert "1 imported" in gw1.check_output("birdc show protocols all ext_office_core")


@pytest.mark.parametrize("name", sorted({*scenario.devices(), *scenario.gateways()}))
def test_every_host_reaches_the_router_lan(name):
    fabric.wait_for(f"{name} reaching 192.168.77.1", lambda: ping.ping_all(scenario.host(name), ["192.168.77.1"]) == {"192.168.77.1": 0}, timeout=30)


def test_paused_router_withdrawn_within_1s():
    t_start = time.monotonic()
    try:
        elapsed = fabric.time_until_route_gone(GW1, LAN, ROUTER)
        print(f"MEASUREMENTS: external peer paused: gateway1 withdrew {LAN} after {elapsed * 1000:.0f} ms (BFD)")
        assert elapsed < 1.0, f"withdrawn after {elapsed:.3f}s"
    finally:
        subprocess.run(["docker", "unpause", ROUTER], check=False, capture_output=True)
    t0 = time.monotonic()
    fabric.wait_for("device3 learning the LAN again", lambda: fabric.kernel_route(scenario.host(DEV3), LAN), timeout=90, interval=0.1)
    print(
        f"MEASUREMENTS: external route propagation: {LAN} back on device3 (behind gateway2) {(time.monotonic() - t0) * 1000:.0f} ms after unpause "
        f"(test {time.monotonic() - t_start:.1f} s)"
    )
