"""The controller dies mid-run: `site.yml` SIGKILLed at KILL_POINTS (default 10; `make test`
runs 1, with a new seed each time) points of converges that change the fabric, one after
another (the change, f-device2's LAN from inventory/kill-change.yml, is applied and taken
back in turn, so each run has work to do).

After every kill: the (vault-encrypted) state file decrypts and holds the same keys, and
every host still reaches every other. After the loop one complete run converges: the full
matrix, every BGP and BFD session, the LAN routed, and on every host the running WireGuard
interfaces and BIRD hold exactly what their files say (no peer lost, no key mismatch, no
file BIRD has not loaded). Kill points are moments spread over the length of a full
converge (the -vvv --diff re-converge of test_faults.py, measured in the same run), one per
slice with a seeded jitter printed for replay; the task each kill lands in is recorded.
"""

import json
import os
import random
import re
import signal
import subprocess
import threading
import time

import faultkit as fk
from ansible.parsing.vault import VaultLib, VaultSecret
from wgsdn_testkit import scenario
from wgsdn_testkit.docker import docker_exec, exec_all
from wgsdn_testkit.playbooks import ROOT, env, tool
from wgsdn_testkit.playbooks import playbook as ansible_playbook

KILL_POINTS = int(os.environ.get("KILL_POINTS", "10"))
SEED = int(os.environ.get("KILL_SEED", str(int(time.time()))))
CHANGE = str(fk.SCENARIO / "inventory" / "kill-change.yml")
LAN = "192.168.52.0/24"
BANNER = re.compile(r"^(TASK|RUNNING HANDLER) \[(.+?)\]")


def site_env():
    cfg = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"), "ansible.cfg")
    return env(ANSIBLE_CONFIG=cfg if os.path.isfile(cfg) else str(ROOT / "ansible.cfg"), ANSIBLE_VAULT_PASSWORD_FILE=str(fk.VAULT_PASSWORD_FILE))


def site_args(change):
    return ["-i", str(fk.INVENTORY), *(["-i", CHANGE] if change else []), str(ROOT / "playbooks" / "site.yml")]


def site(change):
    run = ansible_playbook(*site_args(change), merge_output=True, timeout=900, **site_env())
    print(f"site.yml {'with' if change else 'without'} the LAN: rc {run.returncode} in {run.seconds:.1f} s")
    return run


def kill_at(change, seconds):
    """Start site.yml and SIGKILL its whole process group ``seconds`` later (controller and forks,
    as a lost session would); the task it was in, or None if the run ended first."""
    proc = subprocess.Popen(
        [tool("ansible-playbook"), *site_args(change)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=site_env(),
        cwd=ROOT,
        start_new_session=True,
    )
    task = []
    reader = threading.Thread(target=lambda: task.extend(m[2] for m in map(BANNER.match, proc.stdout) if m), daemon=True)
    reader.start()
    try:
        proc.wait(timeout=seconds)
        return None
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    reader.join(timeout=10)
    return task[-1] if task else "(before the first task)"


def keys():
    """Every key of the state file: it must decrypt and parse after any kill."""
    secret = VaultSecret(fk.VAULT_PASSWORD_FILE.read_bytes().strip())
    state = json.loads(VaultLib([("default", secret)]).decrypt(fk.STATE_FILE.read_bytes()))
    return {n: h["private_key"] for n, h in state["hosts"].items()}, dict(state["preshared_keys"])


def _peers(text):
    """{"private": key, peer public key: (preshared key, sorted allowed IPs)} from `wg-quick strip` or `wg showconf`."""
    result, peer = {}, None
    for line in text.splitlines():
        key, _, value = (part.strip() for part in line.partition("="))
        if key == "PrivateKey":
            result["private"] = value
        elif key == "PublicKey":
            peer = value
            result[peer] = ("", ())
        elif key == "PresharedKey" and peer:
            result[peer] = (value, result[peer][1])
        elif key == "AllowedIPs" and peer:
            result[peer] = (result[peer][0], tuple(sorted(a.strip() for a in value.split(","))))
    return result


def live_lags_behind_files(name):
    """What the running interfaces and BIRD of ``name`` hold that their files do not say (no secret printed)."""
    problems = []
    for interface in docker_exec(name, "wg show interfaces").split():
        want = _peers(docker_exec(name, f"wg-quick strip {interface}"))
        have = _peers(docker_exec(name, f"wg showconf {interface}"))
        if want != have:
            differ = sorted(k[:8] for k in set(want) | set(have) if want.get(k) != have.get(k))
            problems.append(f"{name}: {interface} runs other keys or peers than its file ({len(differ)} entries differ)")
    newer = docker_exec(
        name,
        "last=$(birdc -r show status | sed -n 's/^Last reconfiguration on //p'); "
        'find /etc/bird/bird.conf /etc/bird/bird.d -maxdepth 1 -name "*.conf" -newermt "$last"',
    )
    if newer.strip():
        problems.append(f"{name}: BIRD has not loaded {newer.split()}")
    return problems


def test_controller_killed_at_random_points_loses_nothing():
    random.seed(SEED)
    fk.steady()
    before = keys()
    full = (fk.RESULTS["playbooks"].get("site.yml -vvv --diff -e wgsdn_site_full=true") or [120.0])[0]
    # Within the first 90 %: a changing converge may finish a little sooner than that run.
    moments = [round((i + random.random()) * 0.9 * full / KILL_POINTS, 1) for i in range(KILL_POINTS)]
    print(f"kill loop: seed {SEED}, a full converge takes {full} s, kill after {moments} s")
    killed = []
    start = time.monotonic()
    for i, moment in enumerate(moments):
        change = i % 2 == 0  # apply the change, take it back, apply it, ...
        task = kill_at(change, moment)
        assert task, f"site.yml ended before {moment} s: the kill points are too late"
        killed.append(task)
        assert keys() == before, f"the state file changed its keys after a kill in '{task}'"
        fk.wait_until(f"every host reaching every other after a kill in '{task}'", fk.matrix_problems, 60)
    loop_s = time.monotonic() - start
    final = site(change=True)
    assert final.returncode == 0, final.stdout[-3000:]
    fk.steady()
    assert keys() == before
    problems = [p for name in scenario.managed() for p in live_lags_behind_files(name)]
    assert not problems, problems
    routes = exec_all({g: f"ip route show {LAN}" for g in scenario.gateways()})
    assert all(LAN in out for _, out in routes.values()), routes
    fk.RESULTS["kill_loop"] = {"seed": SEED, "moments_s": moments, "tasks": killed, "loop_s": round(loop_s, 1), "final_converge_s": round(final.seconds, 1)}
    print("MEASUREMENTS " + json.dumps(fk.RESULTS["kill_loop"]))
