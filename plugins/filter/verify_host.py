# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
name: verify_host
author: wgsdn.fabric maintainers (!UNKNOWN)
version_added: "0.1.0"
short_description: Compare a host's live WireGuard, BIRD and reachability state with the plan
description:
  - Parses what O(host) reported (C(wg show all latest-handshakes), C(wg show interfaces), C(birdc show protocols),
    C(birdc show bfd sessions), C(ip route show proto bird) per family and a ping sweep) and checks it against the plan.
  - Returns a readable report and the list of problems; an empty list means the host is as the inventory says.
positional: host, observed
extends_documentation_fragment:
  - wgsdn.fabric.plan
options:
  host:
    description: Inventory name of the host.
    type: str
    required: true
  observed:
    description:
      - Command outputs, keyed C(handshakes), C(interfaces) (a list of names), C(protocols), C(bfd),
        C(routes) (the C(ip route) output, or a list of outputs, one per family) and C(ping)
        (lines C(ADDRESS ok) or C(ADDRESS fail)).
    type: dict
    required: true
  device_bgp:
    description: Devices learn their routes over BGP (the bird role's C(bird_device_bgp)), so their uplink sessions are checked.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Check this host
  ansible.builtin.set_fact:
    __verify: "{{ wgsdn_plan | wgsdn.fabric.verify_host(inventory_hostname, _observed) }}"
  vars:
    _observed:
      handshakes: "{{ __wg.stdout }}"
      interfaces: "{{ __ifs.stdout.split() }}"
      ping: "{{ __ping.stdout }}"
"""

RETURN = r"""
_value:
  description: The host's part of the report.
  type: dict
  contains:
    host:
      description: Inventory name of the host.
      type: str
    report:
      description: The readable report, one line per interface, peer, session and check.
      type: list
      elements: str
    problems:
      description: What is wrong, one line each, prefixed with the host's name; empty when healthy.
      type: list
      elements: str
    findings:
      description:
        - The same problems, as data (the same order as C(problems)); C(absence) and the JSON report read these fields, never the wording.
      type: list
      elements: dict
      contains:
        kind:
          description:
            - What kind of problem, one of C(interface-missing), C(peer-not-configured), C(no-handshake), C(bgp-down), C(reflector-design),
              C(bfd-down), C(route-missing), C(external-bgp-down), C(bird-silent), C(left-over), C(drift), C(unreachable), C(policy).
          type: str
        subjects:
          description: The other hosts the problem is about (the peer of a session, the owner of an address or prefix); empty for a host's own.
          type: list
          elements: str
        text:
          description: The problem in words, as in C(problems) without the host's name.
          type: str
    ping:
      description: Per overlay address pinged, whether it answered.
      type: dict
      contains:
        <address>:
          description: Whether the address answered.
          type: bool
"""

from ansible_collections.wgsdn.fabric.plugins.filter import plan_filter
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import verify
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError


def _describe(exc, plan, host, *args):
    return f"wgsdn: host '{host}', variable 'observed': cannot verify ({exc})"


class FilterModule:
    def filters(self):
        return {"verify_host": plan_filter(verify.check_host, errors=(PlanError, KeyError), describe=_describe)}
