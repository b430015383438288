"""Integration tests use the unit tests' helpers: the collection path and ansible_run."""

import pathlib
import sys

UNIT = pathlib.Path(__file__).resolve().parents[1] / "unit"
COLLECTIONS = UNIT.parents[1] / ".cache" / "collections"
for path in (str(COLLECTIONS), str(UNIT)):
    if path not in sys.path:
        sys.path.insert(0, path)
