# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
name: policy_decide
author: wgsdn.fabric maintainers (!UNKNOWN)
version_added: "0.2.0"
short_description: Whether C(wgsdn_policy) lets a source reach a destination on a port, and which rule decides
description:
  - The same decision the hosts' nftables rulesets make (first matching rule, else the default), read from the plan
    on the controller; C(playbooks/policy_check.yml) and C(playbooks/verify.yml) use it.
positional: src, dst, port
options:
  _input:
    description: The plan (C(wgsdn_plan)).
    type: dict
    required: true
  src:
    description: A host of the overlay or an address.
    type: str
    required: true
  dst:
    description: A host of the overlay or an address.
    type: str
    required: true
  port:
    description: C(tcp/N), C(udp/N) or C(icmp).
    type: str
    required: true
  family:
    description: Address family (C(ipv4), C(ipv6)) whose address stands for a host name; default the overlay's first.
    type: str
"""

EXAMPLES = r"""
- name: May device1 reach the file server over SMB?
  ansible.builtin.debug:
    msg: "{{ wgsdn_plan | wgsdn.fabric.policy_decide('device1', 'fileserver', 'tcp/445') }}"
"""

RETURN = r"""
_value:
  description: The decision.
  type: dict
  contains:
    allowed:
      description: Whether the policy lets the flow through.
      type: bool
    rule:
      description: Index of the deciding rule in C(wgsdn_policy.rules); null when the default decides.
      type: int
    reason:
      description: The decision in words, naming the rule or the default.
      type: str
"""

from ansible_collections.wgsdn.fabric.plugins.filter import plan_filter
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import policy


def _decide(plan, src, dst, port, family=None):
    return policy.decide(plan.get("policy"), plan, src, dst, port, family=family)


class FilterModule:
    def filters(self):
        return {"policy_decide": plan_filter(_decide)}
