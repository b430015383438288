"""Topology 3 of the source article, live: BGP, BFD, reachability, failover.

gateway1 10.0.0.2 serves device1 .1 and device2 .3; gateway2 10.0.0.5 serves
device3 .4 and device4 .6. Checked on the running containers: every BGP
session Established, every BFD session Up, every host pings every other, and
when device3 is paused gateway1's kernel loses its route to 10.0.0.4 in < 1 s
(and gets it back after unpause).
"""

import subprocess
import time

import pytest
from wgsdn_testkit import fabric, ping, routed, scenario

GW1, GW2 = "t3-gateway1", "t3-gateway2"
DEV1, DEV3 = "t3-device1", "t3-device3"


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
    # eBGP with the other gateway, plus one dynamic session per attached device.
    assert sorted(states) == [f"bgp_{other.replace('-', '_')}", "dev_1", "dev_2"], states


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
    prefixes = [line.split()[0] for line in routes.splitlines()]
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
