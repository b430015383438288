# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare what a host reports (wg, birdc, ip, ping) with what the plan says it should be.

The parsers read the plain text of ``wg show all latest-handshakes``,
``birdc show protocols``, ``birdc show bfd sessions``, ``ip route show proto
bird`` and a ping sweep, so verification needs nothing on the hosts beyond the
tools the roles install.
"""

import re
import time
from xml.etree import ElementTree as ET

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import absence, peers, policy, services, topology
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import problems as kinds
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.deps import optional
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.family import family_of
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.model import CLIENT, GATEWAY, ROUTED
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.problems import problem

netaddr = optional("netaddr")

_TIMESTAMP = re.compile(r"^\d[\d:.\-]*$")


def _is_address(text):
    try:
        netaddr.IPAddress(text, flags=netaddr.INET_PTON)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return False
    return True


def parse_handshakes(text):
    """``{(interface, public_key): epoch}`` from ``wg show all latest-handshakes``."""
    result = {}
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[2].isdigit():
            result[(fields[0], fields[1])] = int(fields[2])
    return result


def parse_bird_protocols(text):
    """``{name: (state, info)}`` from ``birdc show protocols``."""
    result = {}
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[0] not in ("BIRD", "Name") and fields[3] in ("up", "down", "start", "stop"):
            rest = fields[4:]
            while rest and _TIMESTAMP.match(rest[0]):  # "Since" is one or two tokens (time, or date and time)
                rest = rest[1:]
            result[fields[0]] = (fields[3], " ".join(rest))
    return result


def parse_bfd_sessions(text):
    """``{neighbor_address: (interface, state)}`` from ``birdc show bfd sessions``."""
    result = {}
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[2] in ("Up", "Down", "Init", "AdminDown") and _is_address(fields[0]):
            result[fields[0]] = (fields[1], fields[2])
    return result


def parse_routes(text):
    """The destination prefixes of ``ip route show`` lines (``10.0.0.4`` becomes ``10.0.0.4/32``);
    ``text`` may be a list of outputs (one per address family)."""
    prefixes = set()
    for line in "\n".join(text if isinstance(text, list) else [text or ""]).splitlines():
        fields = line.split()
        if not fields or fields[0] in ("nexthop", "default"):
            continue
        prefixes.add(fields[0] if "/" in fields[0] else f"{fields[0]}/{family_of(fields[0]).host_prefixlen}")
    return prefixes


def probes(plan, host_name):
    """What verify.yml runs on a host: the addresses to ping, whether BIRD runs, the route listings."""
    host = plan["hosts"][host_name]
    return {
        "targets": [a for name, other in plan["hosts"].items() if name != host_name for a in other["addresses"].values()],
        "bird": host["speaks_bgp"],
        "route_commands": [f"ip {f['ip_option']} route show proto bird" for f in plan["families"]] if host["speaks_bgp"] else [],
        # External BGP sessions (wgsdn_bgp_peers) with their route counts, when the host has any.
        "external": [f"birdc show protocols all {p['protocol']}" for p in host.get("bgp_peers", [])] if host["speaks_bgp"] else [],
        "tcp": policy.probes(plan, host_name),  # under a wgsdn_policy: TCP ports to try on every other host
        "interfaces": topology.interface_names(plan, host_name),  # compared with their files (drift)
    }


def expected_kernel_routes(plan, host_name, learned=True):
    """Prefixes BIRD should have put in this host's kernel table (routed mode).

    A gateway: every prefix some gateway originates, but its own. A device: the
    routes its uplinks give it, either as static multipath routes (the overlay
    and other hosts' subnets) or, when it ``learned`` them from its gateways over
    BGP (the bird role's default), as every other host's host prefixes and subnets.
    In a family whose kernel keeps no route to a link neighbour's own address
    (IPv6), the kernel's connected route reaches those neighbours instead.
    """
    if plan["mode"] != ROUTED:
        return []
    host = plan["hosts"][host_name]
    if host["role"] == GATEWAY or learned:
        own = {*topology.host_prefixes(plan, host), *host["subnets"]}
        connected = {
            f"{plan['hosts'][n]['addresses'][f['name']]}/{f['host_prefixlen']}"
            for f in plan["families"]
            if not f["kernel_neighbour_routes"]
            for n in host["neighbours"]
        }
        wanted = {p for origin in topology.route_origins(plan) for p in origin["prefixes"]}
        # A service is announced only while a provider's check passes: reported, never required.
        wanted -= {s["prefix"] for s in services.providers(plan).values()}
        return sorted(wanted - own - connected)
    return [r["prefix"] for r in topology.static_routes(plan, host_name)]


def _unanswered(iface, peer):
    """Which underlay port a link without a handshake needs (topology.underlay_ports has every flow)."""
    if peer["endpoint"]:
        return f"this host dials {peer['endpoint']} over UDP: is that port open on the way?"
    return f"{peer['name']} dials this host's UDP port {iface['listen_port']}: is it open here?"


def check_host(plan, host_name, observed, now=None, device_bgp=True):
    """A readable report and the problems of one host: ``findings`` as data (problems.problem:
    kind, subjects, text) and ``problems`` as the lines people read (``host: text``).

    ``observed``: ``handshakes``, ``protocols``, ``bfd``, ``routes`` and
    ``ping`` (command outputs, the BIRD ones empty outside routed mode),
    ``interfaces`` (names of the host's WireGuard interfaces) and ``drift``
    (where the running state is not what the host's files make: the table
    ``inet wgsdn``, a WireGuard interface). ``device_bgp``: the bird role's
    ``bird_device_bgp`` (devices learn routes over BGP).
    """
    now = now or time.time()
    found = []
    host = plan["hosts"][host_name]
    owners = topology.owners(plan)

    def owned(token):
        """The hosts ``token`` (an address or a prefix) belongs to."""
        return owners.get(str(token), set())

    report = [f"{host_name} ({host['role']}, {', '.join(host['addresses'].values())}):"]

    handshakes = parse_handshakes(observed.get("handshakes"))
    present = set(observed.get("interfaces") or [])
    for iface in topology.wg_interfaces(plan, host_name):
        if iface["name"] not in present:
            found.append(problem(kinds.INTERFACE_MISSING, f"interface {iface['name']} is missing"))
            report.append(f"  {iface['name']}: MISSING")
            continue
        report.append(f"  {iface['name']}:")
        for peer in iface["peers"]:
            epoch = handshakes.get((iface["name"], peer["public_key"]))
            if epoch is None:
                found.append(problem(kinds.PEER_NOT_CONFIGURED, f"{iface['name']}: peer {peer['name']} is not configured", [peer["name"]]))
                state = "NOT CONFIGURED"
            elif epoch == 0 and plan["hosts"][peer["name"]]["role"] == CLIENT:
                state = "no handshake (unmanaged client, offline?)"  # phones come and go: not a fault
            elif epoch == 0:
                text = f"{iface['name']}: no handshake with {peer['name']} yet ({_unanswered(iface, peer)})"
                found.append(problem(kinds.NO_HANDSHAKE, text, [peer["name"]]))
                state = "no handshake"
            else:
                state = f"handshake {int(now - epoch)} s ago"
            report.append(f"    peer {peer['name']}: {state}")

    if plan["mode"] == ROUTED:
        protocols = parse_bird_protocols(observed.get("protocols"))
        uplinks = topology.uplink_sessions(plan, host_name) if device_bgp else []
        for session in topology.bgp_neighbors(plan, host_name) + uplinks:
            state, info = protocols.get(session["name"], ("absent", ""))
            # BIRD shows a protocol someone disabled (birdc disable) as "down"; a dead neighbour is "start".
            said = info or ("disabled" if state == "down" else state)
            if info != "Established":
                found.append(problem(kinds.BGP_DOWN, f"BGP {session['name']} with {session['peer']} is {said}", [session["peer"]]))
            report.append(f"  BGP {session['name']} ({session['peer']} {session['neighbor']}): {said}")
        found.extend(_reflector_check(plan, host_name, protocols, report))
        sessions = parse_bfd_sessions(observed.get("bfd"))
        for neighbor in topology.bfd_neighbors(plan, host_name):
            iface, state = sessions.get(neighbor, ("-", "absent"))
            if state != "Up":
                found.append(problem(kinds.BFD_DOWN, f"BFD with {neighbor} is {state}", owned(neighbor)))
            report.append(f"  BFD {neighbor} on {iface}: {state}")
        routes = parse_routes(observed.get("routes"))
        missing = [p for p in expected_kernel_routes(plan, host_name, learned=device_bgp) if p not in routes]
        found.extend(problem(kinds.ROUTE_MISSING, f"route to {p} is missing", owned(p)) for p in missing)
        report.append(f"  routes from BIRD: {len(routes)} installed, {len(missing)} missing{': ' + ', '.join(missing) if missing else ''}")
        report.extend(services.verify_lines(plan, host_name, observed.get("routes"), protocols))
        external_report, external_problems = peers.verify_lines(plan, host_name, observed.get("external"))
        report.extend(external_report)
        found.extend(problem(kinds.EXTERNAL_BGP_DOWN, text) for text in external_problems)
        found.extend(_leftover_check(plan, host_name, protocols, sessions, observed, report, device_bgp))

    drift = list(observed.get("drift") or [])
    found.extend(problem(kinds.DRIFT, f"running state is not what its files make: {d}") for d in drift)
    report.append(f"  running state: {'; '.join(drift) if drift else 'as its files make it'}")

    ping = parse_ping(observed.get("ping"))
    # Under a wgsdn_policy: expected against observed, ICMP and TCP; a denied address failing its ping is as it should be.
    policed = policy.check(plan, host_name, ping, observed.get("tcp"))
    names = {a: n for n, h in plan["hosts"].items() for a in h["addresses"].values()}
    clients = {a for h in plan["hosts"].values() if h["role"] == CLIENT for a in h["addresses"].values()}
    # An unmanaged client that is offline is reported, never a problem.
    unreachable = sorted(a for a, ok in ping.items() if not ok and a not in clients and a not in policed["denied"])
    found.extend(problem(kinds.UNREACHABLE, f"cannot reach {names.get(a, a)} ({a})", owned(a)) for a in unreachable)
    found.extend(problem(kinds.POLICY, text, [name]) for text, name in policed["problems"])
    managed = {a: ok for a, ok in ping.items() if a not in clients and a not in policed["denied"]}
    online = sum(1 for a, ok in ping.items() if ok and a in clients)
    report.append(
        f"  reaches {sum(managed.values())} of {len(managed)} other hosts"
        + (f", {online} of {len(clients & set(ping))} unmanaged clients" if clients & set(ping) else "")
    )
    report.extend(policed["report"])
    return {"host": host_name, "report": report, "problems": [kinds.line(host_name, f) for f in found], "findings": found, "ping": ping}


def parse_ping(text):
    """``{address: reachable}`` from lines ``ADDRESS ok`` / ``ADDRESS fail`` of the ping sweep."""
    result = {}
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[1] in ("ok", "fail"):
            result[fields[0]] = fields[1] == "ok"
    return result


def reachability_matrix(plan, results):
    """Rows are sources, columns destinations (numbered), one matrix per address family (titled when
    the overlay carries several); ``results``: ``check_host`` outputs with ``ping``."""
    names = list(plan["hosts"])
    pings = {r["host"]: r.get("ping") or {} for r in results}
    width = max(len(n) for n in names)
    lines = []
    for family in plan["families"]:
        if len(plan["families"]) > 1:
            lines.append(f"{family['label']}:")
        lines.append(" " * width + "".join(f" {i:>2}" for i in range(len(names))))
        for name in names:
            cells = []
            for other in names:
                ok = pings.get(name, {}).get(plan["hosts"][other]["addresses"][family["name"]])
                cells.append("-" if other == name else _cell(plan, name, other, family["name"], ok))
            lines.append(f"{name:>{width}}" + "".join(f" {c:>2}" for c in cells))
    lines.append("columns: " + ", ".join(f"{i}={n}" for i, n in enumerate(names)))
    if plan.get("policy"):
        lines.append("under wgsdn_policy: bl = ICMP blocked as the policy says, !! = denied by the policy but passes")
    return lines


def reachability_data(plan, results):
    """The matrix as data: ``{family label: {source: {destination: true|false|null}}}`` (null: not probed)."""
    names = list(plan["hosts"])
    pings = {r["host"]: r.get("ping") or {} for r in results}
    return {
        family["label"]: {
            name: {other: pings.get(name, {}).get(plan["hosts"][other]["addresses"][family["name"]]) for other in names if other != name} for name in names
        }
        for family in plan["families"]
    }


def machine_report(plan, results, hosts, absent=None):
    """verify.yml's report for machines (``-e wgsdn_verify_format=json``): every host's report lines,
    problems and ``status`` (``absent``: Ansible could not reach it, ``broken``, ``ok``: see
    ``absence.classify``; ``absent`` maps the hosts found unreachable to the reason), the matrix as
    data, and ``ok``; built from the same ``check_host`` results as the text report."""
    reported = {r["host"]: r for r in results}
    sorted_out = absence.classify(plan, results, hosts, absent or {})
    problems = sorted_out["problems"]
    return {
        "ok": not problems,
        "problems": problems,
        "summary": sorted_out["summary"],
        "absent": [h for h in hosts if sorted_out["status"][h] == absence.ABSENT],
        "broken": [h for h in hosts if sorted_out["status"][h] == absence.BROKEN],
        "hosts": {
            h: {
                "reported": h in reported,
                "status": sorted_out["status"][h],
                "report": reported[h]["report"] if h in reported else [],
                "problems": reported[h]["problems"] if h in reported else [],
                "findings": reported[h]["findings"] if h in reported else [],
            }
            for h in hosts
        },
        "matrix": reachability_data(plan, results),
        "matrix_text": reachability_matrix(plan, results),
    }


def junit_xml(report):
    """A JUnit XML document of ``machine_report``'s result: one test case per host, failed with its problems."""
    hosts = report["hosts"]
    failed = [h for h, r in hosts.items() if not r["reported"] or r["problems"]]
    suite = ET.Element("testsuite", name="wgsdn.fabric.verify", tests=str(len(hosts)), failures=str(len(failed)), errors="0")
    for name, result in hosts.items():
        case = ET.SubElement(suite, "testcase", classname="wgsdn.verify", name=name)
        if name in failed:
            problems = result["problems"] or [f"{name}: did not report (unreachable?)" + (": ABSENT" if result.get("status") == absence.ABSENT else "")]
            failure = ET.SubElement(case, "failure", message=problems[0], type="wgsdn.verify")
            failure.text = "\n".join(problems)
        ET.SubElement(case, "system-out").text = "\n".join(result["report"])
    root = ET.Element("testsuites", name="wgsdn.fabric", tests=str(len(hosts)), failures=str(len(failed)))
    root.append(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def machine_outputs(plan, results, hosts, absent=None):
    """``{json: machine_report, junit: junit_xml text}``: what ``wgsdn_verify_format=json`` writes."""
    report = machine_report(plan, results, hosts, absent)
    return {"json": report, "junit": junit_xml(report)}


def _reflector_check(plan, host_name, protocols, report):
    """With route reflectors, an edge gateway must run gateway BGP sessions (``bgp_*``) with
    the reflectors only: any other live one is a leftover of the full mesh, or a hand-made session."""
    design = topology.reflector_settings(plan, host_name)
    if not design["edge"]:
        if design["route_reflector"]:
            report.append("  route reflector: BGP and BFD with every gateway")
        return []
    expected = {s["name"] for s in topology.bgp_neighbors(plan, host_name)}
    extra = sorted(name for name in protocols if name.startswith("bgp_") and name not in expected)
    report.append(f"  edge gateway: BGP with the route reflectors only ({', '.join(design['reflectors'])})" + (f"; also {', '.join(extra)}" if extra else ""))
    reflectors = ", ".join(design["reflectors"])
    return [problem(kinds.REFLECTOR_DESIGN, f"BGP {name} is not with a route reflector (edge gateways peer with {reflectors} only)") for name in extra]


def _leftover_check(plan, host_name, protocols, sessions, observed, report, device_bgp):
    """BIRD not answering, and sessions the plan does not have: a departed device's BGP session
    (``dev_*``) or a BFD session with an address that is no neighbour (nor a BFD external peer)."""
    host = plan["hosts"][host_name]
    if not host["speaks_bgp"]:
        return []
    if observed.get("bird_rc") not in (None, 0):
        answer = (observed.get("bird_error") or observed.get("protocols") or "").strip().splitlines()[-1:] or ["no output"]
        report.append(f"  BIRD does not answer: {answer[0]}")
        return [problem(kinds.BIRD_SILENT, f"BIRD does not answer ({answer[0]})")]
    devices = {s["name"] for s in topology.device_sessions(plan, host_name)} if device_bgp else set()
    prefix = topology.DEVICE_SESSION_PREFIX
    extra = sorted(n for n in protocols if re.match(rf"{prefix}\d*_", n) and n not in devices)
    wanted = set(topology.bfd_neighbors(plan, host_name)) | {p["address"] for p in host.get("bgp_peers", []) if p.get("bfd")}
    stale = sorted(a for a in sessions if a not in wanted)
    if extra or stale:
        report.append(f"  left over: {', '.join(extra + stale)}")
    return [problem(kinds.LEFT_OVER, f"BGP {n} is left over (no attached device of the plan has it)") for n in extra] + [
        problem(kinds.LEFT_OVER, f"BFD session with {a} is left over (not a neighbour of the plan)") for a in stale
    ]


def _cell(plan, name, other, family, ok):
    """One matrix cell: observed, and under a policy compared with what it decides."""
    if ok is None or not plan.get("policy"):
        return {True: "ok", False: "XX"}.get(ok, "?")
    allowed = policy.decide(plan["policy"], plan, name, other, "icmp", family=family)["allowed"]
    return ("ok" if ok else "XX") if allowed else ("!!" if ok else "bl")
