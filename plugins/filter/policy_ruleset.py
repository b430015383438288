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
  description:
    - C(enabled); when true also C(table), C(sets) (each C(name), C(type), C(interval), C(elements)), C(control)
      (BGP and BFD from link neighbours, accepted before any rule), C(rules) (nftables statements, each commented
      with its C(rules[N])), C(default) (C(accept) or C(drop)), C(interfaces) (the WireGuard interfaces filtered)
      and C(forward) (destinations filtered on forward - the host's LANs, a gateway's unmanaged clients).
  type: dict
"""

from ansible_collections.wgsdn.fabric.plugins.filter import plan_filter
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import policy


class FilterModule:
    def filters(self):
        return {"policy_ruleset": plan_filter(policy.ruleset)}
