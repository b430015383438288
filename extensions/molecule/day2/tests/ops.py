"""Day-2 helpers: run the collection's playbooks as an administrator would, watch
the live hosts, measure ping streams, and keep every secret out of the output.

Playbooks run with `ansible-playbook` against the inventory Molecule wrote (the
state file `.wgsdn-state.json` sits beside it), plus the extra inventory files of
this scenario (`inventory/*.yml`) when a test changes the inventory. Every run's
output is checked for each private and preshared key the state file has held.
"""

import base64
import hashlib
import itertools
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ROOT = Path(__file__).resolve().parents[4]
SCENARIO = Path(__file__).resolve().parents[1]
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
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
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"),
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
    )
    exe = Path(sys.executable).with_name("ansible-playbook")
    cmd = [str(exe) if exe.exists() else "ansible-playbook", "-i", INVENTORY]
    for extra in inventories:
        cmd += ["-i", extra_inventory(extra)]
    cmd += [str(ROOT / "playbooks" / f"{name}.yml"), *args]
    start = time.monotonic()
    run = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True, timeout=900)
    run.seconds = time.monotonic() - start
    run.out = run.stdout + run.stderr
    read_state()
    assert leaked(run.out) == 0, f"{leaked(run.out)} private/preshared key(s) printed by {name}.yml {' '.join(args)}"
    if record:
        MEASUREMENTS[record] = round(run.seconds, 1)
    print(f"ansible-playbook {name}.yml {' '.join(args)} {' '.join('-i ' + i for i in inventories)}: rc={run.returncode}, {run.seconds:.1f} s")
    return run


def recap(run):
    """{host: {ok, changed, unreachable, failed, ...}} from PLAY RECAP."""
    hosts = {}
    for m in re.finditer(r"^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$", run.stdout, re.M):
        hosts[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
    return hosts


def docker_exec(container, script, stdin=None, check=True):
    run = subprocess.run(["docker", "exec", "-i", container, "bash", "-c", script], input=stdin, capture_output=True, text=True, timeout=120, check=False)
    if check:
        assert run.returncode == 0, f"{container}: {script!r} failed: {run.stderr[-500:]}"
    return run.stdout


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


class PingStream:
    """`ping -D -i 0.01 -c N` inside a container, stopped with SIGINT when the change is done.

    Loss is counted by sequence number over every request sent at least one
    second before the stop (later ones may legitimately still be in flight).
    """

    def __init__(self, src, dst, count=60000):
        self.src, self.dst = src, dst
        self.pid = docker_exec(
            src,
            f"rm -f /tmp/stream.log; setsid ping -D -n -W 1 -i 0.01 -c {count} {dst} >/tmp/stream.log 2>&1 </dev/null & echo $!",
        ).strip()
        assert self.pid.isdigit(), self.pid
        time.sleep(1.5)  # some replies before the change begins
        self.started = time.time()

    def stop(self, settle=1.5):
        time.sleep(settle)
        docker_exec(self.src, f"kill -INT {self.pid}; while kill -0 {self.pid} 2>/dev/null; do sleep 0.05; done")
        out = docker_exec(self.src, "cat /tmp/stream.log")
        replies = {int(m.group(2)): float(m.group(1)) for m in re.finditer(r"^\[(\d+\.\d+)\] \d+ bytes from \S+ icmp_seq=(\d+)", out, re.M)}
        m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
        assert m and replies, out[-2000:]
        sent = int(m.group(1))
        judged = range(1, sent - int(settle * 100) + 1)  # answered or not, these had >= 1 s
        lost = [seq for seq in judged if seq not in replies]
        times = sorted(replies.values())
        gaps = [b - a for a, b in itertools.pairwise(times)]
        return {
            "sent": sent,
            "judged": len(judged),
            "lost": len(lost),
            "first_lost": lost[:5],
            "first_reply": times[0],
            "last_reply": times[-1],
            "longest_gap_ms": round(max(gaps) * 1000) if gaps else 0,
        }
