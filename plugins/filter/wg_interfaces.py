# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
name: wg_interfaces
author: wgsdn.fabric maintainers (!UNKNOWN)
version_added: "0.1.0"
short_description: WireGuard interfaces of a host, with their peer sections
description:
  - Every WireGuard interface O(host) has, ready for a wg-quick configuration template.
  - Without gateways and with one gateway a host has one interface.
  - With several gateways (routed mode) every routing neighbour gets its own point-to-point interface with C(Table = off),
    and a gateway keeps its attached devices on one access interface.
positional: host
extends_documentation_fragment:
  - wgsdn.fabric.plan.host
"""

EXAMPLES = r"""
- name: Interface names of gateway1
  ansible.builtin.debug:
    msg: "{{ wgsdn_plan | wgsdn.fabric.wg_interfaces('gateway1') | map(attribute='name') }}"
  # -> [wg0, wg-gateway2]
"""

RETURN = r"""
_value:
  description: The host's WireGuard interfaces, each one wg-quick file.
  type: list
  elements: dict
  contains:
    name:
      description: Interface name, for example C(wg0) or C(wg-gateway2).
      type: str
    address:
      description: wg-quick's C(Address), one address per family of the overlay (comma separated); null on a point-to-point interface.
      type: str
    ptp:
      description: A point-to-point link's addresses, one entry per family, set by C(PostUp); empty on other interfaces.
      type: list
      elements: dict
      contains:
        ip_option:
          description: iproute2's family switch, C(-4) or C(-6).
          type: str
        local:
          description: This host's overlay address.
          type: str
        peer:
          description: The other end's overlay address.
          type: str
    listen_port:
      description: UDP port the interface listens on; null when it only dials out.
      type: int
    table:
      description: wg-quick's C(Table), C(auto) (routes from AllowedIPs) or C(off) (BIRD installs them).
      type: str
    private_key:
      description: This host's private key.
      type: str
    peers:
      description: The peer sections.
      type: list
      elements: dict
      contains:
        name:
          description: Inventory name of the peer (printed as a comment).
          type: str
        public_key:
          description: The peer's public key.
          type: str
        preshared_key:
          description: The pair's preshared key; null with C(wgsdn_preshared_keys=false).
          type: str
        allowed_ips:
          description: The peer's AllowedIPs, CIDR prefixes.
          type: list
          elements: str
        endpoint:
          description: C(host:port) to dial (an IPv6 address in brackets); null when the peer does not listen towards this host or has no endpoint.
          type: str
        persistent_keepalive:
          description: Seconds between keepalives (C(wgsdn_persistent_keepalive)); null when not set.
          type: int
"""

from ansible_collections.wgsdn.fabric.plugins.filter import plan_filter
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import topology


class FilterModule:
    def filters(self):
        return {"wg_interfaces": plan_filter(topology.wg_interfaces)}
