"""memo: results shared between equal calls on the same read-only plan, and only there."""

from types import MappingProxyType

import pytest

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import memo, topology
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile
from ansible_collections.wgsdn.fabric.tests.unit.topologies import article_topology


def counted():
    calls = []

    def settings(plan, host_name, device_bgp=True, extra=None):
        calls.append((host_name, device_bgp, extra))
        return {"host": host_name, "device_bgp": device_bgp}

    return memo.shared_for_read_only_plans(settings, size=2), calls


def test_equal_calls_on_one_read_only_plan_share_one_result():
    settings, calls = counted()
    plan = MappingProxyType({"hosts": {}})
    first = settings(plan, "d1")
    assert settings(plan, "d1", device_bgp=True) is first  # the default applied: the same call
    assert settings(plan, "d1", False) == {"host": "d1", "device_bgp": False}
    assert calls == [("d1", True, None), ("d1", False, None)]
    settings(MappingProxyType({"hosts": {}}), "d1")  # another plan: computed again
    assert len(calls) == 3


def test_only_the_last_results_are_kept():
    settings, calls = counted()
    plan = MappingProxyType({})
    for host in ("a", "b", "c", "a"):
        settings(plan, host)
    assert [call[0] for call in calls] == ["a", "b", "c", "a"]  # "a" was evicted by "c" (size 2)
    settings(plan, "c")
    assert len(calls) == 4


@pytest.mark.parametrize("plan, extra", [({"hosts": {}}, None), (MappingProxyType({}), ["unhashable"])])
def test_a_mutable_plan_or_an_unhashable_argument_is_never_remembered(plan, extra):
    settings, calls = counted()
    settings(plan, "d1", extra=extra)
    settings(plan, "d1", extra=extra)
    assert len(calls) == 2


def test_plan_cache_lives_as_long_as_its_read_only_plan():
    assert memo.plan_cache({"hosts": {}}, "x") is None
    plan = MappingProxyType({})
    memo.plan_cache(plan, "x")["k"] = 1
    assert memo.plan_cache(plan, "x") == {"k": 1} and memo.plan_cache(plan, "y") == {}
    assert memo.plan_cache(MappingProxyType({}), "x") == {}


def test_allowed_ips_of_a_read_only_plan_are_those_of_the_plan(tmp_path):
    gateways, devices, hostvars = article_topology(3)
    hostvars["device3"]["wgsdn_subnets"] = ["192.168.3.0/24"]
    hostvars["device1"]["wgsdn_subnets"] = ["192.168.1.0/24"]
    plan = compute_plan(gateways, devices, hostvars, StateFile(str(tmp_path / "state.json")))
    view = MappingProxyType(plan)
    for host in [*gateways, *devices]:
        assert topology.wg_interfaces(view, host) == topology.wg_interfaces(plan, host), host
    # device2 (no subnets of its own) sees both LANs; device1 does not see its own.
    assert topology.allowed_ips(view, "device2", "gateway1") == ["10.0.0.0/24", "192.168.1.0/24", "192.168.3.0/24"]
    assert topology.allowed_ips(view, "device1", "gateway1") == ["10.0.0.0/24", "192.168.3.0/24"]


def test_per_plan_computes_once_for_a_read_only_plan_and_every_time_otherwise():
    calls = []

    def compute(plan):
        calls.append(plan)
        return [len(calls)]

    view = MappingProxyType({})
    assert memo.per_plan(view, "n", compute) == [1] and memo.per_plan(view, "n", compute) == [1]
    assert memo.per_plan({}, "n", compute) == [2] and memo.per_plan({}, "n", compute) == [3]


def test_bird_settings_of_a_read_only_plan_are_those_of_the_plan(tmp_path):
    gateways, devices, hostvars = article_topology(3)
    hostvars["device3"]["wgsdn_subnets"] = ["192.168.3.0/24"]
    plan = compute_plan(gateways, devices, hostvars, StateFile(str(tmp_path / "state.json")))
    view = MappingProxyType(plan)
    for host in [*gateways, *devices]:
        assert topology.bird_settings(view, host) == topology.bird_settings(plan, host), host
        assert topology.static_routes(view, host) == topology.static_routes(plan, host), host
