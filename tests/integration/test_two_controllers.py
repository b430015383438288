"""Two controllers at once: two checkouts (copies of this collection), two ansible-playbook runs started
together, each adding 200 hosts to the same overlay (the plan only: no host is touched).

* State in PostgreSQL: both runs are made to wait on the overlay's lock at the same moment (a third
  party holds it until both are queued), then serialise. No address and no key is given twice, every
  host keeps what its run reported, and a third run over the merged inventory changes nothing.
* State in a file (the default), each checkout with its copy of the same state file: the runs give
  the same addresses to different hosts. This is the collision the postgresql backend prevents, kept
  as a documented example (asserted to happen), not a failure.
"""

import json
import shutil
import subprocess
import time

import pytest
import yaml
from wgsdn_testkit.playbooks import ROOT, env, tool

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import state_pg
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (requirements.txt)")
vault = pytest.importorskip("ansible.parsing.vault")

TEAM_SIZE = 200
GATEWAYS = ("gw1", "gw2")
PASSWORD = "two controllers"

# The plan alone, once, on the controller (as the plan role runs in policy_check.yml): per-host tasks
# over 200 hosts would only add Ansible's per-host cost to the runs.
PLAN = """
- name: Plan only, as site.yml's first play does, once on the controller
  hosts: localhost
  connection: local
  gather_facts: false
  roles:
    - role: wgsdn.fabric.plan
  tasks:
    - name: Report what every host of this inventory got (addresses and public keys only)
      ansible.builtin.copy:
        content: "{{ wgsdn_plan.hosts.keys() | zip(wgsdn_plan.hosts.values() | map(attribute='addresses'),
          wgsdn_plan.hosts.values() | map(attribute='public_key')) | list | to_json }}"
        dest: "{{ playbook_dir }}/got.json"
        mode: "0600"
"""


def checkout(directory, devices, extra):
    """A copy of the collection and an inventory: the overlay's gateways and ``devices``."""
    collection = directory / "collections" / "ansible_collections" / "wgsdn" / "fabric"
    for part in ("plugins", "roles", "playbooks", "meta"):
        shutil.copytree(ROOT / part, collection / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "galaxy.yml", collection)
    net = {"wgsdn_network": "10.64.0.0/16"}
    inventory = {
        "all": {
            "vars": {"ansible_connection": "local", **net, **extra},
            "children": {
                "wgsdn_gateways": {"hosts": {g: {} for g in GATEWAYS}},
                "wgsdn_devices": {"hosts": {d: {"wgsdn_uplinks": [GATEWAYS[i % 2]]} for i, d in enumerate(devices)}},
            },
        }
    }
    (directory / "inventory").mkdir()
    (directory / "inventory" / "hosts.yml").write_text(yaml.safe_dump(inventory))
    (directory / "plan.yml").write_text(PLAN)
    (directory / "vault-pass").write_text(PASSWORD + "\n")
    return directory


def start(directory):
    environment = {**env(), "ANSIBLE_COLLECTIONS_PATH": str(directory / "collections"), "ANSIBLE_FORKS": "20"}
    environment.pop("ANSIBLE_CONFIG", None)
    command = [tool("ansible-playbook"), "-i", "inventory/hosts.yml", "plan.yml", "--vault-password-file", "vault-pass"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment, cwd=directory)


def finish(process):
    output = process.communicate()[0]
    assert process.returncode == 0, output[-3000:]
    return output


def got(directory):
    return {name: (addresses, public) for name, addresses, public in json.loads((directory / "got.json").read_text())}


def teams():
    return [f"a{i}" for i in range(TEAM_SIZE)], [f"b{i}" for i in range(TEAM_SIZE)]


def codec():
    lib = vault.VaultLib([("default", vault.VaultSecret(PASSWORD.encode()))])
    return lib.encrypt, lambda raw: lib.decrypt(raw).decode()


def read(dsn):
    store = state_pg.StatePostgres(dsn, codec(), 60)
    with store.locked():
        return store.load()


def waiting_for_the_lock(dsn):
    with psycopg.connect(dsn) as connection:
        return connection.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").fetchone()[0]


def test_two_controllers_against_one_postgresql(tmp_path, pg_dsn):
    team_a, team_b = teams()
    extra = {"wgsdn_state_backend": "postgresql", "wgsdn_state_dsn": pg_dsn}
    first, second = checkout(tmp_path / "a", team_a, extra), checkout(tmp_path / "b", team_b, extra)
    holder = state_pg.StatePostgres(pg_dsn, codec(), 60)
    with holder.locked():  # both runs queue on the overlay's lock before either may go on
        runs = [start(first), start(second)]
        deadline = time.monotonic() + 600
        while waiting_for_the_lock(pg_dsn) < 2:
            assert time.monotonic() < deadline and all(r.poll() is None for r in runs), "the runs did not both wait for the lock"
            time.sleep(0.5)
    for run in runs:
        finish(run)
    state = read(pg_dsn)  # validate_state refuses an address or gateway number given twice
    assert len(state["hosts"]) == 2 + 2 * TEAM_SIZE
    keys = [e["private_key"] for e in state["hosts"].values()] + list(state["preshared_keys"].values())
    assert len(set(keys)) == len(keys)
    reported = {**got(first), **got(second)}
    assert got(first)["gw1"] == got(second)["gw1"]
    assert {name: addresses for name, (addresses, _public) in reported.items()} == {n: {"ipv4": e["address"]} for n, e in state["hosts"].items()}

    merged = checkout(tmp_path / "merged", team_a + team_b, extra)
    before = read(pg_dsn)
    finish(start(merged))
    assert read(pg_dsn) == before
    assert got(merged) == reported


def test_two_controllers_with_state_files_collide(tmp_path):
    """The default backend from two checkouts: each has its own copy of the state file, so both give out the same addresses."""
    team_a, team_b = teams()
    first, second = checkout(tmp_path / "a", team_a, {}), checkout(tmp_path / "b", team_b, {})
    base = checkout(tmp_path / "base", [], {})
    finish(start(base))  # the overlay's state before either team adds its hosts, copied into both checkouts
    for directory in (first, second):
        shutil.copy(base / "inventory" / ".wgsdn-state.json", directory / "inventory")
    runs = [start(first), start(second)]
    for run in runs:
        finish(run)
    states = [StateFile(str(d / "inventory" / ".wgsdn-state.json"), decode=codec()[1]).load() for d in (first, second)]
    addresses_a = {e["address"]: n for n, e in states[0]["hosts"].items() if n.startswith("a")}
    addresses_b = {e["address"]: n for n, e in states[1]["hosts"].items() if n.startswith("b")}
    collisions = set(addresses_a) & set(addresses_b)
    assert len(collisions) == TEAM_SIZE  # every new address was given to one host of each team
