"""The inventory contract is described once (plugin_utils.contract); the README and the lookup follow it."""

import pathlib
import re

import yaml

from ansible_collections.wgsdn.fabric.plugins.lookup import allocate
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import contract

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
    assert set(contract.SHARED_VARIABLES) == {"wgsdn_network", "wgsdn_network6", "wgsdn_preshared_keys", "wgsdn_interface", "wgsdn_metrics", "wgsdn_policy"}
