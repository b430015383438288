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
  description: C(targets) (addresses), C(bird) (boolean) and C(route_commands) (for example C(ip -4 route show proto bird)).
  type: dict
"""

from ansible_collections.wgsdn.fabric.plugins.filter import plan_filter
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import verify


class FilterModule:
    def filters(self):
        return {"verify_probes": plan_filter(verify.probes, errors=(KeyError,), describe=_describe)}


def _describe(exc, plan, host, *args):
    return f"wgsdn: host '{host}', variable 'inventory_hostname': is not a host of the overlay"
