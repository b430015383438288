"""The state file: 0600, atomic, locked, and refusing corrupt content without touching it."""

import base64
import json
import multiprocessing
import os
import stat

import pytest

from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile
from ansible_collections.wgsdn.fabric.tests.unit.topologies import NETWORK

NET = {"wgsdn_network": NETWORK}


def run(path, names=("g", "a", "b")):
    hostvars = {n: dict(NET) for n in names}
    return compute_plan([names[0]], list(names[1:]), hostvars, StateFile(str(path)))


def test_file_is_created_0600(state_path):
    run(state_path)
    assert stat.S_IMODE(os.stat(state_path).st_mode) == 0o600


def test_codec_wraps_the_content(state_path):
    wrapped = StateFile(str(state_path), encode=lambda t: base64.b64encode(t.encode()), decode=lambda r: base64.b64decode(r).decode())
    compute_plan(["g"], ["a"], {"g": dict(NET), "a": dict(NET)}, wrapped)
    assert b"private_key" not in state_path.read_bytes()
    assert set(wrapped.load()["hosts"]) == {"g", "a"}


def _corrupt(state_path, mutate):
    run(state_path)
    data = json.loads(state_path.read_text())
    mutate(data)
    state_path.write_text(json.dumps(data))
    return state_path.read_bytes()


CORRUPTIONS = [
    (lambda d: d["hosts"]["a"].update(private_key="not-a-key"), "host 'a'", "private_key is malformed"),
    (lambda d: d["hosts"]["a"].update(private_key=base64.b64encode(b"x" * 31).decode() + "="), "host 'a'", "private_key is malformed"),
    (lambda d: d["hosts"]["b"].update(address=d["hosts"]["a"]["address"]), "host 'b'", "also allocated to host 'a'"),
    (lambda d: d["hosts"]["a"].update(address="10.0.0.999"), "host 'a'", "is not an IPv4 address"),
    (lambda d: d["hosts"]["g"].update(gateway_id=99), "host 'g'", "gateway_id 99"),
    (lambda d: d.update(version=7), "overlay", "not a wgsdn state document"),
    (lambda d: d.update(hosts=[]), "overlay", "'hosts' must be a mapping"),
    (lambda d: d["preshared_keys"].update({"a|g": "short"}), "host 'a'", "preshared key for a|g is malformed"),
]


@pytest.mark.parametrize("mutate, who, fragment", CORRUPTIONS)
def test_corrupt_state_is_refused_and_left_intact(state_path, mutate, who, fragment):
    before = _corrupt(state_path, mutate)
    with pytest.raises(PlanError) as err:
        run(state_path, ("g", "a", "b", "c"))
    assert who in str(err.value)
    assert "variable 'wgsdn_state_file'" in str(err.value)
    assert fragment in str(err.value)
    assert state_path.read_bytes() == before


def test_truncated_json_is_refused_and_left_intact(state_path):
    run(state_path)
    state_path.write_bytes(state_path.read_bytes()[:40])
    before = state_path.read_bytes()
    with pytest.raises(PlanError, match="is corrupt"):
        run(state_path, ("g", "a", "b", "c"))
    assert state_path.read_bytes() == before


def _worker(args):
    path, index = args
    names = ["g"] + [f"h{i}" for i in range(index % 7, 60, 3)]
    plan = compute_plan(["g"], names[1:], {n: dict(NET) for n in names}, StateFile(path))
    return {n: h["address"] for n, h in plan["hosts"].items()}


def test_concurrent_writers_agree(state_path):
    with multiprocessing.get_context("fork").Pool(8) as pool:
        results = pool.map(_worker, [(str(state_path), i) for i in range(24)])
    state = json.loads(state_path.read_text())
    final = {n: e["address"] for n, e in state["hosts"].items()}
    assert len(set(final.values())) == len(final)  # no duplicates
    for seen in results:  # every fork saw the addresses that persisted
        assert all(final[name] == address for name, address in seen.items())
