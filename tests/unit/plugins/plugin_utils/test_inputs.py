"""Trust at the edges: every inventory string that reaches a template, a unit or a shell is checked.

Each bad value is refused with a PlanError naming the host and the variable,
before anything is allocated or written; the values a network engineer uses
pass. The property test in tests/integration/test_hostile_input.py renders what
the checks accept and parses it with bird, nft and a wg-quick reader.
"""

import ast
import pathlib

import pytest

from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError, shown
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile
from ansible_collections.wgsdn.fabric.tests.unit.topologies import article_topology

PLUGIN_UTILS = pathlib.Path(__file__).resolve().parents[4] / "plugins" / "plugin_utils"
INJECTION = "device1\nPreUp = touch /tmp/wgsdn-pwned"


def renamed(old, new, **values):
    """Article topology 3 with host ``old`` called ``new`` (its uplink references follow), plus ``values`` on it."""
    gateways, devices, hostvars = article_topology(3)
    hostvars[new] = dict(hostvars.pop(old), **values)
    gateways = [new if n == old else n for n in gateways]
    devices = [new if n == old else n for n in devices]
    for host in hostvars.values():
        if "wgsdn_uplinks" in host:
            host["wgsdn_uplinks"] = [new if n == old else n for n in host["wgsdn_uplinks"]]
    return gateways, devices, hostvars


def with_values(host, **values):
    gateways, devices, hostvars = article_topology(3)
    hostvars[host].update(values)
    return gateways, devices, hostvars


def refused(state_path, topology, host, variable):
    with pytest.raises(PlanError) as err:
        compute_plan(*topology, StateFile(str(state_path)))
    assert err.value.host == host and err.value.variable == variable, str(err.value)
    assert not state_path.exists(), "a refused inventory wrote the state file"
    assert "\n" not in str(err.value), "the message forges a line of output"
    return str(err.value)


@pytest.mark.parametrize(
    "name",
    [INJECTION, "", 'device"1', "device 1", "device;1", "device#1", "device=1", "device|1", "device/1", "-device1", ".device1", "..", "dévice1", "device\t1"],
)
@pytest.mark.parametrize("link_name", [None, "d1"])
def test_a_host_name_is_checked_whether_or_not_it_has_a_link_name(state_path, name, link_name):
    values = {"wgsdn_link_name": link_name} if link_name else {}
    message = refused(state_path, renamed("device1", name, **values), name, "inventory_hostname")
    assert "use letters, digits, '-', '_', '.'" in message


def test_a_gateway_name_with_a_quote_is_refused_as_a_host_name(state_path):
    refused(state_path, renamed("gateway1", 'gw"1', wgsdn_link_name="g1", wgsdn_endpoint="192.0.2.1"), 'gw"1', "inventory_hostname")


@pytest.mark.parametrize("name", ["device_1", "Device-1", "dev1.example.org", "_dev1", "1dev"])
def test_host_names_a_network_engineer_uses_pass(state_path, name):
    values = {} if len(name) <= 12 else {"wgsdn_link_name": "d1"}
    plan = compute_plan(*renamed("device1", name, **values), StateFile(str(state_path)))
    assert name in plan["hosts"]


@pytest.mark.parametrize("value", ["gw\n", "g=1", "g+1", "g 1", "-g1", ".", "g\x1b1", "g1\u200b"])
def test_link_names_are_checked(state_path, value):
    refused(state_path, with_values("gateway1", wgsdn_link_name=value), "gateway1", "wgsdn_link_name")


@pytest.mark.parametrize("value", ["wg0\n", "wg 0", "wg=0", "..", "-wg0", "wg0;"])
def test_the_interface_name_is_checked(state_path, value):
    gateways, devices, hostvars = article_topology(3)
    for host in hostvars.values():
        host["wgsdn_interface"] = value
    refused(state_path, (gateways, devices, hostvars), "gateway1", "wgsdn_interface")


@pytest.mark.parametrize("value", ["a\n.example.org", "gw1.example.org\n.x", "gw 1", 'gw"1.example.org', "gw1;.example.org", "é.example.org"])
def test_endpoints_are_checked(state_path, value):
    refused(state_path, with_values("gateway1", wgsdn_endpoint=value), "gateway1", "wgsdn_endpoint")


@pytest.mark.parametrize("variable", ["wgsdn_persistent_keepalive", "wgsdn_listen_port"])
def test_numbers_in_other_scripts_are_refused_not_crashed_on(state_path, variable):
    refused(state_path, with_values("device1", **{variable: "²"}), "device1", variable)


SERVICE = {"name": "web", "address": "10.9.0.1"}
PEER = {"name": "core", "address": "192.0.2.1", "asn": 65001}
ITEMS = [
    ("wgsdn_services", dict(SERVICE, name="web\n")),
    ("wgsdn_services", dict(SERVICE, name='web"')),
    ("wgsdn_services", dict(SERVICE, check="tcp:²")),
    ("wgsdn_services", dict(SERVICE, check="curl -f http://127.0.0.1/\x1b[2J")),
    ("wgsdn_services", dict(SERVICE, check="test -e /run/ok\tor")),
    ("wgsdn_services", dict(SERVICE, check="test -e /run/ok\u2028 && true")),
    ("wgsdn_bgp_peers", dict(PEER, name="core\n")),
    ("wgsdn_bgp_peers", dict(PEER, name='core"')),
    ("wgsdn_bgp_peers", dict(PEER, asn="²")),
    ("wgsdn_bgp_peers", dict(PEER, address="192.0.2.1\nx")),
    ("wgsdn_bgp_peers", dict(PEER, password='abc"; }; protocol static x {')),
    ("wgsdn_bgp_peers", dict(PEER, password="abc\ndef")),
]


@pytest.mark.parametrize("variable, item", ITEMS)
def test_service_and_external_peer_fields_are_checked(state_path, variable, item):
    refused(state_path, with_values("gateway1", **{variable: [item]}), "gateway1", variable)


def test_a_peer_list_written_as_a_mapping_does_not_echo_its_password(state_path):
    peer = dict(PEER, password="CANARY-mapping-1")
    message = refused(state_path, with_values("gateway1", wgsdn_bgp_peers=peer), "gateway1", "wgsdn_bgp_peers")
    assert "CANARY" not in message
    assert "'password': '(hidden)'" in message


@pytest.mark.parametrize("peers", ["name: core, password: CANARY-1", ["name: core, password: CANARY-1"]])
def test_a_peer_list_written_as_a_string_is_not_echoed(state_path, peers):
    message = refused(state_path, with_values("gateway1", wgsdn_bgp_peers=peers), "gateway1", "wgsdn_bgp_peers")
    assert "CANARY" not in message and "a string (value not shown)" in message


@pytest.mark.parametrize(
    "value",
    [
        {"password": "CANARY-1", "name": "x"},
        [{"nested": {"secret": "CANARY-1"}}],
        ({"private_key": "CANARY-1"},),
        {"preshared_key": "CANARY-1", "Password": "CANARY-2", "api_token": "CANARY-3", "key": "CANARY-4"},
    ],
)
def test_shown_masks_every_secret_field(value):
    assert "CANARY" not in shown(value)


def test_shown_escapes_what_would_forge_output():
    assert shown("a\nb\x1b[31m") == "'a\\nb\\x1b[31m'"


def test_no_message_of_the_plan_echoes_a_value_without_shown():
    """Every ``!r`` / ``repr()`` of plugin_utils goes through errors.shown, so no message prints a secret field."""
    offenders = []
    for path in sorted(PLUGIN_UTILS.glob("*.py")):
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FormattedValue) and node.conversion == ord("r"):
                offenders.append(f"{path.name}:{node.lineno} uses !r")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "repr":
                offenders.append(f"{path.name}:{node.lineno} calls repr()")
    assert not offenders, offenders


def test_no_message_of_the_plan_doubles_a_quote():
    """A name is quoted once: "the subnet X of host 'a'", never "host 'a''s subnet" (an apostrophe after a closing quote)."""
    offenders = [
        f"{path.name}:{number}" for path in sorted(PLUGIN_UTILS.glob("*.py")) for number, text in enumerate(path.read_text().splitlines(), 1) if "''s" in text
    ]
    assert not offenders, offenders
