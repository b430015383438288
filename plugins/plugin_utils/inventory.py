# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""From the inventory to the model: group membership plus each host's ``wgsdn_*`` variables.

``build_overlay`` parses every value it reads (each error names the host and
the variable), fills in the defaults, and hands the overlay to ``validate`` for
the checks that involve several hosts.
"""

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import names, peers, services, validate
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.contract import DEVICES_GROUP, GATEWAYS_GROUP
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.deps import optional
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError, shown
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.family import FAMILIES, family_of
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.model import (
    CLIENT,
    DEFAULT_GATEWAY_PORT,
    DEFAULT_KEEPALIVE,
    DEVICE,
    GATEWAY,
    IFNAMSIZ,
    Host,
    Overlay,
)

netaddr = optional("netaddr")


def parse_int(value, host, variable, low, high, what):
    parsed = names.number(value)
    if parsed is None or not low <= parsed <= high:
        raise PlanError(host, variable, f"{shown(value)} is not {what} ({low}-{high})")
    return parsed


def parse_port(value, host, variable):
    return parse_int(value, host, variable, 1, 65535, "a UDP port")


def parse_endpoint(value, host, variable):
    """A DNS name or an IP literal (without port: the port is the listen port)."""
    if not isinstance(value, str) or not value.strip():
        raise PlanError(host, variable, f"{shown(value)} is not a host name or IP address")
    text = value.strip()
    try:
        return str(netaddr.IPAddress(text.strip("[]"), flags=netaddr.INET_PTON))
    except (netaddr.AddrFormatError, ValueError):
        pass
    if not names.dns_name(text):
        if ":" in text:
            raise PlanError(host, variable, f"{shown(value)} is not a host name or IP address; give the port in wgsdn_listen_port, not here")
        raise PlanError(host, variable, f"{shown(value)} is not a valid host name or IP address (DNS labels of letters, digits, '-', '_', joined by '.')")
    return text


def parse_subnet(value, host, variable):
    """A LAN prefix of any family the collection knows."""
    try:
        family = family_of(value) if isinstance(value, str) and "/" in value else FAMILIES[0]
    except (netaddr.AddrFormatError, ValueError, TypeError):
        family = FAMILIES[0]
    return family.parse_network(value, host, variable)


def _as_list(value, host, variable):
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise PlanError(host, variable, f"{shown(value)} must be a list")


def _shared(hosts, hostvars, variable, default, parse):
    """The one value of an overlay-wide variable; hosts that disagree are refused, naming both."""
    value = origin = None
    seen = {}  # raw value -> parsed: a group variable is parsed once, not once per host
    for name in hosts:
        raw = hostvars.get(name, {}).get(variable, default)
        if raw is None:
            continue
        key = (type(raw), raw) if isinstance(raw, (str, int, bool)) else None
        parsed = seen[key] if key in seen else parse(raw, name)
        if key is not None:
            seen[key] = parsed
        if origin is None:
            value, origin = parsed, name
        elif parsed != value:
            raise PlanError(
                name, variable, f"{parsed} differs from {value} set for host '{origin}'; it describes the whole overlay: set it once, as a group variable"
            )
    return value, origin


def _parse_bool(variable):
    def parse(value, host):
        if not isinstance(value, bool):
            raise PlanError(host, variable, f"{shown(value)} must be true or false")
        return value

    return parse


def _parse_interface(value, host):
    return names.interface_name(value, host, "wgsdn_interface", IFNAMSIZ)


def _roles(gateways, devices, clients):
    roles = {}
    for role, members in ((GATEWAY, gateways), (DEVICE, devices), (CLIENT, clients)):
        for name in members:
            names.host_name(name)  # whatever else is set: the name itself reaches peers' configurations
            if name in roles and roles[name] != role:
                raise PlanError(name, "groups", f"host is in both the {roles[name]} and the {role} group; pick one")
            roles[name] = role
    if not roles:
        raise PlanError(None, "groups", f"no hosts in the groups {GATEWAYS_GROUP} / {DEVICES_GROUP}")
    return roles


def _networks(roles, hostvars):
    """The overlay prefix of each family that is set; at least one must be."""
    networks, families = {}, []
    for family in FAMILIES:
        variable = family.network_variable
        network, origin = _shared(roles, hostvars, variable, None, lambda value, host, f=family, v=variable: f.parse_network(value, host, v))
        if network is None:
            continue
        missing = next((name for name in roles if hostvars.get(name, {}).get(variable) is None), None)
        if missing:
            raise PlanError(missing, variable, f"not set, but host '{origin}' has {network}; set it as a group variable")
        if network.prefixlen > family.host_prefixlen - 2:
            raise PlanError(origin, variable, f"{network} is too small for an overlay (use /{family.host_prefixlen - 2} or larger)")
        networks[family.name] = network
        families.append(family)
    if not families:
        first = next(iter(roles))
        others = ", ".join(f.network_variable for f in FAMILIES[1:])
        raise PlanError(first, FAMILIES[0].network_variable, f"not set (nor {others}); set it as a group variable, e.g. {FAMILIES[0].example}")
    return families, networks


def build_overlay(gateways, devices, hostvars, clients=()):
    """Build and validate the overlay from group membership and host variables.

    ``gateways``/``devices``/``clients`` are host names in inventory order;
    ``hostvars`` maps each name to a dict holding (at least) its ``wgsdn_*``
    variables and ``ansible_host``. Raises ``PlanError``.
    """
    roles = _roles(gateways, devices, clients)
    families, networks = _networks(roles, hostvars)
    preshared, _origin = _shared(roles, hostvars, "wgsdn_preshared_keys", True, _parse_bool("wgsdn_preshared_keys"))
    interface, _origin = _shared(roles, hostvars, "wgsdn_interface", "wg0", _parse_interface)
    metrics, _origin = _shared(roles, hostvars, "wgsdn_metrics", False, _parse_bool("wgsdn_metrics"))
    hosts = {name: _build_host(name, role, hostvars.get(name, {}), families) for name, role in roles.items()}
    gateways = [name for name, role in roles.items() if role == GATEWAY]
    if len(gateways) == 1:  # one gateway: every device and client attaches to it
        for host in hosts.values():
            if host.role != GATEWAY and not host.uplinks:
                host.uplinks = list(gateways)
    overlay = Overlay(families=families, networks=networks, hosts=hosts, preshared_keys=preshared, interface=interface, metrics=metrics)
    validate.check_overlay(overlay)
    return overlay


def _build_host(name, role, hv, families):
    host = Host(name=name, role=role)
    for family in families:
        variable = family.address_variable
        if hv.get(variable) is not None:
            host.pinned[family.name] = family.parse_address(hv[variable], name, variable)

    port = hv.get("wgsdn_listen_port")
    if port is not None and role == CLIENT:
        raise PlanError(name, "wgsdn_listen_port", "unmanaged clients (wgsdn_clients) never listen; they dial their gateway")
    if port is not None:
        host.listen_port = parse_port(port, name, "wgsdn_listen_port")
    elif role == GATEWAY:
        host.listen_port = DEFAULT_GATEWAY_PORT

    if hv.get("wgsdn_endpoint") is not None:
        host.endpoint = parse_endpoint(hv["wgsdn_endpoint"], name, "wgsdn_endpoint")
    elif host.listens:
        host.endpoint = parse_endpoint(hv.get("ansible_host") or name, name, "ansible_host")

    if hv.get("wgsdn_persistent_keepalive") is not None:
        host.keepalive = parse_int(hv["wgsdn_persistent_keepalive"], name, "wgsdn_persistent_keepalive", 0, 65535, "a number of seconds")
    elif role == CLIENT:
        host.keepalive = DEFAULT_KEEPALIVE  # phones and laptops sit behind NAT

    for value in _as_list(hv.get("wgsdn_subnets"), name, "wgsdn_subnets"):
        host.subnets.append(parse_subnet(value, name, "wgsdn_subnets"))

    uplinks = _as_list(hv.get("wgsdn_uplinks"), name, "wgsdn_uplinks")
    if uplinks and role == GATEWAY:
        raise PlanError(name, "wgsdn_uplinks", "gateways have no uplinks; they peer with every other gateway")
    for uplink in uplinks:
        if not isinstance(uplink, str):
            raise PlanError(name, "wgsdn_uplinks", f"{shown(uplink)} is not a host name")
        if uplink in host.uplinks:
            raise PlanError(name, "wgsdn_uplinks", f"{shown(uplink)} is listed twice")
        host.uplinks.append(uplink)

    host.link_name = names.interface_name(hv.get("wgsdn_link_name", name), name, "wgsdn_link_name")
    host.services = services.parse_services(hv.get("wgsdn_services"), name, families)
    host.bgp_peers = peers.parse_peers(hv.get("wgsdn_bgp_peers"), name, role, families)
    _read_route_reflector(host, hv)
    return host


def _read_route_reflector(host, hv):
    value = hv.get("wgsdn_route_reflector")
    if value is None:
        return
    host.route_reflector = _parse_bool("wgsdn_route_reflector")(value, host.name)
    if host.route_reflector and host.role != GATEWAY:
        raise PlanError(
            host.name, "wgsdn_route_reflector", f"only gateways reflect routes; this host is a {host.role}: move it to {GATEWAYS_GROUP} or drop the variable"
        )
