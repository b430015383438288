# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The overlay model: hosts and their declared intent, read from inventory variables.

Plain Python, no Ansible imports. ``build_overlay`` turns the inventory (group
membership plus each host's ``wgsdn_*`` variables) into an ``Overlay`` and
validates everything that can be validated without the state file. Every error
is a ``PlanError`` naming the host and the variable at fault.
"""

import re
from dataclasses import dataclass, field

from ansible_collections.wgsdn.fabric.plugins.plugin_utils.deps import optional

netaddr = optional("netaddr")

GATEWAYS_GROUP = "wgsdn_gateways"
DEVICES_GROUP = "wgsdn_devices"
CLIENTS_GROUP = "wgsdn_clients"

GATEWAY = "gateway"
DEVICE = "device"
CLIENT = "client"

DEFAULT_GATEWAY_PORT = 51820
DEFAULT_KEEPALIVE = 25
IFNAMSIZ = 15  # Linux interface names: at most 15 characters
ASN_BASE = 4200000000  # RFC 6996 private 4-byte ASNs: gateway N gets ASN_BASE + N
ASN_MAX = 4294967294

# Topology modes, chosen from the inventory's shape.
DIRECT = "direct"  # no gateways: devices peer with each other
HUB = "hub"  # one gateway relays between devices, no routing daemon needed
ROUTED = "routed"  # several gateways: BGP between them, BFD on every link

_HOSTNAME_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
_IFNAME_CHARS = re.compile(r"^[A-Za-z0-9_.=+-]+$")


class PlanError(ValueError):
    """Invalid inventory or state, naming the host and the variable at fault."""

    def __init__(self, host, variable, message):
        self.host = host
        self.variable = variable
        where = f"host '{host}'" if host else "overlay"
        super().__init__(f"wgsdn: {where}, variable '{variable}': {message}")


@dataclass
class Host:
    name: str
    role: str
    pinned_address: object = None  # netaddr.IPAddress or None
    endpoint: str = ""
    listen_port: int = None
    uplinks: list = field(default_factory=list)
    subnets: list = field(default_factory=list)  # netaddr.IPNetwork, normalised
    keepalive: int = None
    link_name: str = ""

    @property
    def listens(self):
        return self.listen_port is not None


@dataclass
class Overlay:
    network: object  # netaddr.IPNetwork
    hosts: dict  # name -> Host, in inventory order
    preshared_keys: bool = True
    interface: str = "wg0"

    @property
    def gateways(self):
        return [h for h in self.hosts.values() if h.role == GATEWAY]

    @property
    def mode(self):
        count = sum(1 for h in self.hosts.values() if h.role == GATEWAY)
        if count == 0:
            return DIRECT
        if count == 1:
            return HUB
        return ROUTED


def parse_network(value, host, variable):
    """An IPv4 CIDR prefix, normalised; ``value`` may be any scalar."""
    if not isinstance(value, str) or "/" not in value:
        raise PlanError(host, variable, f"{value!r} is not an IPv4 prefix in CIDR notation (like 10.0.0.0/24)")
    try:
        net = netaddr.IPNetwork(value.strip(), version=4)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise PlanError(host, variable, f"{value!r} is not a valid IPv4 CIDR prefix") from None
    if net.ip != net.network:
        raise PlanError(host, variable, f"{value!r} has host bits set; did you mean {net.cidr}?")
    return net.cidr


def parse_address(value, host, variable):
    if not isinstance(value, str):
        raise PlanError(host, variable, f"{value!r} is not an IPv4 address")
    text = value.strip()
    if text.endswith("/32"):
        text = text[:-3]
    try:
        return netaddr.IPAddress(text, version=4, flags=netaddr.INET_PTON)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise PlanError(host, variable, f"{value!r} is not a valid IPv4 address") from None


def parse_int(value, host, variable, low, high, what):
    if isinstance(value, bool):
        raise PlanError(host, variable, f"{value!r} is not {what}")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not low <= value <= high:
        raise PlanError(host, variable, f"{value!r} is not {what} ({low}-{high})")
    return value


def parse_port(value, host, variable):
    return parse_int(value, host, variable, 1, 65535, "a UDP port")


def parse_endpoint(value, host, variable):
    """A DNS name or an IP literal (without port: the port is the listen port)."""
    if not isinstance(value, str) or not value.strip():
        raise PlanError(host, variable, f"{value!r} is not a host name or IP address")
    text = value.strip()
    try:
        return str(netaddr.IPAddress(text.strip("[]"), flags=netaddr.INET_PTON))
    except (netaddr.AddrFormatError, ValueError):
        pass
    labels = text.rstrip(".").split(".")
    if len(text) > 253 or not all(_HOSTNAME_LABEL.match(label) for label in labels):
        if ":" in text:
            raise PlanError(host, variable, f"{value!r} is not a host name or IP address; give the port in wgsdn_listen_port, not here")
        raise PlanError(host, variable, f"{value!r} is not a valid host name or IP address")
    return text


def _as_list(value, host, variable):
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise PlanError(host, variable, f"{value!r} must be a list")


def build_overlay(gateways, devices, hostvars, clients=()):
    """Build and validate the overlay from group membership and host variables.

    ``gateways``/``devices``/``clients`` are host names in inventory order;
    ``hostvars`` maps each name to a dict holding (at least) its ``wgsdn_*``
    variables and ``ansible_host``. Raises ``PlanError``.
    """
    roles = {}
    for role, names in ((GATEWAY, gateways), (DEVICE, devices), (CLIENT, clients)):
        for name in names:
            if name in roles and roles[name] != role:
                raise PlanError(name, "groups", f"host is in both the {roles[name]} and the {role} group; pick one")
            roles[name] = role
    if not roles:
        raise PlanError(None, "groups", f"no hosts in the groups {GATEWAYS_GROUP} / {DEVICES_GROUP}")

    network = None
    network_from = None
    for name in roles:
        value = hostvars.get(name, {}).get("wgsdn_network")
        if value is None:
            raise PlanError(name, "wgsdn_network", "not set; set it as a group variable, e.g. 10.0.0.0/24")
        net = parse_network(value, name, "wgsdn_network")
        if network is None:
            network, network_from = net, name
        elif net != network:
            raise PlanError(name, "wgsdn_network", f"{net} differs from {network} set for host '{network_from}'; one overlay has one prefix")
    if network.size < 4:
        raise PlanError(network_from, "wgsdn_network", f"{network} is too small for an overlay (use /30 or larger)")

    first = hostvars.get(next(iter(roles)), {})
    preshared = first.get("wgsdn_preshared_keys", True)
    if not isinstance(preshared, bool):
        raise PlanError(next(iter(roles)), "wgsdn_preshared_keys", f"{preshared!r} must be true or false")
    interface = first.get("wgsdn_interface", "wg0")
    if not isinstance(interface, str) or not _IFNAME_CHARS.match(interface) or len(interface) > IFNAMSIZ:
        raise PlanError(next(iter(roles)), "wgsdn_interface", f"{interface!r} is not a valid interface name (at most {IFNAMSIZ} characters)")

    hosts = {}
    for name, role in roles.items():
        hosts[name] = _build_host(name, role, hostvars.get(name, {}), network)
    overlay = Overlay(network=network, hosts=hosts, preshared_keys=preshared, interface=interface)
    validate(overlay)
    return overlay


def _build_host(name, role, hv, network):
    host = Host(name=name, role=role)
    if hv.get("wgsdn_address") is not None:
        addr = parse_address(hv["wgsdn_address"], name, "wgsdn_address")
        if addr not in network:
            raise PlanError(name, "wgsdn_address", f"{addr} lies outside wgsdn_network {network}")
        if addr in (network.network, network.broadcast) and network.prefixlen < 31:
            raise PlanError(name, "wgsdn_address", f"{addr} is the network or broadcast address of {network}")
        host.pinned_address = addr

    port = hv.get("wgsdn_listen_port")
    if port is not None and role == CLIENT:
        raise PlanError(name, "wgsdn_listen_port", "unmanaged clients (wgsdn_clients) never listen; they dial their gateway")
    if port is not None:
        host.listen_port = parse_port(port, name, "wgsdn_listen_port")
    elif role == GATEWAY:
        host.listen_port = DEFAULT_GATEWAY_PORT

    if hv.get("wgsdn_endpoint") is not None:
        host.endpoint = parse_endpoint(hv["wgsdn_endpoint"], name, "wgsdn_endpoint")
    elif host.listens:
        host.endpoint = parse_endpoint(hv.get("ansible_host") or name, name, "ansible_host")

    if hv.get("wgsdn_persistent_keepalive") is not None:
        host.keepalive = parse_int(hv["wgsdn_persistent_keepalive"], name, "wgsdn_persistent_keepalive", 0, 65535, "a number of seconds")
    elif role == CLIENT:
        host.keepalive = DEFAULT_KEEPALIVE  # phones and laptops sit behind NAT

    for value in _as_list(hv.get("wgsdn_subnets"), name, "wgsdn_subnets"):
        host.subnets.append(parse_network(value, name, "wgsdn_subnets"))

    uplinks = _as_list(hv.get("wgsdn_uplinks"), name, "wgsdn_uplinks")
    if uplinks and role == GATEWAY:
        raise PlanError(name, "wgsdn_uplinks", "gateways have no uplinks; they peer with every other gateway")
    for uplink in uplinks:
        if not isinstance(uplink, str):
            raise PlanError(name, "wgsdn_uplinks", f"{uplink!r} is not a host name")
        if uplink in host.uplinks:
            raise PlanError(name, "wgsdn_uplinks", f"'{uplink}' is listed twice")
        host.uplinks.append(uplink)

    link_name = hv.get("wgsdn_link_name", name)
    if not isinstance(link_name, str) or not _IFNAME_CHARS.match(link_name):
        raise PlanError(name, "wgsdn_link_name", f"{link_name!r} is not usable in an interface name")
    host.link_name = link_name
    return host


def validate(overlay):
    """Cross-host checks: uplinks, subnets, addresses, interface names."""
    gateways = overlay.gateways
    pinned = {}
    for host in overlay.hosts.values():
        if host.pinned_address is not None:
            other = pinned.get(host.pinned_address)
            if other:
                raise PlanError(host.name, "wgsdn_address", f"{host.pinned_address} is already pinned by host '{other}'")
            pinned[host.pinned_address] = host.name
    _check_subnets(overlay)

    for host in overlay.hosts.values():
        if host.role == GATEWAY:
            continue
        for uplink in host.uplinks:
            target = overlay.hosts.get(uplink)
            if target is None:
                raise PlanError(host.name, "wgsdn_uplinks", f"'{uplink}' is not a host of the overlay")
            if target.role != GATEWAY:
                raise PlanError(host.name, "wgsdn_uplinks", f"'{uplink}' is not in the {GATEWAYS_GROUP} group")
        if not host.uplinks and len(gateways) == 1:
            host.uplinks = [gateways[0].name]
        elif not host.uplinks and len(gateways) > 1:
            names = ", ".join(g.name for g in gateways)
            raise PlanError(host.name, "wgsdn_uplinks", f"not set, and there are {len(gateways)} gateways ({names}); say which this host attaches to")
        if host.role == CLIENT and not gateways:
            raise PlanError(host.name, "groups", f"unmanaged clients attach to a gateway, and {GATEWAYS_GROUP} is empty")
        if host.role == CLIENT and len(host.uplinks) > 1:
            raise PlanError(host.name, "wgsdn_uplinks", "an unmanaged client attaches to one gateway: it runs no BFD to fail over between several")

    mode = overlay.mode
    if mode == DIRECT:
        _check_direct_reachability(overlay)
    if mode == ROUTED:
        for host in overlay.hosts.values():
            peers = host.uplinks if host.role != GATEWAY else [g.name for g in gateways if g.name != host.name]
            for peer in peers:
                ifname = link_interface(overlay.hosts[peer])
                if len(ifname) > IFNAMSIZ:
                    raise PlanError(
                        peer,
                        "wgsdn_link_name",
                        f"interface name '{ifname}' (on host '{host.name}') exceeds {IFNAMSIZ} characters; set a shorter wgsdn_link_name for '{peer}'",
                    )


def _check_subnets(overlay):
    """No subnet overlaps the overlay or another subnet (a sweep over sorted ranges, O(n log n))."""
    network = overlay.network
    ranges = []
    for order, host in enumerate(overlay.hosts.values()):
        for index, subnet in enumerate(host.subnets):
            if subnet.first <= network.last and network.first <= subnet.last:
                raise PlanError(host.name, "wgsdn_subnets", f"{subnet} overlaps wgsdn_network {network}")
            ranges.append((subnet.first, -subnet.last, (order, index), subnet, host.name))
    ranges.sort()
    widest = None
    for entry in ranges:
        if widest is not None and entry[0] <= -widest[1]:
            # Report against the later of the two in inventory order.
            first, second = sorted((widest, entry), key=lambda e: e[2])
            whose = "this host's own" if first[4] == second[4] else f"host '{first[4]}''s"
            raise PlanError(second[4], "wgsdn_subnets", f"{second[3]} overlaps {whose} subnet {first[3]}")
        if widest is None or -entry[1] > -widest[1]:
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


def link_interface(peer):
    """Name of the WireGuard interface that carries a routed link to ``peer``."""
    return f"wg-{peer.link_name}"
