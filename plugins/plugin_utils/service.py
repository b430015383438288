# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The whole planning step, from inventory variables and a state file to the plan."""

from ansible_collections.wgsdn.fabric.plugins.plugin_utils.model import build_overlay
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.plan import allocate, make_plan

# The host variables the plan reads; nothing else of the inventory matters to it.
INPUT_VARIABLES = (
    "ansible_host",
    "wgsdn_network",
    "wgsdn_address",
    "wgsdn_endpoint",
    "wgsdn_listen_port",
    "wgsdn_uplinks",
    "wgsdn_subnets",
    "wgsdn_persistent_keepalive",
    "wgsdn_link_name",
    "wgsdn_preshared_keys",
    "wgsdn_interface",
)


def compute_plan(gateways, devices, hostvars, state_file, prune=False, write=True, rotate=(), clients=()):
    """Validate, allocate under the state file's lock, persist if anything changed.

    Everything that can fail runs before the state file is written, so a bad
    inventory or a corrupt state leaves the file byte-for-byte as it was.
    """
    overlay = build_overlay(gateways, devices, hostvars, clients=clients)
    with state_file.locked():
        state = state_file.load()
        new_state, changed = allocate(overlay, state, prune=prune, rotate=rotate)
        plan = make_plan(overlay, new_state)
        if changed and write:
            state_file.save(new_state)
    return plan
