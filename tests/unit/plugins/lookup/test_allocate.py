"""The allocate lookup through real ansible-playbook runs: state file, errors, vault, check mode."""

import json
import stat

import pytest
import yaml
from ansible.parsing.vault import VaultLib, VaultSecret
from wgsdn_testkit.playbooks import ROOT, ansible_doc, playbook, write_inventory

from ansible_collections.wgsdn.fabric.tests.unit.topologies import article_topology

PLAY = """
- hosts: wgsdn_gateways:wgsdn_devices
  gather_facts: false
  tasks:
    - name: Plan
      ansible.builtin.set_fact:
        wgsdn_plan: "{{ lookup('wgsdn.fabric.allocate') }}"
      run_once: true
      no_log: true
    - name: Show addresses
      ansible.builtin.debug:
        msg: "ADDR {{ inventory_hostname }} {{ wgsdn_plan.hosts[inventory_hostname].address }} {{ wgsdn_plan.mode }}"
"""


@pytest.fixture
def site(tmp_path):
    (tmp_path / "play.yml").write_text(PLAY)
    return tmp_path


def test_state_beside_inventory_0600_and_stable(site):
    inventory = write_inventory(site, *article_topology(3))
    first = playbook("-i", inventory, site / "play.yml")
    assert first.returncode == 0, first.stdout + first.stderr
    state_file = site / ".wgsdn-state.json"
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    state = json.loads(state_file.read_text())
    assert state["hosts"]["device3"]["address"] == "10.0.0.4"
    before = state_file.read_bytes()
    second = playbook("-i", inventory, site / "play.yml")
    assert second.returncode == 0
    assert state_file.read_bytes() == before
    assert "ADDR device3 10.0.0.4 routed" in second.stdout
    # Private keys never reach the output.
    for entry in state["hosts"].values():
        assert entry["private_key"] not in first.stdout + first.stderr


def test_limit_does_not_change_the_plan(site):
    inventory = write_inventory(site, *article_topology(2))
    run = playbook("-i", inventory, site / "play.yml", "--limit", "device1")
    assert run.returncode == 0, run.stdout + run.stderr
    state = json.loads((site / ".wgsdn-state.json").read_text())
    assert set(state["hosts"]) == {"device1", "device2", "device3"}


def test_bad_inventory_fails_naming_host_and_variable_and_keeps_state(site):
    gateways, devices, hostvars = article_topology(3)
    inventory = write_inventory(site, gateways, devices, hostvars)
    assert playbook("-i", inventory, site / "play.yml").returncode == 0
    before = (site / ".wgsdn-state.json").read_bytes()
    hostvars["device1"]["wgsdn_uplinks"] = ["device2"]
    write_inventory(site, gateways, devices, hostvars)
    run = playbook("-i", inventory, site / "play.yml")
    assert run.returncode != 0
    assert "host 'device1', variable 'wgsdn_uplinks': 'device2' is not in the wgsdn_gateways group" in run.stdout + run.stderr
    assert (site / ".wgsdn-state.json").read_bytes() == before


def test_check_mode_writes_no_state(site):
    inventory = write_inventory(site, *article_topology(1))
    run = playbook("-i", inventory, site / "play.yml", "--check")
    assert run.returncode == 0, run.stdout + run.stderr
    assert not (site / ".wgsdn-state.json").exists()


def test_vault_encrypted_state(site):
    inventory = write_inventory(site, *article_topology(2))
    password = site / "vault-pass"
    password.write_text("correct horse battery staple\n")
    run = playbook("-i", inventory, site / "play.yml", "--vault-password-file", password)
    assert run.returncode == 0, run.stdout + run.stderr
    raw = (site / ".wgsdn-state.json").read_bytes()
    assert raw.startswith(b"$ANSIBLE_VAULT;1.1;AES256")
    again = playbook("-i", inventory, site / "play.yml", "--vault-password-file", password)
    assert "ADDR device3 10.0.0.3 hub" in again.stdout
    assert (site / ".wgsdn-state.json").read_bytes() == raw  # unchanged state is not rewritten
    without = playbook("-i", inventory, site / "play.yml")
    assert without.returncode != 0
    assert "variable 'wgsdn_state_file'" in without.stdout + without.stderr
    assert "vault-encrypted and no vault secret is configured" in without.stdout + without.stderr


def test_vault_encrypts_an_existing_plaintext_state_on_the_next_run(site):
    inventory = write_inventory(site, *article_topology(2))
    assert playbook("-i", inventory, site / "play.yml").returncode == 0
    state = site / ".wgsdn-state.json"
    plaintext = state.read_bytes()
    password = site / "vault-pass"
    password.write_text("correct horse battery staple\n")
    check = playbook("-i", inventory, site / "play.yml", "--vault-password-file", password, "--check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert state.read_bytes() == plaintext, "check mode wrote the state file"
    assert f"state file {state} is plaintext: a run outside check mode encrypts it" in _unwrapped(check)
    run = playbook("-i", inventory, site / "play.yml", "--vault-password-file", password)
    assert run.returncode == 0, run.stdout + run.stderr
    raw = state.read_bytes()
    assert raw.startswith(b"$ANSIBLE_VAULT;1.1;AES256")
    assert VaultLib([(None, VaultSecret(b"correct horse battery staple"))]).decrypt(raw) == plaintext
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert f"state file {state} was plaintext: encrypted it with the vault secret" in _unwrapped(run)
    assert "correct horse" not in run.stdout + run.stderr
    again = playbook("-i", inventory, site / "play.yml", "--vault-password-file", password)
    assert again.returncode == 0 and state.read_bytes() == raw
    assert "plaintext" not in _unwrapped(again)


def _unwrapped(run):
    """A run's output with Ansible's line wrapping of warnings undone."""
    return " ".join((run.stdout + run.stderr).split())


def test_state_file_variable_is_templated(site):
    inventory = write_inventory(site, *article_topology(1), extra={"wgsdn_state_file": "{{ inventory_dir }}/fabric-state.json"})
    run = playbook("-i", inventory, site / "play.yml")
    assert run.returncode == 0, run.stdout + run.stderr
    assert (site / "fabric-state.json").exists()


def test_explicit_state_file_option(site, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("state") / "fabric.json"
    inventory = write_inventory(site, *article_topology(1), extra={"wgsdn_state_file": str(elsewhere)})
    assert playbook("-i", inventory, site / "play.yml").returncode == 0
    assert elsewhere.exists()
    assert not (site / ".wgsdn-state.json").exists()


PLUGINS = [(kind, path.stem) for kind in ("lookup", "filter") for path in sorted((ROOT / "plugins" / kind).glob("*.py")) if path.stem != "__init__"]


@pytest.mark.parametrize("kind, name", PLUGINS)
def test_ansible_doc_shows_every_plugin(kind, name):
    result = ansible_doc("-t", kind, f"wgsdn.fabric.{name}")
    assert result.returncode == 0, result.stderr
    source = (ROOT / "plugins" / kind / f"{name}.py").read_text()
    docs = {part: yaml.safe_load(source.split(f'{part} = r"""', 1)[1].split('"""', 1)[0]) for part in ("DOCUMENTATION", "EXAMPLES", "RETURN")}
    # The page is the plugin's own: its name, its first example, and each documented return value.
    assert f"NAME: {name}" in result.stdout
    assert "EXAMPLES:" in result.stdout and f"- name: {docs['EXAMPLES'][0]['name']}" in result.stdout
    assert "RETURN VALUES:" in result.stdout
    for returned in docs["RETURN"]:
        assert f"- {returned} " in result.stdout


PLAN_ROLE = """
- hosts: wgsdn_gateways
  gather_facts: false
  roles:
    - wgsdn.fabric.plan
  tasks:
    - name: Show the design
      ansible.builtin.debug:
        msg: "REFLECTORS {{ wgsdn_plan.reflectors | join(',') }}"
"""


@pytest.mark.parametrize("reflectors", [0, 2])
def test_a_large_full_mesh_warns_once_per_run(site, reflectors):
    gateways = [f"gateway{i}" for i in range(1, 12)]
    hostvars = {g: {"wgsdn_network": "10.0.0.0/24"} for g in gateways}
    for g in gateways[:reflectors]:
        hostvars[g]["wgsdn_route_reflector"] = True
    inventory = write_inventory(site, gateways, [], hostvars)
    (site / "plan.yml").write_text(PLAN_ROLE)
    run = playbook("-i", inventory, site / "plan.yml")
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout + run.stderr
    warning = "wgsdn: 11 gateways in a full mesh: 55 WireGuard links, BGP and BFD sessions"
    assert out.count(warning) == (0 if reflectors else 1), out
    assert f"REFLECTORS {','.join(gateways[:reflectors])}" in run.stdout
