"""Inside one container: a network namespace per gateway, veth pairs as its links, one BIRD each.

Run by bench/reflectors.py (``python3 /sim.py /bench/topology.json TIMEOUT``);
standard library only (the node image has python3, bird2 and iproute2).
Prints one JSON line: sessions, BIRD memory, converge and withdraw times.

* converge: from starting every BIRD at once until every instance's table holds
  every network of the overlay (``birdc show route count``), polled instance by
  instance (a converged instance is not asked again, a late change would not be
  seen: a lower bound of the real convergence, by at most one poll round).
* withdraw: the last gateway (an edge) is frozen (SIGSTOP: a dead host sends no
  TCP FIN, unlike a killed process); BFD on its
  neighbours notices (1 s detection) and BGP withdraws its prefixes; the time
  until no other instance holds any of them (its networks gone from the count).
* memory: sum of VmRSS of every BIRD process, and of ``birdc show memory``
  totals, once converged.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time


def read(path):
    with open(path) as f:
        return f.read()


SPEC = json.loads(read(sys.argv[1]))
TIMEOUT = float(sys.argv[2])
RUN = "/run/sim"
MIN_AVAILABLE_MIB = 4096  # stop before the machine runs out of memory (it is shared)


def sh(cmd, stdin=None, check=True):
    r = subprocess.run(cmd, input=stdin, capture_output=True, text=True, shell=isinstance(cmd, str), check=False)
    if check and r.returncode:
        raise RuntimeError(f"{cmd}: {r.stderr[-500:]}")
    return r.stdout


def mem_available_mib():
    for line in read("/proc/meminfo").splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) // 1024
    return 0


def birdc(name, command):
    try:
        r = subprocess.run(["birdc", "-s", f"{RUN}/{name}.ctl", command], capture_output=True, text=True, timeout=20, check=False)
    except subprocess.TimeoutExpired:
        return ""  # BIRD too busy to answer its control socket in 20 s (seen with 50 gateways in a full mesh)
    return r.stdout


def networks(name):
    m = re.search(r"for (\d+) networks", birdc(name, "show route count"))
    return int(m.group(1)) if m else -1


def setup():
    os.makedirs(RUN, exist_ok=True)
    start = time.monotonic()
    for node in SPEC["nodes"]:
        sh(["ip", "netns", "add", node["name"]])
    ifname = SPEC["ifname"]
    batch = "".join(f"link add {ifname[b]} netns {a} type veth peer name {ifname[a]} netns {b}\n" for a, b in SPEC["pairs"])
    sh(["ip", "-batch", "-"], stdin=batch)
    for node in SPEC["nodes"]:
        lines = ["link set lo up"]
        for link in node["links"]:
            lines.append(f"addr add {link['local']} peer {link['peer']} dev {link['ifname']}")
            lines.append(f"link set {link['ifname']} up")
        sh(["ip", "-n", node["name"], "-batch", "-"], stdin="\n".join(lines) + "\n")
    return time.monotonic() - start


def rss_mib(pids):
    total = 0
    for pid in pids:
        try:
            for line in read(f"/proc/{pid}/status").splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return round(total / 1024, 1)


def bird_memory_mib(names):
    total = 0.0
    units = {"B": 1 / 1048576, "kB": 1 / 1024, "MB": 1, "GB": 1024}
    for name in names:
        m = re.search(r"Total:\s+([\d.]+)\s+(\w+)", birdc(name, "show memory"))
        if m:
            total += float(m.group(1)) * units.get(m.group(2), 0)
    return round(total, 1)


def wait_all(names, done, timeout, what):
    """Poll until ``done(name)`` holds for every name; (seconds, names still pending, load guard tripped)."""
    start = time.monotonic()
    pending = list(names)
    while pending:
        # A round stops at the cap too: a BIRD that is too busy may take 20 s per question.
        pending = [n for n in pending if time.monotonic() - start > timeout or not done(n)]
        if not pending:
            break
        if time.monotonic() - start > timeout:
            return None, pending, f"{what}: {len(pending)} instances not done after {timeout:.0f} s"
        if mem_available_mib() < MIN_AVAILABLE_MIB:
            return None, pending, f"{what}: stopped, less than {MIN_AVAILABLE_MIB} MiB of memory left on the machine"
        time.sleep(0.2)
    return round(time.monotonic() - start, 1), [], None


def main():
    result = {"setup_s": round(setup(), 1)}
    names = [n["name"] for n in SPEC["nodes"]]
    pids = {}
    start = time.monotonic()
    for name in names:
        # -f in the background: the pid is ours; one control socket per instance.
        proc = subprocess.Popen(
            ["ip", "netns", "exec", name, "bird", "-f", "-c", f"/bench/{name}/bird.conf", "-s", f"{RUN}/{name}.ctl"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        pids[name] = proc
    expected = SPEC["expected_networks"]
    converge, pending, error = wait_all(names, lambda n: networks(n) == expected, TIMEOUT, "converge")
    result["start_all_s"] = round(time.monotonic() - start, 1)
    result["converge_s"] = converge
    result["bird_processes"] = len(pids)
    result["memory_mib"] = rss_mib(p.pid for p in pids.values())
    result["bird_memory_mib"] = bird_memory_mib(names)
    established = 0
    for name in names[:3]:
        established += birdc(name, "show protocols").count("Established")
    result["established_first3"] = established
    if error:
        result["error"] = error
        result["pending"] = pending[:5]
    else:
        victim = SPEC["victim"]
        others = [n for n in names if n != victim]
        left = expected - SPEC["victim_networks"]
        pids[victim].send_signal(signal.SIGSTOP)  # a dead host: no FIN, no BFD; its neighbours' BFD must notice
        withdraw, pending, error = wait_all(others, lambda n: networks(n) == left, TIMEOUT, "withdraw")
        result["withdraw_s"] = withdraw
        if error:
            result["error"] = error
            result["pending"] = pending[:5]
    result["load_average"] = read("/proc/loadavg").split()[:3]
    for proc in pids.values():
        if proc.poll() is None:
            proc.kill()
    for proc in pids.values():
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
