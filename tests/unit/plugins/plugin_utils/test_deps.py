"""Optional packages: every plugin loads with ansible-core alone, and fails on use with missing_required_lib."""

import json
import subprocess
import sys

import pytest
from wgsdn_testkit import COLLECTIONS

FILTERS = ["allowed_ips", "bgp_neighbors", "bird_settings", "reachability_matrix", "static_routes", "topology_diagram", "verify_host", "wg_interfaces"]

# Runs in a fresh interpreter where importing PACKAGE fails, as it does on a controller without it.
PROBE = """
import importlib, json, sys
sys.modules[sys.argv[1]] = None  # import of it raises ImportError
sys.path.insert(0, sys.argv[2])
from ansible.errors import AnsibleError
results = {}
for name in json.loads(sys.argv[3]):
    module = importlib.import_module(f"ansible_collections.wgsdn.fabric.plugins.filter.{name}")
    function = module.FilterModule().filters()[name]
    try:
        function({}, "host", {})
        results[name] = "no error"
    except AnsibleError as exc:
        results[name] = str(exc)
lookup = importlib.import_module("ansible_collections.wgsdn.fabric.plugins.lookup.allocate").LookupModule()
try:
    lookup.run([], {})
    results["allocate"] = "no error"
except AnsibleError as exc:
    results["allocate"] = str(exc)
print(json.dumps(results))
"""


@pytest.mark.parametrize("package", ["netaddr", "cryptography"])
def test_plugins_load_without_package_and_name_it_when_called(package):
    run = subprocess.run([sys.executable, "-c", PROBE, package, str(COLLECTIONS), json.dumps(FILTERS)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    results = json.loads(run.stdout)
    assert set(results) == {*FILTERS, "allocate"}
    for plugin, message in results.items():
        assert f"Failed to import the required Python library ({package})" in message, (plugin, message)
