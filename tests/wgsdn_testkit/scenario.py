"""The hosts of the Molecule scenario under test, read from the inventory Molecule wrote.

Host names, groups and variables come from ``$MOLECULE_INVENTORY_FILE`` (read on
first use, so importing this module outside Molecule is harmless).
"""

import functools
import os

import testinfra
import testinfra.utils.ansible_runner


def inventory():
    return os.environ["MOLECULE_INVENTORY_FILE"]


@functools.cache
def _runner():
    return testinfra.utils.ansible_runner.AnsibleRunner(inventory())


def names(group="all"):
    """Hosts of ``group``; "all" means the overlay's members (gateways, devices, clients), not
    helpers in no wgsdn group such as topology3's external router."""
    if group == "all":
        return sorted({n for g in ("wgsdn_gateways", "wgsdn_devices", "wgsdn_clients") for n in _runner().get_hosts(g)})
    return sorted(_runner().get_hosts(group))


def gateways():
    return names("wgsdn_gateways")


def devices():
    return names("wgsdn_devices")


def managed():
    """The hosts Ansible converges (gateways and devices; never the unmanaged clients)."""
    return sorted(gateways() + devices())


def variables(name):
    return _runner().get_variables(name)


def addresses(name):
    """The host's pinned overlay addresses: IPv4 (wgsdn_address) first, then IPv6 (wgsdn_address6)."""
    values = variables(name)
    return [values[v] for v in ("wgsdn_address", "wgsdn_address6") if v in values]


def address(name):
    """The host's first pinned overlay address (IPv4, or IPv6 on an IPv6-only overlay)."""
    return addresses(name)[0]


def address6(name):
    return variables(name)["wgsdn_address6"]


def link_name(name):
    return variables(name).get("wgsdn_link_name", name)


def uplinks(device):
    return variables(device)["wgsdn_uplinks"]


def expected_bfd_neighbours(name):
    """Overlay addresses (every family) a host must have a BFD session with: a gateway's
    attached devices, the other gateways and external BGP peers with ``bfd: true``; a device's uplink gateways."""
    if name in gateways():
        attached = [d for d in devices() if name in uplinks(d)]
        external = [p["address"] for p in variables(name).get("wgsdn_bgp_peers", []) if p.get("bfd")]
        return [a for n in attached + [g for g in gateways() if g != name] for a in addresses(n)] + external
    return [a for g in uplinks(name) for a in addresses(g)]


def host(name):
    """A testinfra host reached with `docker exec` (fast enough to poll)."""
    return testinfra.get_host(f"docker://{name}")


def node(name):
    """A testinfra host reached through Ansible with the scenario's inventory."""
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={inventory()}")
