# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The alphabets of the inventory's strings that reach a configuration file, a unit or a shell.

Inventories come from CMDBs and NetBox: a string the plan hands to a template
must not be able to leave its field. A host name lands in every peer's wg-quick
file (a comment line, where a newline would start a ``PreUp =`` run as root), in
BIRD strings (``description "..."``) and in file names; an interface name in
file names, systemd unit instances (``wg-quick@IF``), BIRD and nftables
strings. Each is checked here against the alphabet a network engineer expects
of it, with ``re.fullmatch`` (``$`` would let a trailing newline through), and
refused naming the host and the variable. Values the plan parses into numbers,
addresses or prefixes print themselves and need no alphabet.
"""

import re

from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError, shown

# Host names: what DNS and Ansible inventories use. No whitespace, quotes, ';', '#', '=', '|', '/'
# (the state file pairs hosts as 'a|b', the render writes DIR/<host>/), control or non-ASCII
# characters; no leading '-' (an option to a command) or '.' ('..' would leave the render directory).
HOST_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}")
HOST_NAME_RULE = "use letters, digits, '-', '_', '.' (not first: '-' or '.'), at most 253 characters"

# Interface names: Linux allows 15 bytes of almost anything; wg-quick [A-Za-z0-9_=+.-], systemd
# unit instances (wg-quick@IF) no '=' or '+'. What all three accept, without a leading '-' or '.'.
INTERFACE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
INTERFACE_RULE = "use letters, digits, '-', '_', '.' (not first: '-' or '.')"

# Names of list items (services, external peers): systemd units and BIRD symbols.
ITEM_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
ITEM_RULE = "1-32 lower-case letters, digits, '-' or '_' (first: a letter or digit)"

# One label of a DNS name (endpoints).
DNS_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")

DIGITS = re.compile(r"[0-9]+")  # str.isdigit() is true for '²', which int() refuses


def host_name(name):
    """``name`` when it is a usable host name, else PlanError naming it and ``inventory_hostname``."""
    if not isinstance(name, str) or not HOST_NAME.fullmatch(name):
        raise PlanError(
            name,
            "inventory_hostname",
            f"not usable as a host name: it is written into peers' WireGuard and BIRD configurations; {HOST_NAME_RULE}",
        )
    return name


def interface_name(value, host, variable, limit=None):
    """``value`` when it is usable in an interface name (at most ``limit`` characters), else PlanError."""
    if not isinstance(value, str) or not INTERFACE_NAME.fullmatch(value) or (limit and len(value) > limit):
        most = f", at most {limit} characters" if limit else ""
        raise PlanError(host, variable, f"{shown(value)} is not usable in an interface name: {INTERFACE_RULE}{most}")
    return value


def item_name(name, host, variable, use):
    """``name`` of a list item (a service, a peer) when it can name ``use``, else PlanError."""
    if not isinstance(name, str) or not ITEM_NAME.fullmatch(name):
        raise PlanError(host, variable, f"name {shown(name)} must be {ITEM_RULE} (it names {use})")
    return name


def dns_name(text):
    """Whether ``text`` is a DNS name (labels of letters, digits, '-', '_'; at most 253 characters)."""
    labels = text[:-1].split(".") if text.endswith(".") else text.split(".")
    return len(text) <= 253 and all(DNS_LABEL.fullmatch(label) for label in labels)


def number(value):
    """``value`` as an int when it is an int (not a bool) or a string of ASCII digits; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and DIGITS.fullmatch(value.strip()):
        return int(value.strip())
    return None


def one_printable_line(text):
    """Whether ``text`` is printable ASCII on one line (no control characters, no newline, no NUL)."""
    return all(" " <= ch <= "~" for ch in text)
