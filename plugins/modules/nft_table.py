#!/usr/bin/python
# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
module: nft_table
author: wgsdn.fabric maintainers (!UNKNOWN)
version_added: "0.1.0"
short_description: Keep the nftables table inet wgsdn as its ruleset file makes it
description:
  - The apply step of the M(wgsdn.fabric.policy) role. It compares the table C(inet wgsdn) the kernel runs with the
    table its ruleset file makes, and loads the file when the table is missing or differs. A table deleted by hand, a
    C(nft flush ruleset), Debian's C(nftables.service) restarted (it starts with C(flush ruleset)) or a rule edited
    in place are all mended by the next converge.
  - Both sides are C(nft list table inet wgsdn) output, without the counters' numbers. The file's side is listed in a
    fresh, empty network namespace (C(unshare --net)), so working it out touches nothing that runs.
  - Loading is one transaction that replaces the table C(inet wgsdn) only. Other tables (Docker's, the
    administrator's) are never touched, and conntrack keeps the flows the policy still allows.
  - In check mode, or with O(state=check), it only reports (C(verify.yml) uses that).
options:
  path:
    description: The ruleset file that makes the table.
    type: path
    required: true
  state:
    description: V(present) loads the file when the table differs; V(check) only compares.
    type: str
    choices: [present, check]
    default: present
"""

EXAMPLES = r"""
- name: Load the table inet wgsdn when the running one is not what the file makes
  wgsdn.fabric.nft_table:
    path: /etc/nftables.d/wgsdn.nft
"""

RETURN = r"""
differs:
  description: Why the running table is not what the file makes (V(missing) or V(altered)); empty when it is.
  returned: always
  type: str
  sample: missing
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wgsdn.fabric.plugins.module_utils import nft


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "state": {"type": "str", "choices": ["present", "check"], "default": "present"},
        },
        supports_check_mode=True,
    )
    path = module.params["path"]

    def run(argv):
        return module.run_command(argv)

    try:
        wanted = nft.expected(run, path)
    except RuntimeError as error:
        module.fail_json(msg=str(error))
    running = nft.live(run)
    differs = "missing" if running is None else ("altered" if running != wanted else "")
    if differs and module.params["state"] == "present" and not module.check_mode:
        rc, out, err = run(["nft", "-f", path])
        if rc != 0:
            module.fail_json(msg=f"nft -f {path} failed: {err.strip() or out.strip()}")
    module.exit_json(changed=bool(differs) and module.params["state"] == "present", differs=differs)


if __name__ == "__main__":
    main()
