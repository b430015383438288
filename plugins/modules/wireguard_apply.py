#!/usr/bin/python
# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
module: wireguard_apply
author: wgsdn.fabric maintainers (!UNKNOWN)
version_added: "0.1.0"
short_description: Bring running WireGuard interfaces to what their wg-quick files say
description:
  - The apply step of the M(wgsdn.fabric.wireguard) role's converge. For each interface of O(interfaces) whose
    C(wg-quick@) unit is active, it compares the running interface with its files and mends what differs.
  - A restart of that one interface when its link is missing or down, its addresses or MTU are not those of its
    settings file (C(Address), C(PostUp = ip address add L peer P), C(MTU)), or the settings file changed since it
    was last applied.
  - Otherwise C(wg syncconf), which keeps live sessions, when the configuration file changed since it was last
    applied (a controller killed between writing a file and applying it leaves exactly that) or when the running
    interface differs from it (a peer removed or edited by hand, another key, port or fwmark).
  - With O(forwarding), each interface's per-interface forwarding switch of those families is turned on again.
  - In check mode it reports what it would do and changes nothing.
  - Key material never leaves the host. The reasons it returns name interfaces and what differs, never a key.
options:
  interfaces:
    description: The WireGuard interfaces this role manages on the host.
    type: list
    elements: str
    required: true
  state_dir:
    description: Where the role keeps each interface's settings file and the digests of the files last applied.
    type: path
    required: true
  forwarding:
    description: Address families (C(ipv4), C(ipv6)) whose forwarding switch every interface of O(interfaces) must have on.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Apply what the running interfaces lag behind
  wgsdn.fabric.wireguard_apply:
    interfaces: [wg0, wg-gateway2]
    state_dir: /var/lib/wgsdn/wireguard
    forwarding: [ipv4]
"""

RETURN = r"""
actions:
  description: What was done (or would be, in check mode), one line per interface and action, with the reasons.
  returned: always
  type: list
  elements: str
  sample: ["restart wg-gateway2 (missing)", "sync wg0 (peers)", "forwarding wg0 ipv4"]
drift:
  description: What of the running interfaces is not what their files say, one line per interface.
  returned: always
  type: list
  elements: str
  sample: ["wg-gateway2: missing", "wg0: peers"]
"""

import hashlib
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.wgsdn.fabric.plugins.module_utils import wireguard


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _digest(content):
    return hashlib.sha256(content or b"").hexdigest()


class Interface:
    """One interface's files, running state and the action that brings them together."""

    def __init__(self, module, state_dir, name, config_dir="/etc/wireguard"):
        self.module, self.name = module, name
        self.conf_path = os.path.join(config_dir, f"{name}.conf")
        self.settings_path = os.path.join(state_dir, f"{name}.settings")
        self.applied = {kind: os.path.join(state_dir, f"{name}.{kind}.applied") for kind in ("conf", "settings")}

    def run(self, *argv, check=True):
        rc, out, err = self.module.run_command(list(argv))
        if check and rc != 0:
            self.module.fail_json(msg=f"{self.name}: {' '.join(argv[:3])} failed: {err.strip() or out.strip()}")
        return rc, out

    def unit_active(self):
        return self.run("systemctl", "is-active", "--quiet", f"wg-quick@{self.name}", check=False)[0] == 0

    def _lags(self, kind, path):
        """Whether a file changed since it was last applied (settings: only once they were applied at all,
        since a unit that just started read them)."""
        recorded = (_read(self.applied[kind]) or b"").decode().strip()
        if kind == "settings" and not recorded:
            return False
        return _digest(_read(path)) != recorded

    def stripped(self):
        return self.run("wg-quick", "strip", self.name)[1]

    def decide(self):
        """``(action, reasons)``: ``("restart", [...])``, ``("sync", [...])`` or ``(None, [])``."""
        settings = wireguard.parse_settings((_read(self.settings_path) or b"").decode())
        link = wireguard.live_link(
            self.run("ip", "-j", "link", "show", "dev", self.name, check=False)[1], self.run("ip", "-j", "address", "show", "dev", self.name, check=False)[1]
        )
        reasons = wireguard.link_differences(settings, link)
        if self._lags("settings", self.settings_path):
            reasons.append("settings file changed")
        if reasons:
            return "restart", reasons
        if self._lags("conf", self.conf_path):
            reasons.append("file changed")
        wanted = wireguard.canonical(wireguard.parse_config(self.stripped()))
        live = wireguard.canonical(wireguard.parse_config(self.run("wg", "showconf", self.name)[1]))
        reasons.extend(wireguard.differences(wanted, live))
        return ("sync", reasons) if reasons else (None, [])

    def apply(self, action):
        if action == "restart":
            # A link deleted by hand makes wg-quick's stop fail; systemd starts the unit all the same.
            self.run("systemctl", "restart", f"wg-quick@{self.name}")
        else:
            # Never hand syncconf an empty or partial configuration: strip must succeed and hold a key.
            stripped = self.stripped()
            if "PrivateKey" not in wireguard.parse_config(stripped)["interface"]:
                self.module.fail_json(msg=f"{self.name}: wg-quick strip gave no private key; nothing applied")
            with tempfile.NamedTemporaryFile("w", prefix=f".{self.name}.", dir="/run") as handle:
                os.chmod(handle.name, 0o600)
                handle.write(stripped)
                handle.flush()
                self.run("wg", "syncconf", self.name, handle.name)
        for kind, path in (("conf", self.conf_path), ("settings", self.settings_path)):
            with open(self.applied[kind], "w", encoding="ascii") as handle:
                handle.write(_digest(_read(path)) + "\n")


def forwarding_off(name, families, proc="/proc/sys/net"):
    """The families whose per-interface forwarding switch is off on ``name`` (an absent interface has none)."""
    off = []
    for family in families:
        path = f"{proc}/{family}/conf/{name}/forwarding"
        value = _read(path)
        if value is not None and value.strip() != b"1":
            off.append((family, path))
    return off


def main():
    module = AnsibleModule(
        argument_spec={
            "interfaces": {"type": "list", "elements": "str", "required": True},
            "state_dir": {"type": "path", "required": True},
            "forwarding": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    os.umask(0o077)
    actions, drift = [], []
    for name in module.params["interfaces"]:
        interface = Interface(module, module.params["state_dir"], name)
        if not interface.unit_active():
            continue  # a stopped unit reads its file when it starts
        action, reasons = interface.decide()
        if action:
            actions.append(f"{action} {name} ({', '.join(reasons)})")
            drift.append(f"{name}: {', '.join(reasons)}")
            if not module.check_mode:
                interface.apply(action)
        for family, path in forwarding_off(name, module.params["forwarding"]):
            actions.append(f"forwarding {name} {family}")
            drift.append(f"{name}: {family} forwarding off")
            if not module.check_mode:
                with open(path, "w", encoding="ascii") as handle:
                    handle.write("1\n")
    module.exit_json(changed=bool(actions), actions=actions, drift=drift)


if __name__ == "__main__":
    main()
