# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
name: verify_probes
author: wgsdn.fabric maintainers (!UNKNOWN)
version_added: "0.2.0"
short_description: What verify.yml observes on a host
description:
  - The overlay addresses (every family) of the other hosts to ping, whether the host runs BIRD (it speaks BGP
    in routed mode), and the C(ip route) commands that list the routes BIRD installed, one per address family.
  - Read by C(playbooks/verify.yml); the observations go to C(wgsdn.fabric.verify_host).
positional: host
extends_documentation_fragment:
  - wgsdn.fabric.plan.host
"""

EXAMPLES = r"""
- name: Ping every other host of the overlay
  ansible.builtin.command:
    cmd: ping -c 1 {{ item }}
  loop: "{{ (wgsdn_plan | wgsdn.fabric.verify_probes(inventory_hostname)).targets }}"
"""

RETURN = r"""
_value:
  description: What verify.yml runs on the host.
  type: dict
  contains:
    targets:
      description: The overlay addresses of every other host, to ping.
      type: list
      elements: str
    bird:
      description: Whether the host runs BIRD (speaks BGP), so C(birdc) is asked.
      type: bool
    route_commands:
      description: The route listings to read, one per family, for example C(ip -4 route show proto bird); empty without BIRD.
      type: list
      elements: str
    interfaces:
      description: The host's WireGuard interfaces, whose running state is compared with their files (drift).
      type: list
      elements: str
    external:
      description: The C(birdc show protocols all) commands of the host's external BGP sessions (C(wgsdn_bgp_peers)).
      type: list
      elements: str
    tcp:
      description: Under a C(wgsdn_policy), the TCP ports to try on other hosts; empty without a policy.
      type: list
      elements: dict
      contains:
        address:
          description: The address to connect to.
          type: str
        port:
          description: The TCP port.
          type: int
"""

from ansible_collections.wgsdn.fabric.plugins.filter import plan_filter
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import verify


class FilterModule:
    def filters(self):
        return {"verify_probes": plan_filter(verify.probes, errors=(KeyError,), describe=_describe)}


def _describe(exc, plan, host, *args):
    return f"wgsdn: host '{host}', variable 'inventory_hostname': is not a host of the overlay"
