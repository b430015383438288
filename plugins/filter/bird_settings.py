# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
name: bird_settings
author: wgsdn.fabric maintainers (!UNKNOWN)
version_added: "0.1.0"
short_description: Everything a host's BIRD configuration needs
description:
  - Router id, ASN, static routes, BGP sessions, the per-gateway origin table for import filters, and the interfaces BFD runs on.
  - C(enabled) is false outside routed mode; with no or one gateway no routing daemon is needed.
positional: host
extends_documentation_fragment:
  - wgsdn.fabric.plan.host
"""

EXAMPLES = r"""
- name: Is BIRD needed on this host?
  ansible.builtin.debug:
    msg: "{{ (wgsdn_plan | wgsdn.fabric.bird_settings(inventory_hostname)).enabled }}"
"""

RETURN = r"""
_value:
  description: >-
    C(enabled), C(router_id), C(role), C(local_as), C(network), C(static_routes), C(bgp_neighbors), C(origins)
    (per gateway C(asn) and the C(prefixes) it may originate) and C(bfd_interfaces).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import topology
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.deps import requires
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.filters import plan_filter


class FilterModule:
    def filters(self):
        return {"bird_settings": requires(AnsibleFilterError)(plan_filter(topology.bird_settings))}
