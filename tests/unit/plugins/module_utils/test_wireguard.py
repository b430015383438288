"""The running WireGuard interface against its files (module_utils/wireguard.py), with real command output."""

import pytest

from ansible_collections.wgsdn.fabric.plugins.module_utils import wireguard

# `wg-quick strip wg-gateway2` (keys replaced): the file's side.
STRIPPED = """[Interface]
ListenPort = 51822
PrivateKey = PRIVATE=

[Peer]
PublicKey = PEER1=
PresharedKey = PSK1=
AllowedIPs = 10.0.0.0/24
AllowedIPs = 192.168.77.0/24
Endpoint = gateway2:51821

[Peer]
PublicKey = PEER2=
AllowedIPs = 10.0.0.3/32, 10.0.0.53/32
PersistentKeepalive = 25
"""

# `wg showconf wg-gateway2` of the same interface, running: the kernel's order and spelling.
SHOWCONF = """[Interface]
ListenPort = 51822
PrivateKey = PRIVATE=

[Peer]
PublicKey = PEER2=
AllowedIPs = 10.0.0.53/32, 10.0.0.3/32
Endpoint = 172.16.1.9:40000
PersistentKeepalive = 25

[Peer]
PublicKey = PEER1=
PresharedKey = PSK1=
AllowedIPs = 10.0.0.0/24, 192.168.77.0/24
Endpoint = 172.16.1.3:51821
"""


def resolve(endpoint):
    return {"gateway2:51821": {"172.16.1.3:51821"}}.get(endpoint)


def compare(stripped=STRIPPED, showconf=SHOWCONF):
    wanted = wireguard.canonical(wireguard.parse_config(stripped))
    live = wireguard.canonical(wireguard.parse_config(showconf))
    return wireguard.differences(wanted, live, resolve=resolve)


def test_the_running_interface_matches_its_file_whatever_the_order():
    assert compare() == []


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda t: t.replace(
                "[Peer]\nPublicKey = PEER1=\nPresharedKey = PSK1=\nAllowedIPs = 10.0.0.0/24, 192.168.77.0/24\nEndpoint = 172.16.1.3:51821\n", ""
            ),
            ["peers"],
        ),
        (lambda t: t.replace("10.0.0.53/32, ", ""), ["peers"]),
        (lambda t: t.replace("172.16.1.3:51821", "172.16.1.66:51821"), ["peers"]),
        (lambda t: t.replace("PresharedKey = PSK1=\n", ""), ["peers"]),
        (lambda t: t.replace("PersistentKeepalive = 25\n", ""), ["peers"]),
        (lambda t: t.replace("PRIVATE=", "OTHER="), ["private key"]),
        (lambda t: t.replace("ListenPort = 51822", "ListenPort = 4000"), ["listen port"]),
        (lambda t: t.replace("ListenPort = 51822", "ListenPort = 51822\nFwMark = 0x1"), ["fwmark"]),
    ],
    ids=["peer removed", "allowed ip removed", "static endpoint moved", "preshared key removed", "keepalive removed", "key", "port", "fwmark"],
)
def test_each_drift_of_the_running_interface_is_named(edit, expected):
    assert compare(showconf=edit(SHOWCONF)) == expected


def test_a_roaming_endpoint_of_a_peer_without_one_in_the_file_is_no_drift():
    assert compare(showconf=SHOWCONF.replace("172.16.1.9:40000", "198.51.100.7:1")) == []


def test_an_endpoint_that_does_not_resolve_is_not_judged():
    assert compare(stripped=STRIPPED.replace("gateway2:51821", "nowhere:51821")) == []


def test_a_port_the_file_leaves_to_the_kernel_is_not_judged():
    assert compare(stripped=STRIPPED.replace("ListenPort = 51822\n", "")) == []


def test_the_public_view_holds_no_key_material():
    view = wireguard.public_view(wireguard.canonical(wireguard.parse_config(SHOWCONF)))
    assert "PRIVATE=" not in repr(view) and "PSK1=" not in repr(view)
    assert view["peers"]["PEER1="]["preshared_key"] is True and view["peers"]["PEER2="]["preshared_key"] is False


# A gateway's access interface and its point-to-point link (real `ip -j` output, link-local included).
ACCESS_SETTINGS = "Address = 10.0.0.2/24, fd00:10::2/64\nTable = off\n"
LINK_SETTINGS = (
    "PostUp = ip -4 address add 10.0.0.2 peer 10.0.0.5 dev %i\nPostUp = ip -6 address add fd00:10::2 peer fd00:10::5 dev %i\nTable = off\nMTU = 1380\n"
)
IP_LINK = '[{"ifindex":3,"ifname":"wg-gateway2","flags":["POINTOPOINT","MULTICAST","NOARP","UP","LOWER_UP"],"mtu":1380,"operstate":"UNKNOWN"}]'
IP_ADDR = (
    '[{"ifindex":3,"ifname":"wg-gateway2","addr_info":['
    '{"family":"inet","local":"10.0.0.2","address":"10.0.0.5","prefixlen":32,"scope":"global"},'
    '{"family":"inet6","local":"fd00:10::2","address":"fd00:10::5","prefixlen":128,"scope":"global"},'
    '{"family":"inet6","local":"fe80::fd16:b0fb:fc34:18b3","prefixlen":64,"scope":"link"}]}]'
)


def test_a_running_link_matches_its_settings():
    settings = wireguard.parse_settings(LINK_SETTINGS)
    assert settings == {"addresses": ["10.0.0.2 peer 10.0.0.5/32", "fd00:10::2 peer fd00:10::5/128"], "mtu": 1380}
    assert wireguard.link_differences(settings, wireguard.live_link(IP_LINK, IP_ADDR)) == []


def test_an_access_interface_reads_its_address_lines():
    assert wireguard.parse_settings(ACCESS_SETTINGS) == {"addresses": ["10.0.0.2/24", "fd00:10::2/64"], "mtu": None}


@pytest.mark.parametrize(
    ("link", "addr", "expected"),
    [
        ("", "", ["missing"]),
        (IP_LINK.replace('"UP",', ""), IP_ADDR, ["down"]),
        (IP_LINK, IP_ADDR.replace('{"family":"inet","local":"10.0.0.2","address":"10.0.0.5","prefixlen":32,"scope":"global"},', ""), ["addresses"]),
        (IP_LINK.replace("1380", "1420"), IP_ADDR, ["mtu"]),
    ],
    ids=["deleted", "set down", "address removed", "mtu"],
)
def test_each_drift_of_a_link_is_named(link, addr, expected):
    settings = wireguard.parse_settings(LINK_SETTINGS)
    assert wireguard.link_differences(settings, wireguard.live_link(link, addr)) == expected
