# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
name: allocate
author: wgsdn.fabric maintainers (!UNKNOWN)
version_added: "0.1.0"
short_description: Plan the overlay; allocate and persist addresses and WireGuard keys
description:
  - Reads the overlay from the inventory groups C(wgsdn_gateways) and C(wgsdn_devices) and their
    C(wgsdn_*) variables (never from the hosts a play targets, so C(--limit) changes nobody's peers),
    validates it, and gives every host an overlay address from C(wgsdn_network) (or its pinned
    C(wgsdn_address)), an X25519 key pair, and every pair of peers a preshared key.
  - Allocations persist in a state file (JSON, mode 0600) and are stable across runs. Adding or
    removing hosts never renumbers or re-keys the others. A removed host keeps its entry, so its
    address stays reserved and is not handed to a newcomer, until O(prune) drops it.
  - Concurrent evaluations (forks) serialise on a lock file; the file is replaced atomically.
  - When a vault secret is configured (C(--vault-password-file), C(--vault-id)), the state file is
    written encrypted with ansible-vault; an encrypted state file is read with that secret. An existing
    plaintext state file is encrypted on the next run, under the same lock and atomically, even when no
    allocation changes (its content is unchanged once decrypted), and a warning names the file.
  - In check mode nothing is written (a plaintext state file under a vault secret is named in a warning
    that says it would be encrypted).
  - On any error (bad inventory, conflicting or exhausted addresses, corrupt state) nothing is
    written and the message names the host and the variable.
  - With O(backend=postgresql) the state lives in PostgreSQL instead (O(dsn), or the C(PG*) environment
    variables); the read-allocate-write cycle is one transaction under a lock of the overlay, so several
    controllers can plan at once; private and preshared keys are stored encrypted with the vault secret,
    which is then required. An unreachable database, refused credentials, a schema newer than this
    collection's or a lock held longer than O(lock_timeout) fail the lookup with one message, and nothing
    is written.
options:
  state_file:
    description:
      - Path of the state file.
      - Defaults to C(wgsdn_state_file), else C(.wgsdn-state.json) beside the inventory.
      - May be a template such as C({{ inventory_dir }}/state.json); C(~) is expanded.
    type: str
    vars:
      - name: wgsdn_state_file
  backend:
    description:
      - Where the state lives, C(file) (the state file) or C(postgresql) (the database O(dsn) names).
    type: str
    default: file
    vars:
      - name: wgsdn_state_backend
  dsn:
    description:
      - With O(backend=postgresql), the libpq connection string (C(host=... dbname=... user=...) or a
        C(postgresql://) URI). When unset, the standard C(PG*) environment variables (C(PGHOST), C(PGDATABASE),
        C(PGUSER), C(PGPASSWORD), ...) are used, as an AWX credential injects them.
      - One overlay per database, or per schema (C(options=-csearch_path=NAME)).
      - Checked by the plugin (anything but a string is refused, naming the variable).
    type: raw
    vars:
      - name: wgsdn_state_dsn
  lock_timeout:
    description:
      - Seconds to wait for another run's lock of the state (either backend) before failing.
      - Checked by the plugin (a number above 0, at most 86400).
    type: raw
    default: 300
    vars:
      - name: wgsdn_state_lock_timeout
  prune:
    description: Drop state entries (addresses, keys) of hosts no longer in the inventory.
    type: bool
    default: false
    vars:
      - name: wgsdn_state_prune
  rotate:
    description:
      - Host names (or C(all)) whose WireGuard key pair is replaced, together with the preshared keys of every
        pair they belong to. Used by C(playbooks/rotate_keys.yml); only for one computation of the plan per run.
    type: list
    elements: str
    default: []
requirements:
  - netaddr (Python, on the controller)
  - cryptography (Python, on the controller)
  - psycopg 3 (Python, on the controller; only with O(backend=postgresql))
notes:
  - The result holds private keys. Set it with C(no_log=true) and never print it.
"""

EXAMPLES = r"""
- name: Compute the overlay plan once
  ansible.builtin.set_fact:
    wgsdn_plan: "{{ lookup('wgsdn.fabric.allocate') }}"
  run_once: true
  no_log: true

- name: Keep the state elsewhere
  ansible.builtin.set_fact:
    wgsdn_plan: "{{ lookup('wgsdn.fabric.allocate', state_file='/srv/wgsdn/state.json') }}"
  run_once: true
  no_log: true

# Or, for every run, in the inventory (group_vars/all.yml), with a vault secret configured:
#   wgsdn_state_backend: postgresql
#   wgsdn_state_dsn: "host=db.example.net dbname=wgsdn user=wgsdn sslmode=verify-full"
"""

RETURN = r"""
_raw:
  description:
    - The plan, a dictionary with C(families) (per address family of the overlay its C(network), C(prefixlen)
      and the data templates print, such as C(ip_option), C(bird_channel) and C(forwarding_sysctl)), C(network) and
      C(prefixlen) (the first family's), C(mode) (C(direct), C(hub) or C(routed)), C(interface), C(links)
      (every pair of peers, C(a), C(b) and C(kind), one of C(direct), C(hub), C(mesh), C(uplink) or C(client)),
      C(clients) (names of the unmanaged clients), C(hosts) and C(preshared_keys) (per pair C(hostA|hostB)),
      C(reflectors) (the gateways with C(wgsdn_route_reflector)) and C(warnings) (advice, also printed as Ansible warnings).
    - C(policy) is C(wgsdn_policy) resolved against the inventory's groups (see the C(wgsdn.fabric.policy_ruleset) filter), or none.
    - Per host C(role), C(address) (the first family's), C(addresses) (per family), C(router_id), C(private_key),
      C(public_key), C(endpoint), C(listen_port), C(uplinks), C(subnets), C(keepalive), C(link_name),
      C(neighbours) (hosts with a peer section here, in order), C(relays) (forwards others' packets),
      C(speaks_bgp), and for gateways C(gateway_id), C(asn) and C(route_reflector).
    - Feed it to the C(wgsdn.fabric) filters.
  type: list
  elements: dict
"""

import os

from ansible.errors import AnsibleLookupError
from ansible.parsing.vault import VaultLib, VaultSecretsContext, is_encrypted
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import stores
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.contract import CLIENTS_GROUP, DEVICES_GROUP, GATEWAYS_GROUP, INPUT_VARIABLES
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.deps import require
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan

DEFAULT_STATE_NAME = ".wgsdn-state.json"


class StateStores(LookupBase):
    """The state store that the options ``backend``, ``dsn``, ``lock_timeout`` and ``state_file`` name,
    with the run's vault secret (shared with the ``wgsdn.fabric.state_migrate`` lookup)."""

    def state_store(self, variables, names, backend=None):
        """The store the options name (after ``set_options``), or the one of ``backend``. Raises PlanError."""
        config = stores.settings(
            variables.get("inventory_hostname"),
            backend or self.get_option("backend"),
            self.get_option("dsn"),
            self.get_option("lock_timeout"),
            environ=os.environ,
        )
        if config.backend == stores.POSTGRESQL:
            require(AnsibleLookupError, ("psycopg",))
            return stores.open_store(config, None, self._codec(None))
        path = self.get_option("state_file")
        # The variable may be a template, e.g. "{{ inventory_dir }}/state.json".
        path = os.path.expanduser(str(self._templar.template(path))) if path else self._default_state_path(names, variables.get("hostvars", {}))
        return stores.open_store(config, path, self._codec(path))

    @staticmethod
    def _default_state_path(names, hostvars):
        for name in names:
            inventory_dir = hostvars.get(name, {}).get("inventory_dir")
            if inventory_dir:
                return os.path.join(inventory_dir, DEFAULT_STATE_NAME)
        raise AnsibleLookupError("wgsdn: variable 'wgsdn_state_file': not set and the inventory has no directory to put the state beside")

    def _codec(self, path):
        """``(encode, decode, encoded)`` with the run's vault secret (``encode`` None without one)."""
        secrets = vault_secrets()
        if not secrets:
            return None, _refuse_encrypted(path), None
        vaultlib = VaultLib(secrets)

        def encode(text):
            return vaultlib.encrypt(text)

        def decode(raw):
            return vaultlib.decrypt(raw).decode("utf-8") if is_encrypted(raw) else raw.decode("utf-8")

        return encode, decode, is_encrypted


class LookupModule(StateStores):
    def run(self, terms, variables=None, **kwargs):
        require(AnsibleLookupError)
        variables = variables or {}
        self.set_options(var_options=variables, direct=kwargs)
        groups = variables.get("groups", {})
        gateways = list(groups.get(GATEWAYS_GROUP, []))
        devices = list(groups.get(DEVICES_GROUP, []))
        clients = list(groups.get(CLIENTS_GROUP, []))
        hostvars = variables.get("hostvars", {})
        inputs = {}
        for name in dict.fromkeys(gateways + devices + clients):
            source = hostvars.get(name, {})
            inputs[name] = {key: source.get(key) for key in INPUT_VARIABLES if key in source}

        try:
            state_file = self.state_store(variables, gateways + devices)
            plan = compute_plan(
                gateways,
                devices,
                inputs,
                state_file,
                prune=self.get_option("prune"),
                rotate=self.get_option("rotate"),
                clients=clients,
                groups=groups,
                write=not variables.get("ansible_check_mode", False),
            )
        except PlanError as exc:
            raise AnsibleLookupError(str(exc)) from None
        for warning in [*plan["warnings"], *state_file.notices]:
            Display().warning(f"wgsdn: {warning}")  # the plan is computed once per run; Display also drops repeats
        return [plan]


def vault_secrets():
    """The vault secrets of this run (``--vault-id``, ``--vault-password-file``), as ansible-core publishes them.

    The command line's setup puts them in ``VaultSecretsContext`` (ansible-core 2.19 and later),
    which is also what decrypts vaulted variables; without a command line (the Python API) there is none.
    """
    context = VaultSecretsContext.current(optional=True)
    return list(context.secrets or []) if context is not None else []


def _refuse_encrypted(path):
    def decode(raw):
        if is_encrypted(raw):
            raise ValueError(f"{path} is vault-encrypted and no vault secret is configured (use --vault-password-file or --vault-id)")
        return raw.decode("utf-8")

    return decode
