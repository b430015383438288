# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-host derivations from the plan: WireGuard interfaces, peers, routes, BGP.

Every function takes the plan (``plan.make_plan``'s plain data) and a host name
and returns plain data for a template to print. No template computes topology.

Modes (``plan["mode"]``):

* ``direct`` — no gateways: one interface, each device peers with every other,
  AllowedIPs are the peer's /32 and subnets; wg-quick installs the routes.
* ``hub`` — one gateway: devices send the whole overlay to it over one
  interface; the gateway has a peer section per device; wg-quick routes.
* ``routed`` — several gateways: one interface per routing neighbour (a prefix
  may move between neighbours, and WireGuard silently keeps a prefix on only
  one peer of an interface), ``Table = off``, BIRD owns the routes. A gateway
  keeps its attached devices on one access interface (a device's prefixes
  never move between its peers) addressed ``G/len`` so every device is a
  connected neighbour for BFD; links to other gateways and device uplinks are
  point-to-point (``ip addr add A peer B``).
"""

import re

from ansible_collections.wgsdn.fabric.plugins.plugin_utils.deps import optional
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.model import CLIENT, DIRECT, GATEWAY, HUB, ROUTED, PlanError
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import pair_key

netaddr = optional("netaddr")


def _host(plan, name, variable="inventory_hostname"):
    try:
        return plan["hosts"][name]
    except (KeyError, TypeError):
        raise PlanError(name, variable, "is not a host of the overlay (not in wgsdn_gateways or wgsdn_devices)") from None


def link_interface(plan, peer_name):
    return f"wg-{plan['hosts'][peer_name]['link_name']}"


def _is_leaf_peer(plan, host_name, peer_name):
    """True when the peer section carries only the peer's own prefixes."""
    if plan["mode"] == DIRECT:
        return True
    host = plan["hosts"][host_name]
    peer = plan["hosts"][peer_name]
    return host["role"] == GATEWAY and peer["role"] != GATEWAY


def neighbours(plan, host_name):
    """Names of the hosts that have a peer section on ``host_name``, in a stable order."""
    host = _host(plan, host_name)
    hosts = plan["hosts"]
    if plan["mode"] == DIRECT:
        return [n for n in hosts if n != host_name]
    if host["role"] != GATEWAY:
        return list(host["uplinks"])
    devices = [n for n, h in hosts.items() if host_name in h["uplinks"]]
    if plan["mode"] == HUB:
        return devices
    return devices + _other_gateways(plan, host_name)


def _other_gateways(plan, host_name):
    gateways = [(h["gateway_id"], n) for n, h in plan["hosts"].items() if h["role"] == GATEWAY and n != host_name]
    return [name for _gateway_id, name in sorted(gateways)]


def allowed_ips(plan, host_name, peer_name):
    """AllowedIPs of the peer section for ``peer_name`` in ``host_name``'s config."""
    _host(plan, host_name)
    _host(plan, peer_name, "peer")
    if peer_name not in neighbours(plan, host_name):
        raise PlanError(host_name, "peer", f"'{peer_name}' is not a WireGuard peer of this host")
    return _allowed_ips(plan, host_name, peer_name)


def _allowed_ips(plan, host_name, peer_name):
    peer = plan["hosts"][peer_name]
    if _is_leaf_peer(plan, host_name, peer_name):
        return [f"{peer['address']}/32", *peer["subnets"]]
    # The peer is a gateway: everything routable may come from or go to it.
    nets = [netaddr.IPNetwork(plan["network"])]
    for name, other in plan["hosts"].items():
        if name != host_name:
            nets.extend(netaddr.IPNetwork(s) for s in other["subnets"])
    return [str(n) for n in netaddr.cidr_merge(nets)] if len(nets) > 1 else [plan["network"]]


def _port_towards(plan, host_name, peer_name):
    """The UDP port ``host_name`` listens on for its link with ``peer_name``."""
    host = plan["hosts"][host_name]
    port = host["listen_port"]
    if port is None or plan["mode"] != ROUTED:
        return port
    peer = plan["hosts"][peer_name]
    if host["role"] == GATEWAY:
        return port + peer["gateway_id"] if peer["role"] == GATEWAY else port
    return port + host["uplinks"].index(peer_name)


def _endpoint(plan, host_name, peer_name):
    peer = plan["hosts"][peer_name]
    port = _port_towards(plan, host_name=peer_name, peer_name=host_name)  # the peer's port towards this host
    if port is None or not peer["endpoint"]:
        return None
    address = peer["endpoint"]
    if ":" in address:
        address = f"[{address}]"
    return f"{address}:{port}"


def _peer_section(plan, host_name, peer_name):
    host = plan["hosts"][host_name]
    peer = plan["hosts"][peer_name]
    return {
        "name": peer_name,
        "public_key": peer["public_key"],
        "preshared_key": plan["preshared_keys"].get(pair_key(host_name, peer_name)),
        "allowed_ips": _allowed_ips(plan, host_name, peer_name),
        "endpoint": _endpoint(plan, host_name, peer_name),
        "persistent_keepalive": host["keepalive"] or None,
    }


def _interface(plan, host_name, name, peers, address=None, ptp_peer=None, table="auto"):
    """One interface: ``address`` (wg-quick Address) or ``ptp`` (a point-to-point link to ``ptp_peer``)."""
    host = plan["hosts"][host_name]
    return {
        "name": name,
        "address": address,
        "ptp": {"local": host["address"], "peer": plan["hosts"][ptp_peer]["address"]} if ptp_peer else None,
        "listen_port": _port_towards(plan, host_name, ptp_peer) if ptp_peer else host["listen_port"],
        "table": table,
        "private_key": host["private_key"],
        "peers": [_peer_section(plan, host_name, p) for p in peers],
    }


def wg_interfaces(plan, host_name):
    """The WireGuard interfaces of a host, each with its peer sections."""
    host = _host(plan, host_name)
    own_cidr = f"{host['address']}/{plan['prefixlen']}"
    peers = neighbours(plan, host_name)
    if host["role"] == CLIENT:
        # A phone or laptop: one plain interface, its own /32, routes from AllowedIPs.
        return [_interface(plan, host_name, plan["interface"], peers, address=f"{host['address']}/32")]
    if plan["mode"] != ROUTED:
        return [_interface(plan, host_name, plan["interface"], peers, address=own_cidr)]
    if host["role"] != GATEWAY:
        return [_interface(plan, host_name, link_interface(plan, u), [u], ptp_peer=u, table="off") for u in host["uplinks"]]
    interfaces = []
    devices = [p for p in peers if plan["hosts"][p]["role"] != GATEWAY]
    if devices:
        interfaces.append(_interface(plan, host_name, plan["interface"], devices, address=own_cidr, table="off"))
    for gateway in _other_gateways(plan, host_name):
        interfaces.append(_interface(plan, host_name, link_interface(plan, gateway), [gateway], ptp_peer=gateway, table="off"))
    return interfaces


def static_routes(plan, host_name):
    """The static routes a host installs (``via``) and announces (``own``).

    Empty outside ``routed`` mode, where wg-quick installs routes itself.
    Each route: ``prefix``, ``via`` (next-hop overlay addresses), ``bfd``
    (whether the next hops run BFD: every managed host does, unmanaged clients
    do not) and ``own`` (a prefix this host originates: announced, never put in
    its kernel).
    """
    host = _host(plan, host_name)
    if plan["mode"] != ROUTED:
        return []
    hosts = plan["hosts"]
    routes = []
    if host["role"] == GATEWAY:
        routes.append({"prefix": f"{host['address']}/32", "via": [], "bfd": False, "own": True})
        routes.extend({"prefix": s, "via": [], "bfd": False, "own": True} for s in host["subnets"])
        for name in neighbours(plan, host_name):
            device = hosts[name]
            if device["role"] == GATEWAY:
                continue
            via = {"via": [device["address"]], "bfd": device["role"] != CLIENT, "own": False}
            routes.append({"prefix": f"{device['address']}/32", **via})
            routes.extend({"prefix": s, **via} for s in device["subnets"])
        return routes
    if host["role"] == CLIENT:
        return []
    via = {"via": [hosts[u]["address"] for u in host["uplinks"]], "bfd": True, "own": False}
    routes.append({"prefix": plan["network"], **via})
    for name, other in hosts.items():
        if name != host_name:
            routes.extend({"prefix": s, **via} for s in other["subnets"])
    return routes


def _symbol(text):
    symbol = re.sub(r"[^A-Za-z0-9_]", "_", text)
    return symbol if symbol[:1].isalpha() else f"h_{symbol}"


def bgp_neighbors(plan, host_name):
    """BGP sessions of a gateway: one eBGP session per other gateway, over its link."""
    host = _host(plan, host_name)
    if plan["mode"] != ROUTED or host["role"] != GATEWAY:
        return []
    sessions = []
    names = set()
    for name in _other_gateways(plan, host_name):
        peer = plan["hosts"][name]
        symbol = f"bgp_{_symbol(name)}"
        if symbol in names:
            symbol = f"{symbol}_{peer['gateway_id']}"
        names.add(symbol)
        sessions.append(
            {
                "name": symbol,
                "peer": name,
                "neighbor": peer["address"],
                "interface": link_interface(plan, name),
                "local_as": host["asn"],
                "remote_as": peer["asn"],
            }
        )
    return sessions


def route_origins(plan):
    """For each gateway, the prefixes it may originate into BGP (its own and its devices')."""
    origins = []
    for name, gateway in plan["hosts"].items():
        if gateway["role"] != GATEWAY:
            continue
        prefixes = [r["prefix"] for r in static_routes(plan, name)] if plan["mode"] == ROUTED else []
        origins.append({"gateway": name, "asn": gateway["asn"], "prefixes": prefixes})
    return sorted(origins, key=lambda o: o["asn"])


def bird_settings(plan, host_name):
    """Everything a host's bird.conf needs; ``enabled`` is false outside routed mode."""
    host = _host(plan, host_name)
    enabled = plan["mode"] == ROUTED and host["role"] != CLIENT
    return {
        "enabled": enabled,
        "router_id": host["address"],
        "role": host["role"],
        "local_as": host.get("asn"),
        "network": plan["network"],
        "static_routes": static_routes(plan, host_name),
        "bgp_neighbors": bgp_neighbors(plan, host_name),
        "origins": route_origins(plan) if enabled and host["role"] == GATEWAY else [],
        "bfd_interfaces": [i["name"] for i in wg_interfaces(plan, host_name)] if enabled else [],
    }
