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


PREFIX = b"SEALED:"


def sealed(path):
    """A StateFile whose codec marks its at-rest form (as ansible-vault's header does), reading plaintext too."""
    return StateFile(
        str(path),
        encode=lambda text: PREFIX + base64.b64encode(text.encode()),
        decode=lambda raw: base64.b64decode(raw[len(PREFIX) :]).decode() if raw.startswith(PREFIX) else raw.decode(),
        encoded=lambda raw: raw.startswith(PREFIX),
    )


def test_a_plaintext_file_is_encoded_on_the_next_run_unchanged_once_decoded(state_path):
    run(state_path)
    state_path.write_text(state_path.read_text().replace("\n", "\n  "))  # hand-edited layout: kept byte for byte
    state_path.chmod(0o644)
    plaintext = state_path.read_bytes()
    first = sealed(state_path)
    compute_plan(["g"], ["a", "b"], {n: dict(NET) for n in "gab"}, first)
    raw = state_path.read_bytes()
    assert raw.startswith(PREFIX) and base64.b64decode(raw[len(PREFIX) :]) == plaintext
    assert stat.S_IMODE(os.stat(state_path).st_mode) == 0o600
    assert first.notices == [f"state file {state_path} was plaintext: encrypted it with the vault secret"]
    again = sealed(state_path)
    compute_plan(["g"], ["a", "b"], {n: dict(NET) for n in "gab"}, again)
    assert state_path.read_bytes() == raw and again.notices == []


def test_check_mode_leaves_a_plaintext_file_and_says_it_would_encode_it(state_path):
    run(state_path)
    plaintext = state_path.read_bytes()
    check = sealed(state_path)
    compute_plan(["g"], ["a", "b"], {n: dict(NET) for n in "gab"}, check, write=False)
    assert state_path.read_bytes() == plaintext
    assert check.notices == [f"state file {state_path} is plaintext: a run outside check mode encrypts it with the vault secret"]


def test_a_changed_allocation_encodes_a_plaintext_file_and_says_so(state_path):
    run(state_path)
    grown = sealed(state_path)
    compute_plan(["g"], ["a", "b", "c"], {n: dict(NET) for n in "gabc"}, grown)
    assert state_path.read_bytes().startswith(PREFIX) and set(grown.load()["hosts"]) == set("gabc")
    assert grown.notices == [f"state file {state_path} was plaintext: encrypted it with the vault secret"]


def test_a_bad_inventory_leaves_a_plaintext_file_as_it_was(state_path):
    run(state_path)
    plaintext = state_path.read_bytes()
    refused = sealed(state_path)
    with pytest.raises(PlanError):
        compute_plan(["g"], ["a"], {"g": dict(NET), "a": dict(NET, wgsdn_uplinks=["x"])}, refused)
    assert state_path.read_bytes() == plaintext and refused.notices == []


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
