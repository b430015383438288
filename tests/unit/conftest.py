"""Make the checkout importable as ansible_collections.wgsdn.fabric through the test kit (tests/wgsdn_testkit).

pytest puts tests/ on the path (pyproject.toml); ansible-test units, which runs the installed
collection without that file, gets it here.
"""

import pathlib
import sys

import pytest

TESTS = pathlib.Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

# Importing the kit links the checkout as the collection.
import wgsdn_testkit  # noqa: E402, F401  pylint: disable=unused-import,wrong-import-position


@pytest.fixture
def state_path(tmp_path):
    return tmp_path / ".wgsdn-state.json"


@pytest.fixture(scope="session")
def postgres_cluster():
    """A private PostgreSQL server for the session (Debian's binaries), or a skip saying what to install."""
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
