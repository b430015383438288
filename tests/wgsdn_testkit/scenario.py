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
    return sorted(_runner().get_hosts(group))


def gateways():
    return names("wgsdn_gateways")


def devices():
    return names("wgsdn_devices")


def variables(name):
    return _runner().get_variables(name)


def address(name):
    return variables(name)["wgsdn_address"]


def link_name(name):
    return variables(name).get("wgsdn_link_name", name)


def uplinks(device):
    return variables(device)["wgsdn_uplinks"]


def expected_bfd_neighbours(name):
    """Overlay addresses a host must have a BFD session with: a gateway's attached devices
    and the other gateways; a device's uplink gateways."""
    if name in gateways():
        attached = [d for d in devices() if name in uplinks(d)]
        return [address(n) for n in attached + [g for g in gateways() if g != name]]
    return [address(g) for g in uplinks(name)]


def host(name):
    """A testinfra host reached with `docker exec` (fast enough to poll)."""
    return testinfra.get_host(f"docker://{name}")


def node(name):
    """A testinfra host reached through Ansible with the scenario's inventory."""
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={inventory()}")
