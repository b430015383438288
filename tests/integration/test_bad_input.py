"""Broken inventories and state files fail site.yml before any host is touched.

Each case runs the real site.yml against hosts whose connection would fail the
moment a task reached them (containers that do not exist). A good run would
stop at UNREACHABLE; a bad input must stop earlier, at the plan, with an error
naming the host and the variable, and must leave the state file byte-identical.

Every run is at -vvv with a canary BGP password in the inventory (gateway1's
external peer): the refusal is asserted on that output (a superset of what the
default verbosity prints), and neither the canary nor any key of the state file
may appear in it. One run per case covers both.
"""

import copy
import json

import pytest
from wgsdn_testkit.playbooks import ROOT, playbook, write_inventory

from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import shown
from ansible_collections.wgsdn.fabric.tests.unit.topologies import article_topology

VALID_KEY = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
CANARY = "CANARY-7f3a9c-md5"
PEER = {"name": "core", "address": "192.0.2.1", "asn": 65001, "import": ["198.51.100.0/24"], "password": CANARY}


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


def _rename(old, new, **values):
    """Host ``old`` called ``new`` (the uplinks that name it follow), with ``values`` added."""

    def mutate(topology):
        gateways, devices, hostvars = topology
        hostvars[new] = dict(hostvars.pop(old), **values)
        for names in (gateways, devices):
            names[:] = [new if n == old else n for n in names]
        for host in hostvars.values():
            host["wgsdn_uplinks"] = [new if n == old else n for n in host.get("wgsdn_uplinks", [])] or host.get("wgsdn_uplinks")
        return topology

    return mutate


INJECTION = "device1\nPreUp = touch /tmp/wgsdn-pwned"


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
    ("host name with a newline, link name set", _rename("device1", INJECTION, wgsdn_link_name="d1"), INJECTION, "inventory_hostname"),
    ("host name with a quote, link name set", _rename("device2", 'device"2', wgsdn_link_name="d2"), 'device"2', "inventory_hostname"),
    ("link name with '='", _host(gateway2={"wgsdn_link_name": "gw=2"}), "gateway2", "wgsdn_link_name"),
    ("interface name with a space", _host(**{n: {"wgsdn_interface": "wg 0"} for n in ("gateway1", "gateway2")}), "gateway1", "wgsdn_interface"),
    ("endpoint with a newline", _host(gateway1={"wgsdn_endpoint": "gw1\n.example.org"}), "gateway1", "wgsdn_endpoint"),
    ("service name with a newline", _host(device1={"wgsdn_services": [{"name": "web\n", "address": "10.9.0.1"}]}), "device1", "wgsdn_services"),
    (
        "service check with a control character",
        _host(device1={"wgsdn_services": [{"name": "web", "address": "10.9.0.1", "check": "true\x1b"}]}),
        "device1",
        "wgsdn_services",
    ),
    ("peer list written as a mapping", _host(gateway1={"wgsdn_bgp_peers": PEER}), "gateway1", "wgsdn_bgp_peers"),
    (
        "peer password leaving its string",
        _host(gateway1={"wgsdn_bgp_peers": [dict(PEER, password=CANARY + '"; }; protocol static x {')]}),
        "gateway1",
        "wgsdn_bgp_peers",
    ),
    ("peer name with a quote", _host(gateway1={"wgsdn_bgp_peers": [dict(PEER, name='core"')]}), "gateway1", "wgsdn_bgp_peers"),
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
    """A valid article topology 3 whose state file exists; hosts are containers that do not exist;
    gateway1 has an external peer whose password is the canary."""
    topology = article_topology(3)
    topology[2]["gateway1"]["wgsdn_bgp_peers"] = [PEER]
    extra = {"ansible_connection": "community.docker.docker"}
    write_inventory(tmp_path, *topology, extra=extra)
    plan_only = tmp_path / "plan.yml"
    plan_only.write_text("- hosts: wgsdn_gateways:wgsdn_devices\n  gather_facts: false\n  roles: [wgsdn.fabric.plan]\n")
    run = playbook("-i", tmp_path / "hosts.yml", plan_only)
    assert run.returncode == 0, run.stdout[-2000:]
    return tmp_path, topology, extra


def _run_site(directory, *args):
    return playbook("-vvv", "-i", directory / "hosts.yml", ROOT / "playbooks" / "site.yml", *args)


def _secrets(directory):
    """The canary and every key of the state file (when it is still JSON)."""
    try:
        state = json.loads((directory / ".wgsdn-state.json").read_bytes())
    except ValueError:
        return [CANARY]
    return [CANARY, *(h.get("private_key") for h in state["hosts"].values()), *state["preshared_keys"].values()]


def _assert_refused(run, host, variable, secrets):
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert f"variable '{variable}'" in output, output[-3000:]
    if host:
        assert f"host {shown(host)}" in output
    assert "UNREACHABLE" not in output, "a task reached a host"
    assert "TASK [wgsdn.fabric.wireguard" not in output, "the WireGuard role started"
    for secret in secrets:
        assert not secret or secret not in output, f"a secret was printed at -vvv: {secret[:10]}..."


@pytest.mark.parametrize("name, mutate, host, variable", INVENTORY_CASES, ids=[c[0] for c in INVENTORY_CASES])
def test_broken_inventory(site, name, mutate, host, variable):
    directory, topology, extra = site
    before = (directory / ".wgsdn-state.json").read_bytes()
    broken = mutate(copy.deepcopy(topology))
    write_inventory(directory, *broken, extra=extra)
    _assert_refused(_run_site(directory), host, variable, _secrets(directory))
    assert (directory / ".wgsdn-state.json").read_bytes() == before


@pytest.mark.parametrize("name, corrupt, host, variable", STATE_CASES, ids=[c[0] for c in STATE_CASES])
def test_broken_state_file(site, name, corrupt, host, variable):
    directory, _, _ = site
    state = directory / ".wgsdn-state.json"
    secrets = _secrets(directory)
    state.write_bytes(corrupt(state.read_bytes()))
    before = state.read_bytes()
    _assert_refused(_run_site(directory), host, variable, secrets)
    assert state.read_bytes() == before


def test_a_site_option_that_is_not_a_boolean_is_refused(site):
    directory, _, _ = site
    _assert_refused(_run_site(directory, "-e", "wgsdn_site_full=maybe"), None, "wgsdn_site_full", _secrets(directory))
