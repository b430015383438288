"""The host's half of the receipt: digests of what a converge left, and the receipt written atomically."""

import json
import os
import stat

import pytest

from ansible_collections.wgsdn.fabric.plugins.module_utils import digest
from ansible_collections.wgsdn.fabric.plugins.module_utils.files import write_atomic
from ansible_collections.wgsdn.fabric.plugins.modules import receipt

KEY = b"k" * digest.KEY_BYTES


def tree_digest(top, skip=(), key=KEY):
    return digest.tree(key, top, skip)


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
    before = tree_digest(str(tree))
    change(tree)
    assert tree_digest(str(tree)) != before


def test_tree_digest_ignores_times_and_skipped_entries(tree):
    before = tree_digest(str(tree), skip={str(tree / "bird.d" / "state.json")})
    os.utime(tree / "bird.conf", (0, 0))
    (tree / "bird.d" / "state.json").write_text("{}")
    assert tree_digest(str(tree), skip={str(tree / "bird.d" / "state.json")}) == before


def test_a_missing_path_has_a_stable_digest_of_its_own(tmp_path):
    missing = tree_digest(str(tmp_path / "absent"))
    assert missing == tree_digest(str(tmp_path / "absent"))
    (tmp_path / "absent").write_text("")
    assert tree_digest(str(tmp_path / "absent")) != missing


def test_a_single_file_is_its_own_tree(tree):
    before = tree_digest(str(tree / "bird.conf"))
    (tree / "bird.conf").write_text("x")
    assert tree_digest(str(tree / "bird.conf")) != before


def test_the_digest_is_keyed_per_host(tree):
    assert tree_digest(str(tree)) != tree_digest(str(tree), key=b"other key".ljust(digest.KEY_BYTES))


def test_the_host_key_is_made_once_0600_and_kept(tmp_path):
    path = tmp_path / "wgsdn" / "receipt.key"
    throwaway = digest.host_key(str(path), create=False)
    assert not path.exists() and len(throwaway) == digest.KEY_BYTES
    key = digest.host_key(str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert digest.host_key(str(path)) == key != throwaway


def test_write_atomic_leaves_no_temporary_and_sets_the_mode_first(tmp_path):
    path = tmp_path / "receipt.json"
    write_atomic(str(path), b"{}", 0o600, durable=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["receipt.json"]
    assert receipt.read_receipt(str(path)) == {}


def test_an_unreadable_receipt_reads_as_none(tmp_path):
    assert receipt.read_receipt(str(tmp_path / "absent")) is None
    (tmp_path / "bad").write_text("{not json")
    assert receipt.read_receipt(str(tmp_path / "bad")) is None


class NoSystemd:
    def get_bin_path(self, name):
        return None

    def run_command(self, argv):
        return 1, "", "not here"


def _params(top, path, live=None):
    return {"paths": [str(top)], "units": ["bird.service"], "receipt": path, "key": str(top / "receipt.key"), "live": live or {}}


def test_observe_leaves_out_the_receipt_its_key_and_temporaries(tmp_path):
    top = tmp_path / "wgsdn"
    top.mkdir()
    (top / "wireguard").mkdir()
    path = str(top / "receipt.json")
    before, units = receipt.observe(NoSystemd(), KEY, _params(top, path))
    assert units is None and before["active units"] == "unavailable"
    assert before["kernel wireguard"] in ("yes", "no")
    write_atomic(path, b"{}", 0o600)
    digest.host_key(str(top / "receipt.key"))
    (top / ".receipt.json.tmp1").write_text("")
    assert receipt.observe(NoSystemd(), KEY, _params(top, path))[0] == before
    (top / "wireguard" / "wg0.conf.applied").write_text("digest\n")
    assert receipt.observe(NoSystemd(), KEY, _params(top, path))[0] != before


def test_the_running_state_is_observed_without_key_material(tmp_path):
    class Host(NoSystemd):
        def get_bin_path(self, name):
            return f"/usr/sbin/{name}"

        def run_command(self, argv):
            return {
                "wg showconf wg0": (0, WG_SHOWCONF, ""),
                "wg show wg0 public-key": (0, "PUB=\n", ""),
                "nft list table inet wgsdn": (0, "table inet wgsdn {\n\tcounter packets 3 bytes 9 drop\n}\n", ""),
                "birdc -r show protocols": (0, BIRD_PROTOCOLS, ""),
            }.get(" ".join(argv), (1, "", "Device not found"))

    live = {"interfaces": ["wg0"], "families": ["ipv4"], "nftables": True, "bird": True, "bird_ignore": ["wgsdn_svc_echo"]}
    seen = receipt.observe_live(Host(), live)
    assert seen["wg0 settings"] == {"private_key": None, "public_key": "PUB=", "listen_port": 51820, "fwmark": 0}
    assert seen["wg0 peers"] == {"PEER=": {"preshared_key": True, "allowed_ips": ["10.0.0.0/24"], "endpoint": "192.0.2.2:51820", "keepalive": 25}}
    assert seen["wg0 link"]["exists"] is False
    assert seen["table inet wgsdn"] == "table inet wgsdn {\n\tcounter drop\n}"
    assert seen["bird protocols"] == {"bgp_g2": False, "wgsdn_kernel": True}
    assert "SECRET" not in json.dumps(seen)


def test_a_bare_host_is_observed_without_running_what_it_lacks():
    """Before its first converge (the install scenario's check run) a host has no wg: nothing is run that is not there."""

    class Bare(NoSystemd):
        def run_command(self, argv):
            raise AssertionError(f"ran {argv} on a host without it")  # AnsibleModule fails the module here

    live = {"interfaces": ["wg0"], "families": ["ipv4"], "nftables": True, "bird": True}
    seen = receipt.observe_live(Bare(), live)
    assert seen["wg0 link"] is None and seen["wg0 peers"] is None and seen["wg0 settings"] is None
    assert seen["table inet wgsdn"] is None and seen["bird protocols"] is None


WG_SHOWCONF = """[Interface]
ListenPort = 51820
PrivateKey = SECRET-PRIVATE=

[Peer]
PublicKey = PEER=
PresharedKey = SECRET-PSK=
AllowedIPs = 10.0.0.0/24
Endpoint = 192.0.2.2:51820
PersistentKeepalive = 25
"""

BIRD_PROTOCOLS = """BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
wgsdn_kernel Kernel     master4    up     17:58:03.418
bgp_g2     BGP        ---        down   18:17:16.012
wgsdn_svc_echo Static     master4    down   17:58:03.812
"""


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
