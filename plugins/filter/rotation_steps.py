# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
name: rotation_steps
author: wgsdn.fabric maintainers (!UNKNOWN)
version_added: "0.2.0"
short_description: The order in which a key rotation switches the live links
description:
  - A rotation switches links in steps. A step switches the links that share an interface (a mesh link between two gateways,
    or every changed link of one gateway's access interface), both ends at the same instant.
  - Before a step switches, traffic is moved off each of its links that has another path (C(drain)); those links lose nothing.
    The others (single-homed devices, the only link between two gateways, hub and direct mode) lose about one handshake.
positional: rotate
extends_documentation_fragment:
  - wgsdn.fabric.plan
options:
  rotate:
    description: The rotated hosts, as C(wgsdn_rotate_keys) takes them (a list, a comma-separated string, or C(all)).
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: What a rotation of device1's keys would do
  ansible.builtin.debug:
    msg: "{{ wgsdn_plan | wgsdn.fabric.rotation_steps('device1') }}"
"""

RETURN = r"""
_value:
  description:
    - Steps, each with C(name), C(links) (host pairs), C(apply) (host to interfaces switched together), C(drain)
      (host to C(protocols) to disable, C(silence) interfaces without outgoing BFD, C(bfd_peers) whose BFD session goes down
      first and comes back after), C(hitless) and C(unmanaged) (clients that need their new configuration).
  type: list
  elements: dict
"""

from ansible_collections.wgsdn.fabric.plugins.filter import plan_filter
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import rotation


class FilterModule:
    def filters(self):
        return {"rotation_steps": plan_filter(rotation.steps)}
