"""Integration tests share the unit tests' fixtures: the collection path, the article's topologies."""

import importlib.util
import pathlib

UNIT = pathlib.Path(__file__).resolve().parents[1] / "unit"

_spec = importlib.util.spec_from_file_location("wgsdn_unit_conftest", UNIT / "conftest.py")
_unit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_unit)

NETWORK = _unit.NETWORK
article_topology = _unit.article_topology
state_path = _unit.state_path
