"""The postgresql state backend through real ansible-playbook runs: the plan role, loud failures, state_migrate.yml.

Each failure fails the plan play with one message: the play after it (which would be the first to
touch a host) never runs, and the database is as it was.
"""

import json
import subprocess

import pytest
from wgsdn_testkit.playbooks import ROOT, env, tool, write_inventory

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import state_pg
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile
from ansible_collections.wgsdn.fabric.tests.unit.topologies import article_topology

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (requirements.txt)")

PLAY = """
- name: Plan, as site.yml's first play does
  hosts: wgsdn_gateways:wgsdn_devices
  gather_facts: false
  any_errors_fatal: true
  roles:
    - role: wgsdn.fabric.plan

- name: What would touch the hosts
  hosts: wgsdn_gateways:wgsdn_devices
  gather_facts: false
  tasks:
    - name: Record that the hosts would have been touched
      ansible.builtin.copy:
        content: "touched\\n"
        dest: "{{ inventory_dir }}/touched"
        mode: "0600"
      delegate_to: localhost
      run_once: true
"""
PASSWORD = "correct horse battery staple"


@pytest.fixture
def site(tmp_path):
    (tmp_path / "play.yml").write_text(PLAY)
    (tmp_path / "vault-pass").write_text(PASSWORD + "\n")
    return tmp_path


def ansible(site, *args, extra_env=None, vault=True, wait=True):
    command = [tool("ansible-playbook"), *map(str, args)]
    if vault:
        command += ["--vault-password-file", str(site / "vault-pass")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**env(), **(extra_env or {})}, cwd=ROOT)
    return process.communicate()[0] if wait else process


def dump(dsn):
    with psycopg.connect(dsn) as connection:
        return [connection.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() for table in ("wgsdn_meta", "wgsdn_hosts", "wgsdn_preshared_keys")]


def backend(dsn, **extra):
    return {"wgsdn_state_backend": "postgresql", "wgsdn_state_dsn": dsn, **extra}


def test_plan_role_with_the_state_in_postgresql_from_pg_environment(site, postgres_cluster):
    """The DSN from the PG* variables, as an AWX credential injects them; a second run writes nothing."""
    inventory = write_inventory(site, *article_topology(3), extra={"wgsdn_state_backend": "postgresql"})
    schema = site.name.replace("-", "_").lower()
    postgres_cluster.psql(f"CREATE SCHEMA {schema} AUTHORIZATION wgsdn")
    environment = {**postgres_cluster.env, "PGOPTIONS": f"-csearch_path={schema}"}
    first = ansible(site, "-i", inventory, site / "play.yml", extra_env=environment)
    assert "failed=0" in first and (site / "touched").exists(), first
    assert not (site / ".wgsdn-state.json").exists()
    dsn = f"{postgres_cluster.dsn} options=-csearch_path={schema}"
    before = dump(dsn)
    assert [row[0] for row in before[1]] == sorted(article_topology(3)[2])
    second = ansible(site, "-i", inventory, site / "play.yml", extra_env=environment)
    assert "failed=0" in second and dump(dsn) == before


def test_failures_are_one_clear_message_before_any_host_is_touched(site, postgres_cluster, pg_dsn, tmp_path_factory):
    gateways, devices, hostvars = article_topology(3)
    prepared = tmp_path_factory.mktemp("prepared")
    (prepared / "play.yml").write_text(PLAY)
    (prepared / "vault-pass").write_text(PASSWORD + "\n")
    inventory = write_inventory(prepared, gateways, devices, hostvars, extra=backend(pg_dsn))
    assert "failed=0" in ansible(prepared, "-i", inventory, prepared / "play.yml")
    before = dump(pg_dsn)
    newer = f"{postgres_cluster.dsn} options=-csearch_path=newer"
    postgres_cluster.psql("CREATE SCHEMA newer AUTHORIZATION wgsdn")
    with psycopg.connect(newer) as connection:
        connection.execute("CREATE TABLE wgsdn_schema (version integer NOT NULL); INSERT INTO wgsdn_schema VALUES (2)")
    cases = {
        "unreachable": (
            backend(pg_dsn.replace(f"port={postgres_cluster.port}", "port=1")),
            True,
            "variable 'wgsdn_state_dsn': cannot connect to the PostgreSQL state",
        ),
        "credentials": (backend(pg_dsn.replace("password=wgsdn-test-password", "password=wrong")), True, "password authentication failed for user"),
        "newer": (backend(newer), True, "has schema version 2, and this wgsdn.fabric knows version 1 only"),
        "locked": (backend(pg_dsn, wgsdn_state_lock_timeout=1), True, "variable 'wgsdn_state_lock_timeout': another run has held the lock"),
        "no secret": (backend(pg_dsn), False, "variable 'wgsdn_state_backend': the postgresql backend keeps private and preshared keys encrypted"),
        "bad backend": ({"wgsdn_state_backend": "sqlite"}, True, "variable 'wgsdn_state_backend': 'sqlite' is not one of file, postgresql"),
    }
    holder = state_pg.StatePostgres(pg_dsn, (lambda t: t.encode(), lambda r: r.decode()), 30)
    runs = {}
    with holder.locked():  # another controller in the middle of its plan
        for name, (extra, vault, _message) in cases.items():
            directory = tmp_path_factory.mktemp(name.replace(" ", "-"))
            (directory / "play.yml").write_text(PLAY)
            (directory / "vault-pass").write_text(PASSWORD + "\n")
            inventory = write_inventory(directory, gateways, devices, hostvars, extra=extra)
            runs[name] = (directory, ansible(directory, "-i", inventory, directory / "play.yml", vault=vault, wait=False))
        outputs = {name: (directory, process.communicate()[0], process.returncode) for name, (directory, process) in runs.items()}
    for name, (directory, output, returncode) in outputs.items():
        message = cases[name][2]
        assert returncode != 0 and message in " ".join(output.split()), f"{name}: {output}"
        assert output.count("fatal:") == 1, f"{name}: {output}"
        assert not (directory / "touched").exists(), name
        assert "wgsdn-test-password" not in output and "password=wrong" not in output
    assert "host 'gateway1'" in outputs["bad backend"][1]
    assert dump(pg_dsn) == before


def test_state_migrate_to_postgresql_and_back_is_byte_identical(site, pg_dsn):
    inventory = write_inventory(site, *article_topology(3), extra={"wgsdn_state_dsn": pg_dsn})
    assert "failed=0" in ansible(site, "-i", inventory, site / "play.yml", vault=False)  # a plaintext state file, as most start
    original = (site / ".wgsdn-state.json").read_bytes()
    migrate = ROOT / "playbooks" / "state_migrate.yml"
    there = ansible(site, "-i", inventory, migrate, "-e", "wgsdn_migrate_to=postgresql")
    assert "changed=1" in there and "Copied 6 hosts and" in there, there
    again = ansible(site, "-i", inventory, migrate, "-e", "wgsdn_migrate_to=postgresql")
    assert "changed=0" in again and "failed=0" in again and "Nothing to copy: already there, 6 hosts" in again, again
    (site / ".wgsdn-state.json").rename(site / "original.json")
    back = ansible(site, "-i", inventory, migrate, "-e", "wgsdn_migrate_to=file")
    assert "changed=1" in back, back
    returned = StateFile(str(site / ".wgsdn-state.json"), decode=_vault_decode).load()
    assert returned == json.loads(original)
    assert _vault_decode((site / ".wgsdn-state.json").read_bytes()).encode() == original  # byte for byte, once decrypted


def _vault_decode(raw):
    from ansible.parsing.vault import VaultLib, VaultSecret  # noqa: PLC0415

    return VaultLib([("default", VaultSecret(PASSWORD.encode()))]).decrypt(raw).decode()
