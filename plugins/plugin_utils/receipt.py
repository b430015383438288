# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The converge receipt: whether anything can have changed on a host since its last converge.

site.yml ends by writing, on every host it converged, a receipt: a digest of what
decided that converge (``desired``: the plan, the collection's own files and every
role or overlay variable the inventory or the command line sets) and digests of what
the converge left on the host (``observed``: the files under the roles' paths, the
roles' units that are active, the forwarding sysctls, the package database). The
next site.yml reads the receipt and observes the host again in one module call; a
host whose digests all match is as its last converge left it, and nothing the roles
would compute for it differs, so the roles are not run there at all.

Anything that differs (a hand-edited file, a stopped unit, a removed package, a new
host in the inventory, an upgraded collection, ``-e bird_bfd=false``) makes the host
converge in full, as it did before receipts existed. The comparison errs one way
only: a digest that differs for a harmless reason costs a full converge, never a
skipped one.

Plain Python, no Ansible imports: the action plugin ``wgsdn.fabric.receipt`` gathers
the inputs, the module of the same name observes the host.
"""

import hashlib
import json
import os

# Variables that decide what the roles do: the overlay contract's and every role's.
INPUT_PREFIXES = ("wgsdn_", "wireguard_", "bird_", "bfd_", "common_", "services_", "metrics_", "policy_", "plan_")

# Variables that choose how site.yml runs, not what a host gets (rotate_keys.yml's choice
# of hosts reaches the hosts through the plan's keys, which are hashed).
RUN_OPTIONS = frozenset({"wgsdn_site_full", "wgsdn_rotate_keys"})

# Where the roles write on a host with their default variables: each entry is
# hashed whole (a directory recursively: names, types, modes, owners, contents).
DEFAULT_PATHS = (
    "/etc/wireguard",
    "/var/lib/wgsdn",
    "/etc/bird",
    "/etc/wgsdn",
    "/usr/local/lib/wgsdn",
    "/etc/nftables.d",
    "/etc/sysctl.d/60-wgsdn-forwarding.conf",
    "/etc/default/prometheus-node-exporter",
    "/etc/default/prometheus-bird-exporter",
    # Unit files, drop-ins and the enablement symlinks of every unit.
    "/etc/systemd/system",
    # What is installed: any package change makes the next run a full one.
    "/var/lib/dpkg/status",
    # The running forwarding switches (wireguard's sysctl task sets them).
    "/proc/sys/net/ipv4/ip_forward",
    "/proc/sys/net/ipv6/conf/all/forwarding",
)

# Role variables that move one of the paths above: when the inventory sets one, its
# value is hashed too. tests/unit checks that every role default holding an absolute
# path is listed here or in RUNTIME_PATH_VARIABLES.
PATH_VARIABLES = (
    "bfd_config_file",
    "bird_config_file",
    "bird_include_dir",
    "common_bird_state_dir",
    "metrics_collector_path",
    "metrics_peers_file",
    "policy_ruleset_file",
    "services_checker",
    "services_config_dir",
    "wireguard_state_dir",
    "wireguard_sysctl_file",
)

# Paths that change while the fabric runs (the collector's output, BIRD's socket), or
# that are on the controller: never part of the host's digest.
RUNTIME_PATH_VARIABLES = ("metrics_textfile_dir", "metrics_bird_socket", "wireguard_client_dir")

# The units the roles run (systemd patterns): the set of them that is active is hashed.
UNIT_PATTERNS = (
    "wg-quick@*",
    "bird.service",
    "wgsdn-*",
    "prometheus-node-exporter.service",
    "prometheus-bird-exporter.service",
)

# What a converge's result is kept as on the host (outside every hashed path's digest).
RECEIPT_FILE = "/var/lib/wgsdn/receipt.json"

# Parts of the collection whose change changes what a converge does.
CODE_DIRECTORIES = ("roles", "plugins", "playbooks")


def _canonical(value):
    """Bytes that are the same for equal data, whatever the order of its mappings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_sorted_or_str).encode()


def _sorted_or_str(value):
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    return str(value)


def inputs(variables):
    """The variables of ``variables`` that decide a converge (the plan excepted), by name."""
    return {name: value for name, value in variables.items() if name.startswith(INPUT_PREFIXES) and name != "wgsdn_plan" and name not in RUN_OPTIONS}


def paths(variables):
    """The paths to observe on a host: the defaults and the ones the inventory moved roles' files to."""
    moved = [variables[name] for name in PATH_VARIABLES if isinstance(variables.get(name), str) and variables[name].startswith("/")]
    return sorted(set(DEFAULT_PATHS) | set(moved))


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


def desired_digest(plan, variables, code):
    """SHA-256 of what decides a converge: the whole plan, the deciding variables, the collection's code."""
    return hashlib.sha256(_canonical({"plan": plan, "inputs": inputs(variables), "code": code})).hexdigest()


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
            reasons.append(f"{name} is not as the last converge left it")
    return reasons
