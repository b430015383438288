"""Allocation against the state file: stable, never renumbering, failing before writing."""

import json

import pytest

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import keys
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.model import ASN_BASE
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile
from ansible_collections.wgsdn.fabric.tests.unit.topologies import NETWORK, article_topology

NET = {"wgsdn_network": NETWORK}


def plan_of(state_path, gateways, devices, hostvars, **kwargs):
    return compute_plan(gateways, devices, hostvars, StateFile(str(state_path)), **kwargs)


def addresses(plan):
    return {name: host["address"] for name, host in plan["hosts"].items()}


def test_pinned_addresses_are_honoured(state_path):
    plan = plan_of(state_path, *article_topology(3))
    assert addresses(plan) == {
        "gateway1": "10.0.0.2",
        "gateway2": "10.0.0.5",
        "device1": "10.0.0.1",
        "device2": "10.0.0.3",
        "device3": "10.0.0.4",
        "device4": "10.0.0.6",
    }


def test_unpinned_hosts_get_lowest_free_addresses_and_keep_them(state_path):
    hostvars = {"g": dict(NET), "a": dict(NET, wgsdn_address="10.0.0.1"), "b": dict(NET)}
    first = plan_of(state_path, ["g"], ["a", "b"], hostvars)
    assert addresses(first) == {"g": "10.0.0.2", "a": "10.0.0.1", "b": "10.0.0.3"}
    # Re-running, in another inventory order, changes nothing at all.
    before = state_path.read_bytes()
    second = plan_of(state_path, ["g"], ["b", "a"], hostvars)
    assert addresses(second) == addresses(first)
    assert {n: h["private_key"] for n, h in second["hosts"].items()} == {n: h["private_key"] for n, h in first["hosts"].items()}
    assert state_path.read_bytes() == before


def test_adding_and_removing_hosts_never_renumbers_or_rekeys(state_path):
    hostvars = {name: dict(NET) for name in ("g", "a", "b", "c")}
    first = plan_of(state_path, ["g"], ["a", "b", "c"], hostvars)
    # b leaves; d arrives: d must not take b's reserved address.
    hostvars["d"] = dict(NET)
    second = plan_of(state_path, ["g"], ["a", "c", "d"], hostvars)
    for name in ("g", "a", "c"):
        assert second["hosts"][name]["address"] == first["hosts"][name]["address"]
        assert second["hosts"][name]["private_key"] == first["hosts"][name]["private_key"]
    assert second["hosts"]["d"]["address"] not in addresses(first).values()
    # b comes back and gets its old address and keys.
    third = plan_of(state_path, ["g"], ["a", "b", "c", "d"], hostvars)
    assert third["hosts"]["b"]["address"] == first["hosts"]["b"]["address"]
    assert third["hosts"]["b"]["private_key"] == first["hosts"]["b"]["private_key"]


def test_prune_releases_departed_hosts(state_path):
    hostvars = {name: dict(NET) for name in ("g", "a", "b")}
    plan_of(state_path, ["g"], ["a", "b"], hostvars)
    plan_of(state_path, ["g"], ["a"], hostvars, prune=True)
    state = json.loads(state_path.read_text())
    assert set(state["hosts"]) == {"g", "a"}
    assert set(state["preshared_keys"]) == {"a|g"}


def test_exhausted_pool_names_host_and_hints_at_prune(state_path):
    small = {"wgsdn_network": "10.0.0.0/30"}  # two usable addresses
    plan_of(state_path, ["g"], ["a"], {"g": dict(small), "a": dict(small)})
    before = state_path.read_bytes()
    with pytest.raises(PlanError) as err:
        plan_of(state_path, ["g"], ["b"], {"g": dict(small), "b": dict(small)})
    assert "host 'b', variable 'wgsdn_network'" in str(err.value)
    assert "no free address left in 10.0.0.0/30" in str(err.value)
    assert "1 departed host(s)" in str(err.value)
    assert state_path.read_bytes() == before


def test_pin_conflicting_with_an_existing_allocation(state_path):
    hostvars = {"g": dict(NET), "a": dict(NET)}
    plan = plan_of(state_path, ["g"], ["a"], hostvars)
    before = state_path.read_bytes()
    hostvars["b"] = dict(NET, wgsdn_address=plan["hosts"]["a"]["address"])
    with pytest.raises(PlanError) as err:
        plan_of(state_path, ["g"], ["a", "b"], hostvars)
    assert "host 'b', variable 'wgsdn_address'" in str(err.value)
    assert "allocated to host 'a'" in str(err.value)
    assert state_path.read_bytes() == before


def test_pin_reclaims_a_departed_hosts_reservation(state_path):
    plan = plan_of(state_path, ["g"], ["a"], {"g": dict(NET), "a": dict(NET)})
    taken = plan["hosts"]["a"]["address"]
    plan = plan_of(state_path, ["g"], ["b"], {"g": dict(NET), "b": dict(NET, wgsdn_address=taken)})
    assert plan["hosts"]["b"]["address"] == taken
    assert "a" not in json.loads(state_path.read_text())["hosts"]


def test_changing_the_network_does_not_silently_renumber(state_path):
    plan_of(state_path, ["g"], ["a"], {"g": dict(NET), "a": dict(NET)})
    other = {"wgsdn_network": "10.9.0.0/24"}
    with pytest.raises(PlanError, match=r"host '[ag]', variable 'wgsdn_network'.*outside the new wgsdn_network 10\.9\.0\.0/24"):
        plan_of(state_path, ["g"], ["a"], {"g": dict(other), "a": dict(other)})


def test_keys_are_x25519_and_public_keys_match(state_path):
    plan = plan_of(state_path, *article_topology(2))
    for host in plan["hosts"].values():
        raw = keys.decode_key(host["private_key"])
        assert raw[0] & 7 == 0 and raw[31] & 0xC0 == 0x40  # clamped like wg genkey
        assert host["public_key"] == keys.public_key(host["private_key"])
    assert len({h["public_key"] for h in plan["hosts"].values()}) == 3


def test_preshared_keys_one_per_pair_and_optional(state_path, tmp_path):
    plan = plan_of(state_path, *article_topology(3))
    assert set(plan["preshared_keys"]) == {"gateway1|gateway2", "device1|gateway1", "device2|gateway1", "device3|gateway2", "device4|gateway2"}
    assert len(set(plan["preshared_keys"].values())) == 5
    gateways, devices, hostvars = article_topology(2)
    for values in hostvars.values():
        values["wgsdn_preshared_keys"] = False
    assert plan_of(tmp_path / "other.json", gateways, devices, hostvars)["preshared_keys"] == {}


def test_gateways_get_stable_numbers_and_private_asns(state_path):
    gateways, devices, hostvars = article_topology(3)
    plan = plan_of(state_path, gateways, devices, hostvars)
    assert [plan["hosts"][g]["asn"] for g in gateways] == [ASN_BASE + 1, ASN_BASE + 2]
    # A new gateway listed first still gets the next number; nobody else's changes.
    hostvars["gateway0"] = dict(NET)
    plan = plan_of(state_path, ["gateway0", *gateways], devices, hostvars)
    assert plan["hosts"]["gateway0"]["gateway_id"] == 3
    assert plan["hosts"]["gateway1"]["gateway_id"] == 1


def test_check_mode_writes_nothing(state_path):
    plan_of(state_path, *article_topology(2), write=False)
    assert not state_path.exists()


def test_rotation_replaces_only_the_named_hosts_keys_and_their_pairs(state_path):
    gateways, devices, hostvars = article_topology(3)
    before = plan_of(state_path, gateways, devices, hostvars)
    after = plan_of(state_path, gateways, devices, hostvars, rotate=["device1"])
    assert after["hosts"]["device1"]["private_key"] != before["hosts"]["device1"]["private_key"]
    assert after["hosts"]["device1"]["address"] == before["hosts"]["device1"]["address"]
    for name in ("device2", "gateway1", "gateway2"):
        assert after["hosts"][name]["private_key"] == before["hosts"][name]["private_key"]
    changed = {p for p in after["preshared_keys"] if after["preshared_keys"][p] != before["preshared_keys"][p]}
    assert changed == {"device1|gateway1"}
    everything = plan_of(state_path, gateways, devices, hostvars, rotate="all")
    assert all(everything["hosts"][n]["private_key"] != after["hosts"][n]["private_key"] for n in after["hosts"])
    with pytest.raises(PlanError, match="host 'ghost', variable 'wgsdn_rotate_keys'"):
        plan_of(state_path, gateways, devices, hostvars, rotate=["ghost"])


def test_pins_can_swap_addresses_in_one_run(state_path):
    hostvars = {"g": dict(NET, wgsdn_address="10.0.0.3"), "a": dict(NET, wgsdn_address="10.0.0.2")}
    plan_of(state_path, ["g"], ["a"], hostvars)
    hostvars["g"]["wgsdn_address"], hostvars["a"]["wgsdn_address"] = "10.0.0.2", "10.0.0.3"
    plan = plan_of(state_path, ["g"], ["a"], hostvars)
    assert addresses(plan) == {"g": "10.0.0.2", "a": "10.0.0.3"}
