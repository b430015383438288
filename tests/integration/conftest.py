"""Integration tests share the unit tests' fixtures; importing the test kit makes the checkout importable as the collection."""

import wgsdn_testkit  # noqa: F401

from ansible_collections.wgsdn.fabric.tests.unit.conftest import pg_dsn, postgres_cluster, state_path  # noqa: F401  (fixtures)
