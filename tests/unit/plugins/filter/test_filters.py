"""The filter plugins: thin wrappers that turn plan errors into AnsibleFilterError."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.wgsdn.fabric.plugins.filter import allowed_ips, bgp_neighbors, bird_settings, rotation_steps, static_routes, wg_interfaces
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import rotation, topology
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile
from ansible_collections.wgsdn.fabric.tests.unit.topologies import article_topology

SINGLE_HOST_FILTERS = [
    (wg_interfaces, "wg_interfaces"),
    (static_routes, "static_routes"),
    (bgp_neighbors, "bgp_neighbors"),
    (bird_settings, "bird_settings"),
]


@pytest.fixture
def plan(tmp_path):
    return compute_plan(*article_topology(3), StateFile(str(tmp_path / "s.json")))


@pytest.mark.parametrize("module, name", SINGLE_HOST_FILTERS)
def test_filter_registers_and_matches_plugin_utils(plan, module, name):
    function = module.FilterModule().filters()[name]
    for host in plan["hosts"]:
        assert function(plan, host) == getattr(topology, name)(plan, host)


@pytest.mark.parametrize("module, name", SINGLE_HOST_FILTERS)
def test_filter_errors_name_host_and_variable(plan, module, name):
    function = module.FilterModule().filters()[name]
    with pytest.raises(AnsibleFilterError, match="host 'ghost', variable 'inventory_hostname'"):
        function(plan, "ghost")
    with pytest.raises(AnsibleFilterError, match="not a host of the overlay"):
        function({"not": "a plan"}, "device1")


def test_allowed_ips_filter(plan):
    function = allowed_ips.FilterModule().filters()["allowed_ips"]
    assert function(plan, "device1", "gateway1") == ["10.0.0.0/24"]
    assert function(plan, "gateway2", "device3") == ["10.0.0.4/32"]
    with pytest.raises(AnsibleFilterError, match="host 'device1', variable 'peer': 'gateway2' is not a WireGuard peer"):
        function(plan, "device1", "gateway2")
    with pytest.raises(AnsibleFilterError, match="host 'nobody', variable 'peer'"):
        function(plan, "device1", "nobody")


def test_rotation_steps_filter(plan):
    function = rotation_steps.FilterModule().filters()["rotation_steps"]
    assert function(plan, "all") == rotation.steps(plan, ["all"])
    assert function(plan, "device1,device2") == rotation.steps(plan, ["device1", "device2"])
    with pytest.raises(AnsibleFilterError, match="host 'ghost', variable 'wgsdn_rotate_keys'"):
        function(plan, "ghost")
