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
  description: The steps in the order they run; empty when no link changes.
  type: list
  elements: dict
  contains:
    name:
      description: What the step switches, in words.
      type: str
    links:
      description: The links the step switches, host pairs C([a, b]).
      type: list
      elements: list
    apply:
      description: Per host, the interfaces switched to the new keys at the same instant.
      type: dict
      contains:
        <host>:
          description: The host's interfaces.
          type: list
          elements: str
    drain:
      description: Per host, what it does before the switch to move traffic off the step's links that have another path.
      type: dict
      contains:
        <host>:
          description: The host's part of the drain.
          type: dict
          contains:
            protocols:
              description: BIRD protocols to disable.
              type: list
              elements: str
            silence:
              description: Interfaces on which to stop sending BFD.
              type: list
              elements: str
            bfd_peers:
              description: Neighbour addresses whose BFD session goes down before the switch and comes back after.
              type: list
              elements: str
    hitless:
      description: Whether every link of the step had another path.
      type: bool
    unmanaged:
      description: Unmanaged clients that need their new configuration.
      type: list
      elements: str
"""

from ansible_collections.wgsdn.fabric.plugins.filter import plan_filter
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import rotation


class FilterModule:
    def filters(self):
        return {"rotation_steps": plan_filter(rotation.steps)}
