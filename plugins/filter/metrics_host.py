# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
name: metrics_host
author: wgsdn.fabric maintainers (!UNKNOWN)
version_added: "0.2.0"
short_description: A host's Prometheus exporter settings from the plan
description:
  - Whether the host runs exporters (C(wgsdn_metrics) is true and the host is no unmanaged client), the overlay
    address they listen on, whether BIRD runs (bird-exporter), the WireGuard interfaces the exporters start after,
    and the peer map (public key to peer name) the WireGuard collector labels its series with.
positional: host, options
extends_documentation_fragment:
  - wgsdn.fabric.plan.host
options:
  options:
    description: C(node_port) and C(bird_port) (defaults 9100 and 9324).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Where gateway1's node-exporter listens
  ansible.builtin.debug:
    msg: "{{ (wgsdn_plan | wgsdn.fabric.metrics_host('gateway1')).node_listen }}"
  # -> 10.0.0.2:9100
"""

RETURN = r"""
_value:
  description: What the metrics role needs on the host.
  type: dict
  contains:
    enabled:
      description: Whether the host runs exporters (C(wgsdn_metrics) is true and the host is managed).
      type: bool
    address:
      description: The overlay address the exporters listen on (IPv4, else IPv6).
      type: str
    node_listen:
      description: The node exporter's listen address, C(address:port) (an IPv6 address in brackets).
      type: str
    bird_listen:
      description: The BIRD exporter's listen address, C(address:port).
      type: str
    bird:
      description: Whether the host runs BIRD, so the BIRD exporter is installed.
      type: bool
    interfaces:
      description: The host's WireGuard interfaces, which the exporters wait for.
      type: list
      elements: str
    peers:
      description: Per public key of a peer, its inventory name (the collector labels series with it).
      type: dict
      contains:
        <public_key>:
          description: The peer's inventory name.
          type: str
"""

from ansible_collections.wgsdn.fabric.plugins.filter import plan_filter
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import metrics


class FilterModule:
    def filters(self):
        return {"metrics_host": plan_filter(metrics.host_settings)}
