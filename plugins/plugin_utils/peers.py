# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""External BGP peers of gateways (``wgsdn_bgp_peers``): parsing, validation and their share of the plan.

A peer is a router outside the overlay (an office core, a cloud router, an ISP)
that a gateway speaks eBGP with over the underlay, configured as network
engineers configure such sessions:

* what it may announce is exactly its ``import`` list (those prefixes and any
  more-specific ones), never the overlay's own prefixes, and at most
  ``max_prefixes`` routes, refused ones included (BIRD ``receive limit``,
  ``action disable``: a peer that leaks a full table is shut down and stays
  down until someone enables it, ``birdc enable ext_NAME`` or the next
  ``site.yml``); routes carrying the graceful-shutdown community (RFC 8326,
  65535:0) get the lowest preference;
* what it learns is aggregates: ``export: overlay`` announces the overlay
  prefixes and the declared LANs, summarised (``netaddr.cidr_merge``), and
  service addresses outside them while a provider announces them; a prefix
  list announces exactly those aggregates, each of which must lie inside the
  overlay prefixes and LANs (it must not claim addresses the overlay does not
  have). Host routes (every host address, LAN and service inside the
  aggregates, as the gateway reaches them) only with ``export_host_routes:
  true``. The aggregates come from a static protocol of blackhole routes at
  the lowest preference (``wgsdn_aggregate``), announced to external peers
  only, never to gateways or devices and never put in a kernel table: any
  real route of the same prefix wins over it;
* ``local_asn`` is the AS number the gateway presents (default: its private
  one), ``communities`` (``A:B``, large ``A:B:C``) are added to every route
  announced; the overlay's private AS numbers never leave it.

The other gateways accept a learned prefix only when its AS path shows it came
from the declaring gateway straight from that peer, and re-advertise it to
their devices, whose AllowedIPs and routes include it. ``password`` (TCP MD5)
is a secret: the plan keeps it, bird.conf names it only through a constant
defined in a separate fragment that is never shown (no_log, no diff).
"""

import re

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import items, memo, names, services
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.deps import optional
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError, shown
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.model import ASN_MAX, GATEWAY, ROUTED

netaddr = optional("netaddr")

VARIABLE = "wgsdn_bgp_peers"
OVERLAY = "overlay"
PROTOCOL_PREFIX = "ext_"
PASSWORD_PREFIX = "wgsdn_password_"
_FIELDS = {
    "name",
    "address",
    "asn",
    "local_asn",
    "import",
    "export",
    "export_host_routes",
    "max_prefixes",
    "communities",
    "bfd",
    "password",
    "multihop",
}
# Reserved: 0, AS_TRANS (23456), 65535 and 4294967295 (RFC 7300); 4294967294 is what wgsdn devices use (bird_device_asn).
_RESERVED_ASNS = {0, 23456, 65535, 4294967295}
MAX_PASSWORD = 80  # Linux TCP_MD5SIG_MAXKEYLEN
# The default prefix limit: a leaked full table (about a million IPv4 routes) trips it within its
# first thousandth, while a site announcing its LANs and their more-specifics (refused ones count
# too) stays far below it; an import list longer than half of it gets twice its length.
DEFAULT_MAX_PREFIXES = 1000
MAX_LIMIT = 4294967295  # BIRD's limits are 32-bit
# Graceful shutdown (RFC 8326): routes carrying it are about to go away and get the lowest preference.
GRACEFUL_SHUTDOWN = (65535, 0)
_STANDARD_MAX, _LARGE_MAX = 65535, 4294967295


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
        asn = _parse_asn(item.get("asn"), host, where)
        imports = _parse_prefixes(item.get("import", []), host, f"{where}: import", family)
        peer = {
            "name": name,
            "address": str(address),
            "family": family.name,
            "asn": asn,
            # None: the gateway's own private AS number, known once gateway numbers are allocated.
            "local_asn": _parse_local_asn(item.get("local_asn"), asn, host, where),
            "import": imports,
            "export": _parse_export(item.get("export", OVERLAY), host, where, family),
            "export_host_routes": _parse_bool(item.get("export_host_routes", False), host, f"{where}: export_host_routes"),
            "max_prefixes": _parse_limit(item.get("max_prefixes"), len(imports), host, where),
            "communities": parse_communities(item.get("communities", []), host, where),
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


def _parse_asn(value, host, where, field="asn"):
    asn = names.number(value)
    if asn is None or not 1 <= asn <= 4294967295 or asn in _RESERVED_ASNS:
        raise PlanError(host, VARIABLE, f"{where}: {field} {shown(value)} is not a valid AS number (1-4294967294, not 23456 or 65535)")
    if asn == ASN_MAX:
        raise PlanError(host, VARIABLE, f"{where}: {field} {asn} is the private AS number wgsdn devices use towards their gateways")
    return asn


def _parse_local_asn(value, asn, host, where):
    """The AS number the gateway presents to this peer; None (the default) is the gateway's own."""
    if value is None:
        return None
    local = _parse_asn(value, host, where, "local_asn")
    if local == asn:
        raise PlanError(host, VARIABLE, f"{where}: local_asn {local} is the peer's own asn: that would be an iBGP session, and external peers speak eBGP")
    return local


def _parse_limit(value, imports, host, where):
    """``max_prefixes``: how many routes the peer may send (refused ones included), a positive integer."""
    if value is None:
        return max(DEFAULT_MAX_PREFIXES, 2 * imports)
    limit = names.number(value)
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        raise PlanError(host, VARIABLE, f"{where}: max_prefixes {shown(value)} is not a positive integer (1-{MAX_LIMIT})")
    return limit


def parse_communities(value, host, where):
    """``{"standard": [[a, b], ...], "large": [[a, b, c], ...]}`` from ``A:B`` (each 0-65535) and ``A:B:C``
    (each 0-4294967295) strings, in their order, without repeats."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise PlanError(host, VARIABLE, f"{where}: communities {shown(value)} must be a list of A:B or A:B:C")
    result = {"standard": [], "large": []}
    for item in value:
        parts = [names.number(part) for part in item.split(":")] if isinstance(item, str) else []
        kind, top = ("standard", _STANDARD_MAX) if len(parts) == 2 else ("large", _LARGE_MAX) if len(parts) == 3 else (None, -1)
        if kind is None or any(part is None or not 0 <= part <= top for part in parts):
            raise PlanError(
                host,
                VARIABLE,
                f"{where}: communities: {shown(item)} is not a community (A:B, each 0-{_STANDARD_MAX}, or a large community A:B:C, each 0-{_LARGE_MAX})",
            )
        if parts not in result[kind]:
            result[kind].append(parts)
    return result


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
        own.extend((subnet, f"subnet {subnet} of host '{host.name}'") for subnet in host.subnets)
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
            _check_aggregates(overlay, host, peer)


def _check_aggregates(overlay, host, peer):
    """An aggregate of an export list must cover only what the overlay has (its prefixes and declared LANs):
    announcing more would attract traffic for addresses nobody in the overlay holds."""
    if peer["export"] == OVERLAY:
        return
    version = netaddr.IPNetwork(overlay.networks[peer["family"]]).version
    owned = netaddr.IPSet([overlay.networks[peer["family"]], *(s for h in overlay.hosts.values() for s in h.subnets if s.version == version)])
    for item in peer["export"]:
        outside = netaddr.IPSet([item]) - owned
        if outside:
            first = next(iter(outside.iter_cidrs()))
            raise PlanError(
                host.name,
                VARIABLE,
                f"peer '{peer['name']}': export {item} does not cover only the overlay: {first} is neither in the overlay prefix nor in a declared LAN "
                "(an aggregate must not claim addresses the overlay does not have)",
            )


def check_allocation(plan):
    """A peer's ASN, and the one a gateway presents to it, must not be another gateway's own (gateway ASNs are
    known once gateway numbers are allocated)."""
    asns = {h["asn"]: name for name, h in plan["hosts"].items() if h["role"] == GATEWAY}
    for name, host in plan["hosts"].items():
        for peer in host.get("bgp_peers", []):
            owner = asns.get(peer["asn"])
            if owner:
                raise PlanError(name, VARIABLE, f"peer '{peer['name']}': asn {peer['asn']} is the AS number of gateway '{owner}'")
            owner = asns.get(peer["local_asn"])
            if owner and owner != name:
                raise PlanError(
                    name,
                    VARIABLE,
                    f"peer '{peer['name']}': local_asn {peer['local_asn']} is the AS number of gateway '{owner}' (leave it out to present this gateway's)",
                )


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


def overlay_aggregates(plan):
    """Per family name: the overlay prefix and every declared LAN of that family, summarised, and the service
    prefixes outside them (announced while a provider announces them, never as an aggregate):
    ``{family: {"aggregates": [...], "services": [...]}}``."""
    result = {}
    for family in plan["families"]:
        version = family["version"]
        nets = [netaddr.IPNetwork(family["network"])]
        nets += [netaddr.IPNetwork(s) for h in plan["hosts"].values() for s in h["subnets"] if netaddr.IPNetwork(s).version == version]
        merged = netaddr.cidr_merge(nets)
        covered = netaddr.IPSet(merged)
        outside = [p for p in services.prefixes_outside(plan) if netaddr.IPNetwork(p).version == version and netaddr.IPNetwork(p) not in covered]
        result[family["name"]] = {"aggregates": [str(n) for n in merged], "services": outside}
    return result


def _export_view(plan, host, peer):
    """A peer as bird.conf prints it: without its password, with the AS number the gateway presents, the
    aggregates it announces and, for ``export: overlay``, the service prefixes outside them."""
    overlay = memo.per_plan(plan, "overlay_aggregates", overlay_aggregates)[peer["family"]]
    view = public(peer)
    view["local_asn"] = peer["local_asn"] or host["asn"]
    view["aggregates"] = overlay["aggregates"] if peer["export"] == OVERLAY else list(peer["export"])
    view["services"] = overlay["services"] if peer["export"] == OVERLAY else []
    return view


def channel_settings(plan, host_name, family_name):
    """What one BIRD channel of a host prints for external peers, and the aggregates its static protocol
    originates for them (``aggregates``: every peer's, once)."""
    host = plan["hosts"][host_name]
    views = [_export_view(plan, host, p) for p in host.get("bgp_peers", []) if p["family"] == family_name]
    return {
        "bgp_peers": views,
        "aggregates": list(dict.fromkeys(a for v in views for a in v["aggregates"])),
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
        if "Route limit exceeded" in text:
            state = f"Down: it sent more than max_prefixes {peer['max_prefixes']} routes (fix the peer, then birdc enable {peer['protocol']} or run site.yml)"
        if state != "Established":
            problems.append(f"external BGP {peer['protocol']} with {peer['name']} {peer['address']} (AS {peer['asn']}) is {state}")
        report.append(f"  external BGP {peer['protocol']} ({peer['name']} {peer['address']}, AS {peer['asn']}): {state}, {routes}")
    return report, problems
