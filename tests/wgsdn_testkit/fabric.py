"""Live checks of a routed fabric (BGP between gateways, BFD on every link), run from the controller.

Hosts are testinfra hosts (``scenario.host``); containers are paused with the
docker CLI to simulate a dead host.
"""

import re
import subprocess
import time

from . import bird, scenario
from .docker import docker


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


def bgp_states(h):
    """{protocol: BGP state} of every BGP protocol of a host."""
    return bird.parse_bgp_states(h.check_output("birdc show protocols all"))


def bfd_sessions(h):
    """[(neighbour address, interface, state)] of a host."""
    return bird.parse_bfd_sessions(h.check_output("birdc show bfd sessions"))


def all_established(h):
    return bird.all_established(bgp_states(h))


def established(name, timeout=90.0):
    """Wait until every BGP session of ``name`` is Established; {protocol: state}."""
    h = scenario.host(name)
    return wait_for(f"BGP Established on {name}", lambda: all_established(h), timeout=timeout)


def all_bfd_up(h, expected):
    sessions = bfd_sessions(h)
    up = {s[0] for s in sessions if s[2] == "Up"}
    return sessions if up >= set(expected) else None


def assert_bfd_up_on_every_link(name, timeout=60):
    """Wait until ``name`` has BFD Up with every neighbour it should have; fail if it has others."""
    h = scenario.host(name)
    expected = scenario.expected_bfd_neighbours(name)
    sessions = wait_for(f"BFD Up on every link of {name}", lambda: all_bfd_up(h, expected), timeout=timeout)
    assert {s[0] for s in sessions} == set(expected), sessions


def _ip(prefix):
    """``ip -4`` or ``ip -6``, by the family of ``prefix``."""
    return "ip -6" if ":" in prefix else "ip -4"


def kernel_route(h, prefix):
    """The kernel's route for exactly ``prefix`` (empty when there is none)."""
    return h.check_output(f"{_ip(prefix)} route show exact {prefix}")


def time_until_route_gone(observer, prefix, victim, timeout=5.0):
    """Pause ``victim``; seconds until ``observer``'s kernel has no route for ``prefix``.

    A loop inside the observer polls `ip route` every 20 ms and prints the
    epoch-ns at which the route disappeared. Containers share the host's clock,
    so that instant is compared with the controller's time taken just before
    `docker pause` was issued (the measure includes the pause itself).
    """
    script = (
        f"end=$(( $(date +%s) + {int(timeout) + 1} )); "
        f"while {_ip(prefix)} route show exact {prefix} | grep -q .; do "
        f'[ "$(date +%s)" -ge "$end" ] && {{ echo timeout; exit 1; }}; sleep 0.02; done; date +%s%N'
    )
    poller = subprocess.Popen(["docker", "exec", observer, "bash", "-c", script], stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)  # let the poller start before the failure
    assert poller.poll() is None, "route already gone before the pause"
    t0 = time.time_ns()
    docker("pause", victim)
    out, _stderr = poller.communicate(timeout=timeout + 10)
    out = out.strip()
    assert poller.returncode == 0 and out.isdigit(), f"route to {prefix} still there after {timeout}s ({out!r})"
    return (int(out) - t0) / 1e9


def uplink_in_use(device, destination):
    """The gateway container a device's traffic to ``destination`` leaves through (ECMP picks one)."""
    route = scenario.host(device).check_output(f"ip route get {destination}")
    m = re.search(r"dev wg-(\S+)", route)
    assert m, route
    by_link = {scenario.link_name(g): g for g in scenario.gateways()}
    return by_link[m.group(1)]
