"""Each filter's RETURN documentation is what it returns: run on real plans, in both directions.

Every key a filter returns is documented (under ``contains``), every documented key is returned
by at least one of the calls below, and every value has the documented ``type`` (and list
``elements``). The documentation conventions this reads:

- a value may be null only where its description says ``null``;
- a mapping whose keys are data (host names, public keys) documents one key in angle brackets,
  such as ``<host>``, which describes every entry;
- a dict documented without ``contains`` is another tool's document, listed in ``FOREIGN`` below.
"""

import importlib
import pathlib
from collections.abc import Mapping

import pytest
import yaml

from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile
from ansible_collections.wgsdn.fabric.tests.unit.plugins.plugin_utils.test_verify import observed_for
from ansible_collections.wgsdn.fabric.tests.unit.topologies import article_topology

FILTERS = sorted(p.stem for p in (pathlib.Path(__file__).resolve().parents[4] / "plugins" / "filter").glob("*.py") if p.stem != "__init__")

# Documents in another tool's format, described but not spelled out key by key.
FOREIGN = {
    ("prometheus_config", "rules"),  # a Prometheus rule file
    ("prometheus_config", "dashboard"),  # a Grafana dashboard model
}

TYPES = {"str": str, "int": int, "bool": bool, "float": (int, float), "list": (list, tuple), "dict": Mapping, "path": str}

POLICY = {
    "default": "deny",
    "rules": [
        {"from": ["wgsdn_devices"], "to": ["gateway1"], "ports": ["tcp/22", "icmp"]},
        {"from": ["device1"], "to": ["192.168.3.0/24"], "ports": ["udp/53"]},
    ],
}


def _plans(tmp_path):
    """Real plans that together make every documented key appear: routed dual-stack with everything, routed plain, hub, direct."""
    plans = []
    gateways, devices, hostvars = article_topology(3)
    gateways = [*gateways, "gateway3"]
    hostvars["gateway3"] = {"wgsdn_network": "10.0.0.0/24", "wgsdn_route_reflector": True}
    for values in hostvars.values():
        values.update(wgsdn_network6="fd00:10::/64", wgsdn_metrics=True, wgsdn_policy=POLICY)
    hostvars["device4"]["wgsdn_uplinks"] = ["gateway2", "gateway1"]
    hostvars["device3"]["wgsdn_subnets"] = ["192.168.3.0/24", "fd00:3::/64"]
    hostvars["device2"]["wgsdn_services"] = [
        {"name": "echo", "address": "10.0.0.53", "check": "tcp:8053"},
        {"name": "web", "address": "10.0.0.80", "check": "https://localhost/health"},
        {"name": "dns", "address": "fd00:10::53", "check": "pgrep -x unbound"},
        {"name": "ntp", "address": "10.0.0.123"},
    ]
    hostvars["device3"]["wgsdn_services"] = [{"name": "echo", "address": "10.0.0.53", "check": "tcp:8053"}]
    hostvars["gateway1"]["wgsdn_bgp_peers"] = [
        {"name": "office-core", "address": "192.0.2.1", "asn": 65010, "import": ["192.168.77.0/24"], "bfd": True, "password": "secret", "multihop": 2},
        {"name": "lab", "address": "192.0.2.9", "asn": 65020, "import": ["192.168.78.0/24"], "export": ["10.0.0.0/24"]},
    ]
    hostvars["phone"] = {
        "wgsdn_network": "10.0.0.0/24",
        "wgsdn_network6": "fd00:10::/64",
        "wgsdn_uplinks": ["gateway1"],
        "wgsdn_metrics": True,
        "wgsdn_policy": POLICY,
    }
    groups = {"wgsdn_gateways": gateways, "wgsdn_devices": devices, "wgsdn_clients": ["phone"]}
    plans.append(compute_plan(gateways, devices, hostvars, StateFile(str(tmp_path / "rich.json")), clients=["phone"], groups=groups))
    plans.append(compute_plan(*article_topology(3), StateFile(str(tmp_path / "routed.json"))))
    gateways, devices, hostvars = article_topology(2)
    for values in hostvars.values():
        values["wgsdn_preshared_keys"] = False
        values["wgsdn_persistent_keepalive"] = 25
    plans.append(compute_plan(gateways, devices, hostvars, StateFile(str(tmp_path / "hub.json"))))
    plans.append(compute_plan(*article_topology(1), StateFile(str(tmp_path / "direct.json"))))
    return plans


def _filter(name):
    return importlib.import_module(f"ansible_collections.wgsdn.fabric.plugins.filter.{name}").FilterModule().filters()[name]


def _results(name, plans):
    """What the filter ``name`` returns for every plan, host and option the documentation mentions."""
    function = _filter(name)
    results = []
    for plan in plans:
        hosts = list(plan["hosts"])
        managed = [h for h in hosts if plan["hosts"][h]["role"] != "client"]
        if name in ("wg_interfaces", "static_routes", "bgp_neighbors", "policy_ruleset", "verify_probes", "metrics_host", "underlay_ports"):
            results += [function(plan, host) for host in hosts]
        elif name == "bird_settings":
            results += [function(plan, host, device_bgp=bgp) for host in hosts for bgp in (True, False)]
        elif name == "allowed_ips":
            results += [function(plan, host, peer) for host in hosts for peer in plan["hosts"][host]["neighbours"]]
        elif name == "rotation_steps":
            results += [function(plan, "all")]
        elif name == "prometheus_config":
            results += [function(plan), function(plan, device_bgp=False)]
        elif name == "policy_decide":
            results += [function(plan, src, dst, port) for src in hosts[:2] for dst in hosts for port in ("tcp/22", "udp/53") if src != dst]
        elif name == "topology_diagram":
            results += [function(plan, "dot"), function(plan, "mermaid")]
        elif name in ("verify_host", "verify_report", "reachability_matrix"):
            reports = [_filter("verify_host")(plan, host, observed_for(plan, host)) for host in managed]
            if name == "verify_host":
                results += reports
            elif name == "reachability_matrix":
                results.append(function(plan, reports))
            else:
                results += [function(plan, reports, hosts), function(plan, reports[1:], hosts, {managed[0]: "unreachable"})]
        else:
            raise AssertionError(f"{name}: no call for this filter here; add one")
    return results


def _walk(doc, value, path, seen, errors, where):
    """Check ``value`` against the return documentation ``doc`` at ``path``; record the documentation seen
    (by identity: a description shared through a YAML alias counts wherever it is seen)."""
    seen.add(id(doc))
    if value is None:
        if "null" not in _text(doc):
            errors.append(f"{path}: null, not documented as possibly null")
        return
    kind = doc.get("type", "raw")
    if kind != "raw" and (not isinstance(value, TYPES[kind]) or (kind in ("int", "float") and isinstance(value, bool))):
        errors.append(f"{path}: {type(value).__name__}, documented as {kind}")
        return
    contains = doc.get("contains")
    if kind == "list":
        element = {"type": doc.get("elements", "raw"), "contains": contains, "description": _text(doc)}
        for item in value:
            _walk(element, item, path + "[]", seen, errors, where)
    elif kind == "dict":
        if not contains:
            if (where, path.lstrip(".")) not in FOREIGN:
                errors.append(f"{path}: a dict without contains (document its keys, or add it to FOREIGN)")
            return
        wildcard = [key for key in contains if key.startswith("<")]
        for key, item in value.items():
            if wildcard:
                _walk(contains[wildcard[0]], item, f"{path}.{wildcard[0]}", seen, errors, where)
            elif key not in contains:
                errors.append(f"{path}.{key}: returned, not documented")
            else:
                _walk(contains[key], item, f"{path}.{key}", seen, errors, where)


def _documented(doc, path, found=None):
    """Every description in the documentation: {id: its first path}."""
    found = {} if found is None else found
    found.setdefault(id(doc), path)
    for key, item in (doc.get("contains") or {}).items():
        _documented(item, f"{path}[].{key}" if doc.get("type") == "list" else f"{path}.{key}", found)
    return found


def _text(doc):
    description = doc.get("description", "")
    return " ".join(description) if isinstance(description, list) else description


@pytest.fixture(scope="module")
def plans(tmp_path_factory):
    return _plans(tmp_path_factory.mktemp("plans"))


@pytest.mark.parametrize("name", FILTERS)
def test_return_documentation_is_what_the_filter_returns(plans, name):
    module = importlib.import_module(f"ansible_collections.wgsdn.fabric.plugins.filter.{name}")
    doc = yaml.safe_load(module.RETURN)["_value"]
    seen, errors = set(), []
    for result in _results(name, plans):
        _walk(doc, result, "", seen, errors, name)
    assert not errors, f"{name}: RETURN disagrees with the results:\n" + "\n".join(sorted(set(errors)))
    unseen = sorted(path for node, path in _documented(doc, "").items() if node not in seen)
    assert not unseen, f"{name}: documented, never returned by any call here: {unseen}"
