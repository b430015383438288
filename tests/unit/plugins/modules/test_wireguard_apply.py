"""What the wireguard role's apply step does to a running interface (modules/wireguard_apply.py), on a fake host."""

import hashlib

import pytest

from ansible_collections.wgsdn.fabric.plugins.modules import wireguard_apply

CONF = "[Interface]\nPrivateKey = PRIVATE=\nListenPort = 51822\nTable = off\n\n[Peer]\nPublicKey = PEER=\nAllowedIPs = 10.0.0.0/24\n"
STRIPPED = "[Interface]\nPrivateKey = PRIVATE=\nListenPort = 51822\n\n[Peer]\nPublicKey = PEER=\nAllowedIPs = 10.0.0.0/24\n"
SETTINGS = "PostUp = ip -4 address add 10.0.0.2 peer 10.0.0.5 dev %i\nTable = off\n"
IP_LINK = '[{"ifname":"wg-g2","flags":["POINTOPOINT","NOARP","UP","LOWER_UP"],"mtu":1420}]'
IP_ADDR = '[{"ifname":"wg-g2","addr_info":[{"family":"inet","local":"10.0.0.2","address":"10.0.0.5","prefixlen":32,"scope":"global"}]}]'


class Host:
    """A fake module: command outputs by command line, and the commands that change something."""

    check_mode = False

    def __init__(self, **outputs):
        self.outputs = {
            "systemctl is-active --quiet wg-quick@wg-g2": (0, ""),
            "ip -j link show dev wg-g2": (0, IP_LINK),
            "ip -j address show dev wg-g2": (0, IP_ADDR),
            "wg-quick strip wg-g2": (0, STRIPPED),
            "wg showconf wg-g2": (0, STRIPPED),
            **outputs,
        }
        self.changes = []

    def run_command(self, argv):
        line = " ".join(argv)
        if line.startswith(("wg syncconf", "systemctl restart")):
            self.changes.append(line.rsplit(" ", 1)[0] if line.startswith("wg syncconf") else line)
            return 0, "", ""
        rc, out = self.outputs.get(line, (1, ""))
        return rc, out, ""

    def fail_json(self, msg):
        raise AssertionError(msg)


@pytest.fixture
def files(tmp_path):
    (tmp_path / "wg-g2.conf").write_text(CONF)
    state = tmp_path / "state"
    state.mkdir()
    (state / "wg-g2.settings").write_text(SETTINGS)
    for kind, text in (("conf", CONF), ("settings", SETTINGS)):
        (state / f"wg-g2.{kind}.applied").write_text(hashlib.sha256(text.encode()).hexdigest() + "\n")
    return tmp_path


def interface(host, files):
    return wireguard_apply.Interface(host, str(files / "state"), "wg-g2", config_dir=str(files))


def test_a_running_interface_as_its_files_say_needs_nothing(files):
    assert interface(Host(), files).decide() == (None, [])


@pytest.mark.parametrize(
    ("outputs", "expected"),
    [
        ({"ip -j link show dev wg-g2": (1, "")}, ("restart", ["missing"])),
        ({"ip -j link show dev wg-g2": (0, IP_LINK.replace('"UP",', ""))}, ("restart", ["down"])),
        ({"ip -j address show dev wg-g2": (0, '[{"ifname":"wg-g2","addr_info":[]}]')}, ("restart", ["addresses"])),
        ({"wg showconf wg-g2": (0, STRIPPED.split("\n[Peer]", maxsplit=1)[0])}, ("sync", ["peers"])),
        ({"wg showconf wg-g2": (0, STRIPPED.replace("51822", "40000"))}, ("sync", ["listen port"])),
    ],
    ids=["deleted", "down", "address removed", "peer removed", "port"],
)
def test_live_drift_restarts_or_syncs_only_that_interface(files, outputs, expected):
    host = Host(**outputs)
    iface = interface(host, files)
    assert iface.decide() == expected
    iface.apply(expected[0])
    assert host.changes == (["systemctl restart wg-quick@wg-g2"] if expected[0] == "restart" else ["wg syncconf wg-g2"])


def test_a_file_written_but_never_applied_is_synced(files):
    (files / "wg-g2.conf").write_text(CONF + "\n")
    assert interface(Host(), files).decide() == ("sync", ["file changed"])


def test_new_settings_restart_the_interface(files):
    (files / "state" / "wg-g2.settings").write_text(SETTINGS + "MTU = 1380\n")
    assert interface(Host(), files).decide()[0] == "restart"


def test_forwarding_switches_that_are_off_are_named(tmp_path):
    for family, value in (("ipv4", "0\n"), ("ipv6", "1\n")):
        (tmp_path / family / "conf" / "wg-g2").mkdir(parents=True)
        (tmp_path / family / "conf" / "wg-g2" / "forwarding").write_text(value)
    off = wireguard_apply.forwarding_off("wg-g2", ["ipv4", "ipv6"], proc=str(tmp_path))
    assert [family for family, _path in off] == ["ipv4"]
    assert wireguard_apply.forwarding_off("wg-absent", ["ipv4"], proc=str(tmp_path)) == []
