# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The converge receipt: whether anything can have changed on a host since its last converge.

site.yml ends by writing, on every host it converged, a receipt: a digest of what
decided that converge (``desired``: the plan as it reaches that host, ``host_view``; the
collection's own files and every role or overlay variable the inventory or the command
line sets) and digests of what
the converge left on the host (``observed``: the files under the roles' paths, the
roles' units that are active, the forwarding sysctls, the package database). The
next site.yml reads the receipt and observes the host again in one module call; a
host whose digests all match is as its last converge left it, and nothing the roles
would compute for it differs, so the roles are not run there at all.

Anything that differs (a hand-edited file, a stopped unit, a removed package, a new
peer of this host, an upgraded collection, ``-e bird_bfd=false``) makes the host
converge in full, as it did before receipts existed. A change elsewhere in the overlay
that reaches none of the host's files (a device added behind another gateway, whose
routes arrive over BGP) converges nothing there. The comparison errs one way
only: a digest that differs for a harmless reason costs a full converge, never a
skipped one.

Plain Python, no Ansible imports: the action plugin ``wgsdn.fabric.receipt`` gathers
the inputs, the module of the same name observes the host.
"""

import functools
import hashlib
import json
import os

import yaml

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import metrics, policy, topology
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.model import ROUTED

# Variables of the overlay contract and of the plan: they decide a converge beside each role's own.
CONTRACT_PREFIXES = ("wgsdn_",)

# Variables that choose how site.yml runs, not what a host gets (rotate_keys.yml's choice
# of hosts reaches the hosts through the plan's keys, which are hashed; where the state
# lives reaches them through the plan too: moving it to PostgreSQL converges no host).
RUN_OPTIONS = frozenset({"wgsdn_site_full", "wgsdn_rotate_keys", "wgsdn_state_backend", "wgsdn_state_dsn", "wgsdn_state_lock_timeout"})

# What each role declares it owns, in roles/<role>/meta/wgsdn.yml.
DECLARATION = os.path.join("meta", "wgsdn.yml")
DECLARATION_KEYS = ("variables", "paths", "fixed_paths", "runtime_paths", "units", "live")


@functools.lru_cache(maxsize=4)
def declarations(root):
    """``{role: declaration}`` of every role of the collection at ``root``, each with its defaults (``defaults``)."""
    result = {}
    roles = os.path.join(root, "roles")
    for role in sorted(os.listdir(roles)):
        path = os.path.join(roles, role, DECLARATION)
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as handle:
            declared = yaml.safe_load(handle) or {}
        unknown = sorted(set(declared) - set(DECLARATION_KEYS))
        if unknown:
            raise ValueError(f"{path}: unknown key(s) {', '.join(unknown)}")
        with open(os.path.join(roles, role, "defaults", "main.yml"), encoding="utf-8") as handle:
            defaults = yaml.safe_load(handle) or {}
        result[role] = {key: tuple(declared.get(key) or ()) for key in DECLARATION_KEYS} | {"defaults": defaults}
    return result


def _union(declared, key):
    return sorted({item for role in declared.values() for item in role[key]})


def input_prefixes(declared):
    """Prefixes of the variables that decide a converge: the contract's and every role's."""
    return tuple(CONTRACT_PREFIXES) + tuple(_union(declared, "variables"))


def units(declared):
    """The unit patterns whose active set is observed."""
    return _union(declared, "units")


def live(declared):
    """The kinds of running state observed beside the files."""
    return _union(declared, "live")


# What a converge's result is kept as on the host, and the host's digest key (both outside every hashed path's digest).
RECEIPT_FILE = "/var/lib/wgsdn/receipt.json"
KEY_FILE = "/var/lib/wgsdn/receipt.key"

# Observed parts of a host that are not paths: the wording of their reasons.
HOST_FACTS = ("active units", "kernel wireguard")

# Parts of the collection whose change changes what a converge does.
CODE_DIRECTORIES = ("roles", "plugins", "playbooks")


def _canonical(value):
    """Bytes that are the same for equal data, whatever the order of its mappings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_sorted_or_str).encode()


def _sorted_or_str(value):
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    return str(value)


def inputs(variables, declared):
    """The variables of ``variables`` that decide a converge (the plan excepted), by name."""
    prefixes = input_prefixes(declared)
    return {name: value for name, value in variables.items() if name.startswith(prefixes) and name != "wgsdn_plan" and name not in RUN_OPTIONS}


def paths(variables, declared):
    """The paths to observe on a host: what the roles declare, path variables at the value the inventory gives them."""
    found = set()
    for role in declared.values():
        found.update(role["fixed_paths"])
        for name in role["paths"]:
            value = variables.get(name, role["defaults"].get(name))
            if isinstance(value, str) and value.startswith("/"):
                found.add(value)
    return sorted(found)


def code_digest(root):
    """SHA-256 of the collection's roles, plugins and playbooks (names and contents; caches left out)."""
    digest = hashlib.sha256()
    for directory in CODE_DIRECTORIES:
        top = os.path.join(root, directory)
        for here, dirs, names in os.walk(top):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(names):
                if name.endswith(".pyc"):
                    continue
                path = os.path.join(here, name)
                digest.update(os.path.relpath(path, root).encode() + b"\0")
                with open(path, "rb") as handle:
                    digest.update(hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()


# Plan keys that are other hosts' business: each host sees its part through host_view's functions.
PER_HOST_PLAN_KEYS = frozenset({"hosts", "links", "preshared_keys", "clients", "warnings"})


def host_view(plan, host_name):
    """The plan as it reaches one host: the functions through which the roles read it for that host
    (its WireGuard interfaces and peer sections, its BIRD settings with and without device BGP, its
    nftables ruleset, its exporter settings), its own entry, and every overlay-wide setting (families,
    mode, networks, the resolved policy, monitors, reflectors). The roles read the plan through
    nothing else (tests/unit/plugins/plugin_utils/test_receipt.py holds them to it)."""
    return {
        "shared": {key: value for key, value in plan.items() if key not in PER_HOST_PLAN_KEYS},
        "host": plan["hosts"][host_name],
        "interfaces": topology.wg_interfaces(plan, host_name),
        "bird": [topology.bird_settings(plan, host_name, device_bgp=device_bgp) for device_bgp in (True, False)],
        "ruleset": policy.ruleset(plan, host_name),
        "metrics": metrics.host_settings(plan, host_name),
    }


def desired_digest(view, variables, code):
    """SHA-256 of what decides a converge: the plan as it reaches the host (``host_view``), the deciding
    variables (from ``inputs``), the collection's code."""
    return hashlib.sha256(_canonical({"plan": view, "inputs": variables, "code": code})).hexdigest()


def differences(receipt, desired, observed):
    """Why the host must converge, one sentence each; empty when it is as its last converge left it."""
    if not receipt:
        return ["no receipt: site.yml has not converged this host since receipts exist"]
    if not isinstance(receipt, dict) or not isinstance(receipt.get("observed"), dict):
        return [f"the receipt {RECEIPT_FILE} is not one site.yml writes"]
    reasons = []
    if receipt.get("desired") != desired:
        reasons.append("the plan, the collection or a role or overlay variable changed since the last converge")
    before = receipt["observed"]
    for name in sorted(set(before) | set(observed)):
        if before.get(name) != observed.get(name):
            on_disk = name.startswith("/") or name in HOST_FACTS
            reasons.append(f"{name} {'is not as the last converge left it' if on_disk else 'changed since the last converge'}")
    return reasons


def live_arguments(plan, host_name, kinds):
    """What of a host's running state the receipt module observes, from the plan: the ``kinds`` the roles declare."""
    host = plan["hosts"][host_name]
    found = {}
    if "wireguard" in kinds:
        found["interfaces"] = topology.interface_names(plan, host_name)
        found["families"] = [family["name"] for family in plan["families"]]
    if "bird" in kinds and plan["mode"] == ROUTED:
        found["bird"] = True
        found["bird_ignore"] = [service["protocol"] for service in host.get("services", [])]
    if "nftables" in kinds:
        found["nftables"] = True
    return found
