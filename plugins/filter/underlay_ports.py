# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
name: underlay_ports
author: wgsdn.fabric maintainers (!UNKNOWN)
version_added: "0.1.0"
short_description: What the underlay's firewall must let through for a host
description:
  - The UDP and TCP flows O(host) needs on its underlay, one row each, with the address at the other end.
  - WireGuard, each interface's listen port open to each of its peers, and each peer's port the host dials.
    In routed mode a gateway listens on its base port (C(wgsdn_listen_port), 51820 by default) for devices and on the base port
    plus the other gateway's number for each gateway link; a device that listens uses its base port plus the uplink's position.
  - External BGP peers (C(wgsdn_bgp_peers)), TCP 179 and, with C(bfd), BFD's UDP port (3784, or 4784 for a multihop session).
  - A stateful firewall needs nothing more; replies travel on the same flow.
  - C(playbooks/render.yml) writes these rows as C(underlay-ports.txt) beside each host's files.
positional: host
extends_documentation_fragment:
  - wgsdn.fabric.plan.host
"""

EXAMPLES = r"""
- name: What gateway1's underlay must let through
  ansible.builtin.debug:
    msg: "{{ wgsdn_plan | wgsdn.fabric.underlay_ports('gateway1') }}"
  # -> [{direction: in, protocol: udp, port: 51820, address: null, purpose: WireGuard wg0 with device1}, ...]
"""

RETURN = r"""
_value:
  description: One row per flow, in interface order, then the external peers.
  type: list
  elements: dict
  contains:
    direction:
      description: C(in) (to this host's O(_value[].port)), C(out) (to the other end's O(_value[].port)) or C(both) (either end opens it).
      type: str
    protocol:
      description: C(udp) or C(tcp).
      type: str
    port:
      description: The destination port of the flow.
      type: int
    address:
      description:
        - The underlay address or name at the other end.
        - It is null for any source, where the plan knows no address of the peer (a device that only dials out, an unmanaged client).
      type: str
    purpose:
      description: What the flow carries, for example C(WireGuard wg-gateway2 with gateway2) or C(BGP office-core (TCP MD5)).
      type: str
"""

from ansible_collections.wgsdn.fabric.plugins.filter import plan_filter
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import topology


class FilterModule:
    def filters(self):
        return {"underlay_ports": plan_filter(topology.underlay_ports)}
