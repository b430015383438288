# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
name: policy_ruleset
author: wgsdn.fabric maintainers (!UNKNOWN)
version_added: "0.2.0"
short_description: One host's nftables table C(inet wgsdn) - the overlay's edge and its C(wgsdn_policy)
description:
  - Every managed host guards the overlay's edge. A source of the overlay (its prefixes, a declared LAN, a service
    address) is accepted only where it can arrive - on WireGuard interfaces, whose peers' AllowedIPs bind each
    source to its owner, and a host's own LAN on that LAN's interface; never from the underlay. Traffic from outside
    the overlay towards it passes only as a reply, as the control plane of the host's external BGP peers, or when a
    rule allowing it names its prefix in C(from). With C(wgsdn_metrics), the exporter ports answer the
    C(wgsdn_monitors) group only.
  - The plan holds C(wgsdn_policy) resolved against the inventory (groups, host names, prefixes become addresses).
    This filter gives one host's share of it, for the C(wgsdn.fabric.policy) role's template.
  - Each distinct C(from)/C(to) list is one named set per address family with C(flags interval), shared by every rule
    naming it, so the ruleset grows with rules and groups, not with hosts squared.
  - C(enabled) is false on unmanaged clients (their gateway filters for them).
positional: host
options:
  exporter_ports:
    description: The exporters' TCP ports, open to the monitors only when the plan has C(wgsdn_metrics).
    type: list
    elements: int
    default: []
extends_documentation_fragment:
  - wgsdn.fabric.plan.host
"""

EXAMPLES = r"""
- name: Read this host's policy
  ansible.builtin.set_fact:
    _policy_ruleset: "{{ wgsdn_plan | wgsdn.fabric.policy_ruleset(inventory_hostname) }}"
"""

RETURN = r"""
_value:
  description:
    - C(enabled); when true also C(table), C(sets) (each C(name), C(type), C(interval), C(elements)), C(interfaces)
      (the host's WireGuard interfaces) and C(edge) - C(antispoof) (prerouting statements), C(outside) (what may
      enter from outside the overlay), C(exporters) (the monitors' access) and C(toward) (matches of traffic towards
      the overlay).
    - With a policy, C(policy) - C(control) (BGP and BFD from link neighbours, accepted before any rule), C(rules)
      (nftables statements, each commented with its C(rules[N])), C(default) (C(accept) or C(drop)) and C(forward)
      (destinations filtered on forward - the host's LANs, a gateway's unmanaged clients).
  type: dict
"""

from ansible_collections.wgsdn.fabric.plugins.filter import plan_filter
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import policy


class FilterModule:
    def filters(self):
        return {"policy_ruleset": plan_filter(policy.ruleset)}
