"""Graphviz accepts the DOT diagram.yml writes (Graphviz is a system binary: make test installs it, tools/host-packages.sh)."""

import shutil
import subprocess

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import diagram
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile
from ansible_collections.wgsdn.fabric.tests.unit.topologies import article_topology


def test_graphviz_draws_the_dot_of_a_routed_fabric_with_a_client(tmp_path):
    gateways, devices, hostvars = article_topology(3)
    hostvars["device4"]["wgsdn_uplinks"] = ["gateway2", "gateway1"]
    hostvars["device3"]["wgsdn_subnets"] = ["192.168.3.0/24"]
    hostvars["phone"] = {"wgsdn_network": "10.0.0.0/24", "wgsdn_uplinks": ["gateway1"]}
    plan = compute_plan(gateways, devices, hostvars, StateFile(str(tmp_path / "s.json")), clients=["phone"])
    assert shutil.which("dot"), "Graphviz' dot is missing: run tools/host-packages.sh (as root)"
    svg = subprocess.run(["dot", "-Tsvg"], input=diagram.to_dot(plan), capture_output=True, text=True, check=True).stdout
    assert "<svg" in svg and all(name in svg for name in (*gateways, *devices, "phone"))
