# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Segmentation: ``wgsdn_policy`` parsed, resolved into nftables sets, and decided.

Plain Python, no Ansible imports. ``parse`` checks the policy's shape (every
error names ``rules[N].field``); ``resolve`` turns the names a rule uses
(inventory groups, host names, prefixes) into address sets with the plan's
addresses; ``ruleset`` is one host's nftables data (table ``inet wgsdn``) and
``decide`` is the one owner of "may A reach B on this port" that the ruleset,
``playbooks/policy_check.yml`` and ``verify.yml``'s expected matrix all follow.

The ruleset grows with rules and groups, not with hosts squared: each distinct
``from``/``to`` list becomes one named set per family with ``flags interval``
(adjacent addresses merge into ranges), shared by every rule that names it,
and the rules are the same on every host. Where traffic is filtered:

* every host filters what arrives from its WireGuard interfaces for itself
  (hook input) and for a LAN behind it (hook forward, destination in its own
  ``wgsdn_subnets``);
* a gateway also filters, on forward, what it hands to its unmanaged clients
  (they run no ruleset): they are filtered at their gateway.

Traffic in transit between gateways is not filtered there (its destination
filters it), so routes that differ per direction (ECMP, failover) never meet a
stateful filter that saw only one half of a flow.
"""

import re

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import memo, services, topology
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.contract import MONITORS_GROUP
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.deps import optional
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError, shown
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.model import CLIENT

netaddr = optional("netaddr")

VARIABLE = "wgsdn_policy"
TABLE = "inet wgsdn"
DEFAULTS = ("allow", "deny")
ACTIONS = ("allow", "deny")
RULE_KEYS = ("from", "to", "ports", "action")
PROTOCOLS = ("tcp", "udp")
ICMP = "icmp"
_PORT = re.compile(r"^(tcp|udp)/(\d{1,5})(?:-(\d{1,5}))?$")

# The fabric's own control plane between link neighbours: never subject to the policy.
BGP_PORT = 179
BFD_PORTS = (3784, 4784)  # single hop, multihop

# The comments of the counted drops at the edge (verify and the tests read their counters by them).
SPOOFED = "spoofed source"
OUTSIDE = "outside, not invited"
EXPORTERS_REFUSED = "exporters: monitors only"

# nftables words per IP version.
_NFT = {4: {"addr": "ip", "type": "ipv4_addr", "icmp": "meta l4proto icmp icmp type echo-request"}}
_NFT[6] = {"addr": "ip6", "type": "ipv6_addr", "icmp": "meta l4proto ipv6-icmp icmpv6 type echo-request"}


def _error(message, index=None, field=None):
    where = f"rules[{index}].{field}: " if index is not None else (f"{field}: " if field else "")
    return PlanError(None, VARIABLE, where + message)


# --- parsing -----------------------------------------------------------------------------------


def shared_value(hostvars, names):
    """The one ``wgsdn_policy`` of the overlay (None when no host has it); hosts that disagree are refused."""
    value = origin = None
    for name in names:
        raw = hostvars.get(name, {}).get(VARIABLE)
        if origin is None:
            value, origin = raw, name
        elif raw != value:
            seen = "is not set for" if value is None else ("is set for" if raw is None else "differs from the value of")
            raise PlanError(name, VARIABLE, f"{seen} host '{origin}'; it describes the whole overlay: set it once, as a group variable (group all)")
    return value


def parse_port(text, index, field="ports"):
    """``tcp/N``, ``udp/N``, ``tcp/N-M``, ``udp/N-M`` or ``icmp``: ``(protocol, low, high)`` (ICMP: ``("icmp", None, None)``)."""
    if not isinstance(text, str):
        raise _error(f"{shown(text)} is not a port (tcp/N, udp/N, tcp/N-M, udp/N-M or icmp)", index, field)
    value = text.strip().lower()
    if value == ICMP:
        return (ICMP, None, None)
    match = _PORT.match(value)
    if not match:
        raise _error(f"{shown(text)} is not a port: use tcp/N, udp/N, tcp/N-M, udp/N-M or icmp", index, field)
    low = int(match.group(2))
    high = int(match.group(3)) if match.group(3) else low
    if not 1 <= low <= high <= 65535:
        raise _error(f"{shown(text)}: ports run from 1 to 65535, low before high", index, field)
    return (match.group(1), low, high)


def parse_prefix(text, index, field):
    """A CIDR prefix (a bare address stands for its host prefix), normalised; None when ``text`` is a name.

    Anything with a ``/``, a ``:`` or only digits and dots is meant as a prefix and must be one.
    """
    value = text.strip()
    if not ("/" in value or ":" in value or re.fullmatch(r"[\d.]+", value)):
        return None
    address, _slash, length = value.partition("/")
    try:
        if _slash and not length.isdigit():
            raise ValueError(length)
        net = netaddr.IPNetwork(f"{netaddr.IPAddress(address, flags=netaddr.INET_PTON)}/{length}" if _slash else address)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise _error(f"{shown(text)} is not a prefix (like 192.168.10.0/24 or fd00:10::/64)", index, field) from None
    if net.ip != net.network:
        raise _error(f"{shown(text)} has host bits set; did you mean {net.cidr}?", index, field)
    return net.cidr


def parse(raw):
    """The policy's shape checked: ``{default, rules: [{index, from, to, ports, action}]}``; None when absent.

    ``from``/``to`` stay names (resolved later against the inventory);
    ``ports`` is None (every port) or a list of ``(protocol, low, high)``.
    """
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _error(f"must be a mapping with 'default' and 'rules', not {type(raw).__name__}")
    unknown = sorted(set(raw) - {"default", "rules"})
    if unknown:
        raise _error(f"unknown key(s) {', '.join(map(str, unknown))}; a policy has 'default' and 'rules'")
    default = raw.get("default", "deny")
    if default not in DEFAULTS:
        raise _error(f"{shown(default)} is not allow or deny", field="default")
    rules = raw.get("rules") or []
    if not isinstance(rules, list):
        raise _error("must be a list of rules", field="rules")
    parsed = []
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict):
            raise _error(f"{shown(rule)} is not a mapping with from, to and ports", index, "rule")
        unknown = sorted(map(str, set(rule) - set(RULE_KEYS)))
        if unknown:
            raise _error(f"unknown key(s) {', '.join(unknown)}; a rule has {', '.join(RULE_KEYS)}", index, unknown[0])
        sides = {}
        for field in ("from", "to"):
            names = rule.get(field)
            names = [names] if isinstance(names, str) else names
            if not names:
                raise _error("names nobody: give inventory groups, host names or prefixes", index, field)
            if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
                raise _error(f"{shown(rule.get(field))} must be a list of group names, host names or prefixes", index, field)
            sides[field] = [n.strip() for n in names]
        ports = rule.get("ports")
        if ports is not None:
            ports = [ports] if isinstance(ports, str) else ports
            if not isinstance(ports, list) or not ports:
                raise _error(f"{shown(rule.get('ports'))} must be a list such as [tcp/22, udp/137-138, icmp] (omit it for every port)", index, "ports")
            ports = [parse_port(p, index) for p in ports]
        action = rule.get("action", "allow")
        if action not in ACTIONS:
            raise _error(f"{shown(action)} is not allow or deny", index, "action")
        parsed.append({"index": index, "from": sides["from"], "to": sides["to"], "ports": ports, "action": action})
    return {"default": default, "rules": parsed}


# --- resolution --------------------------------------------------------------------------------


def service_addresses(host):
    """Service addresses a host announces (the ``wgsdn_services`` storey puts them in the plan); a group or host stands for them too."""
    return [s["address"] for s in host.get("services", []) if s.get("address")]


def host_prefixes(plan, name, shared=()):
    """Everything a host stands for in a rule: its overlay addresses, its subnets, its service addresses but ``shared`` ones.

    A ``from`` side passes the anycast addresses (``services.shared_addresses``) as ``shared``:
    every provider can send from such an address, so it is no one host's source.
    """
    host = plan["hosts"][name]
    own = [a for a in service_addresses(host) if a not in shared]
    return [*topology.host_prefixes(plan, host), *host["subnets"], *(str(netaddr.IPNetwork(a).cidr) for a in own)]


def _members(name, plan, groups):
    if name in groups:
        return [h for h in groups[name] if h in plan["hosts"]]
    if name in plan["hosts"]:
        return [name]
    return None


def _resolve_side(names, plan, groups, index, field, stands_for, shared):
    prefixes, hosts, literals = [], [], []
    for name in names:
        prefix = parse_prefix(name, index, field)
        if prefix is not None:
            prefixes.append(prefix)
            literals.append(str(prefix))
            continue
        members = _members(name, plan, groups)
        if members is None:
            raise _error(f"{shown(name)} is neither an inventory group, a host of the overlay, nor a prefix", index, field)
        hosts.extend(m for m in members if m not in hosts)
        for member in members:
            if member not in stands_for:
                stands_for[member] = [netaddr.IPNetwork(p) for p in host_prefixes(plan, member, shared)]
            prefixes.extend(stands_for[member])
    if not prefixes:
        raise _error(f"names nobody: {', '.join(names)} hold(s) no host of the overlay", index, field)
    by_version = {4: [], 6: []}
    for net in netaddr.cidr_merge(prefixes):
        by_version[net.version].append(str(net))
    return {"hosts": hosts, "prefixes": literals, "v4": by_version[4], "v6": by_version[6]}


def resolve(parsed, plan, groups):
    """The policy with every ``from``/``to`` resolved: per side ``hosts`` (names it covers), ``v4``/``v6`` (merged prefixes).

    ``groups``: the inventory's group membership (Ansible's ``groups``, which
    already counts the hosts of child groups in their parents). Raises PlanError.
    """
    if parsed is None:
        return None
    groups = groups or {}
    # Per side: what each host stands for. An anycast address is a destination, never one host's source.
    shared = {"from": services.shared_addresses(plan), "to": set()}
    rules, stands_for = [], {"from": {}, "to": {}}
    for rule in parsed["rules"]:
        resolved = dict(rule)
        for field in ("from", "to"):
            resolved[field + "_names"] = list(rule[field])
            resolved[field] = _resolve_side(rule[field], plan, groups, rule["index"], field, stands_for[field], shared[field])
        resolved["ports"] = None if rule["ports"] is None else [list(p) for p in rule["ports"]]
        rules.append(resolved)
    resolved = {"default": parsed["default"], "rules": rules}
    resolved["nft"] = _nft_rules(resolved)  # the same on every host: computed once per plan
    return resolved


def plan_policy(hostvars, plan, groups):
    """``plan["policy"]``: the overlay's ``wgsdn_policy`` parsed and resolved (None when absent)."""
    return resolve(parse(shared_value(hostvars, list(plan["hosts"]))), plan, groups)


# --- decision ----------------------------------------------------------------------------------


def _port_matches(ports, protocol, port):
    if ports is None:
        return True
    for proto, low, high in ports:
        if proto == protocol == ICMP:
            return True
        if proto == protocol and port is not None and low <= port <= high:
            return True
    return False


def _contains(side, address):
    key = "v4" if address.version == 4 else "v6"
    return any(address in netaddr.IPNetwork(p) for p in side[key])


def parse_flow_port(text):
    """``tcp/22``, ``udp/53`` or ``icmp`` as ``(protocol, port)``."""
    proto, low, high = parse_port(text, None, "port")
    if proto != ICMP and low != high:
        raise _error(f"{shown(text)}: give one port, not a range", field="port")
    return proto, low


def _address_of(plan, what, family=None):
    """An address for a host name (its address in ``family``, default the first) or an address literal."""
    if what in plan["hosts"]:
        addresses = plan["hosts"][what]["addresses"]
        return netaddr.IPAddress(addresses[family or plan["families"][0]["name"]])
    try:
        return netaddr.IPAddress(str(what).split("/", maxsplit=1)[0], flags=netaddr.INET_PTON)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise PlanError(None, VARIABLE, f"{shown(what)} is neither a host of the overlay nor an address") from None


def decide(policy, plan, src, dst, port, family=None):
    """Whether the policy lets ``src`` reach ``dst`` on ``port`` (``tcp/N``, ``udp/N``, ``icmp``), and why.

    ``src``/``dst``: host names (their address in ``family``) or addresses.
    The first rule whose from, to and ports match decides; else the default.
    An anycast service address (several providers) as ``src`` matches no rule
    through a host or group: it is in ``to`` sides only (``resolve``).
    Returns ``{allowed, rule (index or None), reason}``.
    """
    protocol, number = parse_flow_port(port) if isinstance(port, str) else port
    if policy is None:
        return {"allowed": True, "rule": None, "reason": "no wgsdn_policy: everyone reaches everyone"}
    source, destination = _address_of(plan, src, family), _address_of(plan, dst, family)
    for rule in policy["rules"]:
        if _contains(rule["from"], source) and _contains(rule["to"], destination) and _port_matches(rule["ports"], protocol, number):
            return {"allowed": rule["action"] == "allow", "rule": rule["index"], "reason": describe_rule(rule)}
    return {"allowed": policy["default"] == "allow", "rule": None, "reason": f"no rule matches: default {policy['default']}"}


def describe_rule(rule):
    ports = "every port" if rule["ports"] is None else ", ".join(format_port(p) for p in rule["ports"])
    return f"rules[{rule['index']}] ({rule['action']} {', '.join(rule['from_names'])} -> {', '.join(rule['to_names'])}: {ports})"


def legend(plan):
    """The policy in words for the diagram: the default, then one line per rule (empty without a policy)."""
    policy = plan.get("policy")
    if not policy:
        return []
    return [f"wgsdn_policy: default {policy['default']}", *(describe_rule(rule) for rule in policy["rules"])]


def format_port(port):
    proto, low, high = port
    if proto == ICMP:
        return ICMP
    return f"{proto}/{low}" if low == high else f"{proto}/{low}-{high}"


# --- nftables ------------------------------------------------------------------------------------


def _nft_ports(ports):
    return ", ".join(str(low) if low == high else f"{low}-{high}" for _proto, low, high in ports)


def _matches(rule, version):
    """The nftables match expressions of one rule in one IP version (one per protocol it names)."""
    if rule["ports"] is None:
        return [""]
    matches = []
    for proto in PROTOCOLS:
        ports = [p for p in rule["ports"] if p[0] == proto]
        if ports:
            matches.append(f"{proto} dport {{ {_nft_ports(ports)} }}")
    if any(p[0] == ICMP for p in rule["ports"]):
        matches.append(_NFT[version]["icmp"])
    return matches


def _neighbour_addresses(plan, host_name):
    """Overlay addresses of the link neighbours that speak BGP/BFD with this host."""
    host = plan["hosts"][host_name]
    return {
        version: sorted(
            {
                plan["hosts"][n]["addresses"][f["name"]]
                for n in host["neighbours"]
                if plan["hosts"][n]["role"] != CLIENT
                for f in plan["families"]
                if f["version"] == version
            }
        )
        for version in (4, 6)
    }


def _edge_prefixes(plan, host_name):
    """Destinations this host filters on forward: its LANs and, on a gateway, its unmanaged clients (and their subnets)."""
    host = plan["hosts"][host_name]
    prefixes = [netaddr.IPNetwork(s) for s in host["subnets"]]
    for name in host["neighbours"]:
        if plan["hosts"][name]["role"] == CLIENT:
            prefixes.extend(netaddr.IPNetwork(p) for p in [*topology.host_prefixes(plan, plan["hosts"][name]), *plan["hosts"][name]["subnets"]])
    merged = netaddr.cidr_merge(prefixes)
    return {version: [str(n) for n in merged if n.version == version] for version in (4, 6)}


def ruleset(plan, host_name, exporter_ports=()):
    """One host's ``inet wgsdn`` data for the policy role's template (``enabled`` false for a client).

    Every managed host gets the edge (``edge``): overlay, service and LAN
    sources accepted only where they can arrive (``antispoof``), traffic from
    outside the overlay towards it only when it is a reply, the control plane
    or invited by a rule (``outside``), and with ``wgsdn_metrics`` the
    ``exporter_ports`` open to the plan's ``monitors`` only (``exporters``). With a ``wgsdn_policy``, also
    ``policy``: the policy chain's statements after the stateful and
    control-plane ones (``rules``, ``control``, ``default``) and the
    forward-hook matches that send traffic into it (``forward``). ``sets``:
    named sets (``name``, ``type``, ``elements``); ``interfaces``: the host's
    WireGuard interfaces.
    """
    if plan["hosts"][host_name]["role"] == CLIENT:
        return {"enabled": False}
    sets = []
    result = {"enabled": True, "table": TABLE, "sets": sets, "interfaces": topology.interface_names(plan, host_name)}
    result["edge"] = _edge(plan, host_name, sets, exporter_ports if plan.get("metrics") else ())
    policy = plan.get("policy")
    if policy:
        shared = policy.get("nft") or _nft_rules(policy)
        sets.extend(shared["sets"])
        result["policy"] = _host_policy(plan, host_name, policy, sets, shared["rules"], _neighbour_addresses(plan, host_name))
    return result


def _nft_rules(policy):
    """The named sets and statements of the rules: the part of the ruleset every host shares."""
    sets, set_names, statements = [], {}, []

    def named_set(side, version):
        elements = side[f"v{version}"]
        key = (version, tuple(elements))
        if key not in set_names:
            set_names[key] = f"s{len(set_names)}_v{version}"
            sets.append({"name": set_names[key], "type": _NFT[version]["type"], "interval": True, "elements": elements})
        return set_names[key]

    for rule in policy["rules"]:
        verdict = "accept" if rule["action"] == "allow" else "drop"
        for version in (4, 6):
            if not rule["from"][f"v{version}"] or not rule["to"][f"v{version}"]:
                continue
            addr = _NFT[version]["addr"]
            source, destination = named_set(rule["from"], version), named_set(rule["to"], version)
            for match in _matches(rule, version):
                words = [f"{addr} saddr @{source}", f"{addr} daddr @{destination}", match, verdict, f'comment "rules[{rule["index"]}]"']
                statements.append(" ".join(w for w in words if w))
    return {"sets": sets, "rules": statements}


def _host_policy(plan, host_name, policy, sets, statements, neighbours):
    """The shared statements joined with this host's control plane and forward matches (sets added to ``sets``)."""
    control = []
    for version in (4, 6):
        if neighbours[version]:
            sets.append({"name": f"neighbours_v{version}", "type": _NFT[version]["type"], "interval": False, "elements": neighbours[version]})
            addr = _NFT[version]["addr"]
            control.append(f"{addr} saddr @neighbours_v{version} tcp dport {BGP_PORT} accept")
            control.append(f"{addr} saddr @neighbours_v{version} udp dport {{ {', '.join(map(str, BFD_PORTS))} }} accept")
    edges = _edge_prefixes(plan, host_name)
    forward = []
    for version in (4, 6):
        if edges[version]:
            sets.append({"name": f"edge_v{version}", "type": _NFT[version]["type"], "interval": True, "elements": edges[version]})
            forward.append(f"{_NFT[version]['addr']} daddr @edge_v{version}")
    return {
        "control": control,
        "rules": statements,
        "default": "accept" if policy["default"] == "allow" else "drop",
        "forward": forward,
    }


# --- the edge: where the overlay meets what is not the overlay --------------------------------


def monitors(plan, groups):
    """``plan["monitors"]``: the members of the ``wgsdn_monitors`` group, who alone may scrape the exporters."""
    names = list((groups or {}).get(MONITORS_GROUP, []))
    for name in names:
        if name not in plan["hosts"] or plan["hosts"][name]["role"] == CLIENT:
            raise PlanError(name, MONITORS_GROUP, "a monitor scrapes through the overlay: put it in wgsdn_gateways or wgsdn_devices too")
    return names


def inside_prefixes(plan):
    """``{4: [...], 6: [...]}``: every source that belongs to the overlay (its prefixes, every declared LAN, every
    service address), merged; such a source is genuine only where it can arrive (``_edge``)."""
    prefixes = [netaddr.IPNetwork(n) for n in topology.networks(plan)]
    for host in plan["hosts"].values():
        prefixes.extend(netaddr.IPNetwork(p) for p in [*host["subnets"], *service_addresses(host)])
    merged = netaddr.cidr_merge(prefixes)
    return {version: [str(n) for n in merged if n.version == version] for version in (4, 6)}


def _invited(plan):
    """``{4: [...], 6: [...]}``: prefixes outside the overlay that a rule allowing traffic names in ``from``."""
    policy = plan.get("policy") or {"rules": []}
    found = [netaddr.IPNetwork(p) for rule in policy["rules"] if rule["action"] == "allow" for p in rule["from"].get("prefixes", [])]
    merged = netaddr.cidr_merge(found)
    return {version: [str(n) for n in merged if n.version == version] for version in (4, 6)}


def _address_set(sets, name, version, elements, interval=True):
    sets.append({"name": f"{name}_v{version}", "type": _NFT[version]["type"], "interval": interval, "elements": elements})
    return f"{_NFT[version]['addr']} saddr @{name}_v{version}"


def _edge(plan, host_name, sets, exporter_ports):
    """The statements that guard the overlay's edge on one host (``antispoof``, ``outside``, ``exporters``, ``inside``)."""
    host = plan["hosts"][host_name]
    inside = memo.per_plan(plan, "inside_prefixes", inside_prefixes)
    invited = memo.per_plan(plan, "invited_prefixes", _invited)
    own = netaddr.cidr_merge([netaddr.IPNetwork(s) for s in host["subnets"]])
    peers = host.get("bgp_peers", [])
    watchers = [plan["hosts"][m]["addresses"][f["name"]] for m in plan.get("monitors", []) for f in plan["families"]]
    antispoof, outside, exporters, toward = [], [], [], []
    for version in (4, 6):
        addr = _NFT[version]["addr"]
        if inside[version]:
            inside_match = _address_set(sets, "inside", version, inside[version])
            toward.append(inside_match.replace(" saddr ", " daddr "))
            lans = [str(n) for n in own if n.version == version]
            if lans:
                antispoof.append(
                    f'{_address_set(sets, "lans", version, lans)} fib saddr . iif oif exists accept comment "this host\'s LANs, on their own interface"'
                )
            antispoof.append(f'{inside_match} counter drop comment "{SPOOFED}"')
            outside.append(f"{inside_match} accept")
        if invited[version]:
            outside.append(f'{_address_set(sets, "invited", version, invited[version])} accept comment "invited by wgsdn_policy"')
        for peer in peers:
            if netaddr.IPAddress(peer["address"]).version == version:
                outside.append(f'{addr} saddr {peer["address"]} tcp dport {BGP_PORT} accept comment "{peer["protocol"]}"')
                outside.append(f'{addr} saddr {peer["address"]} udp dport {{ {", ".join(map(str, BFD_PORTS))} }} accept comment "{peer["protocol"]}"')
        mine = [a for a in watchers if netaddr.IPAddress(a).version == version]
        if exporter_ports and mine:
            ports = ", ".join(str(p) for p in exporter_ports)
            exporters.append(f"{_address_set(sets, 'monitors', version, sorted(set(mine)), interval=False)} tcp dport {{ {ports} }} accept")
    if exporter_ports:
        exporters.append(f'tcp dport {{ {", ".join(str(p) for p in exporter_ports)} }} counter drop comment "{EXPORTERS_REFUSED}"')
    outside.append(f'counter drop comment "{OUTSIDE}"')
    return {"antispoof": antispoof, "outside": outside, "exporters": exporters, "toward": toward}


# --- verification: expected (decide) against observed (real packets) ----------------------------


def probe_ports(policy):
    """TCP ports verify.yml probes: the first port of every TCP range the rules name, and one port no rule names."""
    if policy is None:
        return []
    ports = sorted({p[1] for r in policy["rules"] for p in (r["ports"] or []) if p[0] == "tcp"})
    named = [(p[1], p[2]) for r in policy["rules"] for p in (r["ports"] or []) if p[0] == "tcp"]
    unnamed = next(p for p in range(1, 65536) if not any(low <= p <= high for low, high in named))
    return sorted({*ports, unnamed})


def _targets(plan, host_name):
    """``(name, family name, address)`` of every other managed host (clients come and go: never probed over TCP)."""
    return [
        (name, family, address)
        for name, other in plan["hosts"].items()
        if name != host_name and other["role"] != CLIENT
        for family, address in other["addresses"].items()
    ]


def probes(plan, host_name):
    """verify.yml's TCP probes from a host: ``[{address, port}]`` (none without a policy)."""
    ports = probe_ports(plan.get("policy"))
    return [{"address": address, "port": port} for _name, _family, address in _targets(plan, host_name) for port in ports]


def parse_tcp_probes(text):
    """``{(address, port): passed}`` from lines ``ADDRESS PORT open|refused|blocked``: a refusal came from the destination, so it passed."""
    result = {}
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[1].isdigit() and fields[2] in ("open", "refused", "blocked"):
            result[(fields[0], int(fields[1]))] = fields[2] != "blocked"
    return result


def _verdict(plan, host_name, name, family, address, flow, passed):
    """A problem (or None) and the report word of one observed flow."""
    decision = decide(plan["policy"], plan, host_name, address, flow, family=family)
    what = f"{name} ({address}) on {flow if isinstance(flow, str) else format_port((flow[0], flow[1], flow[1]))}"
    if decision["allowed"] and not passed:
        return f"cannot reach {what}, which the policy allows: {decision['reason']}", "FAILS"
    if passed and not decision["allowed"]:
        return f"reaches {what}, which the policy denies: {decision['reason']}", "PASSES"
    return None, "passes" if passed else "blocked as the policy says"


def check(plan, host_name, ping, tcp_text):
    """Expected against observed for one host under a policy: ``{report, problems, denied}``,
    ``problems`` as ``(text, name of the host the flow goes to)``.

    ``ping``: ``{address: reachable}`` (verify's ICMP sweep); ``tcp_text``: the
    TCP probes' output. ``denied``: addresses ICMP may not reach (their ping
    failing is no problem).
    """
    policy = plan.get("policy")
    if policy is None:
        return {"report": [], "problems": [], "denied": set()}
    report, problems, denied = [], [], set()
    blocked_as_said = 0
    for name, family, address in _targets(plan, host_name):
        if not decide(policy, plan, host_name, address, "icmp", family=family)["allowed"]:
            denied.add(address)
        if address in ping:
            problem, word = _verdict(plan, host_name, name, family, address, "icmp", ping[address])
            blocked_as_said += word == "blocked as the policy says"
            if problem:
                problems.append((problem, name))
    tcp = parse_tcp_probes(tcp_text)
    for name, family, address in _targets(plan, host_name):
        for port in probe_ports(policy):
            passed = tcp.get((address, port))
            if passed is None:
                problems.append((f"no TCP probe result for {name} ({address}) on tcp/{port}", name))
                continue
            problem, word = _verdict(plan, host_name, name, family, address, f"tcp/{port}", passed)
            report.append(f"    tcp/{port} to {name} ({address}): {word}")
            if problem:
                problems.append((problem, name))
    report.insert(0, f"  policy: {len(problems)} flow(s) not as the policy says; {blocked_as_said} ICMP target(s) blocked as the policy says")
    return {"report": report, "problems": problems, "denied": denied}
