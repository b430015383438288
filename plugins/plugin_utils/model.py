# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The overlay model: hosts and their declared intent, as read from the inventory.

Plain Python, no Ansible imports. ``inventory.build_overlay`` fills it in;
``validate`` checks it; ``plan`` joins it with the state file.
"""

from dataclasses import dataclass, field

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


@dataclass
class Host:
    name: str
    role: str
    pinned: dict = field(default_factory=dict)  # family name -> netaddr.IPAddress
    endpoint: str = ""
    listen_port: int = None
    uplinks: list = field(default_factory=list)
    subnets: list = field(default_factory=list)  # netaddr.IPNetwork, normalised
    keepalive: int = None
    link_name: str = ""
    services: list = field(default_factory=list)  # services.parse_services: health-checked (anycast) addresses
    bgp_peers: list = field(default_factory=list)  # peers.parse_peers: external BGP routers (gateways only)
    route_reflector: bool = False  # a gateway the other gateways peer with (topology.links)

    @property
    def listens(self):
        return self.listen_port is not None


@dataclass
class Overlay:
    families: list  # family.Family, in FAMILIES order: the families this overlay carries
    networks: dict  # family name -> netaddr.IPNetwork
    hosts: dict  # name -> Host, in inventory order
    preshared_keys: bool = True
    interface: str = "wg0"
    metrics: bool = False  # wgsdn_metrics: Prometheus exporters on every managed host

    @property
    def network(self):
        """The overlay prefix of the first family (the one router ids and labels use)."""
        return self.networks[self.families[0].name]

    @property
    def gateways(self):
        return [h for h in self.hosts.values() if h.role == GATEWAY]

    @property
    def reflectors(self):
        """Gateways with ``wgsdn_route_reflector: true``; when any exist, the other gateways peer with these only."""
        return [h for h in self.hosts.values() if h.role == GATEWAY and h.route_reflector]

    @property
    def mode(self):
        count = sum(1 for h in self.hosts.values() if h.role == GATEWAY)
        if count == 0:
            return DIRECT
        if count == 1:
            return HUB
        return ROUTED
