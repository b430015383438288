# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
name: policy_ruleset
author: wgsdn.fabric maintainers (!UNKNOWN)
version_added: "0.2.0"
short_description: One host's nftables table C(inet wgsdn) from the overlay's C(wgsdn_policy)
description:
  - The plan holds C(wgsdn_policy) resolved against the inventory (groups, host names, prefixes become addresses).
    This filter gives one host's share of it, for the C(wgsdn.fabric.policy) role's template.
  - Each distinct C(from)/C(to) list is one named set per address family with C(flags interval), shared by every rule
    naming it, so the ruleset grows with rules and groups, not with hosts squared.
  - C(enabled) is false without a policy, and on unmanaged clients (their gateway filters for them).
positional: host
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
  description: The host's C(inet wgsdn) table as data; only C(enabled) without a policy or on an unmanaged client.
  type: dict
  contains:
    enabled:
      description: Whether the host filters (a C(wgsdn_policy) is set and the host is managed).
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
    control:
      description: Statements accepting BGP and BFD from link neighbours, before any rule.
      type: list
      elements: str
      returned: when enabled
    rules:
      description: The policy's nftables statements, each commented with its C(rules[N]).
      type: list
      elements: str
      returned: when enabled
    default:
      description: The verdict when no rule matches, C(accept) or C(drop).
      type: str
      returned: when enabled
    interfaces:
      description: The WireGuard interfaces whose traffic is filtered.
      type: list
      elements: str
      returned: when enabled
    forward:
      description: Forward-hook matches sending traffic to the host's LANs and a gateway's unmanaged clients into the policy chain.
      type: list
      elements: str
      returned: when enabled
"""

from ansible_collections.wgsdn.fabric.plugins.filter import plan_filter
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import policy


class FilterModule:
    def filters(self):
        return {"policy_ruleset": plan_filter(policy.ruleset)}
