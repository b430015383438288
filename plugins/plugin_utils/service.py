# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The whole planning step, from inventory variables and a state file to the plan."""

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import policy, topology, validate
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.inventory import build_overlay
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.plan import allocate, make_plan


def compute_plan(gateways, devices, hostvars, state_file, prune=False, write=True, rotate=(), clients=(), groups=None):
    """Validate, allocate under the state file's lock, persist if anything changed.

    Everything that can fail runs before the state file is written, so a bad
    inventory or a corrupt state leaves the file byte-for-byte as it was. A
    plaintext file whose StateFile encodes at rest (a vault secret) is encoded
    even when no allocation changed; ``state_file.notices`` says so.
    """
    overlay = build_overlay(gateways, devices, hostvars, clients=clients)
    parsed_policy = policy.parse(policy.shared_value(hostvars, list(overlay.hosts)))
    links = topology.links(overlay)
    with state_file.locked():
        state = state_file.load()
        new_state, changed = allocate(overlay, state, links, prune=prune, rotate=rotate)
        plan = make_plan(overlay, new_state, links)
        validate.check_allocation(plan)
        # groups: the inventory's group membership (Ansible's ``groups``), which policy rules may name.
        plan["policy"] = policy.resolve(parsed_policy, plan, groups)
        plan["monitors"] = policy.monitors(plan, groups)
        if changed and write:
            state_file.save(new_state)
        else:  # a plaintext file under a vault secret is encrypted now, under the same lock
            state_file.seal(write=write)
    return plan
