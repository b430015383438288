"""The inventory contract is described once (plugin_utils.contract); the README and the lookup follow it."""

import pathlib
import re

import pytest
import yaml

from ansible_collections.wgsdn.fabric.plugins.lookup import allocate
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import contract
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile

ROOT = pathlib.Path(__file__).resolve().parents[4]


def readme_inventory_table():
    """{name: (where, meaning)} of the README's inventory table."""
    rows = re.findall(r"^\| `(wgsdn_[a-z0-9_]+)` \| ([^|]+) \| (.+) \|$", (ROOT / "README.md").read_text(), re.MULTILINE)
    return {name: (where.strip(), meaning.strip()) for name, where, meaning in rows}


def test_readme_table_is_the_contract():
    expected = {name: ("group", meaning) for name, meaning in contract.GROUPS.items()}
    expected.update({name: (where, meaning) for name, (where, _shared, meaning) in {**contract.VARIABLES, **contract.LOOKUP_VARIABLES}.items()})
    assert readme_inventory_table() == expected


def test_lookup_reads_the_contract():
    options = yaml.safe_load(allocate.DOCUMENTATION)["options"]
    lookup_vars = {v["name"] for option in options.values() for v in option.get("vars", [])}
    assert lookup_vars == set(contract.LOOKUP_VARIABLES)
    assert set(contract.INPUT_VARIABLES) == {"ansible_host", *contract.VARIABLES}


def test_shared_variables_are_the_readmes_group_variables():
    """What the README tells users to set once (a "group var") is what the plan refuses to see differ."""
    group_vars = {name for name, (where, _meaning) in readme_inventory_table().items() if where == "group var"}
    assert group_vars, "the README's inventory table has no group variable"
    assert set(contract.SHARED_VARIABLES) == group_vars


# Two valid values of each overlay-wide variable (inputs, not expectations: a shared variable without
# samples here fails the test below by name).
SAMPLES = {
    "wgsdn_network": ("10.0.0.0/24", "10.9.0.0/24"),
    "wgsdn_network6": ("fd00:10::/64", "fd00:99::/64"),
    "wgsdn_preshared_keys": (True, False),
    "wgsdn_interface": ("wg0", "wg9"),
    "wgsdn_metrics": (True, False),
    "wgsdn_policy": ({"default": "allow"}, {"default": "deny"}),
}


@pytest.mark.parametrize("variable", sorted(contract.SHARED_VARIABLES))
def test_the_plan_refuses_hosts_that_disagree_on_a_shared_variable(tmp_path, variable):
    assert variable in SAMPLES, f"no sample values for {variable}: add two to SAMPLES"
    same, other = SAMPLES[variable]
    hostvars = {"gateway1": {"wgsdn_network": "10.0.0.0/24"}, "device1": {"wgsdn_network": "10.0.0.0/24", "wgsdn_uplinks": ["gateway1"]}}
    for values in hostvars.values():
        values[variable] = same
    compute_plan(["gateway1"], ["device1"], hostvars, StateFile(str(tmp_path / "agree.json")))
    hostvars["device1"][variable] = other
    with pytest.raises(PlanError, match=rf"host '(gateway1|device1)', variable '{variable}'.*whole overlay"):
        compute_plan(["gateway1"], ["device1"], hostvars, StateFile(str(tmp_path / "differ.json")))
