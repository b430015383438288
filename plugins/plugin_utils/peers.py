# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""External BGP peers of gateways (``wgsdn_bgp_peers``): parsing, validation and their share of the plan.

A peer is a router outside the overlay (an office core, a cloud router) that a
gateway speaks eBGP with over the underlay. What it may announce is exactly
its ``import`` list (those prefixes and any more-specific ones), never the
overlay's own prefixes; what it learns is the overlay (``export: overlay``:
every host address, subnet and service the gateway can reach) or the routes
inside a declared prefix list. The other gateways accept a learned prefix only
when its AS path shows it came from the declaring gateway straight from that
peer, and re-advertise it to their devices, whose AllowedIPs and routes
include it. ``password`` (TCP MD5) is a secret: the plan keeps it, bird.conf
names it only through a constant defined in a separate fragment that is never
shown (no_log, no diff).
"""

import re

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import items, memo, names
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.deps import optional
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError, shown
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.model import ASN_MAX, GATEWAY, ROUTED

netaddr = optional("netaddr")

VARIABLE = "wgsdn_bgp_peers"
OVERLAY = "overlay"
PROTOCOL_PREFIX = "ext_"
PASSWORD_PREFIX = "wgsdn_password_"
_FIELDS = {"name", "address", "asn", "import", "export", "bfd", "password", "multihop"}
# Reserved: 0, AS_TRANS (23456), 65535 and 4294967295 (RFC 7300); 4294967294 is what wgsdn devices use (bird_device_asn).
_RESERVED_ASNS = {0, 23456, 65535, 4294967295}
MAX_PASSWORD = 80  # Linux TCP_MD5SIG_MAXKEYLEN


def _symbol(name):
    return name.replace("-", "_")


def parse_peers(value, host, role, families):
    """The external peers of one gateway, as plan data."""
    if value is None:
        return []
    if role != GATEWAY:
        raise PlanError(host, VARIABLE, "only gateways (wgsdn_gateways) speak BGP with routers outside the overlay")
    result = []
    for name, item in items.named_items(value, host, VARIABLE, _FIELDS, "peer", "a BIRD protocol"):
        where = f"peer '{name}'"
        family, address = items.address(item.get("address"), host, VARIABLE, where, families)
        peer = {
            "name": name,
            "address": str(address),
            "family": family.name,
            "asn": _parse_asn(item.get("asn"), host, where),
            "import": _parse_prefixes(item.get("import", []), host, f"{where}: import", family),
            "export": _parse_export(item.get("export", OVERLAY), host, where, family),
            "bfd": _parse_bool(item.get("bfd", False), host, f"{where}: bfd"),
            "multihop": _parse_multihop(item.get("multihop"), host, where),
            "protocol": PROTOCOL_PREFIX + _symbol(name),
            "password": None,
            "password_symbol": None,
        }
        if "password" in item:
            peer["password"] = _parse_password(item["password"], host, where)
            peer["password_symbol"] = PASSWORD_PREFIX + _symbol(name)
        result.append(peer)
    return result


def _parse_asn(value, host, where):
    asn = names.number(value)
    if asn is None or not 1 <= asn <= 4294967295 or asn in _RESERVED_ASNS:
        raise PlanError(host, VARIABLE, f"{where}: asn {shown(value)} is not a valid AS number (1-4294967294, not 23456 or 65535)")
    if asn == ASN_MAX:
        raise PlanError(host, VARIABLE, f"{where}: asn {asn} is the private AS number wgsdn devices use towards their gateways")
    return asn


def _parse_prefixes(value, host, where, family):
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise PlanError(host, VARIABLE, f"{where} {shown(value)} must be a list of prefixes")
    result = []
    for item in value:
        net = family.parse_network(item, host, VARIABLE) if isinstance(item, str) and "/" in item else None
        if net is None:
            raise PlanError(host, VARIABLE, f"{where}: {shown(item)} is not an {family.label} prefix in CIDR notation (the peer's address is {family.label})")
        result.append(str(net))
    return result


def _parse_export(value, host, where, family):
    if value == OVERLAY:
        return OVERLAY
    if isinstance(value, str) and "/" not in value:
        raise PlanError(host, VARIABLE, f"{where}: export {shown(value)} must be 'overlay' or a list of prefixes")
    return _parse_prefixes(value, host, f"{where}: export", family)


def _parse_bool(value, host, where):
    if not isinstance(value, bool):
        raise PlanError(host, VARIABLE, f"{where} {shown(value)} must be true or false")
    return value


def _parse_multihop(value, host, where):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 255:
        raise PlanError(host, VARIABLE, f"{where}: multihop {shown(value)} must be a hop count 1-255")
    return value


def _parse_password(value, host, where):
    """TCP MD5 key: 1-80 printable ASCII characters, no '"' or '\\' (it becomes a BIRD string). Never echoed."""
    if value is None or value == "":
        raise PlanError(host, VARIABLE, f"{where}: password is empty; give the TCP MD5 key, or leave the field out")
    if not isinstance(value, str):
        raise PlanError(host, VARIABLE, f"{where}: password must be a string")
    if len(value) > MAX_PASSWORD or any(not 32 <= ord(ch) <= 126 or ch in '"\\' for ch in value):
        raise PlanError(host, VARIABLE, f"{where}: password is malformed: 1-{MAX_PASSWORD} printable ASCII characters, no '\"' or '\\' (value not shown)")
    return value


def _overlaps(a, b):
    return a.version == b.version and a.first <= b.last and b.first <= a.last


def check_peers(overlay):
    """Cross-host rules on the model: routed mode, addresses and imports outside the overlay."""
    own = []  # (prefix, what) the overlay owns
    for family in overlay.families:
        own.append((overlay.networks[family.name], f"{family.network_variable} {overlay.networks[family.name]}"))
    for host in overlay.hosts.values():
        own.extend((subnet, f"host '{host.name}''s subnet {subnet}") for subnet in host.subnets)
        own.extend((netaddr.IPNetwork(s["prefix"]), f"service '{s['name']}' {s['prefix']}") for s in host.services)
    for host in overlay.hosts.values():
        if not host.bgp_peers:
            continue
        if overlay.mode != ROUTED:
            raise PlanError(host.name, VARIABLE, f"external peers need BIRD on the gateways, and this overlay is in {overlay.mode} mode (one gateway, no BGP)")
        for peer in host.bgp_peers:
            address = netaddr.IPAddress(peer["address"])
            for prefix, what in own[: len(overlay.families)]:
                if address in prefix:
                    raise PlanError(
                        host.name, VARIABLE, f"peer '{peer['name']}': address {address} lies inside the overlay ({what}); peers are reached over the underlay"
                    )
            for item in peer["import"]:
                net = netaddr.IPNetwork(item)
                for prefix, what in own:
                    if _overlaps(net, prefix):
                        raise PlanError(
                            host.name,
                            VARIABLE,
                            f"peer '{peer['name']}': import {item} would accept the overlay's own prefixes ({what}); import only what lies outside",
                        )


def check_allocation(plan):
    """A peer's ASN must not be a gateway's own (gateway ASNs are known once gateway numbers are allocated)."""
    asns = {h["asn"]: name for name, h in plan["hosts"].items() if h["role"] == GATEWAY}
    for name, host in plan["hosts"].items():
        for peer in host.get("bgp_peers", []):
            owner = asns.get(peer["asn"])
            if owner:
                raise PlanError(name, VARIABLE, f"peer '{peer['name']}': asn {peer['asn']} is gateway '{owner}''s own AS number")


# Views of the plan.


def public(peer):
    """A peer without its password (what settings, verify and the diagram may carry)."""
    return {k: v for k, v in peer.items() if k != "password"}


def imported_prefixes(plan):
    """Every prefix any gateway imports from an external peer, per family name, in inventory order."""
    result = {f["name"]: [] for f in plan["families"]}
    for host in plan["hosts"].values():
        for peer in host.get("bgp_peers", []):
            for prefix in peer["import"]:
                if prefix not in result[peer["family"]]:
                    result[peer["family"]].append(prefix)
    return result


def external_origins(plan, family_name):
    """Which external prefixes may arrive through which gateway and peer: ``[{asn, peer_asn, prefixes}]``."""
    result = []
    for host in plan["hosts"].values():
        if host["role"] != GATEWAY:
            continue
        for peer in host.get("bgp_peers", []):
            if peer["family"] == family_name and peer["import"]:
                result.append({"asn": host["asn"], "peer_asn": peer["asn"], "prefixes": list(peer["import"])})
    return result


def channel_settings(plan, host_name, family_name):
    """What one BIRD channel of a host prints for external peers."""
    host = plan["hosts"][host_name]
    return {
        "bgp_peers": [public(p) for p in host.get("bgp_peers", []) if p["family"] == family_name],
        "external_origins": external_origins(plan, family_name),
        "external": [f"{p}+" for p in memo.per_plan(plan, "imported_prefixes", imported_prefixes)[family_name]],
    }


def secrets(plan, host_name):
    """``[{symbol, password}]`` of a gateway's peers that have one: the only place a password leaves the plan."""
    return [{"symbol": p["password_symbol"], "password": p["password"]} for p in plan["hosts"][host_name].get("bgp_peers", []) if p["password"]]


_ROUTES = re.compile(r"Routes:\s+(\d+) imported, (?:\d+ filtered, )?(\d+) exported")
_STATE = re.compile(r"BGP state:\s+(\S+)")


def verify_lines(plan, host_name, outputs):
    """verify.yml's report on external sessions: ``(report lines, problems)`` from the outputs of
    ``birdc show protocols all ext_<name>``, one per peer in plan order."""
    report, problems = [], []
    outputs = list(outputs) if isinstance(outputs, list) else [outputs or ""]
    for index, peer in enumerate(plan["hosts"][host_name].get("bgp_peers", [])):
        text = outputs[index] if index < len(outputs) else ""
        state = _STATE.search(text)
        state = state.group(1) if state else "absent"
        counts = _ROUTES.search(text)
        routes = f"{counts.group(1)} prefixes imported, {counts.group(2)} exported" if counts else "no routes"
        if state != "Established":
            problems.append(f"external BGP {peer['protocol']} with {peer['name']} {peer['address']} (AS {peer['asn']}) is {state}")
        report.append(f"  external BGP {peer['protocol']} ({peer['name']} {peer['address']}, AS {peer['asn']}): {state}, {routes}")
    return report, problems
