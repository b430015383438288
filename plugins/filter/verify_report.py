# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
name: verify_report
author: wgsdn.fabric maintainers (!UNKNOWN)
version_added: "0.2.0"
short_description: verify.yml's report for machines, as JSON data and JUnit XML
description:
  - Built from the same C(wgsdn.fabric.verify_host) results as the text report and the matrix.
  - C(json) holds C(ok), C(problems), C(summary) (a line per host), C(absent), C(broken), per host C(reported), C(status)
    (C(absent), C(broken) or C(ok)), C(report) and C(problems), the matrix as data
    (C(matrix), per address family, source, destination, true/false/null) and as text (C(matrix_text)).
  - C(junit) is a JUnit XML document with one test case per host, failed with that host's problems.
positional: results, hosts, absent
extends_documentation_fragment:
  - wgsdn.fabric.plan
options:
  results:
    description: The C(wgsdn.fabric.verify_host) results of the hosts that reported.
    type: list
    elements: dict
    required: true
  hosts:
    description: Every host that should have reported; those missing from O(results) are problems.
    type: list
    elements: str
    required: true
  absent:
    description:
      - The hosts Ansible could not reach, each with the reason (verify.yml records them). They are ABSENT, not broken;
        other hosts' problems that only name absent hosts (or hosts cut off behind them) are marked as caused by them,
        and a host whose own problems explain others' is the one reported BROKEN.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Write the JUnit file
  ansible.builtin.copy:
    content: "{{ (wgsdn_plan | wgsdn.fabric.verify_report(_results, ansible_play_hosts_all)).junit }}"
    dest: wgsdn-verify.xml
    mode: "0644"
"""

RETURN = r"""
_value:
  description: What C(wgsdn_verify_format=json) writes.
  type: dict
  contains:
    json:
      description: The machine report.
      type: dict
      contains:
        ok:
          description: Whether no host has a problem.
          type: bool
        problems:
          description: Every problem, the absent and broken hosts first, each annotated with its cause when it has one.
          type: list
          elements: str
        summary:
          description: Lines summing up the absent and broken hosts.
          type: list
          elements: str
        absent:
          description: The hosts Ansible could not reach.
          type: list
          elements: str
        broken:
          description: The hosts whose own problems explain the others'.
          type: list
          elements: str
        hosts:
          description: Per host that should have reported, its part.
          type: dict
          contains:
            <host>:
              description: The host's report.
              type: dict
              contains:
                reported:
                  description: Whether the host reported.
                  type: bool
                status:
                  description: C(ok), C(absent) or C(broken).
                  type: str
                report:
                  description: Its report lines (see C(wgsdn.fabric.verify_host)).
                  type: list
                  elements: str
                problems:
                  description: Its problems.
                  type: list
                  elements: str
                findings:
                  description:
                    - Its problems, as data (the same order as C(problems)); C(absence) and the JSON report read these fields, never the wording.
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
        matrix:
          description: Per family label (C(IPv4), C(IPv6)), the reachability matrix as data.
          type: dict
          contains:
            <family>:
              description: Per source host, its pings.
              type: dict
              contains:
                <source>:
                  description: Per destination host, whether the source reached it.
                  type: dict
                  contains:
                    <destination>:
                      description: Whether the ping answered; null when the source did not report.
                      type: bool
        matrix_text:
          description: The matrix as lines of text (C(wgsdn.fabric.reachability_matrix)).
          type: list
          elements: str
    junit:
      description: The same report as JUnit XML text.
      type: str
"""

from ansible_collections.wgsdn.fabric.plugins.filter import plan_filter
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import verify


def _describe(exc, *args):
    return f"wgsdn: overlay, variable 'results': cannot build the report ({exc})"


class FilterModule:
    def filters(self):
        return {"verify_report": plan_filter(verify.machine_outputs, errors=(KeyError, TypeError, ValueError), describe=_describe)}
