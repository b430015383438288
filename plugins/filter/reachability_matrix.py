# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
name: reachability_matrix
author: wgsdn.fabric maintainers (!UNKNOWN)
version_added: "0.1.0"
short_description: Who reaches whom, as text lines
description:
  - Lays the ping results of every host's C(wgsdn.fabric.verify_host) result out as a matrix, sources as rows and
    destinations as numbered columns; C(ok) reached, C(XX) not reached, C(?) not measured.
positional: results
extends_documentation_fragment:
  - wgsdn.fabric.plan
options:
  results:
    description: The C(wgsdn.fabric.verify_host) results of the hosts.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Print the matrix
  ansible.builtin.debug:
    msg: "{{ wgsdn_plan | wgsdn.fabric.reachability_matrix(groups['wgsdn_devices'] | map('extract', hostvars, '__verify') | list) }}"
"""

RETURN = r"""
_value:
  description: Lines of text.
  type: list
  elements: str
"""

from ansible_collections.wgsdn.fabric.plugins.filter import plan_filter
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import verify


def _describe(exc, *args):
    return f"wgsdn: overlay, variable 'results': cannot lay out the matrix ({exc})"


class FilterModule:
    def filters(self):
        return {"reachability_matrix": plan_filter(verify.reachability_matrix, errors=(KeyError, TypeError, ValueError), describe=_describe)}
