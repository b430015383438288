"""Integration tests share the unit tests' helpers; the unit conftest makes ansible_collections.wgsdn.fabric importable."""

import importlib.util
import pathlib

UNIT = pathlib.Path(__file__).resolve().parents[1] / "unit"
_spec = importlib.util.spec_from_file_location("wgsdn_unit_conftest", UNIT / "conftest.py")
_unit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_unit)

state_path = _unit.state_path
