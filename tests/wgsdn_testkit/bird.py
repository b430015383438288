"""Parsers of BIRD 2 ``birdc`` output."""

import re


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


def all_established(states):
    """The states when there is at least one BGP session and every one is Established, else None."""
    return states if states and all(s == "Established" for s in states.values()) else None


def parse_bfd_sessions(text):
    """[(neighbour address, interface, state)] from `birdc show bfd sessions` output."""
    sessions = []
    for line in text.splitlines():
        m = re.match(r"^(\d+\.\d+\.\d+\.\d+)\s+(\S+)\s+(\S+)\s", line)
        if m:
            sessions.append(m.groups())
    return sessions


def bfd_up(text):
    """The neighbour addresses whose BFD session is Up."""
    return {address for address, _, state in parse_bfd_sessions(text) if state == "Up"}
