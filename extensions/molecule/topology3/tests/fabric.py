"""Helpers shared by the routed scenarios' verifiers (topology3, dualhomed, faults, day2).

The verifier runs on the controller: hosts are reached with testinfra's docker
backend (a `docker exec` per command, fast enough to poll), and containers are
paused/unpaused with the docker CLI to simulate a dead host. The inventory
Molecule wrote tells which hosts exist, their role and overlay address.
"""

import itertools
import os
import re
import subprocess
import time

import testinfra
import testinfra.utils.ansible_runner

_RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"])


def names(group="all"):
    return sorted(_RUNNER.get_hosts(group))


def gateways():
    return names("wgsdn_gateways")


def devices():
    return names("wgsdn_devices")


def address(name):
    return _RUNNER.get_variables(name)["wgsdn_address"]


def link_name(name):
    return _RUNNER.get_variables(name).get("wgsdn_link_name", name)


def host(name):
    return testinfra.get_host(f"docker://{name}")


def docker(*args):
    subprocess.run(["docker", *args], check=True, capture_output=True, text=True, timeout=60)


def wait_for(what, check, timeout=90.0, interval=1.0):
    """Poll ``check()`` until it returns a truthy value; fail with the last value after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def parse_bgp_states(text):
    """{protocol: BGP state} of every BGP protocol in `birdc show protocols all` output.

    The dynamic device sessions' template (`wgsdn_devices`, always "Passive") is
    not a session and is left out; the sessions it spawns (`dev_N`) are kept.
    """
    states, current = {}, None
    for line in text.splitlines():
        m = re.match(r"^(\S+)\s+BGP\s", line)
        if m:
            current = None if m.group(1) == "wgsdn_devices" else m.group(1)
            if current:
                states[current] = None
            continue
        m = re.match(r"^\s+BGP state:\s+(\S+)", line)
        if m and current:
            states[current] = m.group(1)
    return states


def bgp_states(h):
    """{protocol: BGP state} of every BGP protocol of a host."""
    return parse_bgp_states(h.check_output("birdc show protocols all"))


def bfd_sessions(h):
    """[(neighbour address, interface, state)] from `birdc show bfd sessions`."""
    out = h.check_output("birdc show bfd sessions")
    sessions = []
    for line in out.splitlines():
        m = re.match(r"^(\d+\.\d+\.\d+\.\d+)\s+(\S+)\s+(\S+)\s", line)
        if m:
            sessions.append(m.groups())
    return sessions


def all_established(h):
    states = bgp_states(h)
    return states if states and all(s == "Established" for s in states.values()) else None


def all_bfd_up(h, expected):
    sessions = bfd_sessions(h)
    up = {s[0] for s in sessions if s[2] == "Up"}
    return sessions if up >= set(expected) else None


def ping_all(h, targets, count=3):
    """fping every target from a host; {target: loss percent}."""
    r = h.run(f"fping -q -c {count} -p 100 -t 500 {' '.join(targets)}")
    loss = {}
    for line in (r.stdout + r.stderr).splitlines():
        m = re.match(r"^(\S+)\s+:\s+xmt/rcv/%loss = \d+/\d+/(\d+)%", line)
        if m:
            loss[m.group(1)] = int(m.group(2))
    return loss


def kernel_route(h, prefix):
    """The kernel's route for exactly ``prefix`` (empty when there is none)."""
    return h.check_output(f"ip -4 route show exact {prefix}")


def time_until_route_gone(observer, prefix, victim, timeout=5.0):
    """Pause ``victim``; seconds until ``observer``'s kernel has no route for ``prefix``.

    A loop inside the observer polls `ip route` every 20 ms and prints the
    epoch-ns at which the route disappeared. Containers share the host's clock,
    so that instant is compared with the controller's time taken just before
    `docker pause` was issued (the measure includes the pause itself).
    """
    script = (
        f"end=$(( $(date +%s) + {int(timeout) + 1} )); "
        f"while ip -4 route show exact {prefix} | grep -q .; do "
        f'[ "$(date +%s)" -ge "$end" ] && {{ echo timeout; exit 1; }}; sleep 0.02; done; date +%s%N'
    )
    poller = subprocess.Popen(["docker", "exec", observer, "bash", "-c", script], stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)  # let the poller start before the failure
    assert poller.poll() is None, "route already gone before the pause"
    t0 = time.time_ns()
    docker("pause", victim)
    out, _ = poller.communicate(timeout=timeout + 10)
    out = out.strip()
    assert poller.returncode == 0 and out.isdigit(), f"route to {prefix} still there after {timeout}s ({out!r})"
    return (int(out) - t0) / 1e9


def uplink_in_use(device, destination):
    """The gateway container a device's traffic to ``destination`` leaves through (ECMP picks one)."""
    route = host(device).check_output(f"ip route get {destination}")
    m = re.search(r"dev wg-(\S+)", route)
    assert m, route
    by_link = {link_name(g): g for g in gateways()}
    return by_link[m.group(1)]


def start_ping_stream(src, dst, seconds, interval=0.01):
    """A timestamped ping stream (`ping -D -i 0.01`) run inside ``src``'s container."""
    return subprocess.Popen(
        ["docker", "exec", src, "ping", "-D", "-n", "-i", str(interval), "-W", "1", "-w", str(seconds), dst],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def ping_stream_stats(proc, timeout=120):
    """{sent, received, lost, replies: [epoch seconds], longest_gap_ms, first, last} of a finished stream."""
    out, _ = proc.communicate(timeout=timeout)
    replies = [float(m.group(1)) for m in re.finditer(r"^\[(\d+\.\d+)\] \d+ bytes from", out, re.M)]
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    assert m and replies, out[-2000:]
    sent, received = int(m.group(1)), int(m.group(2))
    gaps = [b - a for a, b in itertools.pairwise(replies)]
    worst = max(range(len(gaps)), key=gaps.__getitem__) if gaps else None
    return {
        "sent": sent,
        "received": received,
        "lost": sent - received,
        "replies": replies,
        "longest_gap_ms": gaps[worst] * 1000 if gaps else 0.0,
        "gap_start": replies[worst] if gaps else None,
    }
