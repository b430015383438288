"""Monitoring from the plan: exporter settings, file_sd targets, alert rules and the dashboard."""

import json
import re

import pytest

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
        '(bird_protocol_prefix_export_count{host="gateway1",name="wgsdn_kernel"} != 6)'
    )  # gateway2, its 2 devices, 2 own devices, the phone


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
