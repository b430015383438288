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
