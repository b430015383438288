"""Verification: parsing real command output and judging it against the plan."""

import json
from xml.etree import ElementTree as ET

import pytest

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import topology, verify
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile
from ansible_collections.wgsdn.fabric.tests.unit.topologies import article_topology

NOW = 1_800_000_000

PROTOCOLS = """BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
device1    Device     ---        up     00:25:01.123
wgsdn_kernel Kernel   master4    up     00:25:01.123
wgsdn_static Static   master4    up     00:25:01.123
bfd1       BFD        ---        up     00:25:01.123
bgp_gateway2 BGP      ---        up     00:25:03.456  Established
"""

BFD = """BIRD 2.0.12 ready.
bfd1:
IP address                Interface  State      Since         Interval  Timeout
10.0.0.5                  wg-gateway2 Up        00:25:02.000    0.050    0.250
10.0.0.1                  wg0        Up         00:25:02.000    0.050    0.250
10.0.0.3                  wg0        Down       00:25:02.000    1.000    0.000
"""

ROUTES = """10.0.0.1 via 10.0.0.1 dev wg0 proto bird metric 32
10.0.0.4 via 10.0.0.5 dev wg-gateway2 proto bird metric 32
10.0.0.3 via 10.0.0.3 dev wg0 proto bird metric 32
10.0.0.5 via 10.0.0.5 dev wg-gateway2 proto bird metric 32
"""


@pytest.fixture
def plan(tmp_path):
    return compute_plan(*article_topology(3), StateFile(str(tmp_path / "s.json")))


def observed_for(plan, host, **overrides):
    lines = []
    for iface in topology.wg_interfaces(plan, host):
        lines.extend(f"{iface['name']}\t{p['public_key']}\t{NOW - 5}" for p in iface["peers"])
    others = [h["address"] for n, h in plan["hosts"].items() if n != host]
    data = {
        "interfaces": [i["name"] for i in topology.wg_interfaces(plan, host)],
        "handshakes": "\n".join(lines),
        "protocols": PROTOCOLS,
        "bfd": BFD,
        "routes": ROUTES,
        "ping": "\n".join(f"{a} ok" for a in others),
    }
    data.update(overrides)
    return data


def test_parsers():
    assert verify.parse_bird_protocols(PROTOCOLS)["bgp_gateway2"] == ("up", "Established")
    assert verify.parse_bfd_sessions(BFD) == {"10.0.0.5": ("wg-gateway2", "Up"), "10.0.0.1": ("wg0", "Up"), "10.0.0.3": ("wg0", "Down")}
    assert verify.parse_routes(ROUTES) == {"10.0.0.1/32", "10.0.0.4/32", "10.0.0.3/32", "10.0.0.5/32"}
    # One output per family; the last IPv4 line and the first IPv6 line stay apart.
    ipv6 = (
        "fd00:10::4 via fd00:10::2 dev wg-gateway2 proto bird src fd00:10::1 metric 32 pref medium\nfd00:d1::/64 via fd00:10::3 dev wg0 proto bird metric 32\n"
    )
    assert verify.parse_routes([ROUTES.rstrip("\n"), ipv6]) == verify.parse_routes(ROUTES) | {"fd00:10::4/128", "fd00:d1::/64"}
    dated = verify.parse_bird_protocols("bgp_x      BGP        ---        start  2026-11-24 23:59:59  Active        Socket: Connection refused")
    assert dated == {"bgp_x": ("start", "Active Socket: Connection refused")}
    assert verify.parse_handshakes("wg0\tKEY=\t0\nwg0\tOTHER=\t17\n") == {("wg0", "KEY="): 0, ("wg0", "OTHER="): 17}
    assert verify.parse_ping("10.0.0.1 ok\n10.0.0.2 fail\n") == {"10.0.0.1": True, "10.0.0.2": False}


def test_gateway_report_names_each_problem(plan):
    result = verify.check_host(plan, "gateway1", observed_for(plan, "gateway1"), now=NOW)
    # BFD with device2 (10.0.0.3) is Down; 10.0.0.6 (device4 via gateway2) is missing from the kernel.
    assert result["problems"] == ["gateway1: BFD with 10.0.0.3 is Down", "gateway1: route to 10.0.0.6/32 is missing"]
    assert "  BGP bgp_gateway2 (gateway2 10.0.0.5): Established" in result["report"]
    assert "    peer device1: handshake 5 s ago" in result["report"]


def test_missing_interface_unconfigured_peer_and_unreachable_host(plan):
    observed = observed_for(plan, "device1", interfaces=[], ping="10.0.0.4 fail\n10.0.0.2 ok")
    result = verify.check_host(plan, "device1", observed, now=NOW)
    assert "device1: interface wg-gateway1 is missing" in result["problems"]
    assert "device1: cannot reach device3 (10.0.0.4)" in result["problems"]
    observed = observed_for(plan, "device1", handshakes="")
    assert "device1: wg-gateway1: peer gateway1 is not configured" in verify.check_host(plan, "device1", observed, now=NOW)["problems"]


def test_bgp_down_is_a_problem(plan):
    observed = observed_for(plan, "gateway1", protocols=PROTOCOLS.replace("up     00:25:03.456  Established", "start  00:25:03.456  Active"))
    assert "gateway1: BGP bgp_gateway2 with gateway2 is Active" in verify.check_host(plan, "gateway1", observed, now=NOW)["problems"]


def test_matrix(plan):
    results = [verify.check_host(plan, h, observed_for(plan, h), now=NOW) for h in plan["hosts"]]
    results[0]["ping"]["10.0.0.4"] = False
    lines = verify.reachability_matrix(plan, results)
    assert lines[1].split() == ["gateway1", "-", "ok", "ok", "ok", "XX", "ok"]
    assert lines[-1].startswith("columns: 0=gateway1, 1=gateway2")


def test_offline_unmanaged_client_is_reported_not_a_problem(tmp_path):
    gateways, devices, hostvars = article_topology(3)
    hostvars["phone"] = {"wgsdn_network": "10.0.0.0/24", "wgsdn_address": "10.0.0.9", "wgsdn_uplinks": ["gateway1"]}
    plan = compute_plan(gateways, devices, hostvars, StateFile(str(tmp_path / "s.json")), clients=["phone"])
    lines = []
    for iface in topology.wg_interfaces(plan, "gateway1"):
        lines.extend(f"{iface['name']}\t{p['public_key']}\t{0 if p['name'] == 'phone' else NOW - 5}" for p in iface["peers"])
    others = [h["address"] for n, h in plan["hosts"].items() if n != "gateway1"]
    ping = "\n".join(f"{a} {'fail' if a == '10.0.0.9' else 'ok'}" for a in others)
    bfd = BFD.replace("Down", "Up")
    observed = observed_for(
        plan,
        "gateway1",
        handshakes="\n".join(lines),
        ping=ping,
        bfd=bfd,
        routes=ROUTES + "10.0.0.6 via 10.0.0.5 dev wg-gateway2 proto bird metric 32\n10.0.0.9 via 10.0.0.9 dev wg0 proto bird metric 32\n",
    )
    result = verify.check_host(plan, "gateway1", observed, now=NOW)
    assert result["problems"] == []
    assert "    peer phone: no handshake (unmanaged client, offline?)" in result["report"]
    assert "  reaches 5 of 5 other hosts, 0 of 1 unmanaged clients" in result["report"]
    # A managed device without a handshake is still a problem.
    silent = "\n".join(line.replace(str(NOW - 5), "0") for line in lines)
    problems = verify.check_host(plan, "gateway1", dict(observed, handshakes=silent), now=NOW)["problems"]
    assert "gateway1: wg0: no handshake with device2 yet (device2 dials this host's UDP port 51820: is it open here?)" in problems, problems
    assert "gateway1: wg-gateway2: no handshake with gateway2 yet (this host dials gateway2:51821 over UDP: is that port open on the way?)" in problems, (
        problems
    )
    assert not any("phone" in p for p in problems), problems


def test_device_that_learns_routes_over_bgp(plan):
    protocols = PROTOCOLS + "wgsdn_uplink1 BGP      ---        up     00:25:03.456  Established\n"
    others = ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"]
    routes = "".join(f"{a} via 10.0.0.2 dev wg-gateway1 proto bird metric 32\n" for a in others)
    bfd = "10.0.0.2                  wg-gateway1 Up         00:25:02.000    0.050    0.250\n"
    result = verify.check_host(plan, "device1", observed_for(plan, "device1", protocols=protocols, routes=routes, bfd=bfd), now=NOW)
    assert result["problems"] == []
    assert "  BGP wgsdn_uplink1 (gateway1 10.0.0.2): Established" in result["report"]
    # One /32 missing, and the uplink session down: both reported.
    down = protocols.replace("up     00:25:03.456  Established\n", "start  00:25:03.456  Connect\n")
    result = verify.check_host(
        plan, "device1", observed_for(plan, "device1", protocols=down, routes=routes.replace("10.0.0.6 via", "10.0.0.66 via"), bfd=bfd), now=NOW
    )
    assert result["problems"] == ["device1: BGP wgsdn_uplink1 with gateway1 is Connect", "device1: route to 10.0.0.6/32 is missing"]


def test_machine_report_and_junit_come_from_the_same_results(plan):
    good = verify.check_host(
        plan, "gateway1", observed_for(plan, "gateway1", bfd=BFD.replace("Down", "Up"), routes=ROUTES + "10.0.0.6 via 10.0.0.5 dev wg-gateway2\n"), now=NOW
    )
    assert good["problems"] == []
    bad = verify.check_host(plan, "device1", observed_for(plan, "device1", ping="10.0.0.2 ok\n10.0.0.3 fail"), now=NOW)
    hosts = ["gateway1", "device1", "device2"]
    out = verify.machine_outputs(plan, [good, bad], hosts, {"device2": "Failed to connect"})
    report = json.loads(json.dumps(out["json"]))  # plain JSON data
    assert report["ok"] is False
    assert report["problems"][0] == "device2: did not report (unreachable?): ABSENT"
    assert any("cannot reach device2 (10.0.0.3)" in p for p in bad["problems"])
    # device1's problem naming the absent device2 is marked as caused by it, the others are device1's own.
    assert report["problems"][1:] == ["device1: BROKEN"] + [p + (" [caused by absent device2]" if "device2" in p else "") for p in bad["problems"]]
    assert (report["absent"], report["broken"]) == (["device2"], ["device1"])
    assert report["hosts"]["gateway1"] == {"reported": True, "status": "ok", "report": good["report"], "problems": [], "findings": []}
    assert report["hosts"]["device2"] == {"reported": False, "status": "absent", "report": [], "problems": [], "findings": []}
    assert report["hosts"]["device1"]["findings"] == bad["findings"]
    assert [f"device1: {f['text']}" for f in bad["findings"]] == bad["problems"]
    assert {"kind": "unreachable", "subjects": ["device2"], "text": "cannot reach device2 (10.0.0.3)"} in bad["findings"]
    assert report["matrix"]["IPv4"]["device1"]["device2"] is False
    assert report["matrix"]["IPv4"]["device1"]["gateway1"] is True
    assert report["matrix"]["IPv4"]["device2"]["device1"] is None, "a host that did not report measured nothing"
    assert report["matrix_text"] == verify.reachability_matrix(plan, [good, bad])
    root = ET.fromstring(out["junit"].split("\n", 1)[1])
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("3", "2")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert set(cases) == set(hosts)
    assert cases["device2"].find("failure").get("message") == "device2: did not report (unreachable?): ABSENT"
    assert "cannot reach device2" in cases["device1"].find("failure").text
    assert cases["gateway1"].find("system-out").text == "\n".join(good["report"])
