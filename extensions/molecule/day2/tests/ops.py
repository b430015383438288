"""Day-2 helpers: run the collection's playbooks as an administrator would, watch
the live hosts' WireGuard state, and keep every secret out of the output.

Playbooks run with `ansible-playbook` against the inventory Molecule wrote (the
state file `.wgsdn-state.json` sits beside it), plus the extra inventory files of
this scenario (`inventory/*.yml`) when a test changes the inventory. Every run's
output is checked for each private and preshared key the state file has held.
"""

import base64
import hashlib
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from wgsdn_testkit import scenario
from wgsdn_testkit.docker import docker_exec
from wgsdn_testkit.playbooks import ROOT
from wgsdn_testkit.playbooks import playbook as ansible_playbook

SCENARIO = Path(__file__).resolve().parents[1]
INVENTORY = scenario.inventory()
STATE = Path(INVENTORY).parent / ".wgsdn-state.json"
MEASUREMENTS = {}
_SECRETS = set()


def extra_inventory(name):
    return str(SCENARIO / "inventory" / f"{name}.yml")


def read_state():
    """The state file; every key it holds is remembered as a secret to look for in outputs."""
    state = json.loads(STATE.read_text())
    _SECRETS.update(h["private_key"] for h in state["hosts"].values())
    _SECRETS.update(state["preshared_keys"].values())
    return state


def leaked(text):
    """The number of known secrets found in ``text`` (never the secrets themselves)."""
    return sum(1 for secret in _SECRETS if secret in text)


def public_key(private_key):
    key = X25519PrivateKey.from_private_bytes(base64.b64decode(private_key))
    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def digest(secret):
    """A short fingerprint, safe to print or compare in assertions."""
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def playbook(name, *args, inventories=(), record=None):
    """Run playbooks/NAME.yml; returns the CompletedProcess with ``.seconds`` and ``.out``.

    Fails the test if any private or preshared key of the state (before or
    after the run) appears in stdout or stderr.
    """
    read_state()
    extra = [arg for inventory in inventories for arg in ("-i", extra_inventory(inventory))]
    run = ansible_playbook("-i", INVENTORY, *extra, ROOT / "playbooks" / f"{name}.yml", *args, timeout=900)
    read_state()
    assert leaked(run.out) == 0, f"{leaked(run.out)} private/preshared key(s) printed by {name}.yml {' '.join(args)}"
    if record:
        MEASUREMENTS[record] = round(run.seconds, 1)
    print(f"ansible-playbook {name}.yml {' '.join(args)} {' '.join('-i ' + i for i in inventories)}: rc={run.returncode}, {run.seconds:.1f} s")
    return run


def wg_snapshot(container):
    """Everything `wg show all dump` says a host is configured with (not live counters).

    Keys are replaced by fingerprints: {(interface, "self"): (private, port),
    (interface, peer public key): (preshared, allowed IPs, keepalive)}.
    """
    snap = {}
    for line in docker_exec(container, "wg show all dump").splitlines():
        f = line.split("\t")
        if len(f) == 5:
            snap[(f[0], "self")] = (digest(f[1]), f[3])
        elif len(f) == 9:
            snap[(f[0], f[1])] = (digest(f[2]), f[4], f[8])
    return snap


def config_digests(container):
    """sha256 of every WireGuard and BIRD configuration file on a host."""
    return docker_exec(container, "sha256sum /etc/wireguard/*.conf /etc/bird/bird.conf /etc/bird/bird.d/*.conf 2>/dev/null || true")


def allowed_ips(container, interface):
    """{peer public key: [allowed IPs]} of one interface."""
    out = docker_exec(container, f"wg show {interface} allowed-ips")
    return {key: nets for key, *nets in (line.split() for line in out.splitlines())}
