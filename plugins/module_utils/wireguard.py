# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A WireGuard interface as it runs, and whether that is what its wg-quick file says.

Host-side, standard library only (run inside modules). ``parse_config`` reads the
wg(8) configuration format that both ``wg showconf IF`` (the running interface)
and ``wg-quick strip IF`` (the file, without wg-quick's own keys) print, so one
canonical form compares the two. ``parse_settings`` reads the addresses a
wg-quick settings file (``Address``, ``PostUp = ip ... address add L peer P``)
puts on the interface, and ``live_addresses`` the ones ``ip -j address`` shows.
"""

import ipaddress
import json
import re
import socket

# Settings of an interface that the running kernel state compares; keys are wg(8)'s.
_PTP = re.compile(r"address add (\S+) peer (\S+) dev ")


def parse_config(text):
    """``{"interface": {key: value}, "peers": {public key: {key: value}}}`` of a wg(8) configuration."""
    interface, peers, section, peer = {}, {}, None, {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("["):
            section = line.strip("[]").strip().lower()
            peer = {}
            continue
        key, sep, value = line.partition("=")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if section == "interface":
            interface[key] = value
        elif section == "peer" and key == "PublicKey":
            peers[value] = peer
        elif section == "peer" and key == "AllowedIPs" and key in peer:
            peer[key] += ", " + value
        elif section == "peer":
            peer[key] = value
    return {"interface": interface, "peers": peers}


def _networks(value):
    result = set()
    for item in value.split(","):
        item = item.strip()
        if item:
            result.add(str(ipaddress.ip_network(item, strict=False)))
    return sorted(result)


def _number(value):
    """wg(8) prints 0 and off alike as absent."""
    if value in (None, "", "off", "0"):
        return 0
    return int(value, 0)


def canonical(config):
    """The parts of a parsed configuration the kernel keeps, in one comparable form (keys included)."""
    interface = config["interface"]
    result = {
        "private_key": interface.get("PrivateKey"),
        "listen_port": _number(interface.get("ListenPort")),
        "fwmark": _number(interface.get("FwMark")),
        "peers": {},
    }
    for key, peer in config["peers"].items():
        result["peers"][key] = {
            "preshared_key": peer.get("PresharedKey") or None,
            "allowed_ips": _networks(peer.get("AllowedIPs", "")),
            "endpoint": peer.get("Endpoint") or None,
            "keepalive": _number(peer.get("PersistentKeepalive")),
        }
    return result


def public_view(state):
    """``state`` (a canonical configuration) without key material: what may be digested or shown."""
    view = dict(state, private_key=None, public_key=state.get("public_key"))
    view["peers"] = {key: dict(peer, preshared_key=bool(peer["preshared_key"])) for key, peer in state["peers"].items()}
    return view


def _endpoints(endpoint):
    """Every ``address:port`` a configured endpoint (a name or an address) stands for; None when it cannot be resolved."""
    host, _sep, port = endpoint.rpartition(":")
    host = host.strip("[]")
    try:
        infos = socket.getaddrinfo(host, int(port), type=socket.SOCK_DGRAM)
    except (OSError, ValueError):
        return None
    found = set()
    for family, _type, _proto, _name, address in infos:
        found.add(f"[{address[0]}]:{address[1]}" if family == socket.AF_INET6 else f"{address[0]}:{address[1]}")
    return found


def differences(wanted, live, resolve=_endpoints):
    """What of ``live`` differs from ``wanted`` (both canonical), in words without key material.

    The listen port counts only when the file sets one (else the kernel picks it) and an
    endpoint only when the file names one (else the peer's roaming address is right), and
    then as any address the name resolves to (a name that does not resolve is not judged).
    """
    found = []
    if wanted["private_key"] != live["private_key"]:
        found.append("private key")
    if wanted["listen_port"] and wanted["listen_port"] != live["listen_port"]:
        found.append("listen port")
    if wanted["fwmark"] != live["fwmark"]:
        found.append("fwmark")
    if set(wanted["peers"]) != set(live["peers"]):
        found.append("peers")
    for key in sorted(set(wanted["peers"]) & set(live["peers"])):
        want, have = wanted["peers"][key], live["peers"][key]
        if any(want[field] != have[field] for field in ("preshared_key", "allowed_ips", "keepalive")):
            found.append("peers")
            continue
        if want["endpoint"]:
            addresses = resolve(want["endpoint"])
            if addresses is not None and have["endpoint"] not in addresses:
                found.append("peers")
    return sorted(set(found))


def parse_settings(text):
    """The addresses a wg-quick settings file puts on its interface (``A/len`` or ``L peer P/len``), and its MTU."""
    addresses, mtu = set(), None
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key == "Address":
            addresses.update(str(ipaddress.ip_interface(a.strip())) for a in value.split(",") if a.strip())
        elif key == "PostUp":
            match = _PTP.search(value)
            if match:
                addresses.add(f"{ipaddress.ip_address(match.group(1))} peer {ipaddress.ip_network(match.group(2), strict=False)}")
        elif key == "MTU":
            mtu = int(value)
    return {"addresses": sorted(addresses), "mtu": mtu}


def live_link(ip_link_json, ip_addr_json):
    """``{"exists", "up", "mtu", "addresses"}`` of an interface from ``ip -j link show`` / ``ip -j address show`` output
    (link-local addresses left out: the kernel adds them itself)."""
    try:
        link = json.loads(ip_link_json or "[]")
        addr = json.loads(ip_addr_json or "[]")
    except ValueError:
        link, addr = [], []
    if not link:
        return {"exists": False, "up": False, "mtu": None, "addresses": []}
    addresses = set()
    for entry in addr[0].get("addr_info", []) if addr else []:
        if entry.get("scope") == "link":
            continue
        local, peer, length = entry["local"], entry.get("address"), entry["prefixlen"]
        if peer and peer != local:
            addresses.add(f"{ipaddress.ip_address(local)} peer {ipaddress.ip_network(f'{peer}/{length}', strict=False)}")
        else:
            addresses.add(str(ipaddress.ip_interface(f"{local}/{length}")))
    return {"exists": True, "up": "UP" in link[0].get("flags", []), "mtu": link[0].get("mtu"), "addresses": sorted(addresses)}


def link_differences(settings, link):
    """What of a running link differs from its settings (parsed): a restart of its wg-quick unit mends each."""
    if not link["exists"]:
        return ["missing"]
    found = []
    if not link["up"]:
        found.append("down")
    if settings["addresses"] != link["addresses"]:
        found.append("addresses")
    if settings["mtu"] and settings["mtu"] != link["mtu"]:
        found.append("mtu")
    return found
