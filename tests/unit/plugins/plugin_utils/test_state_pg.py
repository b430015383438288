"""The PostgreSQL state backend against a real server: one transaction under a lock, keys encrypted, loud failures."""

import json
import os
import signal
import subprocess
import sys
import threading

import pytest
from wgsdn_testkit import COLLECTIONS

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import state_pg, stores
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile
from ansible_collections.wgsdn.fabric.tests.unit.topologies import NETWORK

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (requirements.txt)")
vault = pytest.importorskip("ansible.parsing.vault")

NET = {"wgsdn_network": NETWORK, "wgsdn_network6": "fd00:10::/64"}


def codec(password="test-secret"):
    lib = vault.VaultLib([("default", vault.VaultSecret(password.encode()))])
    return lib.encrypt, lambda raw: lib.decrypt(raw).decode()


def store(dsn, secret="test-secret", lock_timeout=30):
    return state_pg.StatePostgres(dsn, codec(secret), lock_timeout)


def plan(dsn, names=("g1", "g2", "a", "b"), **kwargs):
    hostvars = {n: dict(NET, wgsdn_uplinks=list(names[:2])) if i > 1 else dict(NET) for i, n in enumerate(names)}
    target = kwargs.pop("target", None) or store(dsn)
    return compute_plan(list(names[:2]), list(names[2:]), hostvars, target, **kwargs), target


def rows(dsn, sql):
    with psycopg.connect(dsn) as connection:
        return connection.execute(sql).fetchall()


def allocations(result):
    return {name: (h["addresses"], h["private_key"], h.get("gateway_id")) for name, h in result["hosts"].items()}


def test_allocations_persist_and_a_noop_plan_reads_the_state_in_one_query(pg_dsn):
    first, _first_store = plan(pg_dsn)
    again, noop = plan(pg_dsn)
    assert allocations(again) == allocations(first) and again["preshared_keys"] == first["preshared_keys"]
    reads = [s for s in noop.statements if "wgsdn_hosts" in s or "wgsdn_meta" in s]
    assert len(reads) == 1 and reads[0].startswith("SELECT")
    assert not [s for s in noop.statements if s.split()[0] in ("INSERT", "UPDATE", "DELETE", "COPY", "CREATE")]
    grown, _grown_store = plan(pg_dsn, names=("g1", "g2", "a", "b", "c"))
    assert {n: allocations(grown)[n] for n in first["hosts"]} == allocations(first)


def test_keys_are_never_stored_in_plaintext(pg_dsn):
    result, _store = plan(pg_dsn)
    dump = json.dumps(rows(pg_dsn, "SELECT * FROM wgsdn_hosts")) + json.dumps(rows(pg_dsn, "SELECT * FROM wgsdn_preshared_keys"))
    dump += json.dumps(rows(pg_dsn, "SELECT * FROM wgsdn_meta"))
    for host in result["hosts"].values():
        assert host["private_key"] not in dump
    for key in result["preshared_keys"].values():
        assert key not in dump
    assert rows(pg_dsn, "SELECT data_key FROM wgsdn_meta")[0][0].startswith("$ANSIBLE_VAULT;")
    assert rows(pg_dsn, "SELECT version FROM wgsdn_schema") == [(state_pg.SCHEMA_VERSION,)]


def test_a_key_moved_to_another_row_or_another_vault_secret_is_refused(pg_dsn):
    plan(pg_dsn)
    with pytest.raises(PlanError, match="vault secret") as wrong:
        plan(pg_dsn, target=store(pg_dsn, secret="another"))
    assert wrong.value.variable == "wgsdn_state_backend"
    with psycopg.connect(pg_dsn) as connection:
        connection.execute("UPDATE wgsdn_hosts SET private_key = (SELECT private_key FROM wgsdn_hosts WHERE name = 'b') WHERE name = 'a'")
    with pytest.raises(PlanError, match="does not decrypt") as moved:
        plan(pg_dsn)
    assert moved.value.host == "a"


def test_without_a_vault_secret_the_backend_is_refused():
    with pytest.raises(PlanError, match="vault secret") as refused:
        state_pg.StatePostgres("host=db", None, 5)
    assert refused.value.variable == "wgsdn_state_backend"


def test_check_mode_writes_nothing_not_even_the_schema(pg_dsn):
    plan(pg_dsn, write=False)
    assert rows(pg_dsn, "SELECT to_regclass('wgsdn_schema')") == [(None,)]


def test_failure_mid_write_leaves_the_previous_state_whole(pg_dsn, monkeypatch):
    plan(pg_dsn)
    before = rows(pg_dsn, "SELECT * FROM wgsdn_hosts ORDER BY name")
    original = state_pg.StatePostgres._replace

    def replace_then_fail(self, table, *args):
        original(self, table, *args)
        if table == "wgsdn_hosts":
            raise PlanError(None, "test", "stopped between tables")

    monkeypatch.setattr(state_pg.StatePostgres, "_replace", replace_then_fail)
    with pytest.raises(PlanError, match="stopped"):
        plan(pg_dsn, names=("g1", "g2", "a", "b", "c"), rotate=["all"])
    assert rows(pg_dsn, "SELECT * FROM wgsdn_hosts ORDER BY name") == before


KILLED = """
import sys, time
sys.path.insert(0, {collections!r})
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import state_pg
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan
from ansible.parsing.vault import VaultLib, VaultSecret
lib = VaultLib([("default", VaultSecret(b"test-secret"))])
original = state_pg.StatePostgres._replace
def replace_then_wait(self, table, *args):
    original(self, table, *args)
    if table == "wgsdn_hosts":
        print("half written", flush=True)
        time.sleep(60)
state_pg.StatePostgres._replace = replace_then_wait
names = [f"h{{i}}" for i in range(40)]
hostvars = {{n: {{"wgsdn_network": "10.0.0.0/24"}} for n in names}}
compute_plan(names[:1], names[1:], hostvars, state_pg.StatePostgres({dsn!r}, (lib.encrypt, lambda r: lib.decrypt(r).decode()), 30), rotate=["all"])
"""


def test_a_run_killed_mid_write_leaves_the_previous_state_whole(pg_dsn):
    names = [f"h{i}" for i in range(40)]
    hostvars = {n: {"wgsdn_network": "10.0.0.0/24"} for n in names[:20]}
    compute_plan(names[:1], names[1:20], hostvars, store(pg_dsn))
    before = store(pg_dsn)
    with before.locked():
        expected = before.load()
    script = KILLED.format(collections=str(COLLECTIONS), dsn=pg_dsn)
    writer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "half written"
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    after = store(pg_dsn)
    with after.locked():
        assert after.load() == expected


def test_a_lock_held_too_long_fails_clearly_and_writes_nothing(pg_dsn):
    plan(pg_dsn)
    before = rows(pg_dsn, "SELECT * FROM wgsdn_hosts ORDER BY name")
    holder = store(pg_dsn)
    entered, release = threading.Event(), threading.Event()

    def hold():
        with holder.locked():
            entered.set()
            release.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert entered.wait(30)
        with pytest.raises(PlanError, match=r"held the lock of the PostgreSQL state .* for more than 0.5 s") as timed_out:
            plan(pg_dsn, names=("g1", "g2", "a", "b", "c"), target=store(pg_dsn, lock_timeout=0.5))
        assert timed_out.value.variable == "wgsdn_state_lock_timeout"
    finally:
        release.set()
        thread.join()
    assert rows(pg_dsn, "SELECT * FROM wgsdn_hosts ORDER BY name") == before


def test_a_newer_schema_is_refused(pg_dsn):
    plan(pg_dsn)
    with psycopg.connect(pg_dsn) as connection:
        connection.execute("UPDATE wgsdn_schema SET version = 2")
    with pytest.raises(PlanError, match=r"schema version 2, and this wgsdn\.fabric knows version 1 only") as newer:
        plan(pg_dsn, names=("g1", "g2", "a", "b", "c"))
    assert newer.value.variable == "wgsdn_state_dsn"


def test_wrong_credentials_and_an_unreachable_server_are_named_without_the_password(postgres_cluster):
    wrong = postgres_cluster.dsn.replace("password=wgsdn-test-password", "password=not-the-password")
    with pytest.raises(PlanError, match="password authentication failed") as refused:
        plan(wrong)
    assert refused.value.variable == "wgsdn_state_dsn" and "not-the-password" not in str(refused.value)
    closed = postgres_cluster.dsn.replace(f"port={postgres_cluster.port}", "port=1")
    with pytest.raises(PlanError, match=r"cannot connect to the PostgreSQL state 'wgsdn@127.0.0.1:1/wgsdn'") as unreachable:
        plan(closed)
    assert "wgsdn-test-password" not in str(unreachable.value)


def test_concurrent_writers_serialise(pg_dsn):
    """Four writers (threads, each its own connection) add 25 hosts each to one overlay at once:
    no address, gateway number or key twice (separate processes: tests/integration/test_two_controllers.py)."""
    barrier = threading.Barrier(4)
    errors = []

    def writer(n):
        names = [f"g{n}"] + [f"d{n}-{i}" for i in range(24)]
        try:
            barrier.wait(30)
            compute_plan(names[:1], names[1:], {h: {"wgsdn_network": "10.0.0.0/22"} for h in names}, store(pg_dsn, lock_timeout=60))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    final = store(pg_dsn)
    with final.locked():
        state = final.load()  # validate_state refuses a duplicate address or gateway number
    assert len(state["hosts"]) == 100
    assert len({e["private_key"] for e in state["hosts"].values()}) == 100
    assert sorted(e["gateway_id"] for e in state["hosts"].values() if "gateway_id" in e) == [1, 2, 3, 4]


def test_file_lock_timeout(state_path):
    holder = StateFile(str(state_path))
    with holder.locked(), pytest.raises(PlanError, match=r"held the lock of the state file .* for more than 0\.2 s") as timed_out:
        compute_plan(["g"], ["a"], {n: {"wgsdn_network": NETWORK} for n in "ga"}, StateFile(str(state_path), lock_timeout=0.2))
    assert timed_out.value.variable == "wgsdn_state_lock_timeout" and not state_path.exists()


@pytest.mark.parametrize(
    ("values", "variable", "message"),
    [
        ({"backend": "mysql"}, "wgsdn_state_backend", "'mysql' is not one of file, postgresql"),
        ({"backend": ["file"]}, "wgsdn_state_backend", r"\['file'\] is not one of"),
        ({"backend": "postgresql"}, "wgsdn_state_dsn", "set wgsdn_state_dsn, or the PG\\* environment variables"),
        ({"backend": "postgresql", "dsn": {"host": "db"}}, "wgsdn_state_dsn", "must be a connection string"),
        ({"backend": "postgresql", "dsn": "host=db password=s3cret x"}, "wgsdn_state_dsn", "is not a PostgreSQL connection string"),
        ({"lock_timeout": "soon"}, "wgsdn_state_lock_timeout", "'soon' is not a number of seconds"),
        ({"lock_timeout": 0}, "wgsdn_state_lock_timeout", "0 is not a number of seconds above 0"),
        ({"lock_timeout": True}, "wgsdn_state_lock_timeout", "True is not a number"),
        ({"lock_timeout": "nan"}, "wgsdn_state_lock_timeout", "'nan' is not"),
    ],
)
def test_bad_settings_name_the_host_and_the_variable(values, variable, message):
    with pytest.raises(PlanError, match=message) as refused:
        stores.settings("gw1", environ={}, **values)
    assert refused.value.host == "gw1" and refused.value.variable == variable
    assert "s3cret" not in str(refused.value)


def test_settings_defaults_and_the_environment():
    assert stores.settings("gw1") == stores.Settings("file", None, 300)
    assert stores.settings("gw1", "postgresql", None, "2.5", environ={"PGHOST": "db"}) == stores.Settings("postgresql", None, 2.5)
    assert state_pg.describe("", {"PGHOST": "db", "PGUSER": "awx", "PGDATABASE": "wgsdn"}) == "awx@db:5432/wgsdn"


def test_migrate_copies_both_ways_refuses_another_state_and_is_a_noop_again(pg_dsn, tmp_path):
    source = StateFile(str(tmp_path / "state.json"))
    compute_plan(["g1", "g2"], ["a"], {n: dict(NET, wgsdn_uplinks=["g1"]) if n == "a" else dict(NET) for n in ("g1", "g2", "a")}, source)
    original = (tmp_path / "state.json").read_bytes()
    assert stores.migrate(source, store(pg_dsn)) == {"changed": True, "hosts": 3, "preshared_keys": 2}
    assert stores.migrate(source, store(pg_dsn))["changed"] is False
    back = StateFile(str(tmp_path / "back.json"))
    assert stores.migrate(store(pg_dsn), back)["changed"] is True
    assert (tmp_path / "back.json").read_bytes() == original
    other = StateFile(str(tmp_path / "other.json"))
    compute_plan(["g1"], ["b"], {n: dict(NET) for n in ("g1", "b")}, other)
    before = rows(pg_dsn, "SELECT * FROM wgsdn_hosts ORDER BY name")
    with pytest.raises(PlanError, match=r"already holds another state \(hosts 'a', 'b', 'g1', 'g2' differ\): nothing was written"):
        stores.migrate(other, store(pg_dsn))
    assert rows(pg_dsn, "SELECT * FROM wgsdn_hosts ORDER BY name") == before
    with pytest.raises(PlanError, match="holds no host: nothing to move"):
        stores.migrate(StateFile(str(tmp_path / "missing.json")), store(pg_dsn))
