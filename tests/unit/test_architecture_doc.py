"""docs/architecture.md names an owner for every plain-Python module: the table is read, not trusted."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_every_plugin_utils_module_has_an_owner_line():
    doc = (ROOT / "docs" / "architecture.md").read_text()
    section = doc.split("## Who owns which fact", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+\.py)` \| (.+) \|$", section, re.M)
    owned = {name for name, text in rows if text.strip()}
    modules = {p.name for p in (ROOT / "plugins" / "plugin_utils").glob("*.py") if p.name != "__init__.py"}
    assert modules - owned == set(), "modules without an owner line in docs/architecture.md"
    assert owned - modules == set(), "owner lines for modules that do not exist"
    assert len(rows) == len(owned), "a module has two owner lines"


def test_both_routes_for_a_new_variable_are_given():
    doc = (ROOT / "docs" / "architecture.md").read_text()
    route = doc.split("## Where a new feature goes", 1)[1].split("\n## ", 1)[0]
    assert "contract.py" in route and "inventory.py" in route  # an inventory variable, into the plan
    assert "defaults/main.yml" in route and "argument_specs.yml" in route  # a role variable
