# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
class ModuleDocFragment:
    """Options shared by the filters that read the plan."""

    # The plan, the input of every wgsdn.fabric filter.
    DOCUMENTATION = r"""
requirements:
  - netaddr (Python, on the controller)
  - cryptography (Python, on the controller)
options:
  _input:
    description: The plan returned by the C(wgsdn.fabric.allocate) lookup (usually C(wgsdn_plan)).
    type: dict
    required: true
"""

    # The plan and one host of it.
    HOST = r"""
requirements:
  - netaddr (Python, on the controller)
  - cryptography (Python, on the controller)
options:
  _input:
    description: The plan returned by the C(wgsdn.fabric.allocate) lookup (usually C(wgsdn_plan)).
    type: dict
    required: true
  host:
    description: Inventory name of the host.
    type: str
    required: true
"""
