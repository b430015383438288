"""Make the checkout importable as ansible_collections.wgsdn.fabric (ansible-test units already runs from such a path)."""

import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
IN_COLLECTION_PATH = ROOT.parents[1].name == "ansible_collections"
COLLECTIONS = ROOT.parents[2] if IN_COLLECTION_PATH else ROOT / ".cache" / "collections"
_link = COLLECTIONS / "ansible_collections" / "wgsdn" / "fabric"
if not IN_COLLECTION_PATH and not _link.exists():
    _link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(ROOT, _link)
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))


@pytest.fixture
def state_path(tmp_path):
    return tmp_path / ".wgsdn-state.json"


@pytest.fixture(scope="session")
def postgres_cluster():
    """A private PostgreSQL server for the session (Debian's binaries), or a skip saying what to install."""
    sys.path.insert(0, str(ROOT / "tests"))
    from wgsdn_testkit.postgres import MISSING, Cluster, server_bin  # noqa: PLC0415

    pytest.importorskip("psycopg", reason="psycopg is not installed (requirements.txt)")
    if server_bin() is None:
        pytest.skip(MISSING)
    cluster = Cluster.start()
    yield cluster
    cluster.stop()


_schemas = iter(range(1, 1_000_000))


@pytest.fixture
def pg_dsn(postgres_cluster):
    """A DSN of a new, empty overlay: its own schema in the session's database."""
    schema = f"t{next(_schemas)}"
    postgres_cluster.psql(f"CREATE SCHEMA {schema} AUTHORIZATION wgsdn")
    return f"{postgres_cluster.dsn} options=-csearch_path={schema}"
