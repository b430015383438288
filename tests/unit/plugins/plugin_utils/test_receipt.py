"""What decides a converge, and why a host must converge again (plugin_utils/receipt.py)."""

import pathlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import receipt

ROOT = pathlib.Path(__file__).resolve().parents[4]
DECLARED = receipt.declarations(str(ROOT))
OBSERVED = {"/etc/bird": "a" * 64, "active units": "b" * 64, "kernel wireguard": "yes"}


def test_inputs_are_the_overlay_and_role_variables_without_the_plan_and_run_options():
    variables = {
        "wgsdn_network": "10.0.0.0/24",
        "bird_bfd": False,
        "policy_unit": "x.service",
        "wgsdn_plan": {"hosts": {}},
        "wgsdn_site_full": True,
        "wgsdn_state_backend": "postgresql",
        "wgsdn_state_dsn": "host=db password=secret",
        "ansible_host": "192.0.2.1",
        "inventory_hostname": "g1",
        "_bird_settings": {},
    }
    assert receipt.inputs(variables, DECLARED) == {"wgsdn_network": "10.0.0.0/24", "bird_bfd": False, "policy_unit": "x.service"}


def test_desired_digest_changes_with_the_plan_a_variable_and_the_code():
    plan, variables = {"hosts": {"g1": {"address": "10.0.0.1"}}}, {"bird_bfd": True}
    base = receipt.desired_digest(plan, variables, "code")
    assert receipt.desired_digest({"hosts": {"g1": {"address": "10.0.0.2"}}}, variables, "code") != base
    assert receipt.desired_digest(plan, {"bird_bfd": False}, "code") != base
    assert receipt.desired_digest(plan, variables, "other code") != base
    unrelated = receipt.inputs({**variables, "ansible_host": "x", "wgsdn_site_full": True}, DECLARED)
    assert receipt.desired_digest(plan, unrelated, "code") == base


@given(st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=8), st.lists(st.integers(), max_size=3)), max_size=8))
def test_desired_digest_does_not_depend_on_mapping_order(plan):
    reordered = dict(reversed(list(plan.items())))
    assert receipt.desired_digest(plan, {}, "c") == receipt.desired_digest(reordered, {}, "c")


def test_paths_add_the_ones_the_inventory_moved():
    moved = receipt.paths({"services_config_dir": "/opt/wgsdn/services", "bird_config_file": "relative.conf", "wgsdn_network": "/24"}, DECLARED)
    assert "/opt/wgsdn/services" in moved and "/etc/wgsdn/services" not in moved
    assert "relative.conf" not in moved and "/24" not in moved
    assert "/etc/bird/bird.d" in moved and "/etc/wireguard" in moved


def test_the_receipt_and_its_key_are_inside_an_observed_directory_that_leaves_them_out():
    for path in (receipt.RECEIPT_FILE, receipt.KEY_FILE):
        assert not any(path == top or path.startswith(top.rstrip("/") + "/") for top in receipt.paths({}, DECLARED)), path


def test_the_running_state_observed_follows_the_plan():
    plan = {
        "mode": "routed",
        "families": [{"name": "ipv4"}, {"name": "ipv6"}],
        "hosts": {"d1": {"services": [{"protocol": "wgsdn_svc_echo"}]}},
    }
    interfaces = []
    topology_names = receipt.topology.interface_names
    receipt.topology.interface_names = lambda plan, host: interfaces
    try:
        interfaces[:] = ["wg-g1", "wg-g2"]
        live = receipt.live_arguments(plan, "d1", receipt.live(DECLARED))
    finally:
        receipt.topology.interface_names = topology_names
    assert live == {"interfaces": ["wg-g1", "wg-g2"], "families": ["ipv4", "ipv6"], "bird": True, "bird_ignore": ["wgsdn_svc_echo"], "nftables": True}
    assert "bird" not in receipt.live_arguments({**plan, "mode": "hub"}, "d1", ["bird"])


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
        ({"desired": "d", "observed": {**OBSERVED, "wg-g2 peers": "x"}}, "wg-g2 peers changed since the last converge"),
    ],
)
def test_each_difference_is_named(stored, expected):
    reasons = receipt.differences(stored, "d", OBSERVED)
    assert len(reasons) == 1 and expected in reasons[0], reasons


# How the roles site.yml runs may read the plan: through host_view's functions, for this host.
READS = (
    r"wgsdn_plan \| wgsdn\.fabric\.(wg_interfaces|bird_settings|policy_ruleset|metrics_host|underlay_ports)\(inventory_hostname\b",
    r"wgsdn_plan\.hosts\[inventory_hostname\]",
    r"wgsdn_plan\.families\b",
)
# Task files site.yml never runs: clients.yml (playbooks/clients.yml), prometheus.yml (playbooks/monitoring.yml).
NOT_IN_SITE = {"roles/wireguard/tasks/clients.yml", "roles/metrics/tasks/prometheus.yml"}


def test_the_roles_read_the_plan_only_through_the_host_view():
    """A role that read another part of the plan would not converge when that part changes."""
    import re  # noqa: PLC0415

    offenders = []
    for path in sorted(ROOT.glob("roles/*/*/*")):
        relative = str(path.relative_to(ROOT))
        if relative.startswith("roles/plan/") or relative in NOT_IN_SITE or not path.is_file():
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for match in re.finditer(r"wgsdn_plan\b[^\n]*", line):
                text = match.group(0)
                if text.startswith(("wgsdn_plan is ", "wgsdn_plan:")) or "shared fact" in line:
                    continue
                if not any(re.match(read, text) for read in READS):
                    offenders.append(f"{relative}:{number}: {text}")
    assert not offenders, offenders


@pytest.fixture
def topology3(tmp_path):
    from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan  # noqa: PLC0415
    from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile  # noqa: PLC0415
    from ansible_collections.wgsdn.fabric.tests.unit.topologies import article_topology  # noqa: PLC0415

    def plan(extra=None, rotate=None):
        gateways, devices, hostvars = article_topology(3)
        for name, values in (extra or {}).items():
            devices.append(name)
            hostvars[name] = dict(hostvars["device1"], **values)
        return compute_plan(gateways, devices, hostvars, StateFile(str(tmp_path / "state.json")), rotate=rotate or [])

    return plan


def test_a_device_added_behind_gateway1_converges_the_gateways_only(topology3):
    """gateway1 gets a peer; every gateway's BIRD import filters list which gateway may originate the
    new address; the other devices learn its route over BGP, and nothing of theirs changes."""
    before = topology3()
    after = topology3({"device5": {"wgsdn_address": "10.0.0.7", "wgsdn_uplinks": ["gateway1"]}})

    def moved(name):
        return receipt.desired_digest(receipt.host_view(before, name), {}, "c") != receipt.desired_digest(receipt.host_view(after, name), {}, "c")

    assert {name for name in before["hosts"] if moved(name)} == {"gateway1", "gateway2"}
    # A key rotated on device1 reaches device1 and the gateway that peers with it, nobody else.
    rotated = topology3(rotate=["device1"])
    changed = {name for name in before["hosts"] if receipt.host_view(before, name) != receipt.host_view(rotated, name)}
    assert changed == {"device1", "gateway1"}
