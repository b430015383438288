# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
name: allowed_ips
author: wgsdn.fabric maintainers (!UNKNOWN)
version_added: "0.1.0"
short_description: AllowedIPs of one WireGuard peer section
description:
  - The prefixes that the peer section for O(peer) in O(host)'s configuration carries.
  - A device seen from its gateway (and every peer when there is no gateway) carries its own /32 and C(wgsdn_subnets).
  - A gateway seen from anyone carries the whole overlay and every other host's subnets, merged into the fewest prefixes.
positional: host,peer
extends_documentation_fragment:
  - wgsdn.fabric.plan
options:
  host:
    description: Inventory name of the host whose configuration holds the peer section.
    type: str
    required: true
  peer:
    description: Inventory name of the peer.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: AllowedIPs device1 uses for gateway1
  ansible.builtin.debug:
    msg: "{{ wgsdn_plan | wgsdn.fabric.allowed_ips('device1', 'gateway1') | join(', ') }}"
  # -> 10.0.0.0/24
"""

RETURN = r"""
_value:
  description: CIDR prefixes, for example C([10.0.0.3/32, 192.168.3.0/24]).
  type: list
  elements: str
"""

from ansible_collections.wgsdn.fabric.plugins.filter import plan_filter
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import topology


class FilterModule:
    def filters(self):
        return {"allowed_ips": plan_filter(topology.allowed_ips)}
