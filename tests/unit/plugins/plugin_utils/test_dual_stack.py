"""IPv6 beside IPv4, and alone: allocation, migration of an IPv4 state, router ids, sessions, bad input."""

import json

import pytest

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import topology, verify
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile
from ansible_collections.wgsdn.fabric.tests.unit.topologies import article_topology

NETWORK6 = "fd00:10::/64"


def with_network6(hostvars, keep_ipv4=True):
    for values in hostvars.values():
        values["wgsdn_network6"] = NETWORK6
        if not keep_ipv4:
            values.pop("wgsdn_network")
            values.pop("wgsdn_address", None)
    return hostvars


def plan_of(path, gateways, devices, hostvars, **kwargs):
    return compute_plan(gateways, devices, hostvars, StateFile(str(path)), **kwargs)


def test_an_ipv4_state_gains_ipv6_without_changing_a_thing_of_ipv4(state_path):
    gateways, devices, hostvars = article_topology(3)
    before = plan_of(state_path, gateways, devices, hostvars)
    old = json.loads(state_path.read_text())
    after = plan_of(state_path, gateways, devices, with_network6(hostvars))
    new = json.loads(state_path.read_text())
    for name, entry in old["hosts"].items():
        assert {k: v for k, v in new["hosts"][name].items() if k != "address6"} == entry
    assert new["preshared_keys"] == old["preshared_keys"]
    assert new["network"] == old["network"] and new["network6"] == NETWORK6
    for name, host in after["hosts"].items():
        assert host["address"] == before["hosts"][name]["address"] and host["router_id"] == host["address"]
        assert host["addresses"]["ipv6"].startswith("fd00:10::")
    # And going back to IPv4 only keeps everything (the IPv6 addresses stay reserved).
    third = plan_of(state_path, gateways, devices, article_topology(3)[2])
    assert {n: h["addresses"] for n, h in third["hosts"].items()} == {n: {"ipv4": h["address"]} for n, h in before["hosts"].items()}


def test_ipv6_only_overlay_derives_router_ids_from_the_addresses(state_path):
    gateways, devices, hostvars = article_topology(3)
    plan = plan_of(state_path, gateways, devices, with_network6(hostvars, keep_ipv4=False))
    assert [f["name"] for f in plan["families"]] == ["ipv6"] and plan["network"] == NETWORK6
    for host in plan["hosts"].values():
        assert host["address"] == host["addresses"]["ipv6"]
        low = int(host["address"].rsplit(":", 1)[1], 16)
        assert host["router_id"] == f"0.0.{low >> 8}.{low & 255}"
    sessions = topology.bgp_neighbors(plan, "gateway1")
    assert [(s["name"], s["neighbor"]) for s in sessions] == [("bgp_gateway2_v6", plan["hosts"]["gateway2"]["address"])]


def test_colliding_router_ids_are_refused(state_path):
    hostvars = {
        "g1": {"wgsdn_network6": "fd00::/64", "wgsdn_address6": "fd00::1:0:0:5"},
        "g2": {"wgsdn_network6": "fd00::/64", "wgsdn_address6": "fd00::2:0:0:5"},
    }
    with pytest.raises(PlanError, match=r"host 'g2', variable 'wgsdn_address6': fd00::2:0:0:5 gives router id 0.0.0.5, as the address of host 'g1' does"):
        plan_of(state_path, ["g1", "g2"], [], hostvars)
    assert not state_path.exists()


def test_dual_stack_sessions_bfd_and_verify(state_path):
    gateways, devices, hostvars = article_topology(3)
    hostvars["device4"]["wgsdn_uplinks"] = ["gateway2", "gateway1"]
    plan = plan_of(state_path, gateways, devices, with_network6(hostvars))
    gw1, gw2 = plan["hosts"]["gateway1"], plan["hosts"]["gateway2"]
    assert [s["name"] for s in topology.bgp_neighbors(plan, "gateway1")] == ["bgp_gateway2", "bgp_gateway2_v6"]
    assert [s["name"] for s in topology.uplink_sessions(plan, "device4")] == ["wgsdn_uplink1", "wgsdn_uplink1_v6", "wgsdn_uplink2", "wgsdn_uplink2_v6"]
    # One passive session per attached device and family, named from the device.
    dev = {n: plan["hosts"][n]["addresses"] for n in ("device1", "device2", "device4")}
    assert [(d["name"], d["peer"], d["neighbor"], d["local"]) for d in topology.device_sessions(plan, "gateway1")] == [
        ("dev_device1", "device1", dev["device1"]["ipv4"], gw1["address"]),
        ("dev6_device1", "device1", dev["device1"]["ipv6"], gw1["addresses"]["ipv6"]),
        ("dev_device2", "device2", dev["device2"]["ipv4"], gw1["address"]),
        ("dev6_device2", "device2", dev["device2"]["ipv6"], gw1["addresses"]["ipv6"]),
        ("dev_device4", "device4", dev["device4"]["ipv4"], gw1["address"]),
        ("dev6_device4", "device4", dev["device4"]["ipv6"], gw1["addresses"]["ipv6"]),
    ]
    # BFD watches each family's next hops, so IPv6 routes follow liveness as tightly as IPv4's.
    assert set(topology.bfd_neighbors(plan, "device4")) == {gw1["address"], gw2["address"], gw1["addresses"]["ipv6"], gw2["addresses"]["ipv6"]}
    probes = verify.probes(plan, "device1")
    assert probes["route_commands"] == ["ip -4 route show proto bird", "ip -6 route show proto bird"]
    assert len(probes["targets"]) == 2 * (len(plan["hosts"]) - 1)
    expected = verify.expected_kernel_routes(plan, "device1")
    assert f"{gw2['addresses']['ipv6']}/128" in expected and f"{gw2['address']}/32" in expected
    # Both matrices, titled.
    results = [{"host": n, "ping": {a: True for o, h in plan["hosts"].items() if o != n for a in h["addresses"].values()}} for n in plan["hosts"]]
    lines = verify.reachability_matrix(plan, results)
    assert lines[0] == "IPv4:" and "IPv6:" in lines and "XX" not in "".join(lines)


def test_ipv6_next_hops_in_routes_and_allowed_ips(state_path):
    gateways, devices, hostvars = article_topology(3)
    hostvars["device3"]["wgsdn_subnets"] = ["fd00:3::/64"]
    plan = plan_of(state_path, gateways, devices, with_network6(hostvars))
    device3 = plan["hosts"]["device3"]["addresses"]["ipv6"]
    assert {"prefix": "fd00:3::/64", "via": [device3], "bfd": True, "own": False} in topology.static_routes(plan, "gateway2")
    assert topology.allowed_ips(plan, "gateway2", "device3") == ["10.0.0.4/32", f"{device3}/128", "fd00:3::/64"]


BAD = [
    # (change to every host's variables or to one host's, host, variable, fragment)
    ({"wgsdn_network6": "10.1.0.0/24"}, None, "wgsdn_network6", "not a valid IPv6 CIDR prefix; it is an IPv4 value: give it in wgsdn_network"),
    ({"wgsdn_network": "fd00::/64"}, None, "wgsdn_network", "not a valid IPv4 CIDR prefix; it is an IPv6 value: give it in wgsdn_network6"),
    ({"wgsdn_network6": "fd00::/127"}, None, "wgsdn_network6", "too small for an overlay (use /126 or larger)"),
    ({"wgsdn_network6": "fd00::/126"}, None, "wgsdn_network6", "no free address left in fd00::/126"),
    ({}, {"device1": {"wgsdn_address6": "fd00:99::1"}}, "wgsdn_address6", "lies outside wgsdn_network6 fd00:10::/64"),
    ({}, {"device1": {"wgsdn_address6": "fd00:10::7"}, "device2": {"wgsdn_address6": "fd00:10::7"}}, "wgsdn_address6", "already pinned by host 'device1'"),
    ({}, {"device1": {"wgsdn_address6": "10.0.0.9"}}, "wgsdn_address6", "it is an IPv4 value: give it in wgsdn_address"),
    (
        {},
        {"device1": {"wgsdn_subnets": ["fd00:5::/64"]}, "device2": {"wgsdn_subnets": ["fd00:5::/48"]}},
        "wgsdn_subnets",
        "overlaps the subnet fd00:5::/64 of host 'device1'",
    ),
    ({}, {"device1": {"wgsdn_subnets": ["fd00:10::/96"]}}, "wgsdn_subnets", "overlaps wgsdn_network6 fd00:10::/64"),
    ({}, {"device2": {"wgsdn_network6": "fd00:11::/64"}}, "wgsdn_network6", "differs from fd00:10::/64 set for host 'gateway1'"),
]


@pytest.mark.parametrize("everyone, some, variable, fragment", BAD)
def test_bad_ipv6_input_names_host_and_variable_and_leaves_the_state(state_path, everyone, some, variable, fragment):
    gateways, devices, hostvars = article_topology(3)
    plan_of(state_path, gateways, devices, hostvars)
    before = state_path.read_bytes()
    hostvars = with_network6(hostvars)
    for values in hostvars.values():
        values.update(everyone)
    for name, values in (some or {}).items():
        hostvars[name].update(values)
    with pytest.raises(PlanError) as err:
        plan_of(state_path, gateways, devices, hostvars)
    assert f"variable '{variable}'" in str(err.value) and fragment in str(err.value), str(err.value)
    if some:
        assert f"host '{list(some)[-1]}'" in str(err.value)
    assert state_path.read_bytes() == before


def test_ipv6_subnet_needs_an_ipv6_overlay(state_path):
    gateways, devices, hostvars = article_topology(3)
    hostvars["device1"]["wgsdn_subnets"] = ["fd00:5::/64"]
    with pytest.raises(
        PlanError, match="host 'device1', variable 'wgsdn_subnets': fd00:5::/64 is an IPv6 prefix, and the overlay carries no IPv6: set wgsdn_network6"
    ):
        plan_of(state_path, gateways, devices, hostvars)


def test_state_whose_ipv6_entries_collide_is_refused(state_path):
    gateways, devices, hostvars = article_topology(3)
    plan_of(state_path, gateways, devices, with_network6(hostvars))
    data = json.loads(state_path.read_text())
    data["hosts"]["device2"]["address6"] = data["hosts"]["device1"]["address6"]
    state_path.write_text(json.dumps(data))
    before = state_path.read_bytes()
    with pytest.raises(PlanError, match=r"host 'device2', variable 'wgsdn_state_file': .*address6 fd00:10::.* is also allocated to host 'device1'"):
        plan_of(state_path, gateways, devices, hostvars)
    assert state_path.read_bytes() == before
