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
  description: Sessions, each with C(name) (BIRD protocol name), C(peer), C(neighbor), C(interface), C(local_as) and C(remote_as).
  type: list
  elements: dict
"""

from ansible_collections.wgsdn.fabric.plugins.filter import plan_filter
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import topology


class FilterModule:
    def filters(self):
        return {"bgp_neighbors": plan_filter(topology.bgp_neighbors)}
