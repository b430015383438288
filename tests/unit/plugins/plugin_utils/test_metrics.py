"""Monitoring from the plan: exporter settings, file_sd targets, alert rules and the dashboard."""

import json
import pathlib
import re
import subprocess

import pytest
import yaml

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import metrics, topology, verify
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile
from ansible_collections.wgsdn.fabric.tests.unit.topologies import article_topology


def _plan(tmp_path, number=3, metrics_on=True, phone=True, **extra):
    gateways, devices, hostvars = article_topology(number)
    clients = []
    if phone and gateways:
        hostvars["phone"] = {"wgsdn_network": "10.0.0.0/24", "wgsdn_address": "10.0.0.9", "wgsdn_uplinks": [gateways[0]]}
        clients = ["phone"]
    for values in hostvars.values():
        values.update(extra)
        if metrics_on:
            values["wgsdn_metrics"] = True
    return compute_plan(gateways, devices, hostvars, StateFile(str(tmp_path / "s.json")), clients=clients)


@pytest.fixture
def plan(tmp_path):
    return _plan(tmp_path)


def test_plan_carries_the_switch(tmp_path, plan):
    assert plan["metrics"] is True
    (tmp_path / "off").mkdir()
    assert _plan(tmp_path / "off", metrics_on=False)["metrics"] is False


def test_host_settings_listen_on_the_overlay_address(plan):
    s = metrics.host_settings(plan, "gateway1")
    assert s["enabled"] and s["bird"]
    assert (s["node_listen"], s["bird_listen"]) == ("10.0.0.2:9100", "10.0.0.2:9324")
    assert s["interfaces"] == topology.interface_names(plan, "gateway1")
    named = {p["public_key"]: p["name"] for i in topology.wg_interfaces(plan, "gateway1") for p in i["peers"]}
    assert s["peers"] == named and "phone" in s["peers"].values()
    assert metrics.host_settings(plan, "device1", {"node_port": 9200})["node_listen"] == "10.0.0.1:9200"
    assert not metrics.host_settings(plan, "phone")["enabled"], "unmanaged clients run no exporter"


def test_host_settings_ipv6_only_brackets_the_address(tmp_path):
    gateways, devices, hostvars = article_topology(3)
    for i, values in enumerate(hostvars.values(), 1):
        values.pop("wgsdn_network")
        values.pop("wgsdn_address")
        values.update(wgsdn_network6="fd00:10::/64", wgsdn_address6=f"fd00:10::{i}", wgsdn_metrics=True)
    plan = compute_plan(gateways, devices, hostvars, StateFile(str(tmp_path / "s.json")))
    assert metrics.host_settings(plan, "gateway1")["node_listen"] == "[fd00:10::1]:9100"
    assert metrics.file_sd(plan)[metrics.NODE_JOB][0]["targets"] == ["[fd00:10::1]:9100"]


def test_disabled_without_the_switch(tmp_path):
    assert not metrics.host_settings(_plan(tmp_path, metrics_on=False), "gateway1")["enabled"]


def test_file_sd_lists_managed_hosts_only(plan):
    jobs = metrics.file_sd(plan)
    node = {g["labels"]["host"]: g for g in jobs[metrics.NODE_JOB]}
    assert set(node) == set(plan["hosts"]) - {"phone"}
    assert node["gateway2"] == {"targets": ["10.0.0.5:9100"], "labels": {"host": "gateway2", "role": "gateway"}}
    assert {g["labels"]["host"] for g in jobs[metrics.BIRD_JOB]} == set(node), "every managed host runs BIRD in routed mode"


def test_no_bird_targets_outside_routed_mode(tmp_path):
    jobs = metrics.file_sd(_plan(tmp_path, number=2, phone=False))
    assert jobs[metrics.BIRD_JOB] == [] and len(jobs[metrics.NODE_JOB]) == 3
    files = metrics.prometheus_files(_plan(tmp_path, number=2, phone=False))
    assert [c["job_name"] for c in files["scrape_configs"]] == [metrics.NODE_JOB]


def test_expectations_are_what_verify_checks(plan):
    gw = metrics.expectations(plan, "gateway1")
    assert {p["peer"] for p in gw["peers"]} == {"device1", "device2", "gateway2"}, "the phone is excluded"
    assert gw["sessions"] == [{"session": "bgp_gateway2", "peer": "gateway2"}]
    assert {b["neighbor"]: b["peer"] for b in gw["bfd"]} == {"10.0.0.1": "device1", "10.0.0.3": "device2", "10.0.0.5": "gateway2"}
    assert gw["routes"] == {"wgsdn_kernel": len(verify.expected_kernel_routes(plan, "gateway1"))}
    dev = metrics.expectations(plan, "device1")
    assert dev["sessions"] == [{"session": "wgsdn_uplink1", "peer": "gateway1"}] and dev["routes"] == {}
    assert metrics.expectations(plan, "device1", device_bgp=False)["sessions"] == []


def _rules(plan, **options):
    return {(r["alert"], r["labels"].get("host"), r["labels"].get("peer")): r for g in metrics.alert_rules(plan, options)["groups"] for r in g["rules"]}


def test_alert_rules_one_per_expected_thing(plan):
    rules = _rules(plan)
    handshake = {(h, p) for a, h, p in rules if a == "WgsdnWireguardHandshakeStale"}
    expected = {(n, p["peer"]) for n in metrics.managed(plan) for p in metrics.expectations(plan, n)["peers"]}
    assert handshake == expected and not [k for k in rules if "phone" in k]
    assert ("WgsdnBgpSessionDown", "gateway1", "gateway2") in rules
    assert ("WgsdnBfdSessionDown", "gateway2", "device3") in rules
    assert ("WgsdnExporterDown", None, None) in rules
    route = [r for (a, h, _p), r in rules.items() if a == "WgsdnGatewayRoutesMissing" and h == "gateway1"]
    assert len(route) == 1 and route[0]["expr"].startswith(
        '(bird_protocol_prefix_export_count{host="gateway1",name="wgsdn_kernel"} < 6)'
    )  # gateway2, its 2 devices, 2 own devices, the phone: at least (anycast and external prefixes add more)
    assert not [k for k in rules if k[0].startswith("WgsdnExternal")], "no external peer, no external alert"


OFFICE = {"name": "office-core", "address": "192.0.2.1", "asn": 65010, "import": ["192.168.77.0/24"], "max_prefixes": 20}


def test_every_external_session_has_a_down_and_a_prefix_limit_alert(tmp_path):
    gateways, devices, hostvars = article_topology(3)
    for values in hostvars.values():
        values["wgsdn_metrics"] = True
    hostvars["gateway1"]["wgsdn_bgp_peers"] = [OFFICE, dict(OFFICE, name="isp", address="198.51.100.1", asn=64496, max_prefixes=None)]
    (tmp_path / "ext").mkdir()
    plan = compute_plan(gateways, devices, hostvars, StateFile(str(tmp_path / "ext" / "s.json")))
    assert metrics.expectations(plan, "gateway1")["external"] == [
        {"session": "ext_office_core", "peer": "office-core", "asn": 65010, "max_prefixes": 20},
        {"session": "ext_isp", "peer": "isp", "asn": 64496, "max_prefixes": 1000},
    ]
    assert metrics.expectations(plan, "gateway2")["external"] == []
    rules = _rules(plan)
    down = rules[("WgsdnExternalSessionDown", "gateway1", "office-core")]
    assert down["expr"] == (
        '(bird_protocol_up{host="gateway1",name="ext_office_core"} != 1) or '
        '(absent(bird_protocol_up{host="gateway1",name="ext_office_core"}) and on() (up{job="wgsdn-bird",host="gateway1"} == 1))'
    )
    assert down["labels"] == {"severity": "critical", "host": "gateway1", "session": "ext_office_core", "peer": "office-core", "peer_asn": "65010"}
    limit = rules[("WgsdnExternalPrefixLimit", "gateway1", "isp")]
    assert limit["expr"] == 'bird_protocol_up{host="gateway1",name="ext_isp",state=~".*Route limit exceeded.*"}'
    assert "sent more than max_prefixes 1000 routes" in limit["annotations"]["summary"] and "birdc enable ext_isp" in limit["annotations"]["summary"]
    assert len([k for k in rules if k[0].startswith("WgsdnExternal")]) == 4


def test_alert_rule_content(plan):
    rule = _rules(plan, handshake_max_age=150, **{"for": {"handshake": "20s"}})[("WgsdnWireguardHandshakeStale", "gateway1", "gateway2")]
    series = 'wgsdn_wireguard_latest_handshake_seconds{host="gateway1",interface="wg-gateway2",peer="gateway2"}'
    assert rule["expr"] == (f'(time() - {series} > 150) or (absent({series}) and on() (up{{job="wgsdn-node",host="gateway1"}} == 1))')
    assert rule["for"] == "20s"
    assert rule["labels"] == {"severity": "critical", "host": "gateway1", "interface": "wg-gateway2", "peer": "gateway2"}
    assert "ansible-playbook wgsdn.fabric.verify --limit gateway1" in rule["annotations"]["description"]
    bgp = _rules(plan)[("WgsdnBgpSessionDown", "device1", "gateway1")]
    assert bgp["expr"].startswith('(bird_protocol_up{host="device1",name="wgsdn_uplink1"} != 1) or (absent(')
    assert bgp["labels"]["session"] == "wgsdn_uplink1" and bgp["for"] == "1m"


def test_dual_stack_expects_both_families(tmp_path):
    gateways, devices, hostvars = article_topology(3)
    for i, values in enumerate(hostvars.values(), 1):
        values.update(wgsdn_network6="fd00:10::/64", wgsdn_address6=f"fd00:10::{i}", wgsdn_metrics=True)
    plan = compute_plan(gateways, devices, hostvars, StateFile(str(tmp_path / "s.json")))
    gw = metrics.expectations(plan, "gateway1")
    assert [s["session"] for s in gw["sessions"]] == ["bgp_gateway2", "bgp_gateway2_v6"]
    assert set(gw["routes"]) == {"wgsdn_kernel", "wgsdn_kernel6"}
    assert sum(gw["routes"].values()) == len(verify.expected_kernel_routes(plan, "gateway1"))


def test_the_switch_is_a_shared_boolean(tmp_path):
    gateways, devices, hostvars = article_topology(3)
    hostvars["gateway1"]["wgsdn_metrics"] = "yes"
    with pytest.raises(PlanError, match=r"wgsdn_metrics.*must be true or false"):
        compute_plan(gateways, devices, hostvars, StateFile(str(tmp_path / "s.json")))
    hostvars["gateway1"]["wgsdn_metrics"] = True
    with pytest.raises(PlanError, match="set it once, as a group variable"):
        compute_plan(gateways, devices, {**hostvars, "gateway2": {**hostvars["gateway2"], "wgsdn_metrics": False}}, StateFile(str(tmp_path / "s.json")))


def test_grafana_dashboard_uses_the_collector_and_exporter_metric_names(plan):
    dashboard = json.loads(json.dumps(metrics.prometheus_files(plan)["dashboard"]))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {m for e in exprs for m in re.findall(r"\b([a-z_]+)(?=\{|\[|$|\))", e) if m not in ("time", "rate", "up")} | {"up"}
    known = set(metrics.METRICS) | {metrics.BIRD_UP, metrics.BIRD_BFD_UP, metrics.BIRD_KERNEL_EXPORTED, "up"}
    assert used <= known, used - known
    assert {metrics.HANDSHAKE, "wgsdn_wireguard_received_bytes_total", metrics.BIRD_UP, metrics.BIRD_BFD_UP} <= used
    rule_metrics = {m for g in metrics.alert_rules(plan)["groups"] for r in g["rules"] for m in known if m in r["expr"]}
    assert rule_metrics <= used, "every metric an alert watches has a panel"
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])


def _promtool():
    """promtool from tools/promtool.sh (an installed one, or Debian's package unpacked under .cache), else None."""
    root = pathlib.Path(__file__).resolve().parents[4]
    found = subprocess.run(["bash", str(root / "tools" / "promtool.sh")], capture_output=True, text=True, check=False)
    return found.stdout.strip() if found.returncode == 0 and found.stdout.strip() else None


def test_metrics_promtool_route_and_external_alerts(tmp_path):
    """`promtool test rules` with synthetic series: more kernel routes than expected fire nothing, fewer do;
    an external session BIRD shut down at its receive limit fires both its alerts; an established one none."""
    promtool = _promtool()
    if promtool is None:
        pytest.skip("no promtool (tools/promtool.sh could not unpack Debian's prometheus)")
    gateways, devices, hostvars = article_topology(3)
    for values in hostvars.values():
        values["wgsdn_metrics"] = True
    hostvars["gateway1"]["wgsdn_bgp_peers"] = [OFFICE]
    plan = compute_plan(gateways, devices, hostvars, StateFile(str(tmp_path / "s.json")))
    rules = metrics.alert_rules(plan, {"for": {k: "0s" for k in metrics.DEFAULT_OPTIONS["for"]}})
    (tmp_path / "wgsdn.rules.yml").write_text(yaml.safe_dump(rules))
    expected = metrics.expectations(plan, "gateway1")["routes"]["wgsdn_kernel"]
    assert metrics.expectations(plan, "gateway2")["routes"]["wgsdn_kernel"] == expected

    def up(job, host):
        return {"series": f'up{{job="{job}",host="{host}"}}', "values": "1x10"}

    def kernel(host, values):
        return {"series": f'bird_protocol_prefix_export_count{{host="{host}",name="wgsdn_kernel"}}', "values": values}

    def session(state):
        return {"series": f'bird_protocol_up{{host="gateway1",name="ext_office_core",state="{state}"}}', "values": "0x10" if "limit" in state else "1x10"}

    def alert(alertname, host, value, series_labels=None):
        """What promtool must see at 5m: the rule's labels (and the series' own), its annotations with the value."""
        if host is None:
            return {"eval_time": "5m", "alertname": alertname, "exp_alerts": []}
        rule = next(r for g in rules["groups"] for r in g["rules"] if r["alert"] == alertname and r["labels"]["host"] == host)
        annotations = {k: v.replace("{{ $value }}", value) for k, v in rule["annotations"].items()}
        labels = {**rule["labels"], **(series_labels or {})}
        return {"eval_time": "5m", "alertname": alertname, "exp_alerts": [{"exp_labels": labels, "exp_annotations": annotations}]}

    # gateway1 exports more routes than expected (anycast, external prefixes): no alert; gateway2 one fewer: an alert.
    series = [up("wgsdn-bird", "gateway1"), up("wgsdn-bird", "gateway2"), kernel("gateway1", f"{expected + 3}x10"), kernel("gateway2", f"{expected - 1}x10")]
    hit = {"name": "ext_office_core", "state": "Automatic shutdown: Route limit exceeded"}
    test = {
        "rule_files": ["wgsdn.rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [*series, session(hit["state"])],
                "alert_rule_test": [
                    alert("WgsdnGatewayRoutesMissing", "gateway2", str(expected - 1), {"name": "wgsdn_kernel"}),
                    alert("WgsdnExternalPrefixLimit", "gateway1", "0", hit),
                    alert("WgsdnExternalSessionDown", "gateway1", "0", hit),
                ],
            },
            {
                "interval": "1m",
                "input_series": [*series, session("Established")],
                "alert_rule_test": [alert("WgsdnExternalPrefixLimit", None, None), alert("WgsdnExternalSessionDown", None, None)],
            },
        ],
    }
    (tmp_path / "test.yml").write_text(yaml.safe_dump(test))
    checked = subprocess.run([promtool, "check", "rules", "wgsdn.rules.yml"], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    result = subprocess.run([promtool, "test", "rules", "test.yml"], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
