"""A dual-homed device keeps talking when the gateway it uses dies.

device1 (10.0.0.11) is attached to gateway1 (.1) and gateway2 (.2); device2
(10.0.0.12) sits behind gateway3 (.3). All three gateways run eBGP in a full
mesh over point-to-point WireGuard links, every link watched by BFD. A 10 ms
ping stream from device1 to device2 runs while the gateway it uses is paused:
the longest gap must stay under 1 s and the stream must continue through the
other gateway. After unpause, every session and path comes back.
"""

import subprocess
import time

import pytest
from wgsdn_testkit import fabric, ping, routed, scenario
from wgsdn_testkit.docker import docker

DUAL, FAR = "dh-device1", "dh-device2"
DUAL_IP, FAR_IP = "10.0.0.11", "10.0.0.12"


@pytest.mark.parametrize("gw", scenario.gateways())
def test_bgp_full_mesh_established(gw):
    states = fabric.established(gw)
    peers = [p for p in states if p.startswith("bgp_")]
    assert len(peers) == len(scenario.gateways()) - 1, states
    attached = [d for d in scenario.devices() if gw in scenario.uplinks(d)]
    assert len([p for p in states if p.startswith("dev_")]) == len(attached), states


@pytest.mark.parametrize("dev", scenario.devices())
def test_devices_learn_routes_from_every_uplink(dev):
    states = fabric.established(dev)
    assert len(states) == len(scenario.uplinks(dev)), states


def test_dual_homed_device_has_a_multipath_route():
    route = fabric.wait_for(
        "ECMP route to device2 on device1",
        lambda: (r := fabric.kernel_route(scenario.host(DUAL), f"{FAR_IP}/32")).count("nexthop") == 2 and r,
        timeout=30,
    )
    assert "nexthop via 10.0.0.1 dev wg-gateway1" in route, route
    assert "nexthop via 10.0.0.2 dev wg-gateway2" in route, route


def test_far_gateway_reaches_dual_homed_device_both_ways():
    route = fabric.wait_for(
        "ECMP route to device1 on gateway3",
        lambda: (r := fabric.kernel_route(scenario.host("dh-gateway3"), f"{DUAL_IP}/32")).count("nexthop") == 2 and r,
        timeout=30,
    )
    assert "via 10.0.0.1 dev wg-gateway1" in route and "via 10.0.0.2 dev wg-gateway2" in route, route


# BFD Up on every link, then every host pings every other (the shared routed checks).
TestRoutedFabric = routed.TestRoutedFabric


def _all_recovered():
    for gw in scenario.gateways():
        if not fabric.all_established(scenario.host(gw)):
            return False
    return fabric.kernel_route(scenario.host(DUAL), f"{FAR_IP}/32").count("nexthop") == 2


def test_traffic_survives_the_loss_of_the_gateway_in_use():
    fabric.wait_for("steady state", _all_recovered, timeout=60)
    victim = fabric.uplink_in_use(DUAL, FAR_IP)
    print(f"device1 -> device2 leaves through {victim}")
    stream = ping.start_ping_stream(DUAL, FAR_IP, seconds=6)
    try:
        time.sleep(2)
        paused_at = time.time()
        docker("pause", victim)
        stats = ping.ping_stream_stats(stream)
        print(f"longest gap {stats['longest_gap_ms']:.0f} ms, {stats['lost']}/{stats['sent']} lost while {victim} is paused")
        assert stats["longest_gap_ms"] < 1000, stats["longest_gap_ms"]
        # Traffic flows on after the failure, through the other gateway.
        assert stats["replies"][-1] > paused_at + 3, "the stream did not continue"
        other = fabric.uplink_in_use(DUAL, FAR_IP)
        assert other != victim, other
    finally:
        subprocess.run(["docker", "unpause", victim], check=False, capture_output=True)
    start = time.monotonic()
    fabric.wait_for("every BGP session and both uplinks back", _all_recovered, timeout=90, interval=0.2)
    print(f"recovered {time.monotonic() - start:.1f} s after unpause")
    assert ping.ping_all(scenario.host(DUAL), [FAR_IP]) == {FAR_IP: 0}
