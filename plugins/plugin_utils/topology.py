# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who is linked to whom, and every per-host view of it: interfaces, peers, routes, BGP sessions.

The single owner of the overlay's topology. ``links`` works on the model and is
computed once per plan (``plan.make_plan`` stores it, with each host's
``neighbours``); every other function reads the plan (``plan.make_plan``'s
plain data) and a host name and returns plain data that templates, verify and
the diagram print as is. No template computes topology.

Modes (``plan["mode"]``):

* ``direct`` — no gateways: one interface, each device peers with every other,
  AllowedIPs are the peer's host prefixes and subnets; wg-quick installs the routes.
* ``hub`` — one gateway: devices send the whole overlay to it over one
  interface; the gateway has a peer section per device; wg-quick routes.
* ``routed`` — several gateways: one interface per routing neighbour (a prefix
  may move between neighbours, and WireGuard silently keeps a prefix on only
  one peer of an interface), ``Table = off``, BIRD owns the routes. A gateway
  keeps its attached devices on one access interface (a device's prefixes
  never move between its peers) addressed ``G/len`` so every device is a
  connected neighbour for BFD; links to other gateways and device uplinks are
  point-to-point (``ip addr add A peer B``).

Link kinds: ``direct`` (device-device), ``hub`` (device-gateway, one gateway),
``mesh`` (gateway-gateway, eBGP + BFD), ``uplink`` (device-gateway, routed,
BGP + BFD) and ``client`` (an unmanaged client and its gateway: a plain tunnel).
"""

import re

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import memo, peers, services
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.deps import optional
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError, shown
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.family import family_of
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.model import ASN_BASE, ASN_MAX, CLIENT, DEVICE, DIRECT, GATEWAY, ROUTED
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import pair_key

netaddr = optional("netaddr")

DIRECT_LINK = "direct"
HUB_LINK = "hub"
MESH_LINK = "mesh"
UPLINK = "uplink"
CLIENT_LINK = "client"

# Links whose liveness BFD watches (and BGP follows).
WATCHED_LINKS = (MESH_LINK, UPLINK)

# A gateway's BGP session with each attached device is named DEVICE_SESSION_PREFIX + the device
# ("dev_d2_device1"; IPv6: "dev6_d2_device1"): one static passive protocol per device, so that
# `birdc configure` removes a departed device's session, and the BFD session it requested, at once.
DEVICE_SESSION_PREFIX = "dev"
BIRD_SYMBOL_MAX = 64  # BIRD 2's longest symbol (protocol name)


def link_interface(link_name):
    """Name of the WireGuard interface that carries a routed link to the host called ``link_name``."""
    return f"wg-{link_name}"


def links(overlay):
    """``(a, b, kind)`` for every pair of hosts with a peer section for each other, in a stable order."""
    hosts = list(overlay.hosts.values())
    mode = overlay.mode
    if mode == DIRECT:
        return [(a.name, b.name, DIRECT_LINK) for i, a in enumerate(hosts) for b in hosts[i + 1 :]]
    result = []
    if mode == ROUTED:
        result.extend(_gateway_pairs(overlay))
    for host in hosts:
        kind = CLIENT_LINK if host.role == CLIENT else (UPLINK if mode == ROUTED else HUB_LINK)
        result.extend((host.name, uplink, kind) for uplink in host.uplinks)
    return result


def _gateway_pairs(overlay):
    """Mesh links between gateways: every pair, or with route reflectors only the pairs that have one.

    With reflectors, an edge gateway has a WireGuard link, an eBGP session and a
    BFD session with each reflector and none with the other edges; reflectors
    mesh with each other. Traffic between two edges goes through a reflector
    (eBGP rewrites the next hop to the reflector's link address, which the edge
    reaches directly), so BFD watches every link that carries traffic.
    """
    gateways = overlay.gateways
    reflected = bool(overlay.reflectors)
    return [(a.name, b.name, MESH_LINK) for i, a in enumerate(gateways) for b in gateways[i + 1 :] if not reflected or a.route_reflector or b.route_reflector]


def neighbours_of(plan_hosts, plan_links):
    """``{host: [peer names]}`` in the order peer sections appear: a gateway lists its
    attached hosts in inventory order, then the other gateways by gateway number."""
    result = {name: [] for name in plan_hosts}
    mesh = {name: [] for name in plan_hosts}
    for link in plan_links:
        a, b = link["a"], link["b"]
        target = mesh if link["kind"] == MESH_LINK else result
        target[a].append(b)
        target[b].append(a)
    for name, others in mesh.items():
        result[name].extend(sorted(others, key=lambda n: plan_hosts[n]["gateway_id"]))
    return result


def _host(plan, name, variable="inventory_hostname"):
    try:
        return plan["hosts"][name]
    except (KeyError, TypeError):
        raise PlanError(name, variable, "is not a host of the overlay (not in wgsdn_gateways or wgsdn_devices)") from None


def _is_leaf_peer(plan, host_name, peer_name):
    """True when the peer section carries only the peer's own prefixes."""
    if plan["mode"] == DIRECT:
        return True
    host = plan["hosts"][host_name]
    peer = plan["hosts"][peer_name]
    return host["role"] == GATEWAY and peer["role"] != GATEWAY


def neighbours(plan, host_name):
    """Names of the hosts that have a peer section on ``host_name``, in a stable order."""
    return list(_host(plan, host_name)["neighbours"])


def _other_gateways(plan, host_name):
    """A gateway's mesh neighbours, by gateway number."""
    return [n for n in plan["hosts"][host_name]["neighbours"] if plan["hosts"][n]["role"] == GATEWAY]


def host_prefixes(plan, host):
    """A host's own addresses as host prefixes (/32, /128), one per family."""
    return [f"{host['addresses'][f['name']]}/{f['host_prefixlen']}" for f in plan["families"]]


def networks(plan):
    return [f["network"] for f in plan["families"]]


def allowed_ips(plan, host_name, peer_name):
    """AllowedIPs of the peer section for ``peer_name`` in ``host_name``'s config."""
    _host(plan, host_name)
    _host(plan, peer_name, "peer")
    if peer_name not in plan["hosts"][host_name]["neighbours"]:
        raise PlanError(host_name, "peer", f"{shown(peer_name)} is not a WireGuard peer of this host")
    return _allowed_ips(plan, host_name, peer_name)


def _allowed_ips(plan, host_name, peer_name):
    peer = plan["hosts"][peer_name]
    if _is_leaf_peer(plan, host_name, peer_name):
        return [*host_prefixes(plan, peer), *peer["subnets"], *(s["prefix"] for s in peer.get("services", []))]
    # The peer is a gateway: everything routable may come from or go to it. Outside the host's
    # own subnets that is the same for every host: a read-only plan computes it once.
    cache = memo.plan_cache(plan, "allowed_ips") if not plan["hosts"][host_name]["subnets"] else None
    if cache is None:
        return _routable_elsewhere(plan, host_name)
    if "" not in cache:
        cache[""] = _routable_elsewhere(plan, host_name)
    return list(cache[""])


def _routable_elsewhere(plan, host_name):
    """The overlay, others' subnets and what lies beyond the overlay, merged."""
    nets = [netaddr.IPNetwork(n) for n in networks(plan)]
    nets.extend(network for name, _subnet, network in _subnets(plan) if name != host_name)
    nets.extend(netaddr.IPNetwork(p) for p in _beyond_overlay(plan))
    return [str(n) for n in netaddr.cidr_merge(nets)] if len(nets) > len(plan["families"]) else networks(plan)


def _subnets(plan):
    """Every host's subnets in plan order: ``(host name, subnet, parsed subnet)`` (once per read-only plan)."""
    return memo.per_plan(plan, "subnets", lambda p: [(name, s, netaddr.IPNetwork(s)) for name, host in p["hosts"].items() for s in host["subnets"]])


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


def _interface(plan, host_name, name, peers, prefixlen=None, ptp_peer=None, table="auto"):
    """One interface: addresses with ``prefixlen`` (a key of each family: ``prefixlen`` for the
    overlay's, ``host_prefixlen`` for a lone host) for wg-quick's Address, or point-to-point
    addresses towards ``ptp_peer`` (one per family, set by PostUp)."""
    host = plan["hosts"][host_name]
    families = plan["families"]
    address = ", ".join(f"{host['addresses'][f['name']]}/{f[prefixlen]}" for f in families) if prefixlen else None
    ptp = []
    if ptp_peer:
        peer = plan["hosts"][ptp_peer]
        ptp = [{"ip_option": f["ip_option"], "local": host["addresses"][f["name"]], "peer": peer["addresses"][f["name"]]} for f in families]
    return {
        "name": name,
        "address": address,
        "ptp": ptp,
        "listen_port": _port_towards(plan, host_name, ptp_peer) if ptp_peer else host["listen_port"],
        "table": table,
        "private_key": host["private_key"],
        "peers": [_peer_section(plan, host_name, p) for p in peers],
    }


def _interface_layout(plan, host_name):
    """Which interfaces a host has: ``(name, peers, options)`` each, ``options`` as ``_interface`` takes them."""
    host = _host(plan, host_name)
    peers = host["neighbours"]
    if host["role"] == CLIENT:
        # A phone or laptop: one plain interface, its own host prefixes, routes from AllowedIPs.
        return [(plan["interface"], peers, {"prefixlen": "host_prefixlen"})]
    if plan["mode"] != ROUTED:
        return [(plan["interface"], peers, {"prefixlen": "prefixlen"})]
    if host["role"] != GATEWAY:
        return [(link_interface(plan["hosts"][u]["link_name"]), [u], {"ptp_peer": u, "table": "off"}) for u in host["uplinks"]]
    layout = []
    devices = [p for p in peers if plan["hosts"][p]["role"] != GATEWAY]
    if devices:
        layout.append((plan["interface"], devices, {"prefixlen": "prefixlen", "table": "off"}))
    layout.extend((link_interface(plan["hosts"][g]["link_name"]), [g], {"ptp_peer": g, "table": "off"}) for g in _other_gateways(plan, host_name))
    return layout


def wg_interfaces(plan, host_name):
    """The WireGuard interfaces of a host, each with its peer sections."""
    return [_interface(plan, host_name, name, peers, **options) for name, peers, options in _interface_layout(plan, host_name)]


def owners(plan):
    """``{name, address or prefix: {host names}}``: who a problem names when it names a host, one
    of its addresses, host prefixes, subnets or service prefixes (an anycast one has several
    owners), or a prefix a gateway imports from its external peers (that gateway). Once per
    read-only plan."""
    return memo.per_plan(plan, "owners", _compute_owners)


def _compute_owners(plan):
    index = {}

    def add(token, name):
        index.setdefault(str(token), set()).add(name)

    imported = {p for prefixes in peers.imported_prefixes(plan).values() for p in prefixes}
    for name, host in plan["hosts"].items():
        add(name, name)
        for address in host["addresses"].values():
            add(address, name)
        for prefix in [*host_prefixes(plan, host), *host["subnets"], *(s["prefix"] for s in host.get("services", []))]:
            add(prefix, name)
        for peer in host.get("bgp_peers", []):
            for prefix in peer["import"]:
                if prefix in imported:
                    add(prefix, name)
    return index


BGP_PORT = 179  # TCP, either end may open the session
BFD_PORTS = {False: 3784, True: 4784}  # UDP destination of BFD control packets: single hop (RFC 5881), multihop (RFC 5883)


def underlay_ports(plan, host_name):
    """What the underlay's firewall must let through for a host, as rows of
    ``{direction, protocol, port, address, purpose}``: ``direction`` ``in`` (to this host's
    ``port``), ``out`` (to ``address``'s ``port``) or ``both``; ``address`` None is any
    source (a peer that has no known endpoint dials in from wherever it is).

    WireGuard: each interface's listen port, open to each of its peers, and each peer's
    port this host dials (the ports of _port_towards: in routed mode a gateway listens on
    its base port for devices and on base + the other gateway's number for that gateway's
    link; a device on base + the uplink's position). External BGP peers: TCP 179 and, with
    ``bfd``, BFD's UDP port. A stateful firewall needs nothing else (replies share the flow).
    """
    host = _host(plan, host_name)
    rows = []
    for name, peer_names, options in _interface_layout(plan, host_name):
        listen = _port_towards(plan, host_name, options["ptp_peer"]) if "ptp_peer" in options else host["listen_port"]
        for peer_name in peer_names:
            peer = plan["hosts"][peer_name]
            purpose = f"WireGuard {name} with {peer_name}"
            if listen is not None:
                rows.append({"direction": "in", "protocol": "udp", "port": listen, "address": peer["endpoint"], "purpose": purpose})
            port = _port_towards(plan, host_name=peer_name, peer_name=host_name)
            if port is not None and peer["endpoint"]:
                rows.append({"direction": "out", "protocol": "udp", "port": port, "address": peer["endpoint"], "purpose": purpose})
    for peer in host["bgp_peers"]:
        purpose = f"BGP {peer['name']}" + (" (TCP MD5)" if peer.get("password_symbol") else "")
        rows.append({"direction": "both", "protocol": "tcp", "port": BGP_PORT, "address": peer["address"], "purpose": purpose})
        if peer["bfd"]:
            port = BFD_PORTS[bool(peer["multihop"])]
            rows.append({"direction": "both", "protocol": "udp", "port": port, "address": peer["address"], "purpose": f"BFD {peer['name']}"})
    return rows


def interface_names(plan, host_name):
    """The names of a host's WireGuard interfaces (what wg_interfaces lists), without computing peer sections."""
    return [name for name, _peers, _options in _interface_layout(plan, host_name)]


def static_routes(plan, host_name):
    """The static routes a host installs (``via``) and announces (``own``).

    Empty outside ``routed`` mode, where wg-quick installs routes itself.
    Each route: ``prefix``, ``via`` (next-hop overlay addresses of the prefix's
    family), ``bfd`` (whether the next hops run BFD: every managed host does,
    unmanaged clients do not) and ``own`` (a prefix this host originates:
    announced, never put in its kernel).
    """
    host = _host(plan, host_name)
    if plan["mode"] != ROUTED or host["role"] == CLIENT:
        return []
    hosts = plan["hosts"]
    routes = []
    if host["role"] == GATEWAY:
        routes.extend({"prefix": p, "via": [], "bfd": False, "own": True} for p in [*host_prefixes(plan, host), *host["subnets"]])
        for name in host["neighbours"]:
            device = hosts[name]
            if device["role"] == GATEWAY:
                continue
            bfd = device["role"] != CLIENT
            routes.extend({"prefix": p, "via": _next_hops([device], p), "bfd": bfd, "own": False} for p in [*host_prefixes(plan, device), *device["subnets"]])
        return routes
    uplinks = [hosts[u] for u in host["uplinks"]]
    prefixes = networks(plan) + [subnet for name, subnet, _network in _subnets(plan) if name != host_name]
    prefixes += _beyond_overlay(plan)
    return [{"prefix": p, "via": _next_hops(uplinks, p), "bfd": True, "own": False} for p in prefixes]


def _next_hops(hosts, prefix):
    """The overlay addresses of ``hosts`` in the family of ``prefix``."""
    name = family_of(prefix).name
    return [h["addresses"][name] for h in hosts]


def _symbol(text):
    symbol = re.sub(r"[^A-Za-z0-9_]", "_", text)
    return symbol if symbol[:1].isalpha() else f"h_{symbol}"


def bgp_neighbors(plan, host_name):
    """BGP sessions of a gateway: one eBGP session per other gateway and address family, over its link.

    One session per family rather than one multiprotocol session: each family's
    next hops are that family's link addresses, each session has its own BFD
    session on those addresses, and IPv4's names stay as they were.
    """
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
        for family in plan["families"]:
            sessions.append(
                {
                    "name": symbol + family["session_suffix"],
                    "peer": name,
                    "neighbor": peer["addresses"][family["name"]],
                    "local": host["addresses"][family["name"]],
                    "interface": link_interface(peer["link_name"]),
                    "local_as": host["asn"],
                    "remote_as": peer["asn"],
                    "family": family["name"],
                }
            )
    return sessions


def uplink_sessions(plan, host_name):
    """BGP sessions a device has with its uplink gateways, one per family, named ``wgsdn_uplink1..N``
    (and ``wgsdn_uplink1_v6``...) in uplink order."""
    host = _host(plan, host_name)
    if plan["mode"] != ROUTED or host["role"] != "device":
        return []
    return [
        {
            "name": f"wgsdn_uplink{i}{family['session_suffix']}",
            "peer": g,
            "neighbor": plan["hosts"][g]["addresses"][family["name"]],
            "local": host["addresses"][family["name"]],
            "interface": link_interface(plan["hosts"][g]["link_name"]),
            "family": family["name"],
        }
        for i, g in enumerate(host["uplinks"], 1)
        for family in plan["families"]
    ]


def device_sessions(plan, host_name):
    """A gateway's BGP sessions with its attached devices: one passive session per device and family
    over the access interface, named from the device (``dev_<device>``, ``dev6_<device>``).

    One static protocol per device rather than one ``neighbor range`` protocol: BIRD keeps the
    sessions a dynamic protocol spawned (and the BFD sessions they requested) after the device
    has gone, until BIRD restarts; a static protocol leaves with the device at ``birdc configure``.
    """
    host = _host(plan, host_name)
    if plan["mode"] != ROUTED or host["role"] != GATEWAY:
        return []
    devices = [n for n in host["neighbours"] if plan["hosts"][n]["role"] == DEVICE]
    sessions, names = [], set()
    for name in devices:
        device = plan["hosts"][name]
        for family in plan["families"]:
            symbol = _bounded(f"{DEVICE_SESSION_PREFIX}{family['bird_suffix']}_{_symbol(name)}", names)
            names.add(symbol)
            sessions.append(
                {
                    "name": symbol,
                    "peer": name,
                    "neighbor": device["addresses"][family["name"]],
                    "local": host["addresses"][family["name"]],
                    "family": family["name"],
                }
            )
    return sessions


def _bounded(symbol, taken):
    """``symbol`` made unique among ``taken`` (a number appended) and no longer than BIRD allows."""
    base, candidate, number = symbol[:BIRD_SYMBOL_MAX], symbol[:BIRD_SYMBOL_MAX], 1
    while candidate in taken:
        number += 1
        candidate = f"{base[: BIRD_SYMBOL_MAX - len(str(number)) - 1]}_{number}"
    return candidate


def route_origins(plan):
    """For each gateway, the prefixes it may originate into BGP (its own and its devices')."""
    origins = []
    for name, gateway in plan["hosts"].items():
        if gateway["role"] != GATEWAY:
            continue
        prefixes = [r["prefix"] for r in static_routes(plan, name)] if plan["mode"] == ROUTED else []
        prefixes += [p for p in services.origin_prefixes(plan, name) if p not in prefixes] if plan["mode"] == ROUTED else []
        origins.append({"gateway": name, "asn": gateway["asn"], "prefixes": prefixes})
    return sorted(origins, key=lambda o: o["asn"])


def bfd_neighbors(plan, host_name):
    """Addresses of the neighbours this host should have a BFD session with."""
    neighbors = {address for route in static_routes(plan, host_name) if route["bfd"] for address in route["via"]}
    neighbors.update(s["neighbor"] for s in bgp_neighbors(plan, host_name))
    return sorted(neighbors)


def _by_family(plan, items, prefix=lambda item: item):
    """``items`` (prefixes, or whatever ``prefix`` reads one from) split per family of the plan,
    in their order: ``{family name: [item, ...]}``."""
    result = {f["name"]: [] for f in plan["families"]}
    for item in items:
        result.setdefault(family_of(prefix(item)).name, []).append(item)
    return result


def bird_settings(plan, host_name, device_bgp=True):
    """Everything a host's bird.conf needs, per BIRD channel; ``enabled`` is false outside routed mode.

    ``device_bgp``: devices learn their routes from their uplink gateways over
    BGP (the bird role's ``bird_device_bgp``); false gives them static multipath
    routes through the uplinks instead.
    """
    host = _host(plan, host_name)
    enabled = plan["mode"] == ROUTED and host["role"] != CLIENT
    gateway = host["role"] == GATEWAY
    routes = static_routes(plan, host_name) if enabled else []
    own = [r for r in routes if r["own"]]
    via = [] if (not gateway and device_bgp) else [r for r in routes if not r["own"]]
    origins = route_origins(plan) if enabled and gateway else []
    routable = list(dict.fromkeys(p for o in origins for p in o["prefixes"]))
    service_prefixes = memo.per_plan(plan, "prefixes_outside", services.prefixes_outside)
    foreign_subnets = _by_family(plan, [subnet for name, subnet, _network in _subnets(plan) if name != host_name])
    own = _by_family(plan, own, lambda route: route["prefix"])
    via = _by_family(plan, via, lambda route: route["prefix"])
    routable = _by_family(plan, routable)
    origins_by_family = [(o["asn"], _by_family(plan, o["prefixes"])) for o in origins]
    beyond = _by_family(plan, [p if p in service_prefixes else f"{p}+" for p in _beyond_overlay(plan)], lambda p: p.rstrip("+"))
    channels = {}
    for family in plan["families"]:
        name = family["name"]
        channels[name] = {
            **family,
            "router_address": host["addresses"][name],
            "own_routes": own[name],
            "static_routes": via[name],
            "routable": routable[name],
            "origins": [{"asn": asn, "prefixes": prefixes[name]} for asn, prefixes in origins_by_family if prefixes[name]],
            # What a device accepts from its uplinks: every other host prefix of the overlay and others' subnets.
            "uplink_accept": [f"{family['network']}{{{family['host_prefixlen']},{family['host_prefixlen']}}}", *foreign_subnets[name], *beyond[name]],
            "uplink_reject": f"{host['addresses'][name]}/{family['host_prefixlen']}",
            **(services.channel_settings(plan, host_name, name) if enabled else {"services": [], "service_import": []}),
            **(peers.channel_settings(plan, host_name, name) if enabled else {"bgp_peers": [], "aggregates": [], "external_origins": [], "external": []}),
        }

    def with_channel(sessions):
        return [dict(session, channel=channels[session["family"]]) for session in sessions]

    return {
        "enabled": enabled,
        "router_id": host["router_id"],
        "role": host["role"],
        "local_as": host.get("asn"),
        # The private AS numbers the overlay uses inside (gateways'), deleted from paths sent outside it.
        "overlay_asns": [ASN_BASE, ASN_MAX],
        "network": plan["network"],
        "static_routes": routes,
        "bgp_neighbors": with_channel(bgp_neighbors(plan, host_name)) if enabled else [],
        "uplink_sessions": with_channel(uplink_sessions(plan, host_name)) if enabled and device_bgp else [],
        "device_sessions": with_channel(device_sessions(plan, host_name)) if enabled and device_bgp else [],
        "serves_devices": enabled and gateway and any(not r["own"] for r in routes),
        "origins": origins,
        "channels": list(channels.values()),
        "bfd_interfaces": interface_names(plan, host_name) if enabled else [],
        # Whether a secrets fragment is needed (the passwords themselves stay in the plan).
        "secrets": bool(enabled and peers.secrets(plan, host_name)),
        "services": services.host_services(plan, host_name) if enabled else [],
        **reflector_settings(plan, host_name),
    }


def reflector_settings(plan, host_name):
    """How a gateway stands in the route reflector design: ``route_reflector`` (it is one),
    ``reflectors`` (all of them; empty for a full mesh) and ``edge`` (it peers with them only)."""
    host = plan["hosts"][host_name]
    reflectors = list(plan.get("reflectors", []))
    is_reflector = bool(host.get("route_reflector"))
    return {
        "route_reflector": is_reflector,
        "reflectors": reflectors,
        "edge": plan["mode"] == ROUTED and host["role"] == GATEWAY and bool(reflectors) and not is_reflector,
    }


def _beyond_overlay(plan):
    """Prefixes outside the overlay prefixes that hosts must still route into it: service addresses
    outside them and what gateways import from external BGP peers."""
    return list(memo.per_plan(plan, "beyond_overlay", _compute_beyond_overlay))


def _compute_beyond_overlay(plan):
    return [*services.prefixes_outside(plan), *(p for prefixes in peers.imported_prefixes(plan).values() for p in prefixes)]
