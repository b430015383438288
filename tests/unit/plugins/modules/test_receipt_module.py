"""The host's half of the receipt: digests of what a converge left, and the receipt written atomically."""

import json
import os
import stat

import pytest

from ansible_collections.wgsdn.fabric.plugins.modules import receipt


@pytest.fixture
def tree(tmp_path):
    top = tmp_path / "etc"
    (top / "bird.d").mkdir(parents=True)
    (top / "bird.conf").write_text("router id 10.0.0.1;\n")
    (top / "bird.d" / "bfd.conf").write_text("protocol bfd {}\n")
    os.symlink("bird.conf", top / "link")
    return top


@pytest.mark.parametrize(
    "change",
    [
        lambda t: (t / "bird.conf").write_text("router id 10.0.0.2;\n"),
        lambda t: (t / "bird.d" / "bfd.conf").chmod(0o600),
        lambda t: (t / "bird.d" / "new.conf").write_text(""),
        lambda t: (t / "bird.d" / "bfd.conf").unlink(),
        lambda t: ((t / "link").unlink(), os.symlink("bird.d/bfd.conf", t / "link")),
        lambda t: (t / "bird.d" / "bfd.conf").rename(t / "bird.d" / "bfd2.conf"),
        lambda t: (t / "sub").mkdir(),
    ],
    ids=["content", "mode", "new file", "removed file", "link target", "renamed", "new directory"],
)
def test_tree_digest_sees_every_change(tree, change):
    before = receipt.tree_digest(str(tree))
    change(tree)
    assert receipt.tree_digest(str(tree)) != before


def test_tree_digest_ignores_times_and_skipped_entries(tree):
    before = receipt.tree_digest(str(tree), skip={str(tree / "bird.d" / "state.json")})
    os.utime(tree / "bird.conf", (0, 0))
    (tree / "bird.d" / "state.json").write_text("{}")
    assert receipt.tree_digest(str(tree), skip={str(tree / "bird.d" / "state.json")}) == before


def test_a_missing_path_has_a_stable_digest_of_its_own(tmp_path):
    missing = receipt.tree_digest(str(tmp_path / "absent"))
    assert missing == receipt.tree_digest(str(tmp_path / "absent"))
    (tmp_path / "absent").write_text("")
    assert receipt.tree_digest(str(tmp_path / "absent")) != missing


def test_a_single_file_is_its_own_tree(tree):
    before = receipt.tree_digest(str(tree / "bird.conf"))
    (tree / "bird.conf").write_text("x")
    assert receipt.tree_digest(str(tree / "bird.conf")) != before


def test_write_receipt_is_atomic_0600_and_reports_only_a_change(tmp_path):
    path = tmp_path / "wgsdn" / "receipt.json"
    path.parent.mkdir()
    content = json.dumps({"desired": "d", "observed": {}}).encode()
    assert receipt.write_receipt(str(path), content) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert receipt.write_receipt(str(path), content) is False
    assert receipt.write_receipt(str(path), content + b" ") is True
    assert sorted(os.listdir(path.parent)) == ["receipt.json"]
    assert receipt.read_receipt(str(path)) == {"desired": "d", "observed": {}}


def test_an_unreadable_receipt_reads_as_none(tmp_path):
    assert receipt.read_receipt(str(tmp_path / "absent")) is None
    (tmp_path / "bad").write_text("{not json")
    assert receipt.read_receipt(str(tmp_path / "bad")) is None


class NoSystemd:
    def get_bin_path(self, name):
        return None


def test_observe_leaves_out_the_receipt_and_its_temporaries(tmp_path):
    top = tmp_path / "wgsdn"
    top.mkdir()
    (top / "wireguard").mkdir()
    path = str(top / "receipt.json")
    before, units = receipt.observe(NoSystemd(), [str(top)], ["bird.service"], path)
    assert units is None and before["active units"] == "unavailable"
    assert before["kernel wireguard"] in ("yes", "no")
    receipt.write_receipt(path, b"{}")
    (top / ".receipt.json.tmp1").write_text("")
    assert receipt.observe(NoSystemd(), [str(top)], ["bird.service"], path)[0] == before
    (top / "wireguard" / "wg0.conf.applied").write_text("digest\n")
    assert receipt.observe(NoSystemd(), [str(top)], ["bird.service"], path)[0] != before


class Systemd:
    """systemctl list-units: ``moving`` answers for the transitional states (one per call, the
    last one repeated), ``active`` for --state=active."""

    def __init__(self, moving, active=""):
        self.moving, self.active, self.calls = list(moving), active, []

    def get_bin_path(self, name):
        return "/bin/systemctl"

    def run_command(self, argv):
        self.calls.append(argv)
        if "--state=active" in argv:
            return 0, self.active, ""
        assert f"--state={receipt.TRANSITIONAL_STATES}" in argv and argv[-2:] == ["--", "bird.service"], argv
        return 0, self.moving.pop(0) if len(self.moving) > 1 else self.moving[0], ""


def test_a_receipt_waits_for_restarting_units_to_settle():
    restarting = "bird.service loaded activating auto-restart BIRD Internet Routing Daemon\n"
    systemd = Systemd([restarting, restarting, ""])
    assert receipt.unsettled_units(systemd, ["bird.service"], wait=10, interval=0) == []
    assert len(systemd.calls) == 3


def test_a_unit_that_never_settles_is_named_after_the_wait():
    systemd = Systemd(["bird.service loaded activating auto-restart BIRD\n"])
    assert receipt.unsettled_units(systemd, ["bird.service"], wait=0, interval=0) == ["bird.service"]


def test_active_units_are_the_active_ones_sorted():
    systemd = Systemd([""], active="wg-quick@wg1.service loaded active exited x\nbird.service loaded active running y\n")
    assert receipt.active_units(systemd, ["bird.service", "wg-quick@*"]) == ["bird.service", "wg-quick@wg1.service"]
