# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
name: bgp_neighbors
author: wgsdn.fabric maintainers (!UNKNOWN)
version_added: "0.1.0"
short_description: BGP sessions of a gateway
description:
  - One eBGP session per other gateway and address family, over the point-to-point WireGuard link to it.
  - Each gateway has a private 4-byte ASN (4200000000 + its gateway number). Empty for devices and outside routed mode.
positional: host
extends_documentation_fragment:
  - wgsdn.fabric.plan.host
"""

EXAMPLES = r"""
- name: BGP neighbours of gateway1
  ansible.builtin.debug:
    msg: "{{ wgsdn_plan | wgsdn.fabric.bgp_neighbors('gateway1') | map(attribute='neighbor') }}"
  # -> [10.0.0.5]
"""

RETURN = r"""
_value:
  description:
    - A gateway's eBGP sessions with the other gateways (only the reflectors for an edge), one per gateway and address family.
    - Empty on other hosts and outside C(routed) mode.
  type: list
  elements: dict
  contains:
    name:
      description: The BIRD protocol name, for example C(bgp_gateway2) (IPv6 sessions end in C(_v6)).
      type: str
    peer:
      description: Inventory name of the other gateway.
      type: str
    neighbor:
      description: The other gateway's overlay address in the session's family.
      type: str
    local:
      description: This gateway's overlay address in the session's family.
      type: str
    interface:
      description: The point-to-point WireGuard interface the session runs over, for example C(wg-gateway2).
      type: str
    local_as:
      description: This gateway's ASN.
      type: int
    remote_as:
      description: The other gateway's ASN.
      type: int
    family:
      description: The address family of the session (C(ipv4) or C(ipv6)).
      type: str
"""

from ansible_collections.wgsdn.fabric.plugins.filter import plan_filter
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import topology


class FilterModule:
    def filters(self):
        return {"bgp_neighbors": plan_filter(topology.bgp_neighbors)}
