# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What monitoring should see, from the plan: scrape targets, alert rules, and each host's exporter settings.

The one owner of "what should exist" for Prometheus. The expectations are the
ones verify.yml checks (``topology`` and ``verify`` give them): every WireGuard
peer of a managed host, every BGP session (gateway mesh, device uplinks),
every BFD neighbour, and the number of routes BIRD puts in each gateway's kernel.
Unmanaged clients (``wgsdn_clients``) come and go: no alert watches them, and
they run no exporter.

Metric names are fixed here (``METRICS``): the host collector
(roles/metrics/files/wgsdn-metrics-collector) writes the ``wgsdn_wireguard_*``
ones, Debian's prometheus-bird-exporter (``-format.new``) the ``bird_*`` ones.
The exporter (1.4.1) labels ``bird_protocol_up`` with ``state``: the Info
column of ``birdc show protocols`` (``Established``, ``Active``, or for a
session BIRD shut down at its receive limit ``Automatic shutdown: Route limit
exceeded``), which is how the prefix limit of an external peer is seen.

Route counts are lower bounds: anycast services and external prefixes add
routes the plan cannot count (a service is up or not), so an alert fires on
fewer routes than expected, never on more.
"""

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import topology, verify
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.model import CLIENT, GATEWAY

NODE_JOB = "wgsdn-node"
BIRD_JOB = "wgsdn-bird"

# name -> (type, help); the collector and the Grafana dashboard use the same names.
METRICS = {
    "wgsdn_wireguard_latest_handshake_seconds": ("gauge", "Unix time of the latest handshake with the peer (0: never)"),
    "wgsdn_wireguard_received_bytes_total": ("counter", "Bytes received from the peer"),
    "wgsdn_wireguard_sent_bytes_total": ("counter", "Bytes sent to the peer"),
    "wgsdn_wireguard_peer_info": ("gauge", "Always 1; the peer's public key and current endpoint as labels"),
    "wgsdn_collector_last_run_seconds": ("gauge", "Unix time the wgsdn collector last wrote this file"),
}
BIRD_UP = "bird_protocol_up"
BIRD_BFD_UP = "bird_bfd_session_up"
BIRD_KERNEL_EXPORTED = "bird_protocol_prefix_export_count"
LIMIT_HIT_STATE = ".*Route limit exceeded.*"  # BIRD's Info after a receive limit's action disable (or restart)
HANDSHAKE = "wgsdn_wireguard_latest_handshake_seconds"
VERIFY_COMMAND = "ansible-playbook wgsdn.fabric.verify --limit {host}"

DEFAULT_OPTIONS = {
    "node_port": 9100,
    "bird_port": 9324,
    "handshake_max_age": 180,  # WireGuard re-handshakes every 2 minutes while traffic flows
    "for": {"down": "1m", "handshake": "1m", "bgp": "1m", "bfd": "1m", "routes": "2m"},
}


def managed(plan):
    """Hosts that run exporters: every member of the overlay but unmanaged clients."""
    return [name for name, host in plan["hosts"].items() if host["role"] != CLIENT]


def listen_address(plan, host_name):
    """The address a host's exporters listen on: its overlay address (IPv4, else IPv6), bracketed for host:port."""
    address = plan["hosts"][host_name]["address"]
    return f"[{address}]" if ":" in address else address


def host_settings(plan, host_name, options=None):
    """What the metrics role needs on one host: listen addresses, whether BIRD runs, the WireGuard
    interfaces the exporters wait for, and the peer names the collector labels series with."""
    options = {**DEFAULT_OPTIONS, **(options or {})}
    host = plan["hosts"][host_name]
    address = listen_address(plan, host_name)
    interfaces = topology.wg_interfaces(plan, host_name)
    return {
        "enabled": bool(plan.get("metrics")) and host["role"] != CLIENT,
        "address": address,
        "node_listen": f"{address}:{options['node_port']}",
        "bird_listen": f"{address}:{options['bird_port']}",
        "bird": host["speaks_bgp"],
        "interfaces": [i["name"] for i in interfaces],
        # public key -> peer name (public keys only: the collector never sees a secret of the plan)
        "peers": {p["public_key"]: p["name"] for i in interfaces for p in i["peers"]},
    }


def file_sd(plan, options=None):
    """``{job: [file_sd target group, ...]}``: one group per host, labelled ``host`` and ``role``."""
    options = {**DEFAULT_OPTIONS, **(options or {})}
    jobs = {NODE_JOB: [], BIRD_JOB: []}
    for name in managed(plan):
        host = plan["hosts"][name]
        labels = {"host": name, "role": host["role"]}
        address = listen_address(plan, name)
        jobs[NODE_JOB].append({"targets": [f"{address}:{options['node_port']}"], "labels": labels})
        if host["speaks_bgp"]:
            jobs[BIRD_JOB].append({"targets": [f"{address}:{options['bird_port']}"], "labels": labels})
    return jobs


def expectations(plan, host_name, device_bgp=True):
    """What should exist on a host: WireGuard peers (``interface``, ``peer``), BGP sessions
    (``session``, ``peer``), BFD sessions (``neighbor``, ``peer``), external BGP sessions
    (``external``: ``session``, ``peer``, ``asn``, ``max_prefixes``) and, on a gateway, the least
    number of routes BIRD exports to each family's kernel table (``routes``: ``{protocol: count}``)."""
    hosts = plan["hosts"]
    host = hosts[host_name]
    peers = [
        {"interface": iface["name"], "peer": peer["name"]}
        for iface in topology.wg_interfaces(plan, host_name)
        for peer in iface["peers"]
        if hosts[peer["name"]]["role"] != CLIENT
    ]
    uplinks = topology.uplink_sessions(plan, host_name) if device_bgp else []
    sessions = [{"session": s["name"], "peer": s["peer"]} for s in topology.bgp_neighbors(plan, host_name) + uplinks]
    owner = {a: n for n, h in hosts.items() for a in h["addresses"].values()}
    bfd = [{"neighbor": a, "peer": owner[a]} for a in topology.bfd_neighbors(plan, host_name)] if host["speaks_bgp"] else []
    routes = {}
    if host["speaks_bgp"] and host["role"] == GATEWAY:
        wanted = verify.expected_kernel_routes(plan, host_name, learned=device_bgp)
        for family in plan["families"]:
            routes[f"wgsdn_kernel{family['bird_suffix']}"] = sum(1 for p in wanted if _family_of(plan, p) == family["name"])
    external = [
        {"session": p["protocol"], "peer": p["name"], "asn": p["asn"], "max_prefixes": p["max_prefixes"]}
        for p in host.get("bgp_peers", [])
        if host["speaks_bgp"]
    ]
    return {"peers": peers, "sessions": sessions, "bfd": bfd, "external": external, "routes": routes}


def _family_of(plan, prefix):
    version = 6 if ":" in prefix else 4
    return next(f["name"] for f in plan["families"] if f["version"] == version)


def _selector(**labels):
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def _missing(metric, host, job, **labels):
    """True (a series) when ``metric`` is absent although the host's exporter answers:
    a dead exporter is the target-down alert's, not a flood of absences."""
    return f"(absent({metric}{_selector(host=host, **labels)}) and on() (up{_selector(job=job, host=host)} == 1))"


def _rule(alert, expr, duration, host, summary, **labels):
    return {
        "alert": alert,
        "expr": expr,
        "for": duration,
        "labels": {"severity": "critical", "host": host, **labels},
        "annotations": {
            "summary": summary,
            "description": f"{summary}. Observed value: {{{{ $value }}}}. Run: {VERIFY_COMMAND.format(host=host)}",
            "runbook": VERIFY_COMMAND.format(host=host),
        },
    }


def alert_rules(plan, options=None, device_bgp=True):
    """Prometheus alert rules (a rule file as data): one rule per expected peer, session and
    route table, two per external BGP session (down, prefix limit reached), each labelled ``host``
    and ``peer`` (or ``session``), naming the command to run."""
    options = {**DEFAULT_OPTIONS, **(options or {})}
    durations = {**DEFAULT_OPTIONS["for"], **options.get("for", {})}
    max_age = int(options["handshake_max_age"])
    down = {
        "alert": "WgsdnExporterDown",
        "expr": f'up{{job=~"{NODE_JOB}|{BIRD_JOB}"}} == 0',
        "for": durations["down"],
        "labels": {"severity": "critical"},
        "annotations": {
            "summary": "{{ $labels.job }} exporter of {{ $labels.host }} does not answer through the overlay",
            "description": "{{ $labels.instance }} is down or unreachable. Run: " + VERIFY_COMMAND.format(host="{{ $labels.host }}"),
            "runbook": VERIFY_COMMAND.format(host="{{ $labels.host }}"),
        },
    }
    wireguard, bgp, bfd, external, routes = [], [], [], [], []
    for name in managed(plan):
        expected = expectations(plan, name, device_bgp=device_bgp)
        for p in expected["peers"]:
            labels = {"interface": p["interface"], "peer": p["peer"]}
            series = f"{HANDSHAKE}{_selector(host=name, **labels)}"
            wireguard.append(
                _rule(
                    "WgsdnWireguardHandshakeStale",
                    f"(time() - {series} > {max_age}) or {_missing(HANDSHAKE, name, NODE_JOB, **labels)}",
                    durations["handshake"],
                    name,
                    f"{name}: no WireGuard handshake with {p['peer']} on {p['interface']} for {max_age} s",
                    **labels,
                )
            )
        for s in expected["sessions"]:
            series = f"{BIRD_UP}{_selector(host=name, name=s['session'])}"
            bgp.append(
                _rule(
                    "WgsdnBgpSessionDown",
                    f"({series} != 1) or {_missing(BIRD_UP, name, BIRD_JOB, name=s['session'])}",
                    durations["bgp"],
                    name,
                    f"{name}: BGP session {s['session']} with {s['peer']} is not established",
                    session=s["session"],
                    peer=s["peer"],
                )
            )
        for b in expected["bfd"]:
            series = f"{BIRD_BFD_UP}{_selector(host=name, ip=b['neighbor'])}"
            bfd.append(
                _rule(
                    "WgsdnBfdSessionDown",
                    f"({series} != 1) or {_missing(BIRD_BFD_UP, name, BIRD_JOB, ip=b['neighbor'])}",
                    durations["bfd"],
                    name,
                    f"{name}: BFD session with {b['peer']} ({b['neighbor']}) is not up",
                    neighbor=b["neighbor"],
                    peer=b["peer"],
                )
            )
        for e in expected["external"]:
            series = f"{BIRD_UP}{_selector(host=name, name=e['session'])}"
            labels = {"session": e["session"], "peer": e["peer"], "peer_asn": str(e["asn"])}
            external.append(
                _rule(
                    "WgsdnExternalSessionDown",
                    f"({series} != 1) or {_missing(BIRD_UP, name, BIRD_JOB, name=e['session'])}",
                    durations["bgp"],
                    name,
                    f"{name}: external BGP session {e['session']} with {e['peer']} (AS {e['asn']}) is not established",
                    **labels,
                )
            )
            limit = f'{BIRD_UP}{{host="{name}",name="{e["session"]}",state=~"{LIMIT_HIT_STATE}"}}'
            external.append(
                _rule(
                    "WgsdnExternalPrefixLimit",
                    limit,
                    durations["bgp"],
                    name,
                    f"{name}: {e['peer']} (AS {e['asn']}) sent more than max_prefixes {e['max_prefixes']} routes and BIRD shut "
                    f"{e['session']} down; once the peer is fixed: birdc enable {e['session']} (or run site.yml)",
                    **labels,
                )
            )
        for protocol, count in expected["routes"].items():
            series = f"{BIRD_KERNEL_EXPORTED}{_selector(host=name, name=protocol)}"
            routes.append(
                _rule(
                    "WgsdnGatewayRoutesMissing",
                    f"({series} < {count}) or {_missing(BIRD_KERNEL_EXPORTED, name, BIRD_JOB, name=protocol)}",
                    durations["routes"],
                    name,
                    f"{name}: BIRD exports {{{{ $value }}}} routes to the kernel ({protocol}), at least {count} expected",
                    protocol=protocol,
                    expected=str(count),
                )
            )
    groups = [
        {"name": "wgsdn-exporters", "rules": [down]},
        {"name": "wgsdn-wireguard", "rules": wireguard},
        {"name": "wgsdn-bgp", "rules": bgp},
        {"name": "wgsdn-bfd", "rules": bfd},
        {"name": "wgsdn-external", "rules": external},
        {"name": "wgsdn-routes", "rules": routes},
    ]
    return {"groups": [g for g in groups if g["rules"]]}


def prometheus_files(plan, options=None, device_bgp=True):
    """Everything ``playbooks/monitoring.yml`` writes, as data: ``file_sd`` (``{job: groups}``),
    ``rules`` (the rule file) and ``scrape_configs`` (the jobs reading those files)."""
    options = {**DEFAULT_OPTIONS, **(options or {})}
    jobs = file_sd(plan, options)
    sd_dir = options.get("file_sd_dir", "file_sd")
    return {
        "file_sd": jobs,
        "rules": alert_rules(plan, options, device_bgp=device_bgp),
        "scrape_configs": [{"job_name": job, "file_sd_configs": [{"files": [f"{sd_dir}/{job}.json"]}]} for job, groups in jobs.items() if groups],
        "dashboard": grafana_dashboard(options.get("datasource", "Prometheus")),
    }


def grafana_dashboard(datasource="Prometheus"):
    """A Grafana dashboard (JSON model) of the overlay, built from the same metric names as the
    collector and the rules: handshake age, traffic per peer, BGP and BFD sessions, kernel routes, exporters."""
    panels = [
        ("Seconds since the latest WireGuard handshake", f"time() - {HANDSHAKE}", "{{host}} {{interface}} {{peer}}", "s"),
        ("WireGuard received, bytes/s", "rate(wgsdn_wireguard_received_bytes_total[5m])", "{{host}} <- {{peer}}", "Bps"),
        ("WireGuard sent, bytes/s", "rate(wgsdn_wireguard_sent_bytes_total[5m])", "{{host}} -> {{peer}}", "Bps"),
        ("BGP sessions established (1) or not (0)", f'{BIRD_UP}{{proto="BGP",name!~"wgsdn_devices.*"}}', "{{host}} {{name}}", "none"),
        ("BFD sessions up (1) or not (0)", BIRD_BFD_UP, "{{host}} {{ip}} {{interface}}", "none"),
        ("Routes BIRD exports to the kernel", f'{BIRD_KERNEL_EXPORTED}{{name=~"wgsdn_kernel.*"}}', "{{host}} {{name}}", "none"),
        ("Exporters answering", f'up{{job=~"{NODE_JOB}|{BIRD_JOB}"}}', "{{host}} {{job}}", "none"),
    ]
    return {
        "title": "wgsdn overlay",
        "uid": "wgsdn-overlay",
        "tags": ["wgsdn", "wireguard", "bgp", "bfd"],
        "timezone": "utc",
        "schemaVersion": 38,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": []},
        "panels": [
            {
                "id": index,
                "type": "timeseries",
                "title": title,
                "gridPos": {"x": 12 * ((index - 1) % 2), "y": 8 * ((index - 1) // 2), "w": 12, "h": 8},
                "datasource": {"type": "prometheus", "uid": datasource},
                "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
                "targets": [{"refId": "A", "expr": expr, "legendFormat": legend, "datasource": {"type": "prometheus", "uid": datasource}}],
            }
            for index, (title, expr, legend, unit) in enumerate(panels, 1)
        ],
    }
