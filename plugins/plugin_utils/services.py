# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Health-checked anycast services (``wgsdn_services``): parsing, validation and their share of the plan.

A service is an address a host serves. The host carries it on ``lo`` and
announces its host prefix over BGP from a BIRD static protocol
(``wgsdn_svc_<name>``) that bird.conf declares ``disabled``: only the host's
checker (the wgsdn.fabric.services role's systemd unit) enables it, while the
check passes, and the unit's ExecStopPost disables it again. A BIRD restart
therefore never announces an unchecked service, and a dead checker withdraws.

The same address on several hosts is anycast: every gateway prefers the
provider with the shortest AS path (its own attached devices first), and equal
paths become one multipath kernel route.

Services need BGP: in direct and hub mode (no routing daemon) they are refused.
"""

from urllib.parse import urlsplit

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import items, names
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.deps import optional
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError, shown
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.model import CLIENT, DEVICE, GATEWAY, ROUTED

netaddr = optional("netaddr")

VARIABLE = "wgsdn_services"
PROTOCOL_PREFIX = "wgsdn_svc_"  # bird.conf's kernel export rejects these protocols' routes (announced, never installed)
_FIELDS = {"name", "address", "check", "check_as_root"}


def parse_services(value, host, families):
    """The services of one host, as plan data: ``name``, ``address``, ``prefix``, ``family``, ``protocol``, ``check``,
    ``check_as_root`` (a check runs unprivileged unless the service opts in)."""
    if value is None:
        return []
    result = []
    for name, item in items.named_items(value, host, VARIABLE, _FIELDS, "service", "a systemd unit and a BIRD protocol"):
        family, address = items.address(item.get("address"), host, VARIABLE, f"service '{name}'", families)
        result.append(
            {
                "name": name,
                "address": str(address),
                "prefix": family.host_prefix(address),
                "family": family.name,
                "protocol": PROTOCOL_PREFIX + name.replace("-", "_"),
                "check": parse_check(item.get("check"), host, name),
                "check_as_root": _parse_root(item.get("check_as_root", False), host, name),
            }
        )
    return result


def _parse_root(value, host, name):
    if not isinstance(value, bool):
        raise PlanError(host, VARIABLE, f"service '{name}': check_as_root must be true or false, not {shown(value)}")
    return value


def parse_check(value, host, name):
    """``None`` (always announced while the host and its checker run), ``tcp:PORT``, ``http(s)://URL`` or a command.

    The check reaches the checker's settings file (shell-quoted, sourced by bash) and, for a
    command, ``sh -c``: it is what the operator wants run, on one line of printable ASCII.
    """
    if value is None:
        return None
    where = f"service '{name}': check {shown(value)}"
    if not isinstance(value, str) or not value.strip():
        raise PlanError(host, VARIABLE, f"{where} is not tcp:PORT, an http(s):// URL or a command")
    text = value.strip()
    if not names.one_printable_line(text):
        raise PlanError(host, VARIABLE, f"{where} must be one line of printable ASCII (no tabs, control or non-ASCII characters)")
    lowered = text.lower()
    if lowered.startswith("tcp:"):
        port = names.number(text[4:])
        if port is None or not 1 <= port <= 65535:
            raise PlanError(host, VARIABLE, f"{where} is malformed: tcp:PORT needs a port 1-65535")
        return {"type": "tcp", "port": port}
    if lowered.startswith(("http:", "https:")):
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname or " " in text:
            raise PlanError(host, VARIABLE, f"{where} is malformed: give a full URL such as http://127.0.0.1:8080/health")
        return {"type": "http", "url": text}
    return {"type": "command", "command": text}


def check_services(overlay):
    """Cross-host rules on the model (before allocation)."""
    by_address = {}
    by_name = {}
    for host in overlay.hosts.values():
        if not host.services:
            continue
        if host.role == CLIENT:
            raise PlanError(host.name, VARIABLE, "unmanaged clients (wgsdn_clients) run no BGP and cannot announce services")
        if overlay.mode != ROUTED:
            raise PlanError(
                host.name,
                VARIABLE,
                f"services are announced over BGP, and this overlay is in {overlay.mode} mode (no routing daemon runs with fewer than two gateways); "
                "add a second gateway or remove wgsdn_services",
            )
        for service in host.services:
            address = netaddr.IPAddress(service["address"])
            _check_collisions(overlay, host, service, address)
            name = by_address.setdefault(service["address"], (service["name"], host.name))
            if name[0] != service["name"]:
                raise PlanError(
                    host.name, VARIABLE, f"{service['address']} is service '{name[0]}' on host '{name[1]}'; anycast providers must use the same name"
                )
            other = by_name.setdefault(service["name"], (service["address"], host.name))
            if other[0] != service["address"]:
                raise PlanError(host.name, VARIABLE, f"service '{service['name']}' is {other[0]} on host '{other[1]}'; one name, one address")
    _check_shared_access(overlay)


def _check_collisions(overlay, host, service, address):
    for family in overlay.families:
        network = overlay.networks[family.name]
        if address.version == network.version and address in network and address in (network.network, network.broadcast):
            raise PlanError(host.name, VARIABLE, f"service '{service['name']}': {address} is the network or broadcast address of {network}")
    for other in overlay.hosts.values():
        if any(pin == address for pin in other.pinned.values()):
            raise PlanError(host.name, VARIABLE, f"service '{service['name']}': {address} collides with the overlay address of host '{other.name}'")
        for subnet in other.subnets:
            if address in subnet:
                raise PlanError(host.name, VARIABLE, f"service '{service['name']}': {address} lies in the subnet {subnet} of host '{other.name}'")


def _check_shared_access(overlay):
    """Two devices on one gateway's access interface cannot both provide an address: WireGuard
    routes a destination to exactly one peer of an interface (AllowedIPs), so failover would not work."""
    seen = {}
    for host in overlay.hosts.values():
        if host.role != DEVICE:
            continue
        for service in host.services:
            for uplink in host.uplinks:
                other = seen.setdefault((uplink, service["address"]), host.name)
                if other != host.name:
                    raise PlanError(
                        host.name,
                        VARIABLE,
                        f"service '{service['name']}' ({service['address']}) is also provided by '{other}', attached to the same gateway "
                        f"'{uplink}': WireGuard routes an address to one peer of an interface; put anycast providers behind different gateways",
                    )


def reserved(overlay, family):
    """Service addresses of ``family`` inside the overlay prefix: never allocated to a host."""
    network = overlay.networks[family.name]
    addresses = {netaddr.IPAddress(s["address"]) for h in overlay.hosts.values() for s in h.services if s["family"] == family.name}
    return {a for a in addresses if a in network}


def check_allocation(plan):
    """A service address that is some host's allocated overlay address (allocated before the service was declared)."""
    owners = {a: name for name, h in plan["hosts"].items() for a in h["addresses"].values()}
    for name, host in plan["hosts"].items():
        for service in host.get("services", []):
            owner = owners.get(service["address"])
            if owner:
                raise PlanError(
                    name,
                    VARIABLE,
                    f"service '{service['name']}': {service['address']} collides with the overlay address of host '{owner}' (from the state file)",
                )


# Views of the plan (plain data for templates, verify and the diagram).


def host_services(plan, host_name):
    """The services ``host_name`` provides (plan data)."""
    return list(plan["hosts"][host_name].get("services", []))


def providers(plan):
    """``{service name: {"address", "prefix", "providers": [host names]}}`` in inventory order."""
    result = {}
    for name, host in plan["hosts"].items():
        for service in host.get("services", []):
            entry = result.setdefault(service["name"], {"address": service["address"], "prefix": service["prefix"], "providers": []})
            entry["providers"].append(name)
    return result


def shared_addresses(plan):
    """Service addresses that more than one host announces (anycast): any of their providers can send from them."""
    return {entry["address"] for entry in providers(plan).values() if len(entry["providers"]) > 1}


def origin_prefixes(plan, gateway_name):
    """Service prefixes a gateway may originate into BGP: its own and its attached devices'."""
    prefixes = [s["prefix"] for s in host_services(plan, gateway_name)]
    for name in plan["hosts"][gateway_name]["neighbours"]:
        device = plan["hosts"][name]
        if device["role"] == DEVICE:
            prefixes.extend(s["prefix"] for s in device.get("services", []))
    return list(dict.fromkeys(prefixes))


def prefixes_outside(plan):
    """Service prefixes outside every overlay prefix (routes and AllowedIPs must name them)."""
    nets = [netaddr.IPNetwork(f["network"]) for f in plan["families"]]
    result = []
    for host in plan["hosts"].values():
        for service in host.get("services", []):
            if not any(netaddr.IPAddress(service["address"]) in n for n in nets) and service["prefix"] not in result:
                result.append(service["prefix"])
    return result


def channel_settings(plan, host_name, family_name):
    """What one BIRD channel of a host prints for services: its static protocols and, on a gateway,
    the service prefixes it accepts from each attached device (``device_import``: prefix, from)."""
    host = plan["hosts"][host_name]
    own = [s for s in host.get("services", []) if s["family"] == family_name]
    device_import = []
    if host["role"] == GATEWAY:
        for name in host["neighbours"]:
            device = plan["hosts"][name]
            if device["role"] != DEVICE:
                continue
            device_import.extend(
                {"prefix": s["prefix"], "from": device["addresses"][family_name], "device": name}
                for s in device.get("services", [])
                if s["family"] == family_name
            )
    return {"services": own, "service_import": device_import}


def verify_lines(plan, host_name, routes, protocols):
    """verify.yml's report on services: per service its providers, and which one this host's
    kernel route prefers now (the next hop's host) or that it is withdrawn; on a provider,
    whether its checker has the service announced (its BIRD protocol up)."""
    names = {a: n for n, h in plan["hosts"].items() for a in h["addresses"].values()}
    text = "\n".join(routes if isinstance(routes, list) else [routes or ""])
    own = {s["name"] for s in host_services(plan, host_name)}
    lines = []
    for name, entry in providers(plan).items():
        if name in own:
            state = protocols.get(PROTOCOL_PREFIX + name.replace("-", "_"), ("absent", ""))[0]
            preferred = "this host (announced)" if state == "up" else "this host: check failing, withdrawn"
        else:
            hops = _next_hops(text, entry["address"])
            preferred = ", ".join(names.get(h, h) for h in hops) if hops else "none (withdrawn everywhere)"
        lines.append(f"  service {name} {entry['address']}: providers {', '.join(entry['providers'])}; preferred via {preferred}")
    return lines


def _next_hops(text, address):
    """Next-hop addresses of the kernel route to ``address`` in ``ip route`` output (one or several for ECMP)."""
    hops, inside = [], False
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            continue
        if fields[0] != "nexthop":
            inside = fields[0] in (address, f"{address}/32", f"{address}/128")
        if inside and "via" in fields:
            hops.append(fields[fields.index("via") + 1])
    return hops
