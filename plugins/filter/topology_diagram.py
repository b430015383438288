# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
name: topology_diagram
author: wgsdn.fabric maintainers (!UNKNOWN)
version_added: "0.1.0"
short_description: Draw the overlay as Graphviz DOT or Mermaid
description:
  - Gateways (with their ASN), devices (with their subnets), device uplinks and the BGP links between gateways,
    drawn from the plan, so the picture always matches the inventory.
  - C(playbooks/diagram.yml) writes both formats and an SVG when Graphviz is installed.
positional: format
extends_documentation_fragment:
  - wgsdn.fabric.plan
options:
  format:
    description: C(dot) for Graphviz, C(mermaid) for a Markdown document with a Mermaid graph.
    type: str
    default: dot
    choices: [dot, mermaid]
"""

EXAMPLES = r"""
- name: Write the diagram
  ansible.builtin.copy:
    content: "{{ wgsdn_plan | wgsdn.fabric.topology_diagram('mermaid') }}"
    dest: topology.md
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The diagram source text.
  type: str
"""

from ansible_collections.wgsdn.fabric.plugins.filter import plan_filter
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import diagram


def _describe(exc, *args):
    return f"wgsdn: overlay, variable 'format': cannot draw the diagram ({exc})"


class FilterModule:
    def filters(self):
        return {"topology_diagram": plan_filter(diagram.render, errors=(KeyError, TypeError, ValueError), describe=_describe)}
