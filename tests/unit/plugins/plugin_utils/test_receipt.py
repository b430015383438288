"""What decides a converge, and why a host must converge again (plugin_utils/receipt.py)."""

import fnmatch
import pathlib

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import receipt

ROOT = pathlib.Path(__file__).resolve().parents[4]
DEFAULTS = {name: value for path in sorted(ROOT.glob("roles/*/defaults/main.yml")) for name, value in (yaml.safe_load(path.read_text()) or {}).items()}
OBSERVED = {"/etc/bird": "a" * 64, "active units": "b" * 64, "kernel wireguard": "yes"}


def test_inputs_are_the_overlay_and_role_variables_without_the_plan_and_run_options():
    variables = {
        "wgsdn_network": "10.0.0.0/24",
        "bird_bfd": False,
        "policy_unit": "x.service",
        "wgsdn_plan": {"hosts": {}},
        "wgsdn_site_full": True,
        "ansible_host": "192.0.2.1",
        "inventory_hostname": "g1",
        "_bird_settings": {},
    }
    assert receipt.inputs(variables) == {"wgsdn_network": "10.0.0.0/24", "bird_bfd": False, "policy_unit": "x.service"}


def test_desired_digest_changes_with_the_plan_a_variable_and_the_code():
    plan, variables = {"hosts": {"g1": {"address": "10.0.0.1"}}}, {"bird_bfd": True}
    base = receipt.desired_digest(plan, variables, "code")
    assert receipt.desired_digest({"hosts": {"g1": {"address": "10.0.0.2"}}}, variables, "code") != base
    assert receipt.desired_digest(plan, {"bird_bfd": False}, "code") != base
    assert receipt.desired_digest(plan, variables, "other code") != base
    assert receipt.desired_digest(plan, {**variables, "ansible_host": "x", "wgsdn_site_full": True}, "code") == base


@given(st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=8), st.lists(st.integers(), max_size=3)), max_size=8))
def test_desired_digest_does_not_depend_on_mapping_order(plan):
    reordered = dict(reversed(list(plan.items())))
    assert receipt.desired_digest(plan, {}, "c") == receipt.desired_digest(reordered, {}, "c")


def test_paths_add_the_ones_the_inventory_moved():
    moved = receipt.paths({"services_config_dir": "/opt/wgsdn/services", "bird_config_file": "relative.conf", "wgsdn_network": "/24"})
    assert "/opt/wgsdn/services" in moved
    assert "relative.conf" not in moved and "/24" not in moved
    assert set(receipt.DEFAULT_PATHS) <= set(moved)


def test_every_role_path_default_is_observed_or_declared_runtime():
    for name, value in DEFAULTS.items():
        if isinstance(value, str) and value.startswith("/"):
            assert name in receipt.PATH_VARIABLES + receipt.RUNTIME_PATH_VARIABLES, f"{name}: {value} is neither observed nor declared runtime"
    for name in receipt.PATH_VARIABLES:
        assert name in DEFAULTS, f"{name} is no role default"
        value = DEFAULTS[name]
        assert any(value == top or value.startswith(top.rstrip("/") + "/") for top in receipt.DEFAULT_PATHS), (
            f"{name}: {value} lies outside every observed path"
        )


def test_every_unit_the_roles_run_matches_a_pattern():
    units = ["wg-quick@wg0.service", "bird.service", DEFAULTS["policy_unit"], "wgsdn-service-echo.service", "wgsdn-metrics-collector.timer"]
    units += [f"{DEFAULTS[p]}.service" for p in ("metrics_node_exporter_package", "metrics_bird_exporter_package")]
    for unit in units:
        assert any(fnmatch.fnmatch(unit, pattern) for pattern in receipt.UNIT_PATTERNS), unit


def test_the_receipt_is_inside_an_observed_directory_that_leaves_it_out():
    assert any(receipt.RECEIPT_FILE.startswith(top + "/") for top in receipt.DEFAULT_PATHS)


def test_code_digest_follows_contents_and_ignores_caches(tmp_path):
    (tmp_path / "roles" / "r" / "tasks").mkdir(parents=True)
    task = tmp_path / "roles" / "r" / "tasks" / "main.yml"
    task.write_text("- a\n")
    (tmp_path / "plugins").mkdir()
    first = receipt.code_digest(tmp_path)
    (tmp_path / "plugins" / "__pycache__").mkdir()
    (tmp_path / "plugins" / "__pycache__" / "x.cpython-313.pyc").write_bytes(b"cache")
    (tmp_path / "plugins" / "y.pyc").write_bytes(b"cache")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "x.md").write_text("not code")
    assert receipt.code_digest(tmp_path) == first
    task.write_text("- b\n")
    assert receipt.code_digest(tmp_path) != first
    task.write_text("- a\n")
    task.rename(tmp_path / "roles" / "r" / "tasks" / "other.yml")
    assert receipt.code_digest(tmp_path) != first


def test_a_matching_receipt_leaves_nothing_to_do():
    assert receipt.differences({"desired": "d", "observed": dict(OBSERVED)}, "d", OBSERVED) == []


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (None, "no receipt"),
        ({"desired": "d"}, "is not one site.yml writes"),
        ("text", "is not one site.yml writes"),
        ({"desired": "old", "observed": OBSERVED}, "the plan, the collection or a role or overlay variable changed"),
        ({"desired": "d", "observed": {**OBSERVED, "/etc/bird": "c" * 64}}, "/etc/bird is not as the last converge left it"),
        ({"desired": "d", "observed": {**OBSERVED, "active units": "0" * 64}}, "active units is not as"),
        ({"desired": "d", "observed": {k: v for k, v in OBSERVED.items() if k != "kernel wireguard"}}, "kernel wireguard is not as"),
    ],
)
def test_each_difference_is_named(stored, expected):
    reasons = receipt.differences(stored, "d", OBSERVED)
    assert len(reasons) == 1 and expected in reasons[0], reasons
