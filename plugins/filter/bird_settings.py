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
options:
  device_bgp:
    description:
      - Devices learn their routes from their uplink gateways over BGP (the bird role's C(bird_device_bgp)).
      - False gives devices static multipath routes through their uplinks instead, and gateways no device sessions.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Is BIRD needed on this host?
  ansible.builtin.debug:
    msg: "{{ (wgsdn_plan | wgsdn.fabric.bird_settings(inventory_hostname)).enabled }}"
"""

RETURN = r"""
_value:
  description:
    - C(enabled), C(router_id), C(address) (the BGP session address), C(role), C(local_as), C(network), C(static_routes),
      C(bgp_neighbors) (sessions with the other gateways), C(uplink_sessions) (a device's sessions with its uplink gateways),
      C(device_sessions) (name of a gateway's dynamic protocol for its devices, or null), C(serves_devices), C(origins)
      (per gateway C(asn) and the C(prefixes) it may originate) and C(bfd_interfaces).
    - C(channels), one per address family of the overlay, each with the family's data (C(bird_channel), C(bird_net_type),
      C(bird_suffix), ...), C(router_address), C(own_routes), C(static_routes), C(routable), C(origins), C(uplink_accept)
      and C(uplink_reject), which the template prints in that family's protocols and filters.
    - Per channel also C(services) (this host's service protocols), C(service_import) (on a gateway, the service prefixes
      it accepts from each attached device), C(bgp_peers) (external peers, without their passwords), C(external) and
      C(external_origins) (prefixes learned from external peers and the gateway and peer AS they must come through).
    - C(services) (this host's services) and C(secrets) (whether the host needs the peer password fragment).
  type: dict
"""

from ansible_collections.wgsdn.fabric.plugins.filter import plan_filter
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import topology


class FilterModule:
    def filters(self):
        return {"bird_settings": plan_filter(topology.bird_settings)}
