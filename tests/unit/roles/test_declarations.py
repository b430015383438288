"""Each role's meta/wgsdn.yml against the role itself: what the converge receipt observes is what the role owns.

The expectations come from the roles' own files (defaults, tasks, handlers), so a role that starts
writing a new path, running a new unit or taking a new variable fails here until it declares it.
"""

import fnmatch
import pathlib
import re

import pytest
import yaml

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import receipt

ROOT = pathlib.Path(__file__).resolve().parents[3]
DECLARED = receipt.declarations(str(ROOT))
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if p.is_dir())
LIVE_KINDS = {"wireguard", "bird", "nftables"}
JINJA = re.compile(r"\{\{\s*(.*?)\s*\}\}")


def tasks(role):
    """Every task and handler of a role (blocks flattened)."""
    found = []

    def walk(items):
        for item in items or []:
            if isinstance(item, dict):
                found.append(item)
                walk(item.get("block"))
                walk(item.get("rescue"))
                walk(item.get("always"))

    for path in sorted((ROOT / "roles" / role).glob("*/*.yml")):
        if path.parent.name in ("tasks", "handlers"):
            walk(yaml.safe_load(path.read_text()))
    return found


def resolve(text, role):
    """A task argument with each ``{{ var }}`` of a role default replaced by its value, any other expression by ``X``."""
    defaults = DECLARED[role]["defaults"]
    return JINJA.sub(lambda m: str(defaults[m.group(1)]) if m.group(1) in defaults else "X", text)


def literals(expression, role):
    """The quoted strings of a loop expression, with the role's internal variables (vars/main.yml) it names expanded."""
    path = ROOT / "roles" / role / "vars" / "main.yml"
    internal = yaml.safe_load(path.read_text()) if path.exists() else {}
    for name, value in internal.items():
        expression = expression.replace(name, str(value))
    return re.findall(r"'([^']+)'", expression)


def test_every_role_declares_what_it_owns():
    assert sorted(DECLARED) == ROLES
    for role, declared in DECLARED.items():
        assert set(declared["live"]) <= LIVE_KINDS, role


@pytest.mark.parametrize("role", ROLES)
def test_every_variable_of_a_role_has_a_declared_prefix(role):
    prefixes = DECLARED[role]["variables"]
    for name in DECLARED[role]["defaults"]:
        assert name.startswith(prefixes), f"{role}: {name} has none of the prefixes {prefixes}"


@pytest.mark.parametrize("role", ROLES)
def test_every_path_default_is_observed_or_declared_runtime(role):
    declared = DECLARED[role]
    for name, value in declared["defaults"].items():
        if isinstance(value, str) and value.startswith("/"):
            assert name in declared["paths"] + declared["runtime_paths"], f"{role}: {name} ({value}) is neither observed nor runtime"
    for name in declared["paths"] + declared["runtime_paths"]:
        assert name in declared["defaults"], f"{role}: {name} is no default of the role"


@pytest.mark.parametrize("role", ROLES)
def test_every_path_a_task_writes_lies_under_an_observed_one(role):
    declared = DECLARED[role]
    observed = list(declared["fixed_paths"]) + [declared["defaults"][n] for n in declared["paths"]]
    runtime = [declared["defaults"][n] for n in declared["runtime_paths"]]
    for task in tasks(role):
        for module, args in task.items():
            if not isinstance(args, dict) or module.split(".")[-1] not in ("file", "copy", "template"):
                continue
            target = resolve(str(args.get("dest") or args.get("path") or ""), role)
            if not target.startswith("/") or any(target.startswith(r) for r in runtime):
                continue
            assert any(target == top or target.startswith(top.rstrip("/") + "/") for top in observed), f"{role}: {task.get('name')} writes {target}"


@pytest.mark.parametrize("role", ROLES)
def test_every_unit_a_role_runs_matches_its_patterns(role):
    patterns = DECLARED[role]["units"]
    for task in tasks(role):
        args = task.get("ansible.builtin.systemd_service")
        if not isinstance(args, dict) or "name" not in args:
            continue
        names = [args["name"]]
        if args["name"] == "{{ item }}":
            names = task["loop"] if isinstance(task["loop"], list) else literals(task["loop"], role)
        for name in names:
            unit = resolve(name, role)
            unit = unit if "." in unit.rsplit("@", 1)[-1] else f"{unit}.service"
            assert any(fnmatch.fnmatch(unit, p) for p in patterns), f"{role}: {task.get('name')} runs {unit}, which none of {patterns} matches"
