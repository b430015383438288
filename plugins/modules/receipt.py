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
  - The receipt holds digests only. C(desired) digests the plan, the collection's roles, plugins and playbooks, and
    every overlay or role variable the inventory or the command line sets (computed on the controller). C(observed)
    digests, for each path the roles write (directories recursively, with the names, types, modes, owners and contents), the
    set of the roles' units that are active, and whether the kernel has WireGuard.
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
    description: The digest of what decided the converge, from the O(state=check) task's result (for V(write)).
    type: str
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
  description: Each observed path, C(active units) and C(kernel wireguard), with its digest.
  returned: success
  type: dict
unsettled:
  description: The units still changing state when O(state=write) gave up waiting (no receipt was written).
  returned: when a unit did not settle in 60 seconds
  type: list
  elements: str
"""

import hashlib
import json
import os
import stat
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

# systemd's active states of a unit on its way somewhere else, and how long a write waits them out.
TRANSITIONAL_STATES = "activating,deactivating,reloading,refreshing"
SETTLE_SECONDS = 60


def _entry(path):
    """One filesystem entry: what it is, its mode and owner, and its content's digest or link target;
    with whether it is a directory to descend into."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return "missing", False
    head = f"{stat.S_IFMT(info.st_mode):o} {stat.S_IMODE(info.st_mode):o} {info.st_uid}:{info.st_gid}"
    if stat.S_ISLNK(info.st_mode):
        return f"{head} -> {os.readlink(path)}", False
    if stat.S_ISREG(info.st_mode):
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return f"{head} {digest.hexdigest()}", False
    return head, stat.S_ISDIR(info.st_mode)


def tree_digest(top, skip=()):
    """SHA-256 over ``top`` and, for a directory, everything under it (links not followed; ``skip`` left out)."""
    digest = hashlib.sha256()
    pending = [top]
    while pending:
        path = pending.pop()
        if path in skip:
            continue
        entry, directory = _entry(path)
        digest.update(f"{os.path.relpath(path, top)}\0{entry}\n".encode())
        if directory:
            pending.extend(sorted((os.path.join(path, name) for name in os.listdir(path)), reverse=True))
    return digest.hexdigest()


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


def observe(module, paths, patterns, receipt):
    skip = {receipt} | {os.path.join(os.path.dirname(receipt), name) for name in _temporaries(receipt)}
    observed = {path: tree_digest(path, skip) for path in paths}
    units = active_units(module, patterns)
    observed["active units"] = "unavailable" if units is None else hashlib.sha256("\n".join(units).encode()).hexdigest()
    observed["kernel wireguard"] = "yes" if os.path.isdir("/sys/module/wireguard") else "no"
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


def write_receipt(path, content):
    """Replace ``path`` with ``content`` atomically (0600); False when it already holds exactly that."""
    try:
        with open(path, "rb") as handle:
            if handle.read() == content:
                return False
    except OSError:
        pass
    directory, base = os.path.split(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{base}.", dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return True


def main():
    module = AnsibleModule(
        argument_spec={
            "state": {"type": "str", "choices": ["check", "write"], "default": "check"},
            "desired": {"type": "str"},
            "paths": {"type": "list", "elements": "path", "default": []},
            "units": {"type": "list", "elements": "str", "default": []},
            "receipt": {"type": "path", "default": "/var/lib/wgsdn/receipt.json"},
        },
        required_if=[("state", "write", ["desired"])],
        supports_check_mode=True,
    )
    params = module.params
    if params["state"] == "write" and not module.check_mode:
        # Before observing: the receipt's own directory may be among the observed paths.
        os.makedirs(os.path.dirname(params["receipt"]), mode=0o700, exist_ok=True)
    if params["state"] == "write":
        # A receipt records a settled host: one taken while a unit restarts would not match the next check.
        moving = unsettled_units(module, params["units"], SETTLE_SECONDS)
        if moving:
            units = ", ".join(moving)
            module.warn(f"no receipt written: {units} still changing state after {SETTLE_SECONDS} s; the next site.yml converges this host in full")
            module.exit_json(changed=False, unsettled=moving)
    observed, units = observe(module, params["paths"], params["units"], params["receipt"])
    if params["state"] == "check":
        module.exit_json(changed=False, observed=observed, units=units, receipt=read_receipt(params["receipt"]))
    content = (json.dumps({"desired": params["desired"], "observed": observed}, indent=1, sort_keys=True) + "\n").encode()
    changed = read_receipt(params["receipt"]) != json.loads(content) if module.check_mode else write_receipt(params["receipt"], content)
    module.exit_json(changed=changed, observed=observed, units=units)


if __name__ == "__main__":
    main()
