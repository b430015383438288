# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one error of the planning code (bad inventory or state, naming the host and the variable),
and ``shown``: the only way a message echoes a value the user typed.

``shown`` is ``repr`` with every secret field masked (a mapping key that names a
password, a secret, a token or a key, at any depth), so a value echoed back to
say what is wrong with it never carries a BGP password or a WireGuard key, even
when the value is not the shape it should be (a list written as a mapping).
``repr`` also escapes newlines and control characters: a hostile value cannot
forge lines of Ansible's output.
"""

import re

# Field names whose values are secrets: bgp peer passwords, private and preshared keys, tokens.
SECRET_FIELD = re.compile(r"password|passwd|passphrase|secret|token|(^|_)(private|preshared|psk)(_|$)|(^|_)keys?$", re.IGNORECASE)


class _Hidden:
    """What ``shown`` prints in place of a secret."""

    def __repr__(self):
        return "'(hidden)'"


HIDDEN = _Hidden()


def is_secret(field):
    """Whether a mapping key names a secret."""
    return isinstance(field, str) and SECRET_FIELD.search(field) is not None


def masked(value):
    """``value`` with the values of secret fields replaced, at any depth (mappings, lists, tuples, sets)."""
    if isinstance(value, dict):
        return {key: HIDDEN if is_secret(key) else masked(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [masked(item) for item in value]
    if isinstance(value, str):
        return str(value)  # a plain str: Ansible's tagged strings print as their text
    return value


def shown(value):
    """A user value as an error message may echo it: ``repr`` with secret fields masked."""
    return repr(masked(value))


class PlanError(ValueError):
    """Invalid inventory or state, naming the host and the variable at fault."""

    def __init__(self, host, variable, message):
        self.host = host
        self.variable = variable
        where = "overlay" if host is None else f"host {shown(host)}"
        super().__init__(f"wgsdn: {where}, variable '{variable}': {message}")
