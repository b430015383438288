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
  description: The host's C(inet wgsdn) table as data; only C(enabled) on an unmanaged client.
  type: dict
  contains:
    enabled:
      description: Whether the host has the table (every managed host does).
      type: bool
    table:
      description: The nftables table name.
      type: str
      returned: when enabled
    sets:
      description: The named sets of the table.
      type: list
      elements: dict
      returned: when enabled
      contains:
        name:
          description: The set's name.
          type: str
        type:
          description: Its nftables element type, for example C(ipv4_addr).
          type: str
        interval:
          description: Whether it holds prefixes (an interval set).
          type: bool
        elements:
          description: Its addresses or prefixes.
          type: list
          elements: str
    interfaces:
      description: The host's WireGuard interfaces.
      type: list
      elements: str
      returned: when enabled
    edge:
      description: What every managed host enforces, with or without a policy.
      type: dict
      returned: when enabled
      contains:
        antispoof:
          description: Prerouting statements dropping overlay, service and LAN sources where they cannot arrive.
          type: list
          elements: str
        outside:
          description: Statements deciding what may enter the overlay from outside it (replies, external peers' BGP/BFD, invited prefixes).
          type: list
          elements: str
        exporters:
          description: Statements opening the exporters' ports to the monitors only (empty without C(wgsdn_metrics)).
          type: list
          elements: str
        toward:
          description: Matches of traffic towards the overlay, which the C(outside) chain judges.
          type: list
          elements: str
    policy:
      description: The policy chain, when C(wgsdn_policy) is set.
      type: dict
      returned: when a policy is set
      contains:
        control:
          description: Statements accepting BGP and BFD from link neighbours, before any rule.
          type: list
          elements: str
        rules:
          description: The policy's nftables statements, each commented with its C(rules[N]).
          type: list
          elements: str
        default:
          description: The verdict when no rule matches, C(accept) or C(drop).
          type: str
        forward:
          description: Forward-hook matches sending traffic to the host's LANs and a gateway's unmanaged clients into the policy chain.
          type: list
          elements: str
"""

from ansible_collections.wgsdn.fabric.plugins.filter import plan_filter
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import policy


class FilterModule:
    def filters(self):
        return {"policy_ruleset": plan_filter(policy.ruleset)}
