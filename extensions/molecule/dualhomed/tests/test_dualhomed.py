"""A dual-stack, dual-homed device keeps talking when the gateway it uses dies.

device1 (10.0.0.11, fd00:10::11) is attached to gateway1 (.1) and gateway2 (.2);
device2 (10.0.0.12, fd00:10::12, IPv6 LAN fd00:d2::/64) sits behind gateway3
(.3). All three gateways run eBGP in a full mesh over point-to-point WireGuard
links, one session per address family, every link watched by BFD in both
families. In each family a 10 ms ping stream from device1 to device2 runs while
the gateway it uses is paused: the longest gap must stay under 1 s and the
stream must continue through the other gateway. Pausing device2 withdraws its
routes on gateway1 within 1 s, in both families. verify.yml reports both
matrices and passes.
"""

import subprocess
import time

import pytest
from wgsdn_testkit import fabric, ping, routed, scenario
from wgsdn_testkit.docker import docker, docker_exec
from wgsdn_testkit.playbooks import ROOT, playbook

DUAL, FAR = "dh-device1", "dh-device2"
# family -> (device1's address, device2's address, host prefix length, gateway1's and gateway2's addresses)
FAMILIES = {
    "IPv4": ("10.0.0.11", "10.0.0.12", 32, "10.0.0.1", "10.0.0.2"),
    "IPv6": ("fd00:10::11", "fd00:10::12", 128, "fd00:10::1", "fd00:10::2"),
}
LAN6 = "fd00:d2::1"  # an address on device2's IPv6 LAN (a bridge the test adds)


@pytest.mark.parametrize("gw", scenario.gateways())
def test_bgp_full_mesh_established_in_both_families(gw):
    states = fabric.established(gw)
    peers = [p for p in states if p.startswith("bgp_")]
    others = len(scenario.gateways()) - 1
    assert len(peers) == 2 * others and len([p for p in peers if p.endswith("_v6")]) == others, states
    attached = [d for d in scenario.devices() if gw in scenario.uplinks(d)]
    for dynamic in ("dev_", "dev6_"):
        assert len([p for p in states if p.startswith(dynamic)]) == len(attached), states


@pytest.mark.parametrize("dev", scenario.devices())
def test_devices_learn_routes_from_every_uplink_in_both_families(dev):
    states = fabric.established(dev)
    uplinks = len(scenario.uplinks(dev))
    assert len(states) == 2 * uplinks and len([s for s in states if s.endswith("_v6")]) == uplinks, states


@pytest.mark.parametrize("family", FAMILIES)
def test_dual_homed_device_has_a_multipath_route(family):
    _, far, length, gw1, gw2 = FAMILIES[family]
    route = fabric.wait_for(
        f"ECMP route to device2 on device1 ({family})",
        lambda: (r := fabric.kernel_route(scenario.host(DUAL), f"{far}/{length}")).count("nexthop") == 2 and r,
        timeout=30,
    )
    assert f"nexthop via {gw1} dev wg-gateway1" in route, route
    assert f"nexthop via {gw2} dev wg-gateway2" in route, route


@pytest.mark.parametrize("family", FAMILIES)
def test_far_gateway_reaches_dual_homed_device_both_ways(family):
    dual, _, length, gw1, gw2 = FAMILIES[family]
    route = fabric.wait_for(
        f"ECMP route to device1 on gateway3 ({family})",
        lambda: (r := fabric.kernel_route(scenario.host("dh-gateway3"), f"{dual}/{length}")).count("nexthop") == 2 and r,
        timeout=30,
    )
    assert f"via {gw1} dev wg-gateway1" in route and f"via {gw2} dev wg-gateway2" in route, route


# BFD Up on every link in both families, then every host pings every other address (the shared routed checks).
TestRoutedFabric = routed.TestRoutedFabric


def test_ipv6_lan_behind_device2_is_reached_from_every_host():
    # The LAN stand-in: an empty bridge holding an address of device2's wgsdn_subnets.
    docker_exec(
        FAR, f"ip link show lan0 >/dev/null 2>&1 || {{ ip link add lan0 type bridge && ip -6 address add {LAN6}/64 dev lan0 nodad && ip link set lan0 up; }}"
    )
    for name in scenario.names():
        if name != FAR:
            loss = fabric.wait_for(f"{name} reaches {LAN6}", lambda n=name: (r := ping.ping_all(scenario.host(n), [LAN6])) == {LAN6: 0} and r, timeout=30)
            assert loss == {LAN6: 0}, loss


def test_verify_reports_both_families_and_passes():
    run = playbook("-i", scenario.inventory(), ROOT / "playbooks" / "verify.yml", merge_output=True, timeout=600)
    assert run.returncode == 0, run.out[-4000:]
    assert "'IPv4:'" in run.out and "'IPv6:'" in run.out, run.out[-4000:]
    assert "The live network matches the inventory." in run.out
    assert "XX" not in run.out


def _all_recovered():
    for gw in scenario.gateways():
        if not fabric.all_established(scenario.host(gw)):
            return False
    return all(fabric.kernel_route(scenario.host(DUAL), f"{far}/{length}").count("nexthop") == 2 for _, far, length, *_gateways in FAMILIES.values())


@pytest.mark.parametrize("family", FAMILIES)
def test_traffic_survives_the_loss_of_the_gateway_in_use(family):
    _, far, *_rest = FAMILIES[family]
    fabric.wait_for("steady state", _all_recovered, timeout=60)
    victim = fabric.uplink_in_use(DUAL, far)
    print(f"{family}: device1 -> device2 leaves through {victim}")
    stream = ping.start_ping_stream(DUAL, far, seconds=6)
    try:
        time.sleep(2)
        paused_at = time.time()
        docker("pause", victim)
        stats = ping.ping_stream_stats(stream)
        print(f"MEASUREMENT {family} failover: longest gap {stats['longest_gap_ms']:.0f} ms, {stats['lost']}/{stats['sent']} lost while {victim} is paused")
        assert stats["longest_gap_ms"] < 1000, stats["longest_gap_ms"]
        # Traffic flows on after the failure, through the other gateway.
        assert stats["replies"][-1] > paused_at + 3, "the stream did not continue"
        other = fabric.uplink_in_use(DUAL, far)
        assert other != victim, other
    finally:
        subprocess.run(["docker", "unpause", victim], check=False, capture_output=True)
    start = time.monotonic()
    fabric.wait_for("every BGP session and both uplinks back", _all_recovered, timeout=90, interval=0.2)
    print(f"recovered {time.monotonic() - start:.1f} s after unpause")
    assert ping.ping_all(scenario.host(DUAL), [far]) == {far: 0}


@pytest.mark.parametrize("family", FAMILIES)
def test_a_paused_device_is_withdrawn_within_a_second(family):
    _, far, length, *_gateways = FAMILIES[family]
    observer = scenario.host("dh-gateway1")
    fabric.wait_for("steady state", _all_recovered, timeout=60)
    try:
        elapsed = fabric.time_until_route_gone("dh-gateway1", f"{far}/{length}", FAR)
        print(f"MEASUREMENT {family} withdrawal: gateway1 lost its route to {far} {elapsed * 1000:.0f} ms after `docker pause` of device2")
        assert elapsed < 1.0, f"route withdrawn after {elapsed:.3f}s"
    finally:
        subprocess.run(["docker", "unpause", FAR], check=False, capture_output=True)
    fabric.wait_for(f"gateway1's route to {far} back", lambda: fabric.kernel_route(observer, f"{far}/{length}"), timeout=60, interval=0.2)
