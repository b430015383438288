# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lists of named items in host variables (``wgsdn_services``, ``wgsdn_bgp_peers``): the shape
checks and the address parsing they share, so each storey's module reads only its own fields."""

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import names
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError, shown
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.family import FAMILIES


def named_items(value, host, variable, fields, kind, name_use):
    """Yield ``(name, item)`` for each mapping of the list ``value``, refusing (naming ``host`` and
    ``variable``) a value that is not a list, an item that is not a mapping, an unknown field, a
    name that cannot name ``name_use`` and a name listed twice."""
    shape = "{" + ", ".join(sorted(fields)) + "}"
    if not isinstance(value, (list, tuple)):
        hint = " (a mapping: is the '-' before the first field missing?)" if isinstance(value, dict) else ""
        # A string is not echoed: its fields (a password) cannot be told apart to mask them.
        what = "a string (value not shown)" if isinstance(value, str) else shown(value)
        raise PlanError(host, variable, f"{what} must be a list of {shape}{hint}")
    seen = set()
    for item in value:
        if not isinstance(item, dict):
            what = "a string (value not shown)" if isinstance(item, str) else shown(item)
            raise PlanError(host, variable, f"{what} must be a mapping {shape}")
        unknown = sorted(map(str, set(item) - set(fields)))
        if unknown:
            raise PlanError(host, variable, f"unknown field(s) {', '.join(map(shown, unknown))}; a {kind} has {', '.join(sorted(fields))}")
        name = names.item_name(item.get("name"), host, variable, name_use)
        if name in seen:
            raise PlanError(host, variable, f"{kind} '{name}' is listed twice")
        seen.add(name)
        yield name, item


def address(value, host, variable, where, families):
    """``(family, netaddr.IPAddress)`` of an item's address in one of the overlay's ``families``."""
    text = value.strip() if isinstance(value, str) else value
    for family in FAMILIES:
        try:
            parsed = family.parse_address(text, host, variable)
        except PlanError:
            continue
        if family not in families:
            raise PlanError(host, variable, f"{where}: {parsed} is an {family.label} address, and the overlay carries no {family.label}")
        return family, parsed
    raise PlanError(host, variable, f"{where}: address {shown(value)} is not an IP address")
