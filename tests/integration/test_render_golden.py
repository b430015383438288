"""render.yml writes, byte for byte and mode for mode, what it wrote before the fast render path.

The golden trees under render_golden/<case>/expected/ were written by
playbooks/render.yml at commit e63a340 (the per-host include_role render),
from the inventories in render_golden/cases.py and their committed state files
(test keys only; tests/integration is not shipped). Each case renders twice: the
fast render (wgsdn.fabric.render_hosts, which uses ansible-core internals,
plugin_utils/core_private.py), and the ordinary one render.yml falls back to
when those are not available (forced with WGSDN_RENDER_FAST=0: each role's
render tasks included host by host). A change that is meant to alter rendered
output rewrites them, reviewed as a diff:

    python tests/integration/test_render_golden.py --write
"""

import json
import pathlib
import shutil
import sys
import tempfile

import pytest
import yaml

HERE = pathlib.Path(__file__).resolve().parent
GOLDEN = HERE / "render_golden"
sys.path[:0] = [str(HERE.parents[0]), str(GOLDEN)]

from cases import cases  # noqa: E402
from wgsdn_testkit.playbooks import ROOT, playbook  # noqa: E402

STATE = ".wgsdn-state.json"


def tree(directory):
    """{relative path: (bytes, mode)} of every file under ``directory``."""
    return {str(p.relative_to(directory)): (p.read_bytes(), p.stat().st_mode & 0o777) for p in sorted(directory.rglob("*")) if p.is_file()}


def golden(case):
    """The committed tree of ``case``: {relative path: (bytes, mode)}."""
    expected = GOLDEN / case / "expected"
    modes = json.loads((GOLDEN / case / "modes.json").read_text())
    files = {path: (content, modes[path]) for path, (content, _) in tree(expected).items()}
    assert set(files) == set(modes), f"{case}: modes.json and expected/ disagree"
    return files


# What render.yml prints when it falls back to the ordinary render.
FALLBACK = "rendering host by host with ordinary tasks (slower, the same files)"
RENDERERS = {"fast": {}, "ordinary": {"WGSDN_RENDER_FAST": "0"}}


def render(case, directory, renderer="fast"):
    """Render ``case`` (its inventory and committed state copied into ``directory``) with ``renderer``; the output tree."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "hosts.yml").write_text(yaml.safe_dump(cases()[case]))
    shutil.copy(GOLDEN / case / STATE, directory / STATE)
    out = directory / "out"
    run = playbook("-i", directory / "hosts.yml", ROOT / "playbooks" / "render.yml", "-e", f"wgsdn_render_dir={out}", **RENDERERS[renderer])
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    # The fast render is taken wherever this ansible-core allows it: a core that no longer does
    # fails here (the ordinary render still passing) instead of silently costing speed.
    assert (FALLBACK in run.out) == (renderer == "ordinary"), f"the {renderer} render expected:\n{run.out[-3000:]}"
    assert json.loads((directory / STATE).read_text()) == json.loads((GOLDEN / case / STATE).read_text()), "the render changed the state"
    for secret in json.loads((directory / STATE).read_text())["hosts"].values():
        assert secret["private_key"] not in run.out, "a private key was printed"
    return out


@pytest.mark.parametrize("renderer", sorted(RENDERERS))
@pytest.mark.parametrize("case", sorted(cases()))
def test_render_is_byte_identical_to_the_golden_files(tmp_path, case, renderer):
    expected = golden(case)
    assert len(expected) >= 3
    out = render(case, tmp_path, renderer)
    rendered = tree(out)
    assert sorted(rendered) == sorted(expected)
    for path, (content, mode) in expected.items():
        assert rendered[path][0] == content, f"{case}: {path} differs from the golden file"
        assert rendered[path][1] == mode, f"{case}: {path} has mode {rendered[path][1]:o}, golden {mode:o}"


def write_goldens():
    """(Re)write every case's golden tree, keeping its state file when it has one (so keys stay the same)."""
    for case, inventory in sorted(cases().items()):
        target = GOLDEN / case
        with tempfile.TemporaryDirectory() as tmp:
            tmp = pathlib.Path(tmp)
            (tmp / "hosts.yml").write_text(yaml.safe_dump(inventory))
            if (target / STATE).exists():
                shutil.copy(target / STATE, tmp / STATE)
            run = playbook("-i", tmp / "hosts.yml", ROOT / "playbooks" / "render.yml", "-e", f"wgsdn_render_dir={tmp / 'out'}")
            if run.returncode != 0:
                raise SystemExit(f"{case}: {run.out[-3000:]}")
            shutil.rmtree(target / "expected", ignore_errors=True)
            target.mkdir(parents=True, exist_ok=True)
            shutil.copytree(tmp / "out", target / "expected")
            shutil.copy(tmp / STATE, target / STATE)
            modes = {path: mode for path, (_, mode) in tree(tmp / "out").items()}
            (target / "modes.json").write_text(json.dumps(modes, indent=1, sort_keys=True) + "\n")
            print(f"{case}: {len(modes)} files")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        raise SystemExit(__doc__)
    write_goldens()
