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
