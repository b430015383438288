# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Allocation and the plan: the overlay model joined with its persisted state.

``allocate`` gives every host of the overlay an address, a key pair and (for
gateways) a gateway number, and every pair of peers a preshared key, reusing
what the state already holds. It never renumbers or re-keys a host that has an
entry. Hosts that left the inventory keep their entry (their address stays
reserved, so a stale config elsewhere never reaches a newcomer) until
``prune=True`` drops them.

``make_plan`` returns the plan: plain JSON-able data that the filters read.
"""

import copy

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import keys
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.deps import optional
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.model import (
    ASN_BASE,
    DIRECT,
    GATEWAY,
    ROUTED,
    PlanError,
)
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import pair_key

netaddr = optional("netaddr")

PLAN_VERSION = 1


def required_pairs(overlay):
    """Every pair of hosts that has a WireGuard peer section for each other."""
    hosts = list(overlay.hosts.values())
    pairs = []
    if overlay.mode == DIRECT:
        for i, a in enumerate(hosts):
            for b in hosts[i + 1 :]:
                pairs.append((a.name, b.name))
        return pairs
    gateways = [h for h in hosts if h.role == GATEWAY]
    if overlay.mode == ROUTED:
        for i, a in enumerate(gateways):
            for b in gateways[i + 1 :]:
                pairs.append((a.name, b.name))
    for host in hosts:
        for uplink in host.uplinks:
            pairs.append((host.name, uplink))
    return pairs


def allocate(overlay, state, prune=False, rotate=()):
    """Return ``(new_state, changed)``; ``state`` is not modified. Raises PlanError.

    ``rotate``: host names (or ``["all"]``) whose key pair, and the preshared
    keys of whose pairs, are replaced by new ones.
    """
    rotate = _rotation_set(overlay, rotate)
    new = copy.deepcopy(state)
    entries = new["hosts"]
    network = overlay.network
    if new.get("network") not in (None, str(network)):
        for name, entry in entries.items():
            if netaddr.IPAddress(entry["address"]) not in network:
                raise PlanError(
                    name,
                    "wgsdn_network",
                    f"the state file allocated {entry['address']} to this host from {new['network']}, outside the new wgsdn_network {network}; "
                    "renumbering is not automatic: remove the host's entry from the state file to give it a new address",
                )
    new["network"] = str(network)

    if prune:
        for name in [n for n in entries if n not in overlay.hosts]:
            del entries[name]

    # Pinned addresses first. A host whose pin moved releases its old address
    # before any pin is placed (several hosts may be renumbered at once); a pin
    # may also reclaim a departed host's reservation.
    pinned = [h for h in overlay.hosts.values() if h.pinned_address is not None]
    for host in pinned:
        entry = entries.get(host.name)
        if entry is not None and entry["address"] != str(host.pinned_address):
            del entry["address"]
    holder = {netaddr.IPAddress(e["address"]): n for n, e in entries.items() if "address" in e}
    for host in pinned:
        owner = holder.get(host.pinned_address)
        if owner not in (None, host.name):
            if owner in overlay.hosts:
                raise PlanError(
                    host.name,
                    "wgsdn_address",
                    f"{host.pinned_address} is allocated to host '{owner}' in the state file; pin another address or unpin '{owner}'",
                )
            del entries[owner]  # departed host: the explicit pin wins over its reservation
        entries.setdefault(host.name, {})["address"] = str(host.pinned_address)
        holder[host.pinned_address] = host.name

    pool = _free_addresses(network, holder)
    for host in overlay.hosts.values():
        entry = entries.setdefault(host.name, {})
        if "address" not in entry:
            address = next(pool, None)
            if address is None:
                departed = sum(1 for n in entries if n not in overlay.hosts)
                hint = f"; {departed} departed host(s) still reserve addresses: prune them with wgsdn_state_prune=true" if departed else ""
                raise PlanError(host.name, "wgsdn_network", f"no free address left in {network} for this host{hint}")
            entry["address"] = str(address)
        if "private_key" not in entry or host.name in rotate:
            entry["private_key"] = keys.generate_private_key()
        if host.role == GATEWAY and "gateway_id" not in entry:
            entry["gateway_id"] = new["next_gateway_id"]
            new["next_gateway_id"] += 1
        if host.role != GATEWAY:
            entry.pop("gateway_id", None)

    wanted = {pair_key(a, b) for a, b in required_pairs(overlay)} if overlay.preshared_keys else set()
    psks = new["preshared_keys"]
    for pair in wanted:
        if pair not in psks or any(name in rotate for name in pair.split("|")):
            psks[pair] = keys.generate_preshared_key()
    if prune:
        for pair in [p for p in psks if p not in wanted]:
            del psks[pair]
    return new, new != state


def _rotation_set(overlay, rotate):
    names = [rotate] if isinstance(rotate, str) else list(rotate or ())
    if names == ["all"]:
        return set(overlay.hosts)
    for name in names:
        if name not in overlay.hosts:
            raise PlanError(name, "wgsdn_rotate_keys", "is not a host of the overlay; give host names or 'all'")
    return set(names)


def _free_addresses(network, taken):
    """Usable host addresses of ``network`` not in ``taken``, lowest first."""
    first, last = network.first, network.last
    if network.prefixlen < 31:
        first, last = first + 1, last - 1
    used = {int(a) for a in taken}
    for value in range(first, last + 1):
        if value not in used:
            yield netaddr.IPAddress(value, 4)


def make_plan(overlay, state):
    """The plan: every host's intent and allocation as plain data."""
    entries = state["hosts"]
    hosts = {}
    for host in overlay.hosts.values():
        entry = entries[host.name]
        data = {
            "role": host.role,
            "address": entry["address"],
            "private_key": entry["private_key"],
            "public_key": keys.public_key(entry["private_key"]),
            "endpoint": host.endpoint or None,
            "listen_port": host.listen_port,
            "uplinks": list(host.uplinks),
            "subnets": [str(s) for s in host.subnets],
            "keepalive": host.keepalive,
            "link_name": host.link_name,
        }
        if host.role == GATEWAY:
            data["gateway_id"] = entry["gateway_id"]
            data["asn"] = ASN_BASE + entry["gateway_id"]
        hosts[host.name] = data
    plan = {
        "version": PLAN_VERSION,
        "network": str(overlay.network),
        "prefixlen": overlay.network.prefixlen,
        "mode": overlay.mode,
        "interface": overlay.interface,
        "hosts": hosts,
        "preshared_keys": {p: k for p, k in state["preshared_keys"].items() if all(n in hosts for n in p.split("|"))},
    }
    _check_ports(plan)
    return plan


def _check_ports(plan):
    """Routed links need one UDP port each; make sure they fit below 65536."""
    if plan["mode"] != ROUTED:
        return
    top_id = max(h["gateway_id"] for h in plan["hosts"].values() if h["role"] == GATEWAY)
    for name, host in plan["hosts"].items():
        if host["listen_port"] is None:
            continue
        top = host["listen_port"] + (top_id if host["role"] == GATEWAY else len(host["uplinks"]) - 1)
        if top > 65535:
            raise PlanError(name, "wgsdn_listen_port", f"{host['listen_port']} leaves no room for one port per routed link (needs up to {top})")
