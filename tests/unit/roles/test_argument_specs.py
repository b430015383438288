"""Each role's three descriptions of its variables agree: defaults (with a comment), argument_specs, README."""

import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists())
# Inputs of an entry point that only the caller can give (no default on purpose).
CALLER_ONLY = {
    "wgsdn_render_dir",
    "wgsdn_monitoring_dir",
    "common_drain",
    "wireguard_stage_interfaces",
    "wireguard_switch_interfaces",
    "wireguard_switch_at",
}


def specs(role):
    entries = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    options = {}
    for entry in entries.values():
        for name, spec in (entry.get("options") or {}).items():
            options.setdefault(name, spec)
    return options


def defaults(role):
    path = ROOT / "roles" / role / "defaults" / "main.yml"
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


def readme_variables(role):
    text = (ROOT / "roles" / role / "README.md").read_text()
    return re.findall(r"^\| `([a-z_][a-z0-9_]*)` \|", text, re.MULTILINE)


def test_every_role_is_checked():
    assert set(ROLES) == {p.name for p in (ROOT / "roles").iterdir() if p.is_dir()}


@pytest.mark.parametrize("role", ROLES)
def test_defaults_match_argument_specs(role):
    options, values = specs(role), defaults(role)
    assert set(options) - CALLER_ONLY == set(values), f"roles/{role}: argument_specs and defaults list different variables"
    for name, value in values.items():
        assert options[name].get("default") == value, f"roles/{role}: {name} defaults to {value!r}, argument_specs says {options[name].get('default')!r}"
        assert options[name].get("description"), f"roles/{role}: {name} has no description in argument_specs"


def uncommented_defaults(text):
    """Top-level keys of a defaults file without a comment of their own: the line right above each must be a comment
    (a comment shared by two variables leaves the second one with a variable or a value above it)."""
    lines = text.splitlines()
    missing = []
    for index, line in enumerate(lines):
        match = re.match(r"^([a-z_][a-z0-9_]*):", line)
        if match and not (index and lines[index - 1].startswith("#")):
            missing.append(match[1])
    return missing


def test_a_default_needs_a_comment_of_its_own():
    assert uncommented_defaults("---\n# one\na: 1\n# two\nb: 2\n") == []
    assert uncommented_defaults("---\n# a and b\na: 1\nb: 2\n") == ["b"]
    assert uncommented_defaults("---\n# a\na:\n  - x\nb: 2\n") == ["b"]
    assert uncommented_defaults("---\na: 1\n") == ["a"]
    assert uncommented_defaults("---\n# a\na: 1\n\nb: 2\n") == ["b"]


@pytest.mark.parametrize("role", ROLES)
def test_every_default_is_commented(role):
    path = ROOT / "roles" / role / "defaults" / "main.yml"
    if not path.exists():
        return
    assert uncommented_defaults(path.read_text()) == [], f"roles/{role}/defaults/main.yml: these defaults have no comment of their own above them"


@pytest.mark.parametrize("role", ROLES)
def test_readme_lists_each_variable_once(role):
    listed = readme_variables(role)
    assert len(listed) == len(set(listed)), f"roles/{role}/README.md lists a variable twice"
    assert set(listed) == set(specs(role)), f"roles/{role}/README.md and argument_specs list different variables"
