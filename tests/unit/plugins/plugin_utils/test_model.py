"""Validation of the inventory: each bad input names the host and the variable."""

import pytest

from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.inventory import build_overlay
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.model import DIRECT, HUB, ROUTED
from ansible_collections.wgsdn.fabric.tests.unit.topologies import NETWORK, article_topology

NET = {"wgsdn_network": NETWORK}


def hv(**hosts):
    return {name: dict(NET, **values) for name, values in hosts.items()}


@pytest.mark.parametrize("number, mode", [(1, DIRECT), (2, HUB), (3, ROUTED)])
def test_article_topologies_build(number, mode):
    overlay = build_overlay(*article_topology(number))
    assert overlay.mode == mode
    assert str(overlay.network) == NETWORK


def test_single_gateway_is_the_default_uplink():
    overlay = build_overlay(*article_topology(2))
    assert overlay.hosts["device1"].uplinks == ["device2"]
    assert overlay.hosts["device2"].listen_port == 51820
    assert overlay.hosts["device2"].endpoint == "device2"


def test_endpoint_defaults_to_ansible_host_for_listeners_only():
    overlay = build_overlay(["gw"], ["dev"], hv(gw={"ansible_host": "192.0.2.7"}, dev={"ansible_host": "192.0.2.8"}))
    assert overlay.hosts["gw"].endpoint == "192.0.2.7"
    assert overlay.hosts["dev"].endpoint == ""


BAD = [
    # (gateways, devices, hostvars, host, variable, message fragment)
    (
        [],
        ["a", "b"],
        hv(a={"wgsdn_address": "10.0.0.5", "wgsdn_listen_port": 1}, b={"wgsdn_address": "10.0.0.5"}),
        "b",
        "wgsdn_address",
        "already pinned by host 'a'",
    ),
    ([], ["a", "b"], hv(a={"wgsdn_address": "10.0.1.5", "wgsdn_listen_port": 1}, b={}), "a", "wgsdn_address", "outside wgsdn_network 10.0.0.0/24"),
    ([], ["a", "b"], hv(a={"wgsdn_address": "10.0.0.255", "wgsdn_listen_port": 1}, b={}), "a", "wgsdn_address", "network or broadcast"),
    ([], ["a", "b"], hv(a={"wgsdn_address": "10.0.0.300", "wgsdn_listen_port": 1}, b={}), "a", "wgsdn_address", "not a valid IPv4 address"),
    (["g"], ["d"], hv(g={}, d={"wgsdn_uplinks": ["nope"]}), "d", "wgsdn_uplinks", "'nope' is not a host of the overlay"),
    (["g"], ["d", "e"], hv(g={}, d={"wgsdn_uplinks": ["e"]}, e={}), "d", "wgsdn_uplinks", "'e' is not in the wgsdn_gateways group"),
    (["g1", "g2"], ["d"], hv(g1={}, g2={}, d={}), "d", "wgsdn_uplinks", "there are 2 gateways (g1, g2)"),
    (["g"], ["d"], hv(g={"wgsdn_uplinks": ["g"]}, d={}), "g", "wgsdn_uplinks", "gateways have no uplinks"),
    (["g"], ["d"], hv(g={}, d={"wgsdn_uplinks": ["g", "g"]}), "d", "wgsdn_uplinks", "listed twice"),
    (["g"], ["d"], {"g": {"wgsdn_network": "10.0.0.0/33"}, "d": dict(NET)}, "g", "wgsdn_network", "not a valid IPv4 CIDR prefix"),
    (["g"], ["d"], {"g": {"wgsdn_network": "10.0.0.1/24"}, "d": dict(NET)}, "g", "wgsdn_network", "host bits set"),
    (["g"], ["d"], {"g": dict(NET), "d": {"wgsdn_network": "10.9.0.0/24"}}, "d", "wgsdn_network", "differs from 10.0.0.0/24"),
    (["g"], ["d"], {"g": dict(NET), "d": {}}, "d", "wgsdn_network", "not set"),
    (["g"], ["d"], hv(g={"wgsdn_listen_port": 70000}, d={}), "g", "wgsdn_listen_port", "not a UDP port"),
    (["g"], ["d"], hv(g={"wgsdn_listen_port": "x"}, d={}), "g", "wgsdn_listen_port", "not a UDP port"),
    (["g"], ["d"], hv(g={"wgsdn_endpoint": "bad host!"}, d={}), "g", "wgsdn_endpoint", "not a valid host name"),
    (["g"], ["d"], hv(g={"wgsdn_endpoint": "gw.example.org:51820"}, d={}), "g", "wgsdn_endpoint", "give the port in wgsdn_listen_port"),
    (["g"], ["d"], hv(g={}, d={"wgsdn_persistent_keepalive": -1}), "d", "wgsdn_persistent_keepalive", "not a number of seconds"),
    (["g"], ["d"], hv(g={}, d={"wgsdn_subnets": ["192.168.1.0/24", "192.168.1.128/25"]}), "d", "wgsdn_subnets", "the subnet 192.168.1.0/24 of this host"),
    (
        ["g"],
        ["d"],
        hv(g={"wgsdn_subnets": "192.168.0.0/16"}, d={"wgsdn_subnets": ["192.168.1.0/24"]}),
        "d",
        "wgsdn_subnets",
        "the subnet 192.168.0.0/16 of host 'g'",
    ),
    (["g"], ["d"], hv(g={}, d={"wgsdn_subnets": ["10.0.0.0/25"]}), "d", "wgsdn_subnets", "overlaps wgsdn_network"),
    (["g"], ["d"], hv(g={}, d={"wgsdn_subnets": ["192.168.1.0/244"]}), "d", "wgsdn_subnets", "not a valid IPv4 CIDR prefix"),
    (["g"], ["d"], hv(g={}, d={"wgsdn_subnets": {"a": 1}}), "d", "wgsdn_subnets", "must be a list"),
    (
        ["g1", "a-very-long-gateway"],
        ["d"],
        hv(g1={}, **{"a-very-long-gateway": {}}, d={"wgsdn_uplinks": ["g1"]}),
        "a-very-long-gateway",
        "wgsdn_link_name",
        "exceeds 15 characters",
    ),
    ([], ["a", "b"], hv(a={}, b={}), "b", "wgsdn_listen_port", "neither 'a' nor 'b' listens"),
    (["g"], ["g"], hv(g={}), "g", "groups", "in both the gateway and the device group"),
    (["g"], ["d"], hv(g={"wgsdn_interface": "this-name-is-too-long"}, d={}), "g", "wgsdn_interface", "at most 15 characters"),
    # Overlay-wide variables: every host must see the same value.
    (["g"], ["d"], hv(g={}, d={"wgsdn_preshared_keys": False}), "d", "wgsdn_preshared_keys", "differs from True set for host 'g'"),
    (["g"], ["d"], hv(g={"wgsdn_interface": "wg1"}, d={}), "d", "wgsdn_interface", "wg0 differs from wg1 set for host 'g'; it describes the whole overlay"),
    (["g"], ["d"], hv(g={}, d={"wgsdn_preshared_keys": "yes"}), "d", "wgsdn_preshared_keys", "must be true or false"),
]


@pytest.mark.parametrize("gateways, devices, hostvars, host, variable, fragment", BAD)
def test_bad_input_names_host_and_variable(gateways, devices, hostvars, host, variable, fragment):
    with pytest.raises(PlanError) as err:
        build_overlay(gateways, devices, hostvars)
    message = str(err.value)
    assert f"host '{host}'" in message
    assert f"variable '{variable}'" in message
    assert fragment in message


def test_empty_inventory():
    with pytest.raises(PlanError, match="no hosts in the groups"):
        build_overlay([], [], {})


def test_link_name_shortens_interface_names():
    hostvars = hv(g1={}, **{"a-very-long-gateway": {"wgsdn_link_name": "g2"}}, d={"wgsdn_uplinks": ["g1"]})
    overlay = build_overlay(["g1", "a-very-long-gateway"], ["d"], hostvars)
    assert overlay.hosts["a-very-long-gateway"].link_name == "g2"
