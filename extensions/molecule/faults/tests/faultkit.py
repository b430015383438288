"""Fault-injection helpers of the `faults` scenario's verifier.

Everything runs on the controller: hosts are reached with `docker exec` (several
at once, so a reachability round costs one exec per host), playbooks run with the
Molecule inventory and the scenario's vault password, measured numbers collect in
RESULTS and end up in bench/out/faults.json.
"""

import json
import os
import re
import time
from pathlib import Path

from wgsdn_testkit import bird, scenario
from wgsdn_testkit.docker import exec_all, unit_property
from wgsdn_testkit.playbooks import ROOT
from wgsdn_testkit.playbooks import playbook as ansible_playbook

from ansible_collections.wgsdn.fabric.plugins.lookup.allocate import DEFAULT_STATE_NAME

SCENARIO = Path(__file__).resolve().parents[1]
INVENTORY = Path(scenario.inventory())
STATE_FILE = INVENTORY.parent / DEFAULT_STATE_NAME  # the default: beside the inventory
VAULT_PASSWORD_FILE = SCENARIO / "vault-password"
RESULTS_FILE = Path(os.environ.get("FAULTS_RESULTS", ROOT / "bench" / "out" / "faults.json"))
REPS = int(os.environ.get("FAULTS_REPS", "2"))
CONFIG_FILES = "/etc/wireguard/*.conf /etc/bird/bird.conf /etc/bird/bird.d/*.conf"

RESULTS = {"faults": {}, "playbooks": {}}


# ---------------------------------------------------------------- the fabric, from every host at once


def targets(name):
    return [scenario.address(n) for n in scenario.names() if n != name]


def matrix_problems():
    """Who cannot reach whom right now: one fping round (one packet per pair, 500 ms) from every host."""
    rounds = exec_all({n: f"fping -u -r 0 -t 500 {' '.join(targets(n))}" for n in scenario.names()})
    by_address = {scenario.address(n): n for n in scenario.names()}
    problems = []
    for name, (rc, out) in sorted(rounds.items()):
        if rc == 0:
            continue
        lost = [by_address[w] for w in out.split() if w in by_address]
        problems.append(f"{name} cannot reach {', '.join(lost)}" if lost else f"{name}: {out.strip()[:200]}")
    return problems


def control_plane_problems():
    """Every BGP session Established (gateway mesh, one per attached device, one per uplink) and every BFD session Up."""
    seen = exec_all({n: "birdc show protocols all; echo =====; birdc show bfd sessions" for n in scenario.names()})
    problems = []
    for name, (rc, out) in sorted(seen.items()):
        if rc != 0 or "=====" not in out:
            problems.append(f"{name}: birdc failed: {out.strip()[:200]}")
            continue
        protocols, bfd = out.split("=====", 1)
        states = bird.parse_bgp_states(protocols)
        down = sorted(p for p, s in states.items() if s != "Established")
        if down:
            problems.append(f"{name}: BGP not Established: {down}")
        if name in scenario.gateways():
            want = {"bgp_": len(scenario.gateways()) - 1, "dev_": len([d for d in scenario.devices() if name in scenario.uplinks(d)])}
        else:
            want = {"": len(scenario.uplinks(name))}
        for prefix, count in want.items():
            have = len([p for p, s in states.items() if p.startswith(prefix) and s == "Established"])
            if have != count:
                problems.append(f"{name}: {have} of {count} {prefix or 'uplink '}BGP sessions Established")
        missing = sorted(set(scenario.expected_bfd_neighbours(name)) - bird.bfd_up(bfd))
        if missing:
            problems.append(f"{name}: BFD not Up with {missing}")
    return problems


def wait_until(what, check, timeout, start=None, interval=0.2):
    """Poll ``check()`` (a list of problems) until it is empty; seconds since ``start`` (monotonic) at success."""
    start = time.monotonic() if start is None else start
    deadline = start + timeout
    while True:
        problems = check()
        if not problems:
            return time.monotonic() - start
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still not there {timeout:.0f}s later: {problems}")
        time.sleep(interval)


def steady(timeout=120):
    """Full reachability matrix and every BGP/BFD session up (bounded)."""
    wait_until("full reachability matrix", matrix_problems, timeout)
    wait_until("every BGP session Established and BFD session Up", control_plane_problems, timeout)


def checksums():
    """``{host: {path: sha256}}`` of the WireGuard and BIRD configuration files."""
    out = exec_all({n: f"sha256sum {CONFIG_FILES}" for n in scenario.names()})
    result = {}
    for name, (rc, text) in out.items():
        assert rc == 0, f"{name}: {text}"
        result[name] = {line.split()[1]: line.split()[0] for line in text.splitlines() if line.strip()}
    return result


def bird_pid(name):
    return int(unit_property(name, "bird", "MainPID") or 0)


def bird_restarts(name):
    return int(unit_property(name, "bird", "NRestarts"))


# ---------------------------------------------------------------- playbooks


def playbook(name, *args, timeout=900):
    """Run playbooks/<name> against the scenario (Molecule's ansible.cfg, the vault password);
    a CompletedProcess whose ``stdout`` holds stdout and stderr, interleaved."""
    cfg = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent")) / "ansible.cfg"
    result = ansible_playbook(
        "-i",
        INVENTORY,
        ROOT / "playbooks" / name,
        *args,
        timeout=timeout,
        merge_output=True,
        ANSIBLE_CONFIG=str(cfg if cfg.is_file() else ROOT / "ansible.cfg"),
        ANSIBLE_VAULT_PASSWORD_FILE=str(VAULT_PASSWORD_FILE),
    )
    log = RESULTS_FILE.parent / f"faults-{re.sub(r'[^a-z0-9]+', '-', ' '.join([name, *args]).lower()).strip('-')[:60]}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(result.stdout)
    RESULTS["playbooks"].setdefault(" ".join([name, *args]), []).append(round(result.seconds, 1))
    print(f"ansible-playbook {name} {' '.join(args)}: rc {result.returncode} in {result.seconds:.1f} s (output: {log})")
    return result


def verify_problems(output):
    """The problems verify.yml's last task failed with (its assert message is the list of them)."""
    tail = output.rsplit("TASK [Fail when the live network differs from the inventory]", 1)[-1].split("PLAY RECAP", 1)[0]
    items = [line.strip()[2:].strip("'\"") for line in tail.splitlines() if line.strip().startswith("- ")]
    if not items:  # JSON result format: msg on one line
        m = re.search(r'"msg":\s*\[(.*?)\]', tail, re.S)
        items = re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)) if m else []
    return items


def run_verify_expecting(fault, *patterns):
    """verify.yml while the fault lasts: it must fail, and its problems must name the fault."""
    result = playbook("verify.yml")
    problems = verify_problems(result.stdout)
    print(f"verify.yml during '{fault}': rc {result.returncode}, {len(problems)} problems, e.g. {problems[:4]}")
    assert result.returncode != 0, f"verify.yml passed during '{fault}':\n{result.stdout[-3000:]}"
    for pattern in patterns:
        assert any(re.search(pattern, p) for p in problems), f"verify.yml during '{fault}' did not report /{pattern}/: {problems}\n{result.stdout[-3000:]}"
    RESULTS["faults"].setdefault(fault, {})["verify_reported"] = problems[:12]
    return problems


def record(fault, **values):
    RESULTS["faults"].setdefault(fault, {}).setdefault("runs", []).append(values)
    print(f"{fault}: " + ", ".join(f"{k}={v}" for k, v in values.items()))


def summarise():
    """min/max of every numeric measure per fault; written to RESULTS_FILE and returned as lines."""
    lines = [f"{'fault':<34} {'measure':<26} {'min':>7} {'max':>7}  runs"]
    for fault, data in RESULTS["faults"].items():
        runs = data.get("runs", [])
        keys = [k for k in (runs[0] if runs else {}) if isinstance(runs[0][k], (int, float)) and not isinstance(runs[0][k], bool)]
        data["summary"] = {}
        for key in keys:
            values = [r[key] for r in runs if isinstance(r.get(key), (int, float))]
            data["summary"][key] = {"min": min(values), "max": max(values), "n": len(values)}
            lines.append(f"{fault:<34} {key:<26} {min(values):>7.2f} {max(values):>7.2f}  {len(values)}")
    RESULTS["reps"] = REPS
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(RESULTS, indent=1) + "\n")
    return lines
