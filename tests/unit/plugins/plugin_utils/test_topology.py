"""Derivations: interfaces, peers, AllowedIPs, routes and BGP for the article's topologies and beyond."""

import pytest

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import topology
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.model import ASN_BASE
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile
from ansible_collections.wgsdn.fabric.tests.unit.topologies import NETWORK, article_topology

NET = {"wgsdn_network": NETWORK}


@pytest.fixture
def plan_for(tmp_path):
    def build(gateways, devices, hostvars):
        return compute_plan(gateways, devices, hostvars, StateFile(str(tmp_path / "state.json")))

    return build


def summary(plan, host):
    """(name, Address, IPv4 ptp, ListenPort, Table, [(peer, AllowedIPs, Endpoint)]) per interface."""
    return [
        (i["name"], i["address"], _ptp4(i), i["listen_port"], i["table"], [(p["name"], p["allowed_ips"], p["endpoint"]) for p in i["peers"]])
        for i in topology.wg_interfaces(plan, host)
    ]


def _ptp4(interface):
    """The IPv4 point-to-point addresses of a routed link, or None."""
    ptp = [p for p in interface["ptp"] if p["ip_option"] == "-4"]
    return {"local": ptp[0]["local"], "peer": ptp[0]["peer"]} if ptp else None


def test_article_topology_1(plan_for):
    plan = plan_for(*article_topology(1))
    assert summary(plan, "device1") == [("wg0", "10.0.0.1/24", None, None, "auto", [("device2", ["10.0.0.2/32"], "device2:51820")])]
    assert summary(plan, "device2") == [("wg0", "10.0.0.2/24", None, 51820, "auto", [("device1", ["10.0.0.1/32"], None)])]
    assert topology.static_routes(plan, "device1") == []
    assert topology.bird_settings(plan, "device1")["enabled"] is False


def test_article_topology_2(plan_for):
    plan = plan_for(*article_topology(2))
    assert summary(plan, "device2") == [
        ("wg0", "10.0.0.2/24", None, 51820, "auto", [("device1", ["10.0.0.1/32"], None), ("device3", ["10.0.0.3/32"], None)]),
    ]
    for device in ("device1", "device3"):
        address = plan["hosts"][device]["address"]
        assert summary(plan, device) == [("wg0", f"{address}/24", None, None, "auto", [("device2", ["10.0.0.0/24"], "device2:51820")])]


def test_article_topology_3(plan_for):
    plan = plan_for(*article_topology(3))
    assert summary(plan, "gateway1") == [
        ("wg0", "10.0.0.2/24", None, 51820, "off", [("device1", ["10.0.0.1/32"], None), ("device2", ["10.0.0.3/32"], None)]),
        ("wg-gateway2", None, {"local": "10.0.0.2", "peer": "10.0.0.5"}, 51822, "off", [("gateway2", ["10.0.0.0/24"], "gateway2:51821")]),
    ]
    assert summary(plan, "device3") == [
        ("wg-gateway2", None, {"local": "10.0.0.4", "peer": "10.0.0.5"}, None, "off", [("gateway2", ["10.0.0.0/24"], "gateway2:51820")]),
    ]
    assert topology.bgp_neighbors(plan, "gateway1") == [
        {
            "name": "bgp_gateway2",
            "peer": "gateway2",
            "neighbor": "10.0.0.5",
            "local": "10.0.0.2",
            "interface": "wg-gateway2",
            "local_as": ASN_BASE + 1,
            "remote_as": ASN_BASE + 2,
            "family": "ipv4",
        },
    ]
    assert topology.static_routes(plan, "gateway2") == [
        {"prefix": "10.0.0.5/32", "via": [], "bfd": False, "own": True},
        {"prefix": "10.0.0.4/32", "via": ["10.0.0.4"], "bfd": True, "own": False},
        {"prefix": "10.0.0.6/32", "via": ["10.0.0.6"], "bfd": True, "own": False},
    ]
    assert topology.static_routes(plan, "device1") == [{"prefix": "10.0.0.0/24", "via": ["10.0.0.2"], "bfd": True, "own": False}]
    origins = {o["gateway"]: o["prefixes"] for o in topology.route_origins(plan)}
    assert origins == {"gateway1": ["10.0.0.2/32", "10.0.0.1/32", "10.0.0.3/32"], "gateway2": ["10.0.0.5/32", "10.0.0.4/32", "10.0.0.6/32"]}


def test_dual_homed_device_with_subnets(plan_for):
    gateways, devices, hostvars = article_topology(3)
    hostvars["device4"].update(wgsdn_uplinks=["gateway2", "gateway1"], wgsdn_listen_port=51900, wgsdn_persistent_keepalive=25)
    hostvars["device3"]["wgsdn_subnets"] = ["192.168.3.0/24"]
    hostvars["gateway1"]["wgsdn_subnets"] = ["192.168.100.0/24"]
    plan = plan_for(gateways, devices, hostvars)
    ifaces = topology.wg_interfaces(plan, "device4")
    assert [(i["name"], i["listen_port"]) for i in ifaces] == [("wg-gateway2", 51900), ("wg-gateway1", 51901)]
    assert all(p["persistent_keepalive"] == 25 for i in ifaces for p in i["peers"])
    assert ifaces[0]["peers"][0]["allowed_ips"] == ["10.0.0.0/24", "192.168.3.0/24", "192.168.100.0/24"]
    # The gateways dial the listening device on the port of the matching interface.
    gw1_peers = {p["name"]: p for i in topology.wg_interfaces(plan, "gateway1") for p in i["peers"]}
    assert gw1_peers["device4"]["endpoint"] == "device4:51901"
    assert gw1_peers["device4"]["persistent_keepalive"] is None
    routes = topology.static_routes(plan, "device4")
    assert routes[0] == {"prefix": "10.0.0.0/24", "via": ["10.0.0.5", "10.0.0.2"], "bfd": True, "own": False}
    assert {"prefix": "192.168.3.0/24", "via": ["10.0.0.5", "10.0.0.2"], "bfd": True, "own": False} in routes
    assert {"prefix": "192.168.100.0/24", "via": [], "bfd": False, "own": True} in topology.static_routes(plan, "gateway1")
    assert {"prefix": "192.168.3.0/24", "via": ["10.0.0.4"], "bfd": True, "own": False} in topology.static_routes(plan, "gateway2")
    origins = {o["gateway"]: o["prefixes"] for o in topology.route_origins(plan)}
    assert "10.0.0.6/32" in origins["gateway1"] and "10.0.0.6/32" in origins["gateway2"]


def test_subnets_in_hub_mode_ride_allowed_ips(plan_for):
    gateways, devices, hostvars = article_topology(2)
    hostvars["device1"]["wgsdn_subnets"] = ["192.168.1.0/24"]
    hostvars["device3"]["wgsdn_subnets"] = ["192.168.3.0/24"]
    plan = plan_for(gateways, devices, hostvars)
    assert topology.allowed_ips(plan, "device2", "device1") == ["10.0.0.1/32", "192.168.1.0/24"]
    assert topology.allowed_ips(plan, "device1", "device2") == ["10.0.0.0/24", "192.168.3.0/24"]


def test_adjacent_subnets_are_merged(plan_for):
    gateways, devices, hostvars = article_topology(2)
    hostvars["device1"]["wgsdn_subnets"] = ["192.168.0.0/24"]
    hostvars["device3"]["wgsdn_subnets"] = ["192.168.1.0/24"]
    hostvars["device2"]["wgsdn_subnets"] = ["10.0.1.0/24"]
    plan = plan_for(gateways, devices, hostvars)
    assert topology.allowed_ips(plan, "device1", "device2") == ["10.0.0.0/23", "192.168.1.0/24"]


def test_ipv6_endpoints_are_bracketed(plan_for):
    gateways, devices, hostvars = article_topology(2)
    hostvars["device2"]["wgsdn_endpoint"] = "2001:db8::2"
    plan = plan_for(gateways, devices, hostvars)
    assert topology.wg_interfaces(plan, "device1")[0]["peers"][0]["endpoint"] == "[2001:db8::2]:51820"


def test_unknown_host_and_non_peer(plan_for):
    plan = plan_for(*article_topology(3))
    with pytest.raises(PlanError, match="host 'nobody', variable 'inventory_hostname'"):
        topology.wg_interfaces(plan, "nobody")
    with pytest.raises(PlanError, match="host 'device1', variable 'peer': 'device3' is not a WireGuard peer"):
        topology.allowed_ips(plan, "device1", "device3")


def test_bgp_symbols_are_unique_and_valid(plan_for):
    hostvars = {n: dict(NET) for n in ("gw-a", "gw_a", "1gw")}
    hostvars["gw_a"]["wgsdn_link_name"] = "gwa2"
    plan = plan_for(["gw-a", "gw_a", "1gw"], [], hostvars)
    names = [s["name"] for s in topology.bgp_neighbors(plan, "1gw")]
    assert names == ["bgp_gw_a", "bgp_gw_a_2"]
    assert [s["name"] for s in topology.bgp_neighbors(plan, "gw-a")] == ["bgp_gw_a", "bgp_h_1gw"]


def test_unmanaged_client_in_routed_mode(tmp_path):
    gateways, devices, hostvars = article_topology(3)
    hostvars["phone"] = dict(NET, wgsdn_uplinks=["gateway1"])
    plan = compute_plan(gateways, devices, hostvars, StateFile(str(tmp_path / "s.json")), clients=["phone"])
    phone = plan["hosts"]["phone"]
    assert phone["role"] == "client"
    assert summary(plan, "phone") == [("wg0", f"{phone['address']}/32", None, None, "auto", [("gateway1", ["10.0.0.0/24"], "gateway1:51820")])]
    assert topology.wg_interfaces(plan, "phone")[0]["peers"][0]["persistent_keepalive"] == 25
    assert {"prefix": f"{phone['address']}/32", "via": [phone["address"]], "bfd": False, "own": False} in topology.static_routes(plan, "gateway1")
    gw1_access = topology.wg_interfaces(plan, "gateway1")[0]
    assert ("phone", [f"{phone['address']}/32"], None) in [(p["name"], p["allowed_ips"], p["endpoint"]) for p in gw1_access["peers"]]
    assert topology.bird_settings(plan, "phone")["enabled"] is False
    assert "phone|gateway1" in plan["preshared_keys"] or "gateway1|phone" in plan["preshared_keys"]


@pytest.mark.parametrize(
    "gateways, values, variable, fragment",
    [
        (["gateway1"], {"wgsdn_listen_port": 51820}, "wgsdn_listen_port", "never listen"),
        ([], {}, "groups", "wgsdn_gateways is empty"),
        (["gateway1", "gateway2"], {"wgsdn_uplinks": ["gateway1", "gateway2"]}, "wgsdn_uplinks", "attaches to one gateway"),
    ],
)
def test_client_errors(tmp_path, gateways, values, variable, fragment):
    hostvars = {g: dict(NET) for g in gateways}
    hostvars["dev"] = dict(NET, wgsdn_listen_port=1, wgsdn_uplinks=gateways[:1])
    hostvars["phone"] = dict(NET, **values)
    with pytest.raises(PlanError) as err:
        compute_plan(gateways, ["dev"], hostvars, StateFile(str(tmp_path / "s.json")), clients=["phone"])
    assert f"host 'phone', variable '{variable}'" in str(err.value)
    assert fragment in str(err.value)


def test_one_device_session_per_attached_device_named_from_it(plan_for):
    gateways, devices, hostvars = article_topology(3)
    hostvars["device4"]["wgsdn_uplinks"] = ["gateway2", "gateway1"]
    plan = plan_for(gateways, devices, hostvars)
    sessions = topology.device_sessions(plan, "gateway1")
    assert [(s["name"], s["peer"], s["neighbor"], s["local"]) for s in sessions] == [
        ("dev_device1", "device1", "10.0.0.1", "10.0.0.2"),
        ("dev_device2", "device2", "10.0.0.3", "10.0.0.2"),
        ("dev_device4", "device4", "10.0.0.6", "10.0.0.2"),
    ]
    assert [s["name"] for s in topology.device_sessions(plan, "gateway2")] == ["dev_device3", "dev_device4"]
    assert topology.device_sessions(plan, "device1") == []
    # A departed device leaves no session: the plan without it has none for it.
    del hostvars["device2"]
    smaller = plan_for(gateways, [d for d in devices if d != "device2"], hostvars)
    assert [s["name"] for s in topology.device_sessions(smaller, "gateway1")] == ["dev_device1", "dev_device4"]


def test_device_session_names_are_unique_valid_bird_symbols(tmp_path):
    long_name = "device-" + "x" * 80
    names = ["dev-a", "dev_a", long_name, long_name + "y"]
    hostvars = {"gw1": dict(NET), "gw2": dict(NET), "phone": dict(NET, wgsdn_uplinks=["gw1"])}
    hostvars.update({n: dict(NET, wgsdn_uplinks=["gw1"], wgsdn_link_name=f"l{i}") for i, n in enumerate(names)})
    plan = compute_plan(["gw1", "gw2"], names, hostvars, StateFile(str(tmp_path / "s.json")), clients=["phone"])
    symbols = [s["name"] for s in topology.device_sessions(plan, "gw1")]
    assert symbols[:2] == ["dev_dev_a", "dev_dev_a_2"]
    assert len(set(symbols)) == 4 and all(len(s) <= topology.BIRD_SYMBOL_MAX and s.isidentifier() for s in symbols), symbols
    assert "phone" not in {s["peer"] for s in topology.device_sessions(plan, "gw1")}  # unmanaged clients speak no BGP
