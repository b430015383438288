"""Broken inventories and state files fail site.yml before any host is touched.

Each case runs the real site.yml against hosts whose connection would fail the
moment a task reached them (containers that do not exist). A good run would
stop at UNREACHABLE; a bad input must stop earlier, at the plan, with an error
naming the host and the variable, and must leave the state file byte-identical.
"""

import copy
import json

import pytest
from wgsdn_testkit.playbooks import ROOT, playbook, write_inventory

from ansible_collections.wgsdn.fabric.tests.unit.topologies import article_topology

VALID_KEY = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="


def _host(**values):
    def mutate(topology):
        hostvars = topology[2]
        for name, updates in values.items():
            hostvars.setdefault(name, {"wgsdn_network": "10.0.0.0/24"}).update(updates)
        return topology

    return mutate


def _add_device(name, **values):
    def mutate(topology):
        _, devices, hostvars = topology
        devices.append(name)
        hostvars[name] = {"wgsdn_network": "10.0.0.0/24", "wgsdn_uplinks": ["gateway1"], **values}
        return topology

    return mutate


def _state(mutation):
    return ("state", mutation)


INVENTORY_CASES = [
    ("duplicate pin", _host(device2={"wgsdn_address": "10.0.0.1"}), "device2", "wgsdn_address"),
    ("pin outside the network", _host(device1={"wgsdn_address": "10.1.0.1"}), "device1", "wgsdn_address"),
    ("uplink to an unknown host", _host(device1={"wgsdn_uplinks": ["gateway9"]}), "device1", "wgsdn_uplinks"),
    ("uplink to a device", _host(device1={"wgsdn_uplinks": ["device2"]}), "device1", "wgsdn_uplinks"),
    ("several gateways, no uplinks", _add_device("device9", wgsdn_uplinks=None), "device9", "wgsdn_uplinks"),
    ("invalid CIDR", _host(gateway1={"wgsdn_subnets": ["192.168.1.0/33"]}), "gateway1", "wgsdn_subnets"),
    ("overlapping subnets", _host(device1={"wgsdn_subnets": ["192.168.0.0/16"]}, device3={"wgsdn_subnets": ["192.168.7.0/24"]}), "device3", "wgsdn_subnets"),
    ("subnet inside the overlay", _host(device4={"wgsdn_subnets": ["10.0.0.128/25"]}), "device4", "wgsdn_subnets"),
    ("invalid port", _host(gateway2={"wgsdn_listen_port": 0}), "gateway2", "wgsdn_listen_port"),
    ("invalid endpoint", _host(gateway1={"wgsdn_endpoint": "gate way"}), "gateway1", "wgsdn_endpoint"),
    ("endpoint with a port", _host(gateway1={"wgsdn_endpoint": "198.51.100.1:51820"}), "gateway1", "wgsdn_endpoint"),
    ("invalid keepalive", _host(device1={"wgsdn_persistent_keepalive": "often"}), "device1", "wgsdn_persistent_keepalive"),
    ("interface name too long", _host(gateway2={"wgsdn_link_name": "gateway-number-two"}), "gateway2", "wgsdn_link_name"),
    (
        "exhausted pool",
        lambda t: _add_device("device9", wgsdn_network="10.0.0.0/29")(_host(**{n: {"wgsdn_network": "10.0.0.0/29"} for n in t[2]})(t)),
        "device9",
        "wgsdn_network",
    ),
]

STATE_CASES = [
    ("state not JSON", lambda raw: raw[: len(raw) // 2], None, "wgsdn_state_file"),
    ("malformed private key", lambda raw: _edit(raw, lambda s: s["hosts"]["device1"].update(private_key="AAAA")), "device1", "wgsdn_state_file"),
    (
        "duplicate address in state",
        lambda raw: _edit(raw, lambda s: s["hosts"]["device2"].update(address=s["hosts"]["device1"]["address"])),
        "device2",
        "wgsdn_state_file",
    ),
    (
        "malformed preshared key",
        lambda raw: _edit(raw, lambda s: s["preshared_keys"].update({"device1|gateway1": VALID_KEY[:-2]})),
        "device1",
        "wgsdn_state_file",
    ),
    ("wrong state version", lambda raw: _edit(raw, lambda s: s.update(version=99)), None, "wgsdn_state_file"),
]


def _edit(raw, change):
    state = json.loads(raw)
    change(state)
    return json.dumps(state).encode()


@pytest.fixture
def site(tmp_path):
    """A valid article topology 3 whose state file exists; hosts are containers that do not exist."""
    topology = article_topology(3)
    extra = {"ansible_connection": "community.docker.docker"}
    write_inventory(tmp_path, *topology, extra=extra)
    plan_only = tmp_path / "plan.yml"
    plan_only.write_text("- hosts: wgsdn_gateways:wgsdn_devices\n  gather_facts: false\n  roles: [wgsdn.fabric.plan]\n")
    run = playbook("-i", tmp_path / "hosts.yml", plan_only)
    assert run.returncode == 0, run.stdout[-2000:]
    return tmp_path, topology, extra


def _run_site(directory):
    return playbook("-i", directory / "hosts.yml", ROOT / "playbooks" / "site.yml")


def _assert_refused(run, host, variable):
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert f"variable '{variable}'" in output, output[-3000:]
    if host:
        assert f"host '{host}'" in output
    assert "UNREACHABLE" not in output, "a task reached a host"
    assert "TASK [wgsdn.fabric.wireguard" not in output, "the WireGuard role started"


@pytest.mark.parametrize("name, mutate, host, variable", INVENTORY_CASES, ids=[c[0] for c in INVENTORY_CASES])
def test_broken_inventory(site, name, mutate, host, variable):
    directory, topology, extra = site
    before = (directory / ".wgsdn-state.json").read_bytes()
    broken = mutate(copy.deepcopy(topology))
    write_inventory(directory, *broken, extra=extra)
    _assert_refused(_run_site(directory), host, variable)
    assert (directory / ".wgsdn-state.json").read_bytes() == before


@pytest.mark.parametrize("name, corrupt, host, variable", STATE_CASES, ids=[c[0] for c in STATE_CASES])
def test_broken_state_file(site, name, corrupt, host, variable):
    directory, _, _ = site
    state = directory / ".wgsdn-state.json"
    state.write_bytes(corrupt(state.read_bytes()))
    before = state.read_bytes()
    _assert_refused(_run_site(directory), host, variable)
    assert state.read_bytes() == before


def test_a_site_option_that_is_not_a_boolean_is_refused(site):
    directory, _, _ = site
    run = playbook("-i", directory / "hosts.yml", ROOT / "playbooks" / "site.yml", "-e", "wgsdn_site_full=maybe")
    _assert_refused(run, None, "wgsdn_site_full")
