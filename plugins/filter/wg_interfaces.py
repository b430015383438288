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
  description:
    - Interfaces, each with C(name), C(address) (wg-quick Address, one address per family of the overlay, or null),
      C(ptp) (a point-to-point link's addresses, one entry per family with C(ip_option), C(local) and C(peer); empty otherwise),
      C(listen_port), C(table) (C(auto) or C(off)), C(private_key) and C(peers).
    - Each peer has C(name), C(public_key), C(preshared_key), C(allowed_ips), C(endpoint) (C(host:port) or null) and C(persistent_keepalive).
  type: list
  elements: dict
"""

from ansible_collections.wgsdn.fabric.plugins.filter import plan_filter
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import topology


class FilterModule:
    def filters(self):
        return {"wg_interfaces": plan_filter(topology.wg_interfaces)}
