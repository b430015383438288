# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Allocation and the plan: the overlay model joined with its persisted state.

``allocate`` gives every host of the overlay an address in each family, a key
pair and (for gateways) a gateway number, and every linked pair of hosts a
preshared key, reusing what the state already holds. It never renumbers or
re-keys a host that has an entry. Hosts that left the inventory keep their
entry (their addresses stay reserved, so a stale config elsewhere never reaches
a newcomer) until ``prune=True`` drops them.

``make_plan`` returns the plan: plain JSON-able data that the filters read.
"""

import copy

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import keys, services, topology
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.deps import optional
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.model import ASN_BASE, CLIENT, GATEWAY, ROUTED
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import pair_key

netaddr = optional("netaddr")


def allocate(overlay, state, links, prune=False, rotate=()):
    """Return ``(new_state, changed)``; ``state`` is not modified. Raises PlanError.

    ``links``: ``topology.links(overlay)``, the pairs that get a preshared key.
    ``rotate``: host names (or ``["all"]``) whose key pair, and the preshared
    keys of whose pairs, are replaced by new ones.
    """
    rotate = _rotation_set(overlay, rotate)
    new = copy.deepcopy(state)
    entries = new["hosts"]
    for family in overlay.families:
        _check_renumbering(overlay, new, family)
    if prune:
        for name in [n for n in entries if n not in overlay.hosts]:
            del entries[name]
    for family in overlay.families:
        _allocate_family(overlay, new, family)

    for host in overlay.hosts.values():
        entry = entries[host.name]
        if "private_key" not in entry or host.name in rotate:
            entry["private_key"] = keys.generate_private_key()
        if host.role == GATEWAY and "gateway_id" not in entry:
            entry["gateway_id"] = new["next_gateway_id"]
            new["next_gateway_id"] += 1
        if host.role != GATEWAY:
            entry.pop("gateway_id", None)

    wanted = {pair_key(a, b) for a, b, _kind in links} if overlay.preshared_keys else set()
    psks = new["preshared_keys"]
    for pair in wanted:
        if pair not in psks or any(name in rotate for name in pair.split("|")):
            psks[pair] = keys.generate_preshared_key()
    if prune:
        for pair in [p for p in psks if p not in wanted]:
            del psks[pair]
    return new, new != state


def _check_renumbering(overlay, new, family):
    """A changed overlay prefix must still hold every address the state allocated from the old one."""
    key = family.state_key
    network = overlay.networks[family.name]
    previous = new.get(family.state_network_key)
    if previous not in (None, str(network)):
        for name, entry in new["hosts"].items():
            if key in entry and netaddr.IPAddress(entry[key]) not in network:
                raise PlanError(
                    name,
                    family.network_variable,
                    f"the state file allocated {entry[key]} to this host from {previous}, outside the new {family.network_variable} {network}; "
                    "renumbering is not automatic: remove the host's entry from the state file to give it a new address",
                )
    new[family.state_network_key] = str(network)


def _allocate_family(overlay, new, family):
    """Addresses of one family: pins first, then the lowest free address for each new host."""
    entries = new["hosts"]
    key = family.state_key
    network = overlay.networks[family.name]

    # Pinned addresses first. A host whose pin moved releases its old address
    # before any pin is placed (several hosts may be renumbered at once); a pin
    # may also reclaim a departed host's reservation.
    pinned = [h for h in overlay.hosts.values() if family.name in h.pinned]
    for host in pinned:
        entry = entries.get(host.name)
        if entry is not None and entry.get(key) not in (None, str(host.pinned[family.name])):
            del entry[key]
    holder = {netaddr.IPAddress(e[key]): n for n, e in entries.items() if key in e}
    for host in pinned:
        address = host.pinned[family.name]
        owner = holder.get(address)
        if owner not in (None, host.name):
            if owner in overlay.hosts:
                raise PlanError(
                    host.name,
                    family.address_variable,
                    f"{address} is allocated to host '{owner}' in the state file; pin another address or unpin '{owner}'",
                )
            del entries[owner][key]  # departed host: the explicit pin wins over its reservation
            if not any(f.state_key in entries[owner] for f in overlay.families):
                del entries[owner]
        entries.setdefault(host.name, {})[key] = str(address)
        holder[address] = host.name

    pool = _free_addresses(network, [*holder, *services.reserved(overlay, family)], family)
    for host in overlay.hosts.values():
        entry = entries.setdefault(host.name, {})
        if key not in entry:
            address = next(pool, None)
            if address is None:
                departed = sum(1 for n in entries if n not in overlay.hosts)
                hint = f"; {departed} departed host(s) still reserve addresses: prune them with wgsdn_state_prune=true" if departed else ""
                raise PlanError(host.name, family.network_variable, f"no free address left in {network} for this host{hint}")
            entry[key] = str(address)


def _rotation_set(overlay, rotate):
    names = [rotate] if isinstance(rotate, str) else list(rotate or ())
    if names == ["all"]:
        return set(overlay.hosts)
    for name in names:
        if name not in overlay.hosts:
            raise PlanError(name, "wgsdn_rotate_keys", "is not a host of the overlay; give host names or 'all'")
    return set(names)


def _free_addresses(network, taken, family):
    """Usable host addresses of ``network`` not in ``taken``, lowest first."""
    first, last = network.first, network.last
    if network.prefixlen < family.host_prefixlen - 1:  # /31 and /32 (/127, /128) have no network and broadcast addresses
        first, last = first + 1, last - 1
    used = {int(a) for a in taken}
    for value in range(first, last + 1):
        if value not in used:
            yield netaddr.IPAddress(value, network.version)


def _router_id(overlay, host, addresses, taken):
    """BIRD's 32-bit router id: the IPv4 overlay address, or on an IPv6-only overlay the low 32 bits
    of the IPv6 one (stable, since the address is). Two hosts may not share one."""
    ipv4 = next((f for f in overlay.families if f.version == 4), None)
    if ipv4:
        return addresses[ipv4.name]
    family = overlay.families[0]
    router_id = str(netaddr.IPAddress(int(netaddr.IPAddress(addresses[family.name])) & 0xFFFFFFFF, 4))
    if router_id in taken:
        raise PlanError(
            host.name,
            family.address_variable,
            f"{addresses[family.name]} gives router id {router_id}, as the address of host '{taken[router_id]}' does; "
            "on an IPv6-only overlay the last 32 bits of addresses must differ",
        )
    taken[router_id] = host.name
    return router_id


def make_plan(overlay, state, links):
    """The plan: every host's intent and allocation, and the links between hosts, as plain data."""
    entries = state["hosts"]
    families = [dict(f.as_data(), network=str(overlay.networks[f.name]), prefixlen=overlay.networks[f.name].prefixlen) for f in overlay.families]
    hosts = {}
    router_ids = {}
    mode = overlay.mode
    for host in overlay.hosts.values():
        entry = entries[host.name]
        addresses = {f.name: entry[f.state_key] for f in overlay.families}
        router_id = _router_id(overlay, host, addresses, router_ids)
        data = {
            "role": host.role,
            "address": addresses[families[0]["name"]],
            "addresses": addresses,
            "router_id": router_id,
            "private_key": entry["private_key"],
            "public_key": keys.public_key(entry["private_key"]),
            "endpoint": host.endpoint or None,
            "listen_port": host.listen_port,
            "uplinks": list(host.uplinks),
            "subnets": [str(s) for s in host.subnets],
            "keepalive": host.keepalive,
            "link_name": host.link_name,
            # Forwards packets that are not its own: a gateway, or a host with a LAN behind it.
            "relays": host.role == GATEWAY or bool(host.subnets),
            "speaks_bgp": mode == ROUTED and host.role != CLIENT,
            "services": host.services,
            "bgp_peers": host.bgp_peers,
        }
        if host.role == GATEWAY:
            data["gateway_id"] = entry["gateway_id"]
            data["asn"] = ASN_BASE + entry["gateway_id"]
            data["route_reflector"] = host.route_reflector
        hosts[host.name] = data
    plan_links = [{"a": a, "b": b, "kind": kind} for a, b, kind in links]
    for name, peers in topology.neighbours_of(hosts, plan_links).items():
        hosts[name]["neighbours"] = peers
    return {
        "network": families[0]["network"],
        "prefixlen": families[0]["prefixlen"],
        "families": families,
        "mode": mode,
        "interface": overlay.interface,
        "hosts": hosts,
        "clients": [name for name, h in hosts.items() if h["role"] == CLIENT],
        "links": plan_links,
        "metrics": overlay.metrics,
        "preshared_keys": {p: k for p, k in state["preshared_keys"].items() if all(n in hosts for n in p.split("|"))},
        "reflectors": [h.name for h in overlay.reflectors],
        "warnings": plan_warnings(overlay),
    }


# A full mesh of more gateways than this gets a warning: measured in bench/reflectors
# (bench/README.md, "Route reflectors, simulated"), BGP convergence and BIRD memory of a
# full mesh grow with the square of the gateway count while reflectors keep them linear.
MESH_WARNING_GATEWAYS = 10


def plan_warnings(overlay):
    """Advice about the inventory that is not an error; the plan role prints each once per run."""
    gateways = overlay.gateways
    if overlay.mode == ROUTED and not overlay.reflectors and len(gateways) > MESH_WARNING_GATEWAYS:
        sessions = len(gateways) * (len(gateways) - 1) // 2
        return [
            f"{len(gateways)} gateways in a full mesh: {sessions} WireGuard links, BGP and BFD sessions "
            f"(more than {MESH_WARNING_GATEWAYS} gateways); set wgsdn_route_reflector: true on two or three "
            "well-connected gateways so the others link and peer with those only"
        ]
    return []
