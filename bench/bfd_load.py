"""BFD under CPU load: flaps, detection time and which process stalls, on a real fabric of containers.

One command (from the repository root, with the project's venv, under the shared lock):

    flock /tmp/wgsdn-molecule.lock python bench/bfd_load.py \
        [--timers 50x5,100x5] [--variants none,nice-bird,nice-wg,fifo-bird,fifo-wg] \
        [--cells 100x5:none,50x5:none,...] [--load ansible|busy] [--seconds 60] [--pauses 2] \
        [--max-minutes 17]

The fabric is the `faults` scenario's without its monitor: bl-gateway1 10.0.0.1 and
bl-gateway2 10.0.0.2 (eBGP, BFD), bl-device1 10.0.0.11 dual-homed on both,
bl-device2 .12 behind gateway1, bl-device3 .13 behind gateway2: containers made by
Molecule's own create.yml and prepare.yml (the scenarios' image and settings,
wireguard-go for WireGuard), converged with this checkout's playbooks/site.yml.
Then for every BFD timer set (written as the role writes it: ``bfd_min_rx_interval``,
``bfd_min_tx_interval``, ``bfd_multiplier`` passed to a converge of the bfd role's
own tasks) and every scheduling variant (applied live, from the host, to the
processes a systemd drop-in would start: ``nice-*`` = ``Nice=-10`` on every thread,
``fifo-*`` = ``CPUSchedulingPolicy=fifo`` priority 50, ``weight-*`` =
``CPUWeight=1000`` on the units), it

1. quiet: pauses bl-device3 (``docker pause``) ``--quiet-pauses`` times and measures
   the time until bl-gateway2 deletes the kernel route to 10.0.0.13 (``ip -ts
   monitor route`` inside the gateway);
2. loaded: for ``--seconds`` runs controller-like load on the same 2 cores
   (``--load ansible``: site.yml no-op converges back to back against the fabric,
   with the cell's BFD timers, what the issue saw; ``--load busy``: also two busy loops on the host) and
   meanwhile repeats the pause ``--pauses`` times; counts BFD flaps of the four
   sessions that do not involve device3: a session goes down when one end starts
   sending State Down after Up (both ends doing so within 1.5 s count once, for
   the end that did first: it detected the silence);
3. attributes the stalls: ``tcpdump`` in every container timestamps every BFD packet
   at four points of each direction (sender's tunnel, i.e. BIRD's send; sender's
   underlay, i.e. wireguard-go's encrypted send; receiver's underlay; receiver's
   tunnel, i.e. wireguard-go's decrypted delivery). Per hop: BIRD's send gaps
   beyond the interval, wireguard-go's per-packet delay on each side; and for each
   flap, the first hop of the neighbour's packets with a silence (up to the Down)
   of 0.8 x the detection time (none: the packets had arrived and the detecting
   BIRD did not read them in time);
4. reads ``/proc/PID/task/*/schedstat`` of every bird and wireguard-go: the mean
   run-queue wait per time slice in the window.

Real-time scheduling needs a budget here (cgroup v1 with RT group scheduling:
``cpu.rt_runtime_us`` is 0 under /docker): the ``fifo-*`` variants give the
cgroups of the processes one, top down from /docker (500 ms/s), and take it back
afterwards.

Prints a Markdown table row per cell and writes bench/out/bfd_load.json.
Containers (bl-*) and the network are removed at the end.
"""

import argparse
import calendar
import contextlib
import itertools
import json
import os
import pathlib
import re
import shlex
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "bench")]

from converge import docker_inventory, molecule_play  # noqa: E402
from wgsdn_testkit import bird  # noqa: E402
from wgsdn_testkit.playbooks import env as ansible_env  # noqa: E402
from wgsdn_testkit.playbooks import playbook  # noqa: E402

SCENARIO = "bfdload"
HOSTS = [
    {"name": "bl-gateway1", "groups": ["wgsdn_gateways"]},
    {"name": "bl-gateway2", "groups": ["wgsdn_gateways"]},
    {"name": "bl-device1", "groups": ["wgsdn_devices"]},
    {"name": "bl-device2", "groups": ["wgsdn_devices"]},
    {"name": "bl-device3", "groups": ["wgsdn_devices"]},
]
HOST_VARS = {
    "bl-gateway1": {"wgsdn_address": "10.0.0.1", "wgsdn_link_name": "gateway1"},
    "bl-gateway2": {"wgsdn_address": "10.0.0.2", "wgsdn_link_name": "gateway2"},
    "bl-device1": {"wgsdn_address": "10.0.0.11", "wgsdn_link_name": "device1", "wgsdn_uplinks": ["bl-gateway1", "bl-gateway2"]},
    "bl-device2": {"wgsdn_address": "10.0.0.12", "wgsdn_link_name": "device2", "wgsdn_uplinks": ["bl-gateway1"]},
    "bl-device3": {"wgsdn_address": "10.0.0.13", "wgsdn_link_name": "device3", "wgsdn_uplinks": ["bl-gateway2"]},
}
NAMES = [h["name"] for h in HOSTS]
ADDRESS = {name: HOST_VARS[name]["wgsdn_address"] for name in NAMES}
VICTIM, WATCHER = "bl-device3", "bl-gateway2"
CAPTURE = "/tmp/bl-capture.txt"
MONITOR = "/tmp/bl-routes.txt"
# Variant -> (process classes, how): applied to every thread of the processes a drop-in would reach.
VARIANTS = {
    "none": ((), None),
    "nice-bird": (("bird",), "nice"),
    "nice-wg": (("wireguard-go",), "nice"),
    "nice-both": (("bird", "wireguard-go"), "nice"),
    "fifo-bird": (("bird",), "fifo"),
    "fifo-wg": (("wireguard-go",), "fifo"),
    "fifo-both": (("bird", "wireguard-go"), "fifo"),
    # In its one run (bench/README.md) the victim's `docker pause` then hung with the cgroup v1 freezer at FROZEN.
    "weight-both": (("bird", "wireguard-go"), "weight"),
    # Not a role setting: all containers together are one cgroup (/docker, cpu.shares 1024) that competes with
    # every runnable task of the host, the Ansible controller's among them. 10x its weight.
    "docker-shares": ((), "group"),
}
RT_ROOT = pathlib.Path("/sys/fs/cgroup/cpu")


def sh(*args, check=True, timeout=120):
    return subprocess.run(args, capture_output=True, text=True, check=check, timeout=timeout)


def dexec(name, script, check=True, timeout=120):
    return sh("docker", "exec", name, "bash", "-c", script, check=check, timeout=timeout).stdout


def pids(name, comm):
    """Host PIDs of the processes called ``comm`` in container ``name``."""
    out = sh("docker", "top", name, "-eo", "pid,comm").stdout.splitlines()[1:]
    return [int(line.split()[0]) for line in out if line.split()[1:] == [comm]]


def tasks(pid):
    return [int(t) for t in os.listdir(f"/proc/{pid}/task")]


# --- scheduling variants -------------------------------------------------------------------


def cpu_cgroup(pid):
    """The cgroup v1 ``cpu`` path of ``pid`` as a tuple of names."""
    for line in pathlib.Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "cpu" in controllers.split(","):
            return tuple(p for p in path.split("/") if p)
    return ()


def rt_budgets(pids, top=500000, share=0.9):
    """Give the cgroups holding ``pids`` (and their ancestors) a real-time budget, top down: RT group scheduling
    (this kernel's cpu.rt_runtime_us) refuses SCHED_FIFO in a group without one, and a group's children may
    share at most its own. Returns the undo log [(file, old value)], parents first."""
    needed = {}
    for pid in pids:
        path = cpu_cgroup(pid)
        for depth in range(1, len(path) + 1):
            needed.setdefault(path[: depth - 1], set()).add(path[:depth])
    undo, budget = [], {(): None}
    for parent in sorted(needed, key=len):
        children = sorted(needed[parent])
        for child in children:
            value = top if not parent else int(budget[parent] * share / len(children))
            budget[child] = value
            path = RT_ROOT.joinpath(*child) / "cpu.rt_runtime_us"
            if path.exists():
                undo.append((path, path.read_text().strip()))
                path.write_text(str(value))
    return undo


def apply_variant(variant, procs):
    """Set ``variant`` on the processes (``procs``: {class: [host pids]}); returns the undo log of cgroup writes."""
    classes, how = VARIANTS[variant]
    undo = []
    for cls in ("bird", "wireguard-go"):
        for pid in procs[cls]:
            for tid in tasks(pid):
                os.sched_setscheduler(tid, os.SCHED_OTHER, os.sched_param(0))
                os.setpriority(os.PRIO_PROCESS, tid, 0)
    for name in NAMES:
        for unit in units(name):
            dexec(name, f"systemctl set-property --runtime {unit} CPUWeight=", check=False)
    targets = [pid for cls in classes for pid in procs[cls]]
    if how == "fifo":
        undo = rt_budgets(targets)
    for pid in targets:
        for tid in tasks(pid):
            if how == "nice":  # what Nice=-10 in the unit does
                os.setpriority(os.PRIO_PROCESS, tid, -10)
            elif how == "fifo":  # CPUSchedulingPolicy=fifo, CPUSchedulingPriority=50
                os.sched_setscheduler(tid, os.SCHED_FIFO, os.sched_param(50))
    if how == "group":
        shares = RT_ROOT / "docker" / "cpu.shares"
        undo.append((shares, shares.read_text().strip()))
        shares.write_text("10240")
    if how == "weight":
        for name in NAMES:
            for unit in units(name):
                if ("bird" in classes and unit == "bird.service") or ("wireguard-go" in classes and unit.startswith("wg-quick@")):
                    dexec(name, f"systemctl set-property --runtime {unit} CPUWeight=1000")
    return undo


def scheduling(procs):
    """What the processes run with: {class: sorted set of (policy, nice, cpu.shares of their cgroup)}."""
    out = {}
    for cls, plist in procs.items():
        seen = set()
        for pid in plist:
            stat = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            shares = RT_ROOT.joinpath(*cpu_cgroup(pid)) / "cpu.shares"
            seen.add((int(stat[38]), int(stat[16]), int(shares.read_text()) if shares.exists() else None))
        out[cls] = sorted(seen)
    return out


def units(name, cache={}):  # noqa: B006 - a per-run cache of the units each host runs
    if name not in cache:
        out = dexec(name, "systemctl list-units --plain --no-legend 'wg-quick@*' bird.service | awk '{print $1}'")
        cache[name] = out.split()
    return cache[name]


def schedstat(procs):
    """{class: (run-queue wait ns, time slices)} summed over every thread."""
    total = {}
    for cls, plist in procs.items():
        wait = slices = 0
        for pid in plist:
            for tid in tasks(pid):
                try:
                    _, w, s = map(int, pathlib.Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split())
                except FileNotFoundError:
                    continue
                wait, slices = wait + w, slices + s
        total[cls] = (wait, slices)
    return total


# --- BFD timers, state, journal -------------------------------------------------------------


def set_timers(inventory, rx, mult):
    """Converge the bfd role alone with these timers (its template, its validate, its reload)."""
    play = inventory.parent / "bfd.yml"
    play.write_text(
        yaml.safe_dump(
            [
                {"name": "Plan", "hosts": "wgsdn_gateways:wgsdn_devices", "gather_facts": False, "roles": ["wgsdn.fabric.plan"]},
                {"name": "BFD timers", "hosts": "wgsdn_gateways:wgsdn_devices", "gather_facts": False, "become": True, "roles": ["wgsdn.fabric.bfd"]},
            ]
        )
    )
    extra = json.dumps({"bfd_min_rx_interval": rx, "bfd_min_tx_interval": rx, "bfd_multiplier": mult})
    run = playbook("-i", inventory, play, "-e", extra)
    assert run.returncode == 0, run.out[-3000:]
    want, start = {f"{rx / 1000:.3f}"}, time.monotonic()
    while time.monotonic() - start < 30:
        seen = {name: set(re.findall(r"^\S+\s+wg\S*\s+\S+\s+\S+\s+(\S+)", dexec(name, "birdc show bfd sessions"), re.M)) for name in NAMES}
        if all(intervals == want for intervals in seen.values()):
            return
        time.sleep(1)
    print(f"warning: BFD intervals {seen} after setting {rx} ms", flush=True)


def all_up():
    for name in NAMES:
        out = dexec(name, "birdc show bfd sessions", check=False)
        states = re.findall(r"^\S+\s+wg\S*\s+(\S+)", out, re.M)
        if not states or any(s != "Up" for s in states):
            return False
        if not bird.all_established(bird.parse_bgp_states(dexec(name, "birdc show protocols all", check=False))):
            return False
    return True


def wait_up(timeout=90):
    start = time.monotonic()
    while not all_up():
        if time.monotonic() - start > timeout:
            raise RuntimeError("BFD/BGP not all up")
        time.sleep(1)


def downs(states, exclude, begin, end, window=1.5):
    """BFD sessions going down, from the states the captured packets carry (``states``: {(sender, receiver
    address): [(time, state)]} as BIRD sent them). One event per session: the end that said Down first
    (it detected the failure; the other end follows on its Down packet). [(time, detecting host, neighbour)]."""
    host = {v: k for k, v in ADDRESS.items()}
    found = []
    for (sender, receiver), seq in states.items():
        previous = None
        for t, state in seq:
            if previous == "Up" and state != "Up" and begin <= t <= end:
                found.append((t, sender, receiver))
            previous = state
    events = []
    for t, sender, receiver in sorted(found):
        pair = frozenset((sender, host.get(receiver)))
        if exclude in pair or any(frozenset((h, host.get(p))) == pair and t - t0 < window for t0, h, p in events):
            continue
        events.append((t, sender, receiver))
    return events


# --- packet captures --------------------------------------------------------------------------

LINE = re.compile(r"^(\d+\.\d+) (\S+)\s+(In|Out)\s+IP (\d+\.\d+\.\d+\.\d+)\.(\d+) > (\d+\.\d+\.\d+\.\d+)\.(\d+): (.*)$")


def read_captures(underlay):
    """``series``, {(host, kind, dir, overlay src, overlay dst): [times]} of BFD packets on the tunnels (kind ``tun``, port 3784)
    and of the 96-byte WireGuard data messages carrying them on the underlay (kind ``udp``; two containers share
    at most one WireGuard link, so ``underlay``, {underlay address: overlay address}, names both ends), and
    ``states``, {(host, neighbour address): [(time, BFD state)]} of the packets each BIRD sent."""
    series, states = {}, {}
    for name in NAMES:
        text = dexec(name, f"cat {CAPTURE}", check=False)
        for line in text.splitlines():
            m = LINE.match(line)
            if not m:
                continue
            t, iface, direction, src, _, dst, dport, rest = m.groups()
            if dport == "3784" and "BFD" in rest:
                state = re.search(r"State (\w+)", rest)
                state = state.group(1) if state else None
                if direction == "Out":
                    states.setdefault((name, dst), []).append((float(t), state))
                if state != "Up":  # a session that is not Up sends at the idle interval: no gap to measure
                    continue
                key = (name, "tun", direction, src, dst)
            elif iface == "eth0" and rest.strip() == "UDP, length 96" and src in underlay and dst in underlay:
                key = (name, "udp", direction, underlay[src], underlay[dst])
            else:
                continue
            series.setdefault(key, []).append(float(t))
    return series, states


def underlay_addresses():
    """{underlay address: overlay address} of every host."""
    out = {}
    for name in NAMES:
        nets = json.loads(sh("docker", "inspect", "-f", "{{json .NetworkSettings.Networks}}", name).stdout)
        for info in nets.values():
            out[info["IPAddress"]] = ADDRESS[name]
    return out


def hops(series, states, interval_ms, start, end):
    """Per hop, over every directed session but the paused device's: p99 and max of BIRD's send lateness (gap - interval) and of
    wireguard-go's per-packet delay on the sending and the receiving side (ms)."""
    host = {v: k for k, v in ADDRESS.items()}
    bird_late, wg_tx, wg_rx = [], [], []

    def window(ts):
        return [t for t in ts if start <= t <= end]

    def delays(a, b):
        out, j = [], 0
        for t in a:
            while j < len(b) and b[j] < t:
                j += 1
            if j == len(b):
                break
            out.append((b[j] - t) * 1000)
        return out

    for (name, kind, direction, src, dst), ts in series.items():
        if kind != "tun" or direction != "Out" or host.get(dst) is None or VICTIM in (name, host[dst]):
            continue  # the paused device's packets wait out its pauses
        sent = window(ts)
        wg_tx += delays(sent, window(series.get((name, "udp", "Out", src, dst), [])))
        peer = host[dst]
        wg_rx += delays(window(series.get((peer, "udp", "In", src, dst), [])), window(series.get((peer, "tun", "In", src, dst), [])))

    for (sender, receiver), seq in states.items():
        if VICTIM in (sender, host.get(receiver)):
            continue
        seq = [(t, state) for t, state in seq if start <= t <= end]
        bird_late += [(b - a) * 1000 - interval_ms for (a, sa), (b, sb) in itertools.pairwise(seq) if sa == sb == "Up"]

    def stats(values):
        if not values:
            return None
        values = sorted(values)
        return {"p99": round(values[int(len(values) * 0.99) - 1 if len(values) > 1 else 0], 1), "max": round(values[-1], 1), "n": len(values)}

    return {"bird_send_late_ms": stats(bird_late), "wg_tx_delay_ms": stats(wg_tx), "wg_rx_delay_ms": stats(wg_rx)}


def attribute(series, flap, detect_s):
    """Which hop starved the session that ``flap`` (time of the first Down packet, detecting host, neighbour)
    reports: the first hop of the neighbour's packets towards it with a gap (up to the Down) of 0.8 x the
    detection time. None of them: the packets had arrived and the detecting BIRD did not read them."""
    t, receiver, peer_addr = flap
    host = {v: k for k, v in ADDRESS.items()}
    sender = host[peer_addr]
    src, dst = peer_addr, ADDRESS[receiver]
    chain = [
        ("bird (sender)", (sender, "tun", "Out", src, dst)),
        ("wireguard-go (sender)", (sender, "udp", "Out", src, dst)),
        ("network", (receiver, "udp", "In", src, dst)),
        ("wireguard-go (receiver)", (receiver, "tun", "In", src, dst)),
    ]
    for label, key in chain:
        ts = [x for x in series.get(key, []) if t - 1 - 3 * detect_s <= x <= t]
        gaps = [b - a for a, b in itertools.pairwise(ts)] + [t - ts[-1] if ts else t]
        if max(gaps) >= 0.8 * detect_s:
            return label
    return "bird (receiver)"


# --- detection and load -----------------------------------------------------------------------


def route_present():
    return bool(dexec(WATCHER, f"ip -4 route show {ADDRESS[VICTIM]}", check=False).strip())


def deletions(since):
    """Times (epoch s) bl-gateway2 deleted its route to the victim, from `ip -ts monitor route`."""
    text = dexec(WATCHER, f"cat {MONITOR}", check=False)
    out = []
    for m in re.finditer(r"^\[(\S+)\] Deleted (?:unicast )?" + re.escape(ADDRESS[VICTIM]) + r"\b", text, re.M):
        stamp = m.group(1)
        t = calendar.timegm(time.strptime(stamp.split(".")[0], "%Y-%m-%dT%H:%M:%S")) + float("0." + stamp.split(".")[1])  # the containers run in UTC
        if t >= since:
            out.append(t)
    return out


def detection(deadline):
    """Pause the victim, time until its route is deleted, resume, wait for it to come back. Seconds or None."""
    start = time.time()
    sh("docker", "pause", VICTIM)
    paused = time.time()
    try:
        while time.time() - paused < 10 and not any(t >= start for t in deletions(start)):
            time.sleep(0.2)
    finally:
        sh("docker", "unpause", VICTIM)
    found = [t for t in deletions(start)]
    back = time.monotonic()
    while not route_present() and time.monotonic() < deadline + 60:
        time.sleep(0.5)
    print(
        f"    pause: route deleted {round((found[0] - paused) * 1000) if found else None} ms after the pause; back in {time.monotonic() - back:.1f} s",
        flush=True,
    )
    return round((found[0] - paused) * 1000) if found else None


def start_load(kind, inventory, timer):
    """The load: site.yml back to back, with the cell's BFD timers (a converge with the role's defaults would
    put them back), and with ``busy`` two busy loops on the host. The processes to stop."""
    procs = []
    site = ROOT / "playbooks" / "site.yml"
    extra = shlex.quote(json.dumps({"bfd_min_rx_interval": timer[0], "bfd_min_tx_interval": timer[0], "bfd_multiplier": timer[1]}))
    loop = f"while true; do ansible-playbook -i {inventory} {site} -e {extra} >/dev/null 2>&1; done"
    procs.append(subprocess.Popen(["bash", "-c", loop], env=ansible_env(), cwd=ROOT, start_new_session=True))
    if kind == "busy":
        for _ in range(2):
            procs.append(subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True))
    return procs


def stop_load(procs):
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        proc.wait()


def cell(inventory, timer, variant, args, procs, ports):
    rx, mult = timer
    detect_s = rx * mult / 1000
    undo = apply_variant(variant, procs)
    try:
        wait_up()
        quiet = [detection(time.monotonic()) for _ in range(args.quiet_pauses)]
        wait_up()
        for name in NAMES:
            dexec(name, f"pkill -x tcpdump; : > {CAPTURE}; (setsid tcpdump -i any -n -tt -l udp > {CAPTURE} 2>/dev/null &)", check=False)
        time.sleep(1)
        begin = time.time()
        before = schedstat(procs)
        load = start_load(args.load, inventory, timer)
        loadavg = []
        loaded = []
        try:
            deadline = time.monotonic() + args.seconds
            time.sleep(min(10, args.seconds / 4))
            for _ in range(args.pauses):
                if time.monotonic() > deadline - 12:
                    break
                loaded.append(detection(deadline))
                loadavg.append(os.getloadavg()[0])
            while time.monotonic() < deadline:
                time.sleep(1)
            loadavg.append(os.getloadavg()[0])
        finally:
            stop_load(load)
        end = time.time()
        after = schedstat(procs)
        in_force = sorted({i for n in NAMES for i in re.findall(r"^\S+\s+wg\S*\s+Up\s+\S+\s+(\S+)", dexec(n, "birdc show bfd sessions"), re.M)})
        for name in NAMES:
            dexec(name, "pkill -x tcpdump", check=False)
        series, states = read_captures(ports)
        events = downs(states, VICTIM, begin, end)
        blame = {}
        for event in events:
            who = attribute(series, event, detect_s)
            blame[who] = blame.get(who, 0) + 1
        sched = {cls: round((after[cls][0] - before[cls][0]) / max(1, after[cls][1] - before[cls][1]) / 1e6, 3) for cls in after}
        return {
            "timer": f"{rx}x{mult}",
            "variant": variant,
            "load": args.load,
            "seconds": round(end - begin, 1),
            "loadavg_max": round(max(loadavg), 1),
            "flaps": len(events),
            "flaps_per_min": round(len(events) * 60 / (end - begin), 2),
            "flap_events": [(round(t - begin, 2), h, p) for t, h, p in events],
            "blame": blame,
            "detect_quiet_ms": quiet,
            "detect_loaded_ms": loaded,
            "hops": hops(series, states, rx, begin, end),
            "mean_wait_per_slice_ms": sched,
            "scheduling": scheduling(procs),
            "intervals_at_end_s": in_force,
        }
    finally:
        # Back to normal scheduling before the real-time budgets go (the kernel refuses to take a budget from a
        # group with real-time tasks), children before parents.
        apply_variant("none", procs)
        for path, value in reversed(undo):
            path.write_text(value)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timers", default="50x5,100x5", help="min rx/tx interval (ms) x multiplier, comma-separated")
    parser.add_argument("--variants", default="none,nice-bird,nice-wg,fifo-bird,fifo-wg")
    parser.add_argument("--cells", help="instead of every timer x variant: TIMER:VARIANT,... in this order (e.g. 100x5:none,50x5:none)")
    parser.add_argument("--load", choices=["ansible", "busy"], default="ansible")
    parser.add_argument("--seconds", type=int, default=60, help="loaded window per cell")
    parser.add_argument("--pauses", type=int, default=2, help="device pauses inside each loaded window")
    parser.add_argument("--quiet-pauses", type=int, default=1, help="device pauses before each loaded window")
    parser.add_argument("--max-minutes", type=float, default=17, help="start no cell that would end later (the shared lock's budget)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "bfd_load.json"))
    args = parser.parse_args()
    cells = [tuple(c.split(":")) for c in args.cells.split(",")] if args.cells else [(t, v) for t in args.timers.split(",") for v in args.variants.split(",")]
    plan = []  # [(timer, [variants])], in the order given
    for timer, variant in cells:
        if variant not in VARIANTS:
            parser.error(f"unknown variant {variant}; one of {', '.join(VARIANTS)}")
        timer = tuple(int(x) for x in timer.split("x"))
        if plan and plan[-1][0] == timer:
            plan[-1][1].append(variant)
        else:
            plan.append((timer, [variant]))

    started = time.monotonic()
    results = {"load_before": os.getloadavg()[0], "cells": []}
    rt_parent = RT_ROOT / "docker" / "cpu.rt_runtime_us"
    rt_parent_value = rt_parent.read_text().strip() if rt_parent.exists() else None
    with tempfile.TemporaryDirectory(prefix="bl-") as tmp:
        inventory = pathlib.Path(tmp) / "inventory" / "hosts.yml"
        inventory.parent.mkdir()
        inventory.write_text(yaml.safe_dump(docker_inventory(HOSTS, HOST_VARS)))
        molecule_play("create", SCENARIO, HOSTS)
        try:
            molecule_play("prepare", SCENARIO, HOSTS)
            run = playbook("-i", inventory, ROOT / "playbooks" / "site.yml")
            assert run.returncode == 0, run.out[-3000:]
            results["converge_s"] = round(run.seconds, 1)
            print(f"site.yml converge: {run.seconds:.1f} s", flush=True)
            wait_up(120)
            dexec(WATCHER, f"(setsid ip -ts monitor route > {MONITOR} 2>&1 &)")
            print(
                "| BFD timers | variant | load | flaps/min | flaps: who starved the session | detection quiet (ms) | detection loaded (ms) "
                "| BIRD send late p99/max (ms) | wireguard-go tx p99/max | wireguard-go rx p99/max | mean run-queue wait bird / wg-go (ms) |"
            )
            print("|---|---|---|---:|---|---|---|---|---|---|---|")
            for timer, variants in plan:
                set_timers(inventory, *timer)
                wait_up()
                ports = underlay_addresses()
                for variant in variants:
                    if time.monotonic() - started > args.max_minutes * 60 - (args.seconds + 40):
                        print(f"| {timer[0]}x{timer[1]} | {variant} | skipped: --max-minutes {args.max_minutes} reached |", flush=True)
                        continue
                    procs = {"bird": [p for n in NAMES for p in pids(n, "bird")], "wireguard-go": [p for n in NAMES for p in pids(n, "wireguard-go")]}
                    try:
                        r = cell(inventory, timer, variant, args, procs, ports)
                    except Exception as error:  # one failed cell must not cost the others
                        print(f"| {timer[0]}x{timer[1]} | {variant} | failed: {error!r} |", flush=True)
                        results["cells"].append({"timer": f"{timer[0]}x{timer[1]}", "variant": variant, "error": repr(error)})
                        continue
                    results["cells"].append(r)
                    h = r["hops"]

                    def pm(x):
                        return f"{x['p99']} / {x['max']}" if x else "-"

                    print(
                        f"| {r['timer']} | {variant} | {r['load']} (load {r['loadavg_max']}) | {r['flaps_per_min']} ({r['flaps']} in {r['seconds']:.0f} s) "
                        f"| {', '.join(f'{k} {v}' for k, v in r['blame'].items()) or '-'} | {r['detect_quiet_ms']} | {r['detect_loaded_ms']} "
                        f"| {pm(h['bird_send_late_ms'])} | {pm(h['wg_tx_delay_ms'])} | {pm(h['wg_rx_delay_ms'])} "
                        f"| {r['mean_wait_per_slice_ms']['bird']} / {r['mean_wait_per_slice_ms']['wireguard-go']} |",
                        flush=True,
                    )
                    out = pathlib.Path(args.out)
                    out.parent.mkdir(exist_ok=True)
                    out.write_text(json.dumps(results, indent=1) + "\n")
        finally:
            if rt_parent_value is not None and rt_parent.read_text().strip() != rt_parent_value:
                rt_parent.write_text(rt_parent_value)
            molecule_play("destroy", SCENARIO, HOSTS)
    results["load_after"] = os.getloadavg()[0]
    pathlib.Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
