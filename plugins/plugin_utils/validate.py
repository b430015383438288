# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every rule of the plan in one place: the checks that need more than one value.

``check_overlay`` runs on the model as soon as the inventory is read;
``check_allocation`` runs once addresses, keys and gateway numbers are known,
before anything is written. Each error names the host and the variable.
"""

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import peers, services
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.contract import GATEWAYS_GROUP
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError, shown
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.family import FAMILIES
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.model import CLIENT, DIRECT, GATEWAY, IFNAMSIZ, ROUTED
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.topology import link_interface


def check_overlay(overlay):
    """Cross-host checks: pinned addresses, uplinks, subnets, interface names, reachability."""
    _check_pins(overlay)
    _check_subnets(overlay)
    _check_uplinks(overlay)
    if overlay.mode == DIRECT:
        _check_direct_reachability(overlay)
    if overlay.mode == ROUTED:
        _check_interface_names(overlay)
    services.check_services(overlay)
    peers.check_peers(overlay)


def _check_pins(overlay):
    for family in overlay.families:
        network = overlay.networks[family.name]
        pinned = {}
        for host in overlay.hosts.values():
            address = host.pinned.get(family.name)
            if address is None:
                continue
            variable = family.address_variable
            if address not in network:
                raise PlanError(host.name, variable, f"{address} lies outside {family.network_variable} {network}")
            if address in (network.network, network.broadcast) and network.prefixlen < family.host_prefixlen - 1:
                raise PlanError(host.name, variable, f"{address} is the network or broadcast address of {network}")
            other = pinned.get(address)
            if other:
                raise PlanError(host.name, variable, f"{address} is already pinned by host '{other}'")
            pinned[address] = host.name


def _check_uplinks(overlay):
    gateways = overlay.gateways
    for host in overlay.hosts.values():
        if host.role == GATEWAY:
            continue
        for uplink in host.uplinks:
            target = overlay.hosts.get(uplink)
            if target is None:
                raise PlanError(host.name, "wgsdn_uplinks", f"{shown(uplink)} is not a host of the overlay")
            if target.role != GATEWAY:
                raise PlanError(host.name, "wgsdn_uplinks", f"'{uplink}' is not in the {GATEWAYS_GROUP} group")
        if not host.uplinks and len(gateways) > 1:
            names = ", ".join(g.name for g in gateways)
            raise PlanError(host.name, "wgsdn_uplinks", f"not set, and there are {len(gateways)} gateways ({names}); say which this host attaches to")
        if host.role == CLIENT and not gateways:
            raise PlanError(host.name, "groups", f"unmanaged clients attach to a gateway, and {GATEWAYS_GROUP} is empty")
        if host.role == CLIENT and len(host.uplinks) > 1:
            raise PlanError(host.name, "wgsdn_uplinks", "an unmanaged client attaches to one gateway: it runs no BFD to fail over between several")


def _check_interface_names(overlay):
    gateways = overlay.gateways
    for host in overlay.hosts.values():
        peers = host.uplinks if host.role != GATEWAY else [g.name for g in gateways if g.name != host.name]
        for peer in peers:
            ifname = link_interface(overlay.hosts[peer].link_name)
            if len(ifname) > IFNAMSIZ:
                raise PlanError(
                    peer,
                    "wgsdn_link_name",
                    f"interface name '{ifname}' (on host '{host.name}') exceeds {IFNAMSIZ} characters; set a shorter wgsdn_link_name for '{peer}'",
                )


def _check_subnets(overlay):
    """No subnet overlaps an overlay prefix or another subnet (a sweep over sorted ranges, O(n log n))."""
    ranges = []
    carried = {family.version: family for family in overlay.families}
    for order, host in enumerate(overlay.hosts.values()):
        for index, subnet in enumerate(host.subnets):
            if subnet.version not in carried:
                family = next(f for f in FAMILIES if f.version == subnet.version)
                raise PlanError(
                    host.name,
                    "wgsdn_subnets",
                    f"{subnet} is an {family.label} prefix, and the overlay carries no {family.label}: set {family.network_variable}",
                )
            for family in overlay.families:
                network = overlay.networks[family.name]
                if subnet.version == network.version and subnet.first <= network.last and network.first <= subnet.last:
                    raise PlanError(host.name, "wgsdn_subnets", f"{subnet} overlaps {family.network_variable} {network}")
            ranges.append((subnet.version, subnet.first, -subnet.last, (order, index), subnet, host.name))
    ranges.sort()
    widest = None
    for entry in ranges:
        if widest is not None and entry[0] == widest[0] and entry[1] <= -widest[2]:
            # Report against the later of the two in inventory order.
            first, second = sorted((widest, entry), key=lambda e: e[3])
            whose = "of this host" if first[5] == second[5] else f"of host '{first[5]}'"
            raise PlanError(second[5], "wgsdn_subnets", f"{second[4]} overlaps the subnet {first[4]} {whose}")
        if widest is None or entry[0] != widest[0] or -entry[2] > -widest[2]:
            widest = entry


def _check_direct_reachability(overlay):
    devices = list(overlay.hosts.values())
    listeners = [d for d in devices if d.listens]
    quiet = [d for d in devices if not d.listens]
    if len(quiet) >= 2:
        raise PlanError(
            quiet[1].name,
            "wgsdn_listen_port",
            f"with no gateways devices peer directly, but neither '{quiet[0].name}' nor '{quiet[1].name}' listens; set wgsdn_listen_port on one of them",
        )
    if not listeners and devices:
        raise PlanError(devices[0].name, "wgsdn_listen_port", "no device listens")


def check_allocation(plan):
    """Routed links need one UDP port each; make sure they fit below 65536. Services and external peers
    are checked against the allocated addresses and gateway AS numbers."""
    services.check_allocation(plan)
    peers.check_allocation(plan)
    if plan["mode"] != ROUTED:
        return
    top_id = max(h["gateway_id"] for h in plan["hosts"].values() if h["role"] == GATEWAY)
    for name, host in plan["hosts"].items():
        if host["listen_port"] is None:
            continue
        top = host["listen_port"] + (top_id if host["role"] == GATEWAY else len(host["uplinks"]) - 1)
        if top > 65535:
            raise PlanError(name, "wgsdn_listen_port", f"{host['listen_port']} leaves no room for one port per routed link (needs up to {top})")
