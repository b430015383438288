# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
name: static_routes
author: wgsdn.fabric maintainers (!UNKNOWN)
version_added: "0.1.0"
short_description: Static routes a host installs and announces
description:
  - The static routes of O(host) for BIRD, in routed mode (several gateways); empty otherwise, where wg-quick installs routes.
  - A gateway routes to each attached device's /32 and subnets via the device (tied to BFD) and announces its own /32 and subnets (C(own)).
  - A device routes the overlay and every other host's subnets via all its uplinks (multipath, tied to BFD).
positional: host
extends_documentation_fragment:
  - wgsdn.fabric.plan.host
"""

EXAMPLES = r"""
- name: Routes gateway1 installs
  ansible.builtin.debug:
    msg: "{{ wgsdn_plan | wgsdn.fabric.static_routes('gateway1') }}"
  # -> [{prefix: 10.0.0.2/32, via: [], own: true}, {prefix: 10.0.0.1/32, via: [10.0.0.1], own: false}, ...]
"""

RETURN = r"""
_value:
  description:
    - The routes, empty outside C(routed) mode and on unmanaged clients (wg-quick installs routes from AllowedIPs there).
  type: list
  elements: dict
  contains:
    prefix:
      description: The destination, a host prefix or a LAN, for example C(10.0.0.4/32).
      type: str
    via:
      description: Next-hop overlay addresses in the prefix's family (several for a dual-homed device); empty for an own prefix.
      type: list
      elements: str
    bfd:
      description: Whether the next hops answer BFD (every managed host does, unmanaged clients do not).
      type: bool
    own:
      description: A prefix this host originates (announced over BGP, never put in its kernel table).
      type: bool
"""

from ansible_collections.wgsdn.fabric.plugins.filter import plan_filter
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import topology


class FilterModule:
    def filters(self):
        return {"static_routes": plan_filter(topology.static_routes)}
