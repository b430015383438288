#!/usr/bin/env python3
"""Key rotation on a live fabric, traced: what happened on both ends of every switch.

Runs ``playbooks/rotate_keys.yml -e wgsdn_rotate_keys=all`` on a converged Molecule
scenario (topology3 by default: two gateways, single-homed devices, one gateway link)
under a 10 ms ping stream, and records with wall-clock timestamps (the containers share
the machine's clock):

- every WireGuard handshake message on each host's underlay (initiation, response,
  cookie reply: the first byte of the UDP payload), with source and destination;
- each switch as ``wg-apply.sh`` reports it: the agreed instant, when each interface
  switched, when a peer was re-added because it had no handshake yet;
- BIRD's BFD and BGP state changes from each host's journal;
- the ping stream's replies.

It prints, for every silence of the stream longer than 100 ms, the events from one
second before it to its end, and writes everything to bench/out/rotation-trace-N.json.

Usage: python bench/rotation_trace.py [--scenario topology3] [--src t3-device1 --dst 10.0.0.4] [--reps N]
(the scenario converged first: ``molecule converge -s topology3``).
"""

import argparse
import glob
import itertools
import json
import os
import re
import shlex
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from wgsdn_testkit.docker import docker_exec  # noqa: E402
from wgsdn_testkit.ping import fping_stream, parse_stream  # noqa: E402
from wgsdn_testkit.playbooks import playbook  # noqa: E402

# Prints "EPOCH state;state;..." whenever a BFD session or BGP session of this BIRD changes state.
POLL = r"""
prev=""
while :; do
  cur=$( { birdc -r show bfd sessions | awk '$3 ~ /^(Up|Down|Init|AdminDown)$/ { print "bfd:" $1 " " $3 }'; birdc -r show protocols | awk 'NR > 2 && $2 == "BGP" { print $1 " " $4 " " $6 }'; } | tr '\n' ';')
  [ "$cur" = "$prev" ] || echo "$(date +%s.%N) $cur"
  prev=$cur
  sleep 0.2
done
"""

# Prints "EPOCH TYPE SRC DST" for every WireGuard handshake message on eth0.
SNIFF = r"""
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.ntohs(3))
names = {1: "initiation", 2: "response", 3: "cookie"}
print("ready", flush=True)
while True:
    data, address = s.recvfrom(2048)
    now = time.time()
    if address[0] != "eth0" or address[1] != 0x0800 or data[9] != 17:
        continue
    ihl = (data[0] & 15) * 4
    kind = data[ihl + 8] if len(data) > ihl + 8 else 0
    if kind in names:
        src, dst = socket.inet_ntoa(data[12:16]), socket.inet_ntoa(data[16:20])
        sport, dport = int.from_bytes(data[ihl:ihl + 2], "big"), int.from_bytes(data[ihl + 2:ihl + 4], "big")
        print(f"{now:.6f} {names[kind]} {src}:{sport} {dst}:{dport}", flush=True)
"""


def hosts(inventory):
    out = subprocess.run([os.path.join(ROOT, ".venv", "bin", "ansible-inventory"), "-i", inventory, "--list"], capture_output=True, text=True, check=True)
    groups = json.loads(out.stdout)
    return sorted({h for g in ("wgsdn_gateways", "wgsdn_devices") for h in groups.get(g, {}).get("hosts", [])})


def underlay_names(names):
    """{underlay IPv4: host} from docker inspect."""
    found = {}
    for name in names:
        out = subprocess.run(
            ["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name], capture_output=True, text=True, check=True
        )
        found[out.stdout.strip()] = name
    return found


def _start(name, script, log):
    """Run ``script`` detached inside ``name``, its output in ``log`` (read back with _collect)."""
    docker_exec(name, f"rm -f {log}; setsid bash -c {shlex.quote(script)} >{log} 2>&1 </dev/null & echo $! >{log}.pid")


def _collect(name, log):
    """Stop what _start ran (its whole process group) and return its output."""
    return docker_exec(name, f"kill -- -$(cat {log}.pid) 2>/dev/null; sleep 0.2; cat {log}", check=False)


def trace(inventory, names, src, dst):
    for name in names:
        _start(name, f"exec python3 -u -c {shlex.quote(SNIFF)}", "/tmp/trace-sniff.log")
        _start(name, POLL, "/tmp/trace-poll.log")
    for name in names:
        docker_exec(name, "for i in $(seq 50); do grep -q ready /tmp/trace-sniff.log && break; sleep 0.1; done; grep -q ready /tmp/trace-sniff.log")
    stream = " ".join(fping_stream(dst))
    docker_exec(src, f"rm -f /tmp/trace.log; setsid {stream} >/tmp/trace.log 2>&1 </dev/null & echo $! >/tmp/trace.pid")
    time.sleep(1.5)
    print(f"{time.strftime('%T')} rotating", file=sys.stderr, flush=True)
    run = playbook(
        "-i",
        inventory,
        os.path.join(ROOT, "playbooks", "rotate_keys.yml"),
        "-e",
        "wgsdn_rotate_keys=all",
        timeout=1800,
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
    )
    print(f"{time.strftime('%T')} rotated (rc {run.returncode})", file=sys.stderr, flush=True)
    time.sleep(2)
    docker_exec(src, "kill -INT $(cat /tmp/trace.pid); sleep 0.5")
    log = docker_exec(src, "cat /tmp/trace.log")
    sent, received, by_seq = parse_stream(log)
    times = sorted(by_seq.values())
    sniffed = {name: _collect(name, "/tmp/trace-sniff.log") for name in names}
    polled = {name: _collect(name, "/tmp/trace-poll.log") for name in names}
    addresses = underlay_names(names)
    events = []
    for name, text in sniffed.items():
        for line in text.splitlines():
            if line == "ready":
                continue
            stamp, kind, a, b = line.split()
            events.append((float(stamp), name, f"sees {kind} {addresses.get(a.split(':')[0], a)} -> {addresses.get(b.split(':')[0], b)}"))
    for name, text in polled.items():
        before = {}
        for line in text.splitlines():
            stamp, _, text = line.partition(" ")
            states = dict(item.split(" ", 1) for item in text.split(";") if " " in item)
            changed = sorted(f"{k}: {before.get(k, '-')} -> {v}" for k, v in states.items() if before.get(k) != v)
            if before and changed:
                events.append((float(stamp), name, "bird " + ", ".join(changed)))
            before = states
    output = json.loads(run.stdout[run.stdout.index("{") :]) if "{" in run.stdout else {"plays": []}
    for play in output["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                text = result.get("stdout", "") if isinstance(result, dict) else ""
                for m in re.finditer(r"(sync|restart) (\S+) at (\d+\.\d+) \(instant (\d+\.?\d*)\)", text):
                    late = float(m.group(3)) - float(m.group(4))
                    events.append((float(m.group(3)), host, f"switched {m.group(2)} ({m.group(1)}), {late:.3f} s after the instant"))
                for m in re.finditer(r"re-added (\S+) (\S+) at (\d+\.\d+)", text):
                    events.append((float(m.group(3)), host, f"re-added peer {m.group(2)} on {m.group(1)}"))
    events.sort()
    silences = [(a, b) for a, b in itertools.pairwise(times) if b - a > 0.1]
    steps = re.findall(r"\d+ step\(s\): [^\n\"]*", run.stdout)[:1]
    return {"rc": run.returncode, "sent": sent, "lost": sent - received, "silences": silences, "events": events, "steps": steps}


def report(result):
    print(f"rotation rc={result['rc']}: {result['lost']} of {result['sent']} lost; {result['steps']}")
    for a, b in result["silences"]:
        print(f"\nsilence of {b - a:.3f} s from {a:.3f} to {b:.3f}:")
        for stamp, name, what in result["events"]:
            if a - 1 <= stamp <= b:
                print(f"  {stamp:.3f} {stamp - a:+.3f} {name}: {what}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", default="topology3")
    parser.add_argument("--src", default="t3-device1")
    parser.add_argument("--dst", default="10.0.0.4")
    parser.add_argument("--reps", type=int, default=1)
    args = parser.parse_args()
    (ephemeral,) = glob.glob(os.path.expanduser(f"~/.ansible/tmp/molecule.*.{args.scenario}"))
    inventory = os.path.join(ephemeral, "inventory", "ansible_inventory.yml")
    os.environ.setdefault("ANSIBLE_CONFIG", os.path.join(ephemeral, "ansible.cfg"))
    names = hosts(inventory)
    os.makedirs(os.path.join(ROOT, "bench", "out"), exist_ok=True)
    for rep in range(1, args.reps + 1):
        result = trace(inventory, names, args.src, args.dst)
        report(result)
        with open(os.path.join(ROOT, "bench", "out", f"rotation-trace-{rep}.json"), "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=1)


if __name__ == "__main__":
    main()
