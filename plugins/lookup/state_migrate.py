# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
name: state_migrate
author: wgsdn.fabric maintainers (!UNKNOWN)
version_added: "0.1.0"
short_description: Move the overlay's state between the state file and PostgreSQL
description:
  - Copies every allocation and key of the overlay from one state backend to the other, exactly as they are
    (addresses, gateway numbers, private and preshared keys), holding both locks for the copy.
  - O(to=postgresql) reads the state file (C(wgsdn_state_file), else C(.wgsdn-state.json) beside the inventory)
    and writes the database C(wgsdn_state_dsn) (or the C(PG*) environment variables) names; O(to=file) does the reverse.
  - A target that already holds the same state is left alone (C(changed) false), so running it again is a no-op;
    a target holding another state is refused and nothing is written. The source is never changed.
  - The vault secret is required for the database (it encrypts the keys there) and encrypts the state file written
    back, as the C(wgsdn.fabric.allocate) lookup does. In check mode nothing is written.
  - Used by C(playbooks/state_migrate.yml).
options:
  to:
    description: The backend to copy the state to; the other one is read.
    type: str
    required: true
    choices: [file, postgresql]
  state_file:
    description: Path of the state file (as for C(wgsdn.fabric.allocate)).
    type: str
    vars:
      - name: wgsdn_state_file
  dsn:
    description: The PostgreSQL connection string; unset, the C(PG*) environment variables.
    type: raw
    vars:
      - name: wgsdn_state_dsn
  lock_timeout:
    description: Seconds to wait for another run's lock of either state.
    type: raw
    default: 300
    vars:
      - name: wgsdn_state_lock_timeout
requirements:
  - psycopg 3 (Python, on the controller)
"""

EXAMPLES = r"""
- name: Copy the state file into PostgreSQL
  ansible.builtin.debug:
    msg: "{{ lookup('wgsdn.fabric.state_migrate', to='postgresql') }}"
  run_once: true
"""

RETURN = r"""
_raw:
  description:
    - C(changed) (whether the target was written), C(hosts) and C(preshared_keys) (how many were copied),
      C(source) and C(target) (where from and to, without passwords). Never any key.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleLookupError

from ansible_collections.wgsdn.fabric.plugins.lookup.allocate import StateStores
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import stores
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.contract import DEVICES_GROUP, GATEWAYS_GROUP
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.deps import require
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError


class LookupModule(StateStores):
    def run(self, terms, variables=None, **kwargs):
        require(AnsibleLookupError, ("netaddr", "cryptography", "psycopg"))
        variables = variables or {}
        self.set_options(var_options=variables, direct=kwargs)
        groups = variables.get("groups", {})
        names = [*groups.get(GATEWAYS_GROUP, []), *groups.get(DEVICES_GROUP, [])]
        target_backend = self.get_option("to")
        source_backend = stores.FILE if target_backend == stores.POSTGRESQL else stores.POSTGRESQL
        try:
            source = self.state_store(variables, names, backend=source_backend)
            target = self.state_store(variables, names, backend=target_backend)
            result = stores.migrate(source, target, write=not variables.get("ansible_check_mode", False))
        except PlanError as exc:
            raise AnsibleLookupError(str(exc)) from None
        return [dict(result, source=stores.where(source), target=stores.where(target))]
