"""Parsers of BIRD 2 ``birdc`` output."""

import re


def parse_bgp_states(text):
    """{protocol: BGP state} of every BGP protocol in `birdc show protocols all` output.

    The dynamic device sessions' templates (`wgsdn_devices`, `wgsdn_devices6`,
    always "Passive") are not sessions and are left out; the sessions they spawn
    (`dev_N`, `dev6_N`) are kept.
    """
    states, current = {}, None
    for line in text.splitlines():
        m = re.match(r"^(\S+)\s+BGP\s", line)
        if m:
            current = None if re.fullmatch(r"wgsdn_devices\d*", m.group(1)) else m.group(1)
            if current:
                states[current] = None
            continue
        m = re.match(r"^\s+BGP state:\s+(\S+)", line)
        if m and current:
            states[current] = m.group(1)
    return states


def all_established(states):
    """The states when there is at least one BGP session and every one is Established, else None."""
    return states if states and all(s == "Established" for s in states.values()) else None


def parse_bfd_sessions(text):
    """[(neighbour address, interface, state)] from `birdc show bfd sessions` output."""
    sessions = []
    for line in text.splitlines():
        m = re.match(r"^((?:\d+\.){3}\d+|[0-9a-fA-F]*:[0-9a-fA-F:]+)\s+(\S+)\s+(\S+)\s", line)
        if m:
            sessions.append(m.groups())
    return sessions


def bfd_up(text):
    """The neighbour addresses whose BFD session is Up."""
    return {address for address, _interface, state in parse_bfd_sessions(text) if state == "Up"}


def bfd_armed(text, limit):
    """The neighbour addresses whose BFD session is Up and detects a silent neighbour within
    ``limit`` seconds (the Timeout column). A session just come Up may still run the slow
    start-up timers (1 s transmit), so Up alone does not mean a failure is seen fast."""
    armed = set()
    for line in text.splitlines():
        m = re.match(r"^(\S+)\s+\S+\s+Up\s+.*\s(\d+\.\d+)\s+(\d+\.\d+)\s*$", line)
        if m and float(m.group(3)) <= limit:
            armed.add(m.group(1))
    return armed
