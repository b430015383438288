#!/usr/bin/python
# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
module: receipt
author: wgsdn.fabric maintainers (!UNKNOWN)
version_added: "0.1.0"
short_description: Whether a host is as the last converge of site.yml left it
description:
  - C(site.yml) converges a host in full only when something can have changed since its last converge. It reads
    the receipt that converge wrote and observes the host again, in one module call per host. A host whose receipt
    matches is skipped by every role, which makes a converge that has nothing to do cost one task per host.
  - The receipt holds digests only, keyed (HMAC-SHA256) with a random key made on the host on first use and kept
    there (O(key), 0600), so no digest shown in a run's output can be inverted offline. C(desired) digests the plan,
    the collection's roles, plugins and playbooks, and every overlay or role variable the inventory or the command
    line sets (computed on the controller). C(observed) digests, for each path the roles write (directories
    recursively, with the names, types, modes, owners and contents), the set of the roles' units that are active,
    whether the kernel has WireGuard, and the running state the roles own (O(live)).
  - The running state, without any key material. For each WireGuard interface, its link (there, up, addresses, MTU),
    its settings (public key, listen port, fwmark), its peers (public key, allowed IPs, static endpoint, keepalive,
    whether a preshared key is set) and its forwarding switches. The table C(inet wgsdn) as the kernel prints it, its
    counters left out. Which of BIRD's protocols are enabled (those a service checker turns on and off left out;
    up or down is the network's state, not this host's).
  - Set O(state=check) to compare (nothing is written; runs in check mode too), O(state=write) after a converge
    that succeeded. A receipt is taken of a settled host only. V(write) first waits, up to 60 seconds, until none
    of the units of O(units) is starting, stopping or reloading (a restart a handler asked for, a unit waiting to
    restart); if one still is, it writes no receipt and warns, and the next C(site.yml) converges the host in full.
  - C(-e wgsdn_site_full=true) makes site.yml converge every host whatever its receipt says.
  - The action computes O(desired) and the paths; the arguments below other than O(state) are for the action to
    fill in and are not meant to be set in a playbook.
options:
  state:
    description: V(check) compares the host with its receipt; V(write) records the host as it is now.
    type: str
    choices: [check, write]
    default: check
  desired:
    description: The digest of what decides the converge (the action computes it for V(check); V(write) takes the
      O(state=check) task's C(desired)). The receipt keeps it keyed.
    type: str
    required: true
  paths:
    description: Files and directories to observe (filled in by the action).
    type: list
    elements: path
    default: []
  units:
    description: systemd unit patterns whose active units are observed (filled in by the action).
    type: list
    elements: str
    default: []
  receipt:
    description: Where the receipt is kept on the host (filled in by the action).
    type: path
    default: /var/lib/wgsdn/receipt.json
  key:
    description: Where the host's digest key is kept (filled in by the action). Made (0600) by the first V(write).
    type: path
    default: /var/lib/wgsdn/receipt.key
  live:
    description:
      - The running state to observe (filled in by the action from the plan and the roles' declarations).
      - C(interfaces), the WireGuard interfaces, with C(families), the address families of their forwarding switches.
        C(bird), whether to read BIRD's protocols, with C(bird_ignore), the protocols service checkers own.
        C(nftables), whether to read the table C(inet wgsdn).
    type: dict
    default: {}
notes:
  - The comparison errs one way only. A digest that differs for a harmless reason (an unrelated package upgrade, a
    unit restarting at that moment) costs a full converge, never a skipped one.
  - Playbooks other than site.yml neither read nor write receipts. One that changes a host (rotate_keys.yml, a
    role run from your own playbook) changes its files or the plan, so the next site.yml converges it in full.
"""

EXAMPLES = r"""
- name: Compare each host with the receipt its last converge left
  wgsdn.fabric.receipt:
  register: __site_receipt

- name: Converge WireGuard where something can have changed
  ansible.builtin.include_role:
    name: wgsdn.fabric.wireguard
  when: not __site_receipt.current

- name: Record what the converge left
  wgsdn.fabric.receipt:
    state: write
    desired: "{{ __site_receipt.desired }}"
  when: not ansible_check_mode and not __site_receipt.current
"""

RETURN = r"""
current:
  description: True when the receipt matches (O(state=check)).
  returned: success
  type: bool
reasons:
  description: Why the host must converge, one sentence each; empty when it need not (O(state=check)).
  returned: success
  type: list
  elements: str
  sample: ["/etc/bird is not as the last converge left it"]
desired:
  description: The digest of what decides this converge, to pass to the O(state=write) task.
  returned: success
  type: str
observed:
  description: Each observed path, C(active units), C(kernel wireguard) and each part of the running state, with its keyed digest.
  returned: success
  type: dict
unsettled:
  description: The units still changing state when O(state=write) gave up waiting (no receipt was written).
  returned: when a unit did not settle in 60 seconds
  type: list
  elements: str
"""

import json
import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wgsdn.fabric.plugins.module_utils import bird, digest, nft, wireguard
from ansible_collections.wgsdn.fabric.plugins.module_utils.files import write_atomic

# systemd's active states of a unit on its way somewhere else, and how long a write waits them out.
TRANSITIONAL_STATES = "activating,deactivating,reloading,refreshing"
SETTLE_SECONDS = 60


def active_units(module, patterns, states="active"):
    """The names of the units matching ``patterns`` in one of ``states`` (sorted), or None without systemd."""
    systemctl = module.get_bin_path("systemctl")
    if not systemctl or not patterns:
        return None
    rc, out, _err = module.run_command(
        [systemctl, "list-units", f"--state={states}", "--type=service,timer,socket", "--plain", "--no-legend", "--no-pager", "--full", "--", *patterns]
    )
    if rc != 0:
        return None
    return sorted(line.split()[0] for line in out.splitlines() if line.strip())


def unsettled_units(module, patterns, wait, interval=0.5):
    """The units matching ``patterns`` still starting, stopping or reloading after up to ``wait``
    seconds (a restart a handler just asked for, a unit in its restart delay): [] once none is."""
    deadline = time.monotonic() + wait
    while True:
        moving = active_units(module, patterns, TRANSITIONAL_STATES) or []
        if not moving or time.monotonic() >= deadline:
            return moving
        time.sleep(interval)


def observe_live(module, live):
    """``{name: value}`` of the running state the roles own, each value plain data without key material."""

    def run(argv):
        return module.run_command(argv)

    found = {}
    families = live.get("families") or []
    # A host the roles have not installed yet (a bare host, checked before its first converge) has
    # no wg, perhaps no ip: what is not there is observed as absent, never run.
    have_ip, have_wg = module.get_bin_path("ip"), module.get_bin_path("wg")
    for name in live.get("interfaces") or []:
        shown = (run(["ip", "-j", "link", "show", "dev", name])[1], run(["ip", "-j", "address", "show", "dev", name])[1]) if have_ip else None
        found[f"{name} link"] = wireguard.live_link(*shown) if shown else None
        rc, out, _err = run(["wg", "showconf", name]) if have_wg else (1, "", "")
        state = wireguard.canonical(wireguard.parse_config(out)) if rc == 0 else None
        if state is not None:
            state["public_key"] = run(["wg", "show", name, "public-key"])[1].strip()
            view = wireguard.public_view(state)
            found[f"{name} peers"] = view.pop("peers")
            found[f"{name} settings"] = view
        else:
            found[f"{name} peers"] = found[f"{name} settings"] = None
        switches = {}
        for family in families:
            try:
                with open(f"/proc/sys/net/{family}/conf/{name}/forwarding", encoding="ascii") as handle:
                    switches[family] = handle.read().strip()
            except OSError:
                switches[family] = None
        found[f"{name} forwarding switches"] = switches
    if live.get("nftables"):
        found[f"table {nft.TABLE}"] = nft.live(run) if module.get_bin_path("nft") else None
    if live.get("bird"):
        rc, out, _err = run(["birdc", "-r", "show", "protocols"]) if module.get_bin_path("birdc") else (1, "", "")
        ignore = set(live.get("bird_ignore") or [])
        found["bird protocols"] = {n: on for n, on in bird.enabled(out).items() if n not in ignore} if rc == 0 else None
    return found


def observe(module, key, params):
    receipt = params["receipt"]
    skip = {receipt, params["key"]} | {os.path.join(os.path.dirname(receipt), name) for name in _temporaries(receipt)}
    observed = {path: digest.tree(key, path, skip) for path in params["paths"]}
    units = active_units(module, params["units"])
    observed["active units"] = "unavailable" if units is None else digest.mac(key, "\n".join(units))
    observed["kernel wireguard"] = "yes" if os.path.isdir("/sys/module/wireguard") else "no"
    for name, value in observe_live(module, params["live"]).items():
        observed[name] = digest.mac(key, json.dumps(value, sort_keys=True))
    return observed, units


def _temporaries(receipt):
    directory, base = os.path.split(receipt)
    try:
        return [name for name in os.listdir(directory) if name.startswith(f".{base}.")]
    except OSError:
        return []


def read_receipt(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def main():
    module = AnsibleModule(
        argument_spec={
            "state": {"type": "str", "choices": ["check", "write"], "default": "check"},
            "desired": {"type": "str", "required": True},
            "paths": {"type": "list", "elements": "path", "default": []},
            "units": {"type": "list", "elements": "str", "default": []},
            "receipt": {"type": "path", "default": "/var/lib/wgsdn/receipt.json"},
            "key": {"type": "path", "default": "/var/lib/wgsdn/receipt.key", "no_log": False},
            "live": {"type": "dict", "default": {}},
        },
        supports_check_mode=True,
    )
    params = module.params
    writing = params["state"] == "write"
    if writing:
        # A receipt records a settled host: one taken while a unit restarts would not match the next check.
        moving = unsettled_units(module, params["units"], SETTLE_SECONDS)
        if moving:
            units = ", ".join(moving)
            module.warn(f"no receipt written: {units} still changing state after {SETTLE_SECONDS} s; the next site.yml converges this host in full")
            module.exit_json(changed=False, unsettled=moving)
    # Before observing: the key's directory (the receipt's) may be among the observed paths. A check on a host
    # without a key compares with a throwaway one: no receipt made with another key can match, which is right.
    key = digest.host_key(params["key"], create=writing and not module.check_mode)
    observed, units = observe(module, key, params)
    desired = digest.mac(key, params["desired"])
    if not writing:
        module.exit_json(changed=False, observed=observed, units=units, desired=desired, receipt=read_receipt(params["receipt"]))
    content = (json.dumps({"desired": desired, "observed": observed}, indent=1, sort_keys=True) + "\n").encode()
    changed = read_receipt(params["receipt"]) != json.loads(content)
    if changed and not module.check_mode:
        write_atomic(params["receipt"], content, 0o600, durable=True)
    module.exit_json(changed=changed, observed=observed, units=units)


if __name__ == "__main__":
    main()
