# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address families as data: everything that differs between IPv4 and IPv6 lives in a ``Family``.

The model, the plan and the templates never spell a family out: they iterate
``FAMILIES`` (or the plan's ``families``) and read prefix lengths, ``ip``
options, BIRD channel names and sysctls from here. Adding a family is adding a
``Family`` and the inventory variables that feed it.
"""

import functools
from dataclasses import asdict, dataclass

from ansible_collections.wgsdn.fabric.plugins.plugin_utils.deps import optional
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError, shown

netaddr = optional("netaddr")


@dataclass(frozen=True)
class Family:
    name: str  # key of the family in the plan, e.g. "ipv4"
    version: int  # 4 or 6, as netaddr counts them
    label: str  # what error messages call it
    network_variable: str  # inventory variable holding the overlay prefix
    address_variable: str  # inventory variable pinning a host's address
    example: str  # an example prefix for error messages
    host_prefixlen: int  # a single host: /32 or /128
    ip_option: str  # iproute2's family switch
    bird_channel: str  # BIRD 2 channel (and protocol/filter name suffix below)
    bird_net_type: str  # BIRD 2 net.type constant
    bird_suffix: str  # appended to BIRD protocol and filter names ("" keeps IPv4's names)
    session_suffix: str  # appended to BGP session names ("" keeps IPv4's names)
    kernel_neighbour_routes: bool  # BIRD may install "N/len via N" for a link neighbour N (IPv6 refuses next hops behind such a route)
    kernel_metric_offset: int  # added to BIRD's kernel metric so the kernel's connected routes (IPv6: metric 256) always rank first
    forwarding_sysctl: str  # the sysctl that makes a host forward this family
    state_key: str  # key of a host's address in the state file
    state_network_key: str  # key of the prefix the state file allocated from

    def as_data(self):
        return asdict(self)

    def parse_network(self, value, host, variable):
        """A CIDR prefix of this family, normalised; ``value`` may be any scalar."""
        if not isinstance(value, str) or "/" not in value:
            raise PlanError(host, variable, f"{shown(value)} is not an {self.label} prefix in CIDR notation (like {self.example})")
        try:
            net = netaddr.IPNetwork(value.strip(), version=self.version)
        except (netaddr.AddrFormatError, ValueError, TypeError):
            raise PlanError(host, variable, f"{shown(value)} is not a valid {self.label} CIDR prefix{_elsewhere(self, value, 'network_variable')}") from None
        if net.ip != net.network:
            raise PlanError(host, variable, f"{shown(value)} has host bits set; did you mean {net.cidr}?")
        return net.cidr

    def parse_address(self, value, host, variable):
        if not isinstance(value, str):
            raise PlanError(host, variable, f"{shown(value)} is not an {self.label} address")
        text = value.strip()
        suffix = f"/{self.host_prefixlen}"
        if text.endswith(suffix):
            text = text[: -len(suffix)]
        try:
            return netaddr.IPAddress(text, version=self.version, flags=netaddr.INET_PTON)
        except (netaddr.AddrFormatError, ValueError, TypeError):
            raise PlanError(host, variable, f"{shown(value)} is not a valid {self.label} address{_elsewhere(self, text, 'address_variable')}") from None

    def host_prefix(self, address):
        return f"{address}/{self.host_prefixlen}"


IPV4 = Family(
    name="ipv4",
    version=4,
    label="IPv4",
    network_variable="wgsdn_network",
    address_variable="wgsdn_address",
    example="10.0.0.0/24",
    host_prefixlen=32,
    ip_option="-4",
    bird_channel="ipv4",
    bird_net_type="NET_IP4",
    bird_suffix="",
    session_suffix="",
    kernel_neighbour_routes=True,
    kernel_metric_offset=0,
    forwarding_sysctl="net.ipv4.ip_forward",
    state_key="address",
    state_network_key="network",
)

IPV6 = Family(
    name="ipv6",
    version=6,
    label="IPv6",
    network_variable="wgsdn_network6",
    address_variable="wgsdn_address6",
    example="fd00:10::/64",
    host_prefixlen=128,
    ip_option="-6",
    bird_channel="ipv6",
    bird_net_type="NET_IP6",
    bird_suffix="6",
    session_suffix="_v6",
    kernel_neighbour_routes=False,
    kernel_metric_offset=1024,
    forwarding_sysctl="net.ipv6.conf.all.forwarding",
    state_key="address6",
    state_network_key="network6",
)

# Every family the collection knows, in the order the plan lists them.
FAMILIES = (IPV4, IPV6)


def _elsewhere(family, value, attribute):
    """A hint when ``value`` belongs to another family: which variable takes it."""
    for other in FAMILIES:
        if other is family:
            continue
        try:
            netaddr.IPNetwork(str(value).strip(), version=other.version)
        except (netaddr.AddrFormatError, ValueError, TypeError):
            continue
        return f"; it is an {other.label} value: give it in {getattr(other, attribute)}"
    return ""


def family_of(prefix):
    """The ``Family`` of a prefix or address given as text."""
    return _family_of_text(prefix) if isinstance(prefix, str) else _family_of(prefix)


@functools.lru_cache(maxsize=65536)
def _family_of_text(prefix):
    # A 1,000-host render asks for the family of each LAN prefix once per host: parse each text once.
    return _family_of(prefix)


def _family_of(prefix):
    version = netaddr.IPNetwork(prefix).version
    for family in FAMILIES:
        if family.version == version:
            return family
    raise ValueError(f"{prefix} belongs to no supported address family")
