"""Properties on random IPv4, IPv6 and dual-stack inventories: unique in-pool addresses, stability, symmetric peers."""

import tempfile

import netaddr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import topology
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile

NETWORK = "10.20.0.0/26"
NETWORK6 = "fd00:20::/122"
POOLS = {"ipv4": (NETWORK, "wgsdn_network", "wgsdn_address"), "ipv6": (NETWORK6, "wgsdn_network6", "wgsdn_address6")}
STACKS = (("ipv4",), ("ipv6",), ("ipv4", "ipv6"))


@st.composite
def inventories(draw):
    """(gateways, devices, hostvars) of a valid random overlay."""
    n_gateways = draw(st.integers(0, 4))
    n_devices = draw(st.integers(1 if n_gateways else 2, 12))
    gateways = [f"gw{i}" for i in range(n_gateways)]
    devices = [f"dev{i}" for i in range(n_devices)]
    stack = draw(st.sampled_from(STACKS))
    hostvars = {}
    free_pins = {family: list(range(1, 60)) for family in stack}
    subnet_ids = iter(range(256))
    for index, name in enumerate(gateways + devices):
        values = {}
        for family in stack:
            network, network_variable, address_variable = POOLS[family]
            values[network_variable] = network
            if draw(st.booleans()) and draw(st.integers(0, 3)) == 0:
                pins = free_pins[family]
                values[address_variable] = str(netaddr.IPAddress(netaddr.IPNetwork(network).first + pins.pop(draw(st.integers(0, len(pins) - 1)))))
        if draw(st.integers(0, 3)) == 0:
            subnet = next(subnet_ids)
            values["wgsdn_subnets"] = [f"192.168.{subnet}.0/24" if draw(st.sampled_from(stack)) == "ipv4" else f"fd00:ff:{subnet:x}::/64"]
        is_device = name in devices
        # Without gateways every pair needs a listener: all devices but the first listen.
        if is_device and ((not gateways and index > 0) or draw(st.integers(0, 4)) == 0):
            values["wgsdn_listen_port"] = 40000 + index
        if is_device and len(gateways) > 1:
            values["wgsdn_uplinks"] = draw(st.lists(st.sampled_from(gateways), min_size=1, max_size=len(gateways), unique=True))
        if draw(st.integers(0, 5)) == 0:
            values["wgsdn_persistent_keepalive"] = 25
        hostvars[name] = values
    return gateways, devices, hostvars


def networks(hostvars):
    """{family: (pool, address variable)} of the families an inventory sets."""
    first = next(iter(hostvars.values()))
    return {family: (netaddr.IPNetwork(network), address) for family, (network, variable, address) in POOLS.items() if variable in first}


def plan_with(path, gateways, devices, hostvars):
    return compute_plan(gateways, devices, {n: hostvars[n] for n in gateways + devices}, StateFile(path))


def planned(inventory):
    """The plan of a random inventory, its state in a throw-away directory."""
    with tempfile.TemporaryDirectory() as tmp:
        return plan_with(f"{tmp}/s.json", *inventory)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inventories())
def test_addresses_unique_inside_the_pool_and_pins_honoured(inventory):
    hostvars = inventory[2]
    plan = planned(inventory)
    assert [f["name"] for f in plan["families"]] == list(networks(hostvars))
    for family, (pool, pin) in networks(hostvars).items():
        allocated = [netaddr.IPAddress(h["addresses"][family]) for h in plan["hosts"].values()]
        assert len(set(allocated)) == len(allocated)
        assert all(pool.network < a < pool.broadcast for a in allocated)
        for name, values in hostvars.items():
            if pin in values:
                assert plan["hosts"][name]["addresses"][family] == values[pin]
    router_ids = [h["router_id"] for h in plan["hosts"].values()]
    assert len(set(router_ids)) == len(router_ids)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inventories(), st.data())
def test_stable_when_hosts_come_and_go(inventory, data):
    gateways, devices, hostvars = inventory
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/s.json"
        first = plan_with(path, gateways, devices, hostvars)
        # Remove some devices (keeping a valid overlay), add new ones.
        keep = data.draw(st.lists(st.sampled_from(devices), min_size=1, unique=True)) if gateways else devices
        newcomers = [f"new{i}" for i in range(data.draw(st.integers(0, 3)))]
        for name in newcomers:
            hostvars[name] = {POOLS[f][1]: POOLS[f][0] for f in networks(hostvars)} | {"wgsdn_listen_port": 45000}
            if len(gateways) > 1:
                hostvars[name]["wgsdn_uplinks"] = [gateways[0]]
        second = plan_with(path, gateways, keep + newcomers, hostvars)
        for name in gateways + keep:
            assert second["hosts"][name]["addresses"] == first["hosts"][name]["addresses"]
            assert second["hosts"][name]["private_key"] == first["hosts"][name]["private_key"]
        old_addresses = {a for h in first["hosts"].values() for a in h["addresses"].values()}
        assert all(a not in old_addresses for n in newcomers for a in second["hosts"][n]["addresses"].values())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inventories())
def test_peer_sections_are_symmetric(inventory):
    plan = planned(inventory)
    sections = {}
    for host in plan["hosts"]:
        assert topology.interface_names(plan, host) == [i["name"] for i in topology.wg_interfaces(plan, host)]
        for iface in topology.wg_interfaces(plan, host):
            assert len(iface["name"]) <= 15
            for peer in iface["peers"]:
                sections[(host, peer["name"])] = (iface, peer)
    for (host, peer_name), (_iface, peer) in sections.items():
        assert (peer_name, host) in sections, f"{peer_name} has no section for {host}"
        back_iface, back = sections[(peer_name, host)]
        # Same keys on both ends.
        assert peer["public_key"] == plan["hosts"][peer_name]["public_key"]
        assert back["public_key"] == plan["hosts"][host]["public_key"]
        assert peer["preshared_key"] == back["preshared_key"] and peer["preshared_key"]
        # Each end accepts the other's address; an endpoint names the port the peer listens on.
        for address in plan["hosts"][peer_name]["addresses"].values():
            assert any(
                netaddr.IPAddress(address) in netaddr.IPNetwork(c)
                for c in peer["allowed_ips"]
                if netaddr.IPNetwork(c).version == netaddr.IPAddress(address).version
            )
        if peer["endpoint"]:
            assert peer["endpoint"].rsplit(":", 1)[1] == str(back_iface["listen_port"])
        # Somebody must dial: at least one end has an endpoint.
        assert peer["endpoint"] or back["endpoint"]
    # No prefix is carried by two peers of one interface (WireGuard would silently move it).
    for host in plan["hosts"]:
        for iface in topology.wg_interfaces(plan, host):
            carried = [c for p in iface["peers"] for c in p["allowed_ips"]]
            assert len(carried) == len(set(carried))
