"""The topology diagram shows every host, every uplink and every BGP link."""

import pytest

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import diagram
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile
from ansible_collections.wgsdn.fabric.tests.unit.topologies import article_topology


@pytest.fixture
def plan(tmp_path):
    gateways, devices, hostvars = article_topology(3)
    hostvars["device4"]["wgsdn_uplinks"] = ["gateway2", "gateway1"]
    hostvars["device3"]["wgsdn_subnets"] = ["192.168.3.0/24"]
    hostvars["phone"] = {"wgsdn_network": "10.0.0.0/24", "wgsdn_uplinks": ["gateway1"]}
    return compute_plan(gateways, devices, hostvars, StateFile(str(tmp_path / "s.json")), clients=["phone"])


def test_links(plan):
    assert sorted(diagram.links(plan)) == sorted(
        [
            ("gateway1", "gateway2", "bgp"),
            ("device1", "gateway1", "bfd"),
            ("device2", "gateway1", "bfd"),
            ("device3", "gateway2", "bfd"),
            ("device4", "gateway2", "bfd"),
            ("device4", "gateway1", "bfd"),
            ("phone", "gateway1", "wireguard"),
        ]
    )


def test_dot(plan):
    dot = diagram.to_dot(plan)
    assert '"gateway1" -- "gateway2" [style=bold, color="#1f5fa8", label="eBGP + BFD"];' in dot
    assert '"device4" -- "gateway1" [label="BFD", color="#555555"];' in dot
    assert '"phone" -- "gateway1" [color="#555555"];' in dot  # an unmanaged client runs no BFD
    assert 'label="device3\\n10.0.0.4\\n192.168.3.0/24"' in dot
    assert "AS4200000001" in dot
    # That Graphviz accepts it is tests/integration/test_diagram_graphviz.py's (unit tests need no system binary).


def test_mermaid(plan):
    text = diagram.to_mermaid(plan)
    assert "```mermaid" in text
    assert "n_gateway1 ==eBGP + BFD=== n_gateway2" in text
    assert "n_device4 ---|BFD| n_gateway1" in text
    assert "n_phone --- n_gateway1" in text  # an unmanaged client runs no BFD


def test_direct_mode_draws_the_mesh(tmp_path):
    plan = compute_plan(*article_topology(1), StateFile(str(tmp_path / "s.json")))
    assert diagram.links(plan) == [("device1", "device2", "wireguard")]
    with pytest.raises(ValueError, match="unknown diagram format 'png'"):
        diagram.render(plan, "png")
