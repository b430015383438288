"""Make-before-break rotation: which links switch together, and which can be drained first."""

import pytest

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import rotation, topology
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile
from ansible_collections.wgsdn.fabric.tests.unit.plugins.plugin_utils.test_reflectors import fabric
from ansible_collections.wgsdn.fabric.tests.unit.topologies import NETWORK

NET = {"wgsdn_network": NETWORK}


@pytest.fixture
def plan_for(tmp_path):
    def build(gateways, devices, hostvars, clients=()):
        return compute_plan(gateways, devices, hostvars, StateFile(str(tmp_path / "state.json")), clients=clients)

    return build


def by_name(steps):
    return {s["name"]: s for s in steps}


def switched_links(steps):
    return sorted(tuple(sorted(link)) for s in steps for link in s["links"])


def test_every_changed_link_is_switched_exactly_once(plan_for):
    plan = plan_for(*fabric())
    steps = rotation.steps(plan, "all")
    assert switched_links(steps) == sorted(tuple(sorted((link["a"], link["b"]))) for link in plan["links"])
    one = rotation.steps(plan, ["dual"])
    assert switched_links(one) == [("dual", "edge1"), ("dual", "edge2")]
    assert rotation.steps(plan, []) == []


def test_a_dual_homed_device_is_drained_from_one_gateway_at_a_time(plan_for):
    plan = plan_for(*fabric())
    steps = rotation.steps(plan, "dual")
    assert [s["name"] for s in steps] == ["edge1 and its attached hosts", "edge2 and its attached hosts"]
    first = steps[0]
    assert first["hitless"] is True
    assert first["apply"] == {"edge1": ["wg0"], "dual": ["wg-edge1"]}
    assert first["drain"]["dual"] == {"protocols": ["wgsdn_uplink1"], "silence": ["wg-edge1"], "bfd_peers": [plan["hosts"]["edge1"]["address"]]}
    # The gateway waits for its BFD session with the device to go down, so it routes around the link too.
    assert first["drain"]["edge1"] == {"protocols": [], "silence": [], "bfd_peers": [plan["hosts"]["dual"]["address"]]}
    assert steps[1]["drain"]["dual"]["protocols"] == ["wgsdn_uplink2"]


def test_a_rotated_gateway_switches_all_its_attached_hosts_together(plan_for):
    plan = plan_for(*fabric())
    step = by_name(rotation.steps(plan, "edge1"))["edge1 and its attached hosts"]
    assert step["apply"] == {"edge1": ["wg0"], "dev1": ["wg-edge1"], "dual": ["wg-edge1"]}
    # dev1 has no other path: the step is not hitless, but dual is still drained first.
    assert step["hitless"] is False
    assert set(step["drain"]) == {"dual", "edge1"}


def test_mesh_links_are_drained_when_another_path_exists(plan_for):
    plan = plan_for(*fabric())
    steps = by_name(rotation.steps(plan, "rr1"))
    assert set(steps) == {"rr1 - rr2", "rr1 - edge1", "rr1 - edge2", "rr1 - edge3"}
    step = steps["rr1 - edge1"]
    assert step["hitless"] is True
    assert step["apply"] == {"rr1": ["wg-edge1"], "edge1": ["wg-rr1"]}
    assert step["drain"]["rr1"]["protocols"] == [s["name"] for s in topology.bgp_neighbors(plan, "rr1") if s["peer"] == "edge1"]
    assert step["drain"]["edge1"]["protocols"] == ["bgp_rr1"]


def test_the_only_link_between_two_gateways_cannot_be_drained(plan_for):
    plan = plan_for(*fabric(reflectors=[], edges=["edge1", "edge2"]))
    step = by_name(rotation.steps(plan, "edge1"))["edge1 - edge2"]
    assert step["hitless"] is False and step["drain"] == {}


def test_both_families_are_drained(plan_for):
    gateways, devices, hostvars = fabric()
    for values in hostvars.values():
        values["wgsdn_network6"] = "fd00:10::/64"
    plan = plan_for(gateways, devices, hostvars)
    step = rotation.steps(plan, "dual")[0]
    assert step["drain"]["dual"]["protocols"] == ["wgsdn_uplink1", "wgsdn_uplink1_v6"]
    assert len(step["drain"]["edge1"]["bfd_peers"]) == 2
    mesh = by_name(rotation.steps(plan, "rr1"))["rr1 - edge1"]
    assert mesh["drain"]["edge1"]["protocols"] == ["bgp_rr1", "bgp_rr1_v6"]


def test_clients_are_named_for_a_new_configuration(plan_for):
    gateways, devices, hostvars = fabric()
    hostvars["phone"] = dict(NET, wgsdn_uplinks=["edge1"])
    plan = plan_for(gateways, devices, hostvars, clients=["phone"])
    step = by_name(rotation.steps(plan, "edge1"))["edge1 and its attached hosts"]
    assert step["unmanaged"] == ["phone"] and "phone" not in step["apply"]


def test_hub_mode_switches_everything_at_once(plan_for):
    hostvars = {"hub": dict(NET), "d1": dict(NET), "d2": dict(NET)}
    plan = plan_for(["hub"], ["d1", "d2"], hostvars)
    assert plan["mode"] != topology.ROUTED
    steps = rotation.steps(plan, "d1")
    assert len(steps) == 1 and steps[0]["hitless"] is False
    assert steps[0]["apply"] == {"d1": ["wg0"], "hub": ["wg0"]}
