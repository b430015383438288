"""wgsdn_policy: bad input refused naming rules[N].field, names resolved to address sets, one decision for all.

The property tests hold ``decide`` (what policy_check.yml and verify.yml say)
equal to what the generated nftables statements do, read back by a small
first-match interpreter of the statements ``ruleset`` emits.
"""

import copy
import re
import tempfile

import netaddr
import pytest
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import diagram, policy, services, verify
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile
from ansible_collections.wgsdn.fabric.tests.unit.topologies import article_topology

GROUPS = {
    "wgsdn_gateways": ["gateway1", "gateway2"],
    "wgsdn_devices": ["device1", "device2", "device3", "device4"],
    "wgsdn_clients": ["phone"],
    "admins": ["device1", "device3"],
    "fileservers": ["device3"],  # device3 is in wgsdn_devices, admins and fileservers
    "empty": [],
    "elsewhere": ["printer-not-in-overlay"],
}


def _plan(rules=None, default="deny", groups=None, raw=None):
    groups = GROUPS if groups is None else groups
    gateways, devices, hostvars = article_topology(3)
    hostvars["device4"]["wgsdn_subnets"] = ["192.168.4.0/24"]
    hostvars["phone"] = {"wgsdn_network": "10.0.0.0/24", "wgsdn_address": "10.0.0.21", "wgsdn_uplinks": ["gateway2"]}
    value = raw if raw is not None else {"default": default, "rules": rules or []}
    for values in hostvars.values():
        values["wgsdn_policy"] = copy.deepcopy(value)
    with tempfile.TemporaryDirectory() as directory:
        return compute_plan(gateways, devices, hostvars, StateFile(f"{directory}/state.json"), clients=["phone"], groups=groups)


BAD = [
    ("not a mapping", ["allow"], None, "must be a mapping"),
    ("unknown default", {"default": "reject", "rules": []}, "default", "is not allow or deny"),
    ("unknown group", {"rules": [{"from": ["admins"], "to": ["nosuchgroup"]}]}, "rules[0].to", "neither an inventory group"),
    ("unknown host", {"rules": [{"from": ["admins"], "to": ["device1"]}, {"from": ["device9"], "to": ["device1"]}]}, "rules[1].from", "device9"),
    ("malformed port", {"rules": [{"from": ["admins"], "to": ["device2"], "ports": ["tcp/ssh"]}]}, "rules[0].ports", "is not a port"),
    ("unknown protocol", {"rules": [{"from": ["admins"], "to": ["device2"], "ports": ["sctp/22"]}]}, "rules[0].ports", "is not a port"),
    ("port zero", {"rules": [{"from": ["admins"], "to": ["device2"], "ports": ["udp/0"]}]}, "rules[0].ports", "1 to 65535"),
    ("port too high", {"rules": [{"from": ["admins"], "to": ["device2"], "ports": ["tcp/70000"]}]}, "rules[0].ports", "1 to 65535"),
    ("reversed range", {"rules": [{"from": ["admins"], "to": ["device2"], "ports": ["tcp/138-137"]}]}, "rules[0].ports", "low before high"),
    ("port not a string", {"rules": [{"from": ["admins"], "to": ["device2"], "ports": [22]}]}, "rules[0].ports", "is not a port"),
    ("prefix not a prefix", {"rules": [{"from": ["192.168.300.0/24"], "to": ["device2"]}]}, "rules[0].from", "is not a prefix"),
    ("prefix length", {"rules": [{"from": ["192.168.1.0/33"], "to": ["device2"]}]}, "rules[0].from", "is not a prefix"),
    ("prefix host bits", {"rules": [{"from": ["192.168.1.7/24"], "to": ["device2"]}]}, "rules[0].from", "did you mean 192.168.1.0/24"),
    ("empty from", {"rules": [{"from": [], "to": ["device2"]}]}, "rules[0].from", "names nobody"),
    ("missing to", {"rules": [{"from": ["admins"]}]}, "rules[0].to", "names nobody"),
    ("empty group", {"rules": [{"from": ["admins"], "to": ["empty"]}]}, "rules[0].to", "names nobody"),
    ("group of strangers", {"rules": [{"from": ["elsewhere"], "to": ["device2"]}]}, "rules[0].from", "names nobody"),
    ("rule not a mapping", {"rules": ["admins -> device2"]}, "rules[0].rule", "is not a mapping"),
    ("unknown rule key", {"rules": [{"from": ["admins"], "to": ["device2"], "port": ["tcp/22"]}]}, "rules[0].port", "unknown key"),
    ("unknown action", {"rules": [{"from": ["admins"], "to": ["device2"], "action": "reject"}]}, "rules[0].action", "is not allow or deny"),
    ("rules not a list", {"rules": {"from": ["admins"]}}, "rules", "must be a list"),
]


@pytest.mark.parametrize("raw, field, words", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_policy_is_refused_naming_the_rule_and_field(raw, field, words):
    with pytest.raises(PlanError) as error:
        _plan(raw=raw)
    message = str(error.value)
    assert "variable 'wgsdn_policy'" in message
    if field:
        assert f"{field}:" in message, message
    assert words in message, message


def test_bad_policy_leaves_the_state_file_alone(tmp_path):
    gateways, devices, hostvars = article_topology(3)
    state = StateFile(str(tmp_path / "state.json"))
    compute_plan(gateways, devices, hostvars, state)
    before = (tmp_path / "state.json").read_bytes()
    hostvars["device9"] = {"wgsdn_network": "10.0.0.0/24", "wgsdn_uplinks": ["gateway1"]}
    for values in hostvars.values():
        values["wgsdn_policy"] = {"rules": [{"from": ["nobody"], "to": ["device1"]}]}
    with pytest.raises(PlanError):
        compute_plan(gateways, [*devices, "device9"], hostvars, state, groups=GROUPS)
    assert (tmp_path / "state.json").read_bytes() == before


def test_hosts_that_disagree_are_refused(tmp_path):
    gateways, devices, hostvars = article_topology(3)
    hostvars["device1"]["wgsdn_policy"] = {"default": "deny"}
    with pytest.raises(PlanError, match="host 'device1', variable 'wgsdn_policy': is not set for host 'gateway1'; it describes the whole overlay"):
        compute_plan(gateways, devices, hostvars, StateFile(str(tmp_path / "state.json")), groups=GROUPS)


def test_absent_policy_lets_everyone_reach_everyone():
    gateways, devices, hostvars = article_topology(3)
    with tempfile.TemporaryDirectory() as directory:
        plan = compute_plan(gateways, devices, hostvars, StateFile(f"{directory}/s.json"), groups=GROUPS)
    assert plan["policy"] is None
    ruleset = policy.ruleset(plan, "gateway1")
    assert ruleset["enabled"] and "policy" not in ruleset  # the edge only
    assert policy.decide(plan["policy"], plan, "device1", "device4", "tcp/22")["allowed"]


def test_a_host_in_several_groups_is_in_every_set_that_names_them():
    plan = _plan(
        [{"from": ["admins"], "to": ["wgsdn_gateways"], "ports": ["tcp/22"]}, {"from": ["wgsdn_devices"], "to": ["fileservers"], "ports": ["tcp/445"]}]
    )
    rules = plan["policy"]["rules"]
    assert rules[0]["from"]["hosts"] == ["device1", "device3"] and rules[0]["from"]["v4"] == ["10.0.0.1/32", "10.0.0.4/32"]
    assert "device3" in rules[1]["from"]["hosts"] and rules[1]["to"]["v4"] == ["10.0.0.4/32"]
    assert policy.decide(plan["policy"], plan, "device3", "gateway2", "tcp/22")["rule"] == 0
    assert policy.decide(plan["policy"], plan, "device3", "device3", "tcp/445")["rule"] == 1
    denied = policy.decide(plan["policy"], plan, "device2", "gateway1", "tcp/22")
    assert denied == {"allowed": False, "rule": None, "reason": "no rule matches: default deny"}


def test_a_host_stands_for_its_subnets_and_a_prefix_for_itself():
    plan = _plan([{"from": ["192.168.10.0/24", "10.0.0.1"], "to": ["device4"], "ports": ["tcp/9100"]}])
    rule = plan["policy"]["rules"][0]
    assert rule["to"]["v4"] == ["10.0.0.6/32", "192.168.4.0/24"]
    assert rule["from"]["v4"] == ["10.0.0.1/32", "192.168.10.0/24"]
    assert policy.decide(plan["policy"], plan, "192.168.10.7", "192.168.4.20", "tcp/9100")["allowed"]
    assert not policy.decide(plan["policy"], plan, "192.168.11.7", "192.168.4.20", "tcp/9100")["allowed"]
    # The LAN behind device4 is filtered on device4's forward hook.
    ruleset = policy.ruleset(plan, "device4")
    assert "ip daddr @edge_v4" in ruleset["policy"]["forward"]
    assert next(s for s in ruleset["sets"] if s["name"] == "edge_v4")["elements"] == ["192.168.4.0/24"]


def _plan_with_services(rules):
    """Topology 3 with an anycast service (10.0.0.100 on device1 and device3, behind different gateways)
    and a service only device2 announces (10.0.0.101)."""
    gateways, devices, hostvars = article_topology(3)
    anycast = {"name": "dns", "address": "10.0.0.100", "check": "tcp:53"}
    hostvars["device1"]["wgsdn_services"] = [anycast]
    hostvars["device3"]["wgsdn_services"] = [anycast]
    hostvars["device2"]["wgsdn_services"] = [{"name": "web", "address": "10.0.0.101"}]
    for values in hostvars.values():
        values["wgsdn_policy"] = {"default": "deny", "rules": rules}
    with tempfile.TemporaryDirectory() as directory:
        return compute_plan(gateways, devices, hostvars, StateFile(f"{directory}/state.json"), groups=GROUPS)


def test_an_anycast_address_is_no_hosts_source_but_stays_a_destination():
    plan = _plan_with_services(
        [
            {"from": ["device1"], "to": ["gateway2"], "ports": ["tcp/22"]},
            {"from": ["admins"], "to": ["device3"], "ports": ["tcp/53"]},
            {"from": ["device2"], "to": ["device1"], "ports": ["tcp/80"]},
        ]
    )
    rules = plan["policy"]["rules"]
    # Every provider of 10.0.0.100 can send from it: it names none of them in from, not even a group holding them all.
    assert rules[0]["from"]["v4"] == ["10.0.0.1/32"]
    assert rules[1]["from"]["v4"] == ["10.0.0.1/32", "10.0.0.4/32"]
    # Reaching the service is the point of a destination: there it stays.
    assert rules[1]["to"]["v4"] == ["10.0.0.4/32", "10.0.0.100/32"]
    # A service address one host announces is that host's: it stays in from.
    assert rules[2]["from"]["v4"] == ["10.0.0.3/32", "10.0.0.101/32"]
    assert not policy.decide(plan["policy"], plan, "10.0.0.100", "gateway2", "tcp/22")["allowed"]
    assert policy.decide(plan["policy"], plan, "device1", "gateway2", "tcp/22")["allowed"]
    assert not policy.decide(plan["policy"], plan, "10.0.0.100", "device3", "tcp/53")["allowed"]
    assert policy.decide(plan["policy"], plan, "device1", "10.0.0.100", "tcp/53")["allowed"]
    assert policy.decide(plan["policy"], plan, "10.0.0.101", "device1", "tcp/80")["allowed"]
    # The nftables sets say the same: no set a rule matches sources against holds the anycast address.
    ruleset = policy.ruleset(plan, "device3")
    sources = {m for statement in ruleset["policy"]["rules"] for m in re.findall(r"ip saddr @(\S+)", statement)}
    elements = {s["name"]: s["elements"] for s in ruleset["sets"]}
    assert sources and not any("10.0.0.100/32" in elements[name] for name in sources)
    assert any("10.0.0.100/32" in elements[name] for statement in ruleset["policy"]["rules"] for name in re.findall(r"ip daddr @(\S+)", statement))


def test_clients_are_filtered_at_their_gateway_and_run_no_ruleset():
    plan = _plan([{"from": ["wgsdn_clients"], "to": ["device1"], "ports": ["tcp/22"]}, {"from": ["admins"], "to": ["phone"], "ports": ["icmp"]}])
    assert policy.ruleset(plan, "phone") == {"enabled": False}
    gateway = policy.ruleset(plan, "gateway2")
    assert next(s for s in gateway["sets"] if s["name"] == "edge_v4")["elements"] == ["10.0.0.21/32"]
    assert "10.0.0.21" not in str(next(s for s in gateway["sets"] if s["name"] == "neighbours_v4"))  # a client speaks no BGP
    assert policy.ruleset(plan, "gateway1")["policy"]["forward"] == []  # not its client
    assert policy.decide(plan["policy"], plan, "phone", "device1", "tcp/22")["allowed"]
    assert policy.decide(plan["policy"], plan, "device1", "phone", "icmp")["allowed"]
    assert not policy.decide(plan["policy"], plan, "device2", "phone", "icmp")["allowed"]


def test_first_matching_rule_decides_and_deny_rules_carve_exceptions():
    plan = _plan(
        [{"from": ["device2"], "to": ["device4"], "ports": ["tcp/22"], "action": "deny"}, {"from": ["wgsdn_devices"], "to": ["wgsdn_devices"]}],
        default="allow",
    )
    assert policy.decide(plan["policy"], plan, "device2", "device4", "tcp/22") == {
        "allowed": False,
        "rule": 0,
        "reason": "rules[0] (deny device2 -> device4: tcp/22)",
    }
    assert policy.decide(plan["policy"], plan, "device2", "device4", "udp/22")["rule"] == 1
    assert policy.decide(plan["policy"], plan, "gateway1", "device4", "udp/22") == {"allowed": True, "rule": None, "reason": "no rule matches: default allow"}


def test_control_plane_passes_before_any_rule():
    plan = _plan([])
    ruleset = policy.ruleset(plan, "gateway1")
    neighbours = next(s for s in ruleset["sets"] if s["name"] == "neighbours_v4")["elements"]
    assert neighbours == ["10.0.0.1", "10.0.0.3", "10.0.0.5"]  # device1, device2, gateway2
    assert ruleset["policy"]["control"] == ["ip saddr @neighbours_v4 tcp dport 179 accept", "ip saddr @neighbours_v4 udp dport { 3784, 4784 } accept"]
    assert ruleset["policy"]["rules"] == [] and ruleset["policy"]["default"] == "drop"
    assert ruleset["interfaces"] == ["wg0", "wg-gateway2"]


def test_nested_groups_come_from_the_inventory(tmp_path):
    """Ansible's ``groups`` counts a child group's hosts in its parent: a rule naming the parent covers them."""
    (tmp_path / "hosts.yml").write_text(
        "all:\n  children:\n    staff:\n      children:\n        admins:\n          hosts: {device1: {}}\n        ops:\n          hosts: {device2: {}}\n"
    )
    groups = InventoryManager(loader=DataLoader(), sources=[str(tmp_path / "hosts.yml")]).get_groups_dict()
    plan = _plan([{"from": ["staff"], "to": ["device4"], "ports": ["tcp/22"]}], groups={**GROUPS, **groups})
    assert plan["policy"]["rules"][0]["from"]["hosts"] == ["device1", "device2"]
    assert plan["policy"]["rules"][0]["from"]["v4"] == ["10.0.0.1/32", "10.0.0.3/32"]


def test_ruleset_size_follows_rules_not_hosts():
    """Sets are shared between the rules that name the same list; statements do not grow with hosts."""
    rules = [
        {"from": ["wgsdn_devices"], "to": ["wgsdn_gateways"], "ports": ["tcp/22", "udp/53", "icmp"]},
        {"from": ["wgsdn_devices"], "to": ["wgsdn_gateways"]},
    ]
    small = policy.ruleset(_plan(rules), "gateway1")
    assert [s["name"] for s in small["sets"] if s["name"].startswith("s")] == ["s0_v4", "s1_v4"]
    assert len(small["policy"]["rules"]) == 4  # tcp, udp, icmp, everything


# --- properties: decide() agrees with the nftables statements ---------------------------------


def _interpret(ruleset, source, destination, protocol, port):
    """First-match evaluation of the ``overlay`` chain the template prints: 'accept' or 'drop'."""
    sets = {s["name"]: [netaddr.IPNetwork(e) for e in s["elements"]] for s in ruleset["sets"]}
    for statement in ruleset["policy"]["rules"] + [ruleset["policy"]["default"]]:
        words = statement.split(' comment "')[0]
        verdict = words.split()[-1]
        ok = True
        for family, direction, name in re.findall(r"(ip6?) ([sd])addr @(\S+)", words):
            address = source if direction == "s" else destination
            ok &= (address.version == 6) == (family == "ip6") and any(address in net for net in sets[name])
        proto = re.search(r"(tcp|udp) dport \{ ([^}]+) \}", words)
        if proto:
            ranges = [tuple(int(x) for x in item.strip().split("-")) for item in proto.group(2).split(",")]
            ok &= protocol == proto.group(1) and any(r[0] <= port <= r[-1] for r in ranges)
        if "echo-request" in words:
            ok &= protocol == "icmp"
        if ok:
            return verdict
    raise AssertionError("no default")


NAMES = ["gateway1", "gateway2", "device1", "device2", "device3", "device4", "phone"]
TERMS = [*sorted(GROUPS.keys() - {"empty", "elsewhere"}), *NAMES, "192.168.4.0/24", "10.0.0.0/30", "192.168.4.128/25"]
PORTS = st.sampled_from(["tcp/22", "tcp/20-25", "udp/53", "udp/137-138", "icmp", "tcp/445"])
RULES = st.lists(
    st.fixed_dictionaries(
        {"from": st.lists(st.sampled_from(TERMS), min_size=1, max_size=3), "to": st.lists(st.sampled_from(TERMS), min_size=1, max_size=3)},
        optional={"ports": st.lists(PORTS, min_size=1, max_size=3), "action": st.sampled_from(["allow", "deny"])},
    ),
    max_size=5,
)
ENDPOINTS = st.sampled_from([*NAMES, "192.168.4.9", "192.168.4.200", "10.0.0.250"])
FLOWS = st.tuples(st.sampled_from(["tcp", "udp", "icmp"]), st.integers(1, 600))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(RULES, st.sampled_from(["allow", "deny"]), st.lists(st.tuples(ENDPOINTS, ENDPOINTS, FLOWS), min_size=1, max_size=15))
def test_decide_agrees_with_the_nftables_rules(rules, default, flows):
    plan = _plan(rules, default=default)
    ruleset = policy.ruleset(plan, "gateway1")
    for src, dst, (protocol, port) in flows:
        decision = policy.decide(plan["policy"], plan, src, dst, (protocol, None if protocol == "icmp" else port))
        address = {n: netaddr.IPAddress(h["address"]) for n, h in plan["hosts"].items()}
        verdict = _interpret(ruleset, address.get(src) or netaddr.IPAddress(src), address.get(dst) or netaddr.IPAddress(dst), protocol, port)
        assert decision["allowed"] == (verdict == "accept"), (src, dst, protocol, port, decision, ruleset["policy"]["rules"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(RULES)
def test_every_resolved_host_is_covered_by_its_sets(rules):
    plan = _plan(rules)
    for rule in plan["policy"]["rules"]:
        for field in ("from", "to"):
            side = rule[field]
            for name in side["hosts"]:
                for prefix in policy.host_prefixes(plan, name, services.shared_addresses(plan) if field == "from" else ()):
                    net = netaddr.IPNetwork(prefix)
                    assert any(net in netaddr.IPNetwork(p) for p in side[f"v{net.version}"]), (name, prefix, side)


# --- verify: expected against observed ---------------------------------------------------------


def _observed(plan, host_name, passing):
    """Ping and TCP probe outputs of ``host_name`` where exactly the flows in ``passing`` ((address, port or 'icmp')) get through."""
    ping = "\n".join(f"{a} {'ok' if (a, 'icmp') in passing else 'fail'}" for n, h in plan["hosts"].items() if n != host_name for a in h["addresses"].values())
    tcp = "\n".join(f"{p['address']} {p['port']} {'refused' if (p['address'], p['port']) in passing else 'blocked'}" for p in policy.probes(plan, host_name))
    return ping, tcp


def test_verify_passes_when_the_network_does_what_the_policy_says():
    plan = _plan([{"from": ["admins"], "to": ["device2"], "ports": ["tcp/22", "icmp"]}])
    assert policy.probe_ports(plan["policy"]) == [1, 22]
    passing = {("10.0.0.3", 22), ("10.0.0.3", "icmp")}
    ping, tcp = _observed(plan, "device1", passing)
    result = verify.check_host(plan, "device1", {"ping": ping, "tcp": tcp, "interfaces": []})
    policy_problems = [p for p in result["problems"] if "policy" in p]
    assert policy_problems == [], policy_problems
    assert "    tcp/22 to device2 (10.0.0.3): passes" in result["report"]
    assert "    tcp/22 to device4 (10.0.0.6): blocked as the policy says" in result["report"]
    assert not any("cannot reach device4" in p for p in result["problems"])  # its ping is denied: failing is right


def test_verify_names_the_pair_and_the_rule_when_the_network_disagrees():
    plan = _plan([{"from": ["admins"], "to": ["device2"], "ports": ["tcp/22", "icmp"]}])
    # device2's table is gone: everything gets through; and tcp/22 to device2 is dropped somewhere.
    passing = {(a, port) for a in ("10.0.0.2", "10.0.0.5", "10.0.0.6", "10.0.0.4") for port in (1, 22, "icmp")} | {("10.0.0.3", "icmp")}
    ping, tcp = _observed(plan, "device1", passing)
    problems = verify.check_host(plan, "device1", {"ping": ping, "tcp": tcp, "interfaces": []})["problems"]
    assert "device1: reaches device4 (10.0.0.6) on tcp/22, which the policy denies: no rule matches: default deny" in problems
    assert "device1: reaches device4 (10.0.0.6) on icmp, which the policy denies: no rule matches: default deny" in problems
    assert "device1: cannot reach device2 (10.0.0.3) on tcp/22, which the policy allows: rules[0] (allow admins -> device2: tcp/22, icmp)" in problems


def test_matrix_marks_intended_denials():
    plan = _plan([{"from": ["admins"], "to": ["device2"], "ports": ["icmp"]}])
    results = [{"host": "device1", "ping": {"10.0.0.3": True, "10.0.0.6": False, "10.0.0.2": True}}]
    lines = verify.reachability_matrix(plan, results)
    row = next(line for line in lines if line.strip().startswith("device1"))
    names = list(plan["hosts"])
    cells = row.split()[1:]
    assert cells[names.index("device2")] == "ok" and cells[names.index("device4")] == "bl" and cells[names.index("gateway1")] == "!!"
    assert any("bl = ICMP blocked as the policy says" in line for line in lines)


def test_the_diagram_shows_the_policy():
    plan = _plan([{"from": ["admins"], "to": ["device2"], "ports": ["tcp/22", "icmp"]}])
    dot, mermaid = diagram.render(plan, "dot"), diagram.render(plan, "mermaid")
    assert '"wgsdn_policy" [shape=note' in dot and "wgsdn_policy: default deny\\lrules[0] (allow admins -> device2: tcp/22, icmp)\\l" in dot
    assert "rules[0] (allow admins -&gt; device2: tcp/22, icmp)" in mermaid
    assert "wgsdn_policy" not in diagram.render(dict(plan, policy=None), "dot")


# --- the edge: anti-spoofing, outside to inside, the exporters -------------------------------------


def _set(ruleset, name):
    return next(s for s in ruleset["sets"] if s["name"] == name)["elements"]


def test_every_source_of_the_overlay_is_accepted_only_where_it_can_arrive():
    plan = _plan(None, raw={"default": "allow", "rules": []})
    device4, gateway1 = policy.ruleset(plan, "device4"), policy.ruleset(plan, "gateway1")
    # The overlay, every declared LAN and service address belong to the overlay, on every host alike.
    assert _set(gateway1, "inside_v4") == _set(device4, "inside_v4") == ["10.0.0.0/24", "192.168.4.0/24"]
    assert gateway1["edge"]["antispoof"] == ['ip saddr @inside_v4 counter drop comment "spoofed source"']
    # device4's own LAN is genuine on the interface its route points to, and only there.
    assert device4["edge"]["antispoof"][0].startswith("ip saddr @lans_v4 fib saddr . iif oif exists accept")
    assert _set(device4, "lans_v4") == ["192.168.4.0/24"]
    assert device4["edge"]["antispoof"][-1] == gateway1["edge"]["antispoof"][0]


def test_from_outside_only_replies_the_peers_control_plane_and_invited_prefixes_enter():
    plan = _plan(
        [{"from": ["192.168.10.0/24", "device1"], "to": ["device4"], "ports": ["tcp/22"]}, {"from": ["172.16.0.0/12"], "to": ["device4"], "action": "deny"}]
    )
    edge = policy.ruleset(plan, "gateway1")["edge"]
    assert edge["outside"] == [
        "ip saddr @inside_v4 accept",
        'ip saddr @invited_v4 accept comment "invited by wgsdn_policy"',
        'counter drop comment "outside, not invited"',
    ]
    assert _set(policy.ruleset(plan, "gateway1"), "invited_v4") == ["192.168.10.0/24"]  # a deny rule invites nobody
    assert edge["toward"] == ["ip daddr @inside_v4"]
    assert "invited_v4" not in str(policy.ruleset(_plan([]), "gateway1")["sets"])


def test_the_exporters_answer_the_monitors_only():
    plan = _plan([], groups={**GROUPS, "wgsdn_monitors": ["device1"]})
    assert plan["monitors"] == ["device1"]
    assert policy.ruleset(plan, "device2", exporter_ports=[9100, 9324])["edge"]["exporters"] == []  # no wgsdn_metrics
    plan["metrics"] = True
    ruleset = policy.ruleset(plan, "device2", exporter_ports=[9100, 9324])
    assert ruleset["edge"]["exporters"] == [
        "ip saddr @monitors_v4 tcp dport { 9100, 9324 } accept",
        'tcp dport { 9100, 9324 } counter drop comment "exporters: monitors only"',
    ]
    assert _set(ruleset, "monitors_v4") == ["10.0.0.1"]


def test_a_monitor_must_be_a_member_of_the_overlay():
    with pytest.raises(PlanError, match="host 'phone', variable 'wgsdn_monitors': a monitor scrapes through the overlay"):
        _plan([], groups={**GROUPS, "wgsdn_monitors": ["phone"]})
    with pytest.raises(PlanError, match="host 'prometheus', variable 'wgsdn_monitors'"):
        _plan([], groups={**GROUPS, "wgsdn_monitors": ["prometheus"]})
