"""verify.yml tells an absent host (Ansible cannot reach it) from a broken one (up, but not as planned)."""

import pytest

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import absence, verify
from ansible_collections.wgsdn.fabric.plugins.plugin_utils import problems as kinds
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.problems import problem
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile
from ansible_collections.wgsdn.fabric.tests.unit.topologies import article_topology

# Topology 3: gateway1 10.0.0.2 serves device1 .1 and device2 .3; gateway2 .5 serves device3 .4 and device4 .6.


@pytest.fixture
def plan(tmp_path):
    return compute_plan(*article_topology(3), StateFile(str(tmp_path / "s.json")))


def results(findings):
    """check_host-shaped results of ``{host: [finding]}``."""
    return [{"host": h, "report": [], "problems": [kinds.line(h, f) for f in fs], "findings": fs, "ping": {}} for h, fs in findings.items()]


def bfd(address, owner, state="Down"):
    return problem(kinds.BFD_DOWN, f"BFD with {address} is {state}", [owner])


def unreachable(name, address):
    return problem(kinds.UNREACHABLE, f"cannot reach {name} ({address})", [name])


def route(prefix, owner):
    return problem(kinds.ROUTE_MISSING, f"route to {prefix} is missing", [owner])


def bgp(session, peer, state):
    return problem(kinds.BGP_DOWN, f"BGP {session} with {peer} is {state}", [peer])


def test_an_absent_device_and_a_broken_one_are_told_apart(plan):
    hosts = list(plan["hosts"])
    seen = {
        "gateway1": [bfd("10.0.0.3", "device2"), unreachable("device3", "10.0.0.4"), route("10.0.0.4/32", "device3")],
        "gateway2": [bfd("10.0.0.4", "device3"), unreachable("device2", "10.0.0.3")],
        "device1": [unreachable("device3", "10.0.0.4"), unreachable("device2", "10.0.0.3")],
        "device2": [
            bgp("wgsdn_uplink1", "gateway1", "absent"),
            problem(kinds.BIRD_SILENT, "BIRD does not answer (Unable to connect to server control socket)"),
        ],
        "device4": [unreachable("device3", "10.0.0.4"), unreachable("device2", "10.0.0.3")],
    }
    out = absence.classify(plan, results(seen), hosts, {"device3": "Failed to connect"})
    assert out["status"] == {"gateway1": "ok", "gateway2": "ok", "device1": "ok", "device2": "broken", "device3": "absent", "device4": "ok"}
    assert out["problems"][:2] == ["device3: did not report (unreachable?): ABSENT", "device2: BROKEN"]
    assert "gateway1: BFD with 10.0.0.3 is Down [caused by broken device2]" in out["problems"]
    assert "gateway1: route to 10.0.0.4/32 is missing [caused by absent device3]" in out["problems"]
    assert "device2: BGP wgsdn_uplink1 with gateway1 is absent" in out["problems"]  # its own: gateway1 is fine
    assert "ABSENT  device3: unreachable (Failed to connect)" in out["summary"]
    assert "BROKEN  device2: BIRD does not answer (Unable to connect to server control socket); BGP wgsdn_uplink1 with gateway1 is absent" in out["summary"]
    assert "ok      gateway1 (3 problem(s) caused by absent or broken hosts)" in out["summary"]
    # Nobody absent, nothing wrong: no problem at all.
    clean = absence.classify(plan, results({h: [] for h in hosts}), hosts, {})
    assert clean["problems"] == [] and set(clean["status"].values()) == {"ok"}


def test_devices_behind_an_absent_gateway_are_cut_off_not_broken(plan):
    hosts = list(plan["hosts"])
    seen = {
        "gateway1": [bgp("bgp_gateway2", "gateway2", "Active"), unreachable("device3", "10.0.0.4"), route("10.0.0.6/32", "device4")],
        "device1": [unreachable("gateway2", "10.0.0.5"), unreachable("device4", "10.0.0.6")],
        "device2": [],
        "device3": [
            bgp("wgsdn_uplink1", "gateway2", "Active"),
            bfd("10.0.0.5", "gateway2"),
            unreachable("gateway1", "10.0.0.2"),
            route("10.0.0.1/32", "device1"),
        ],
        "device4": [unreachable("device1", "10.0.0.1")],
    }
    out = absence.classify(plan, results(seen), hosts, {"gateway2": ""})
    assert out["status"]["gateway2"] == "absent"
    assert [h for h, s in out["status"].items() if s == "broken"] == []
    assert "device3: cannot reach gateway1 (10.0.0.2) [caused by absent gateway2]" in out["problems"]


def test_configuration_faults_are_never_explained_by_an_absence(plan):
    hosts = list(plan["hosts"])
    seen = {h: [] for h in hosts}
    seen.pop("gateway1")
    seen["device1"] = [problem(kinds.PEER_NOT_CONFIGURED, "wg-gateway1: peer gateway1 is not configured", ["gateway1"]), unreachable("gateway1", "10.0.0.2")]
    out = absence.classify(plan, results(seen), hosts, {"gateway1": "unreachable"})
    assert out["status"]["device1"] == "broken"
    assert "device1: wg-gateway1: peer gateway1 is not configured" in out["problems"]
    # A host that reported nothing without being unreachable failed a task: broken, not absent.
    seen.pop("device4")
    out = absence.classify(plan, results(seen), hosts, {"gateway1": "unreachable"})
    assert out["status"]["device4"] == "broken" and "device4: did not report (a task failed): BROKEN" in out["problems"]


PROTOCOLS = """BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
bgp_gateway2 BGP      ---        up     00:25:03.456  Established
dev_device1 BGP       ---        up     00:25:03.456  Established
dev_device2 BGP       ---        up     00:25:03.456  Established
dev_device9 BGP       ---        start  00:25:03.456  Passive
"""

BFD = """BIRD 2.0.12 ready.
IP address                Interface  State      Since         Interval  Timeout
10.0.0.5                  wg-gateway2 Up        00:25:02.000    0.050    0.250
10.0.0.1                  wg0        Up         00:25:02.000    0.050    0.250
10.0.0.3                  wg0        Up         00:25:02.000    0.050    0.250
10.0.0.9                  wg0        Down       00:25:02.000    1.000    0.000
"""


def test_a_departed_devices_sessions_and_a_silent_bird_are_reported(plan):
    observed = {"interfaces": [], "handshakes": "", "protocols": PROTOCOLS, "bfd": BFD, "routes": "", "ping": ""}
    problems = verify.check_host(plan, "gateway1", observed)["problems"]
    assert "gateway1: BGP dev_device9 is left over (no attached device of the plan has it)" in problems
    assert "gateway1: BFD session with 10.0.0.9 is left over (not a neighbour of the plan)" in problems
    assert not [p for p in problems if "dev_device1" in p or "10.0.0.1 " in p]
    silent = dict(observed, protocols="Unable to connect to server control socket (/run/bird/bird.ctl): No such file or directory", bfd="", bird_rc=1)
    problems = verify.check_host(plan, "gateway1", silent)["problems"]
    assert "gateway1: BIRD does not answer (Unable to connect to server control socket (/run/bird/bird.ctl): No such file or directory)" in problems
    assert not [p for p in problems if "left over" in p]


def test_the_kind_and_the_subjects_decide_never_the_wording(plan):
    """The same findings reworded (another language, another phrasing) are classified alike."""
    hosts = list(plan["hosts"])
    seen = {h: [] for h in hosts if h != "device3"}
    seen["gateway2"] = [bfd("10.0.0.4", "device3"), route("10.0.0.4/32", "device3")]
    seen["device1"] = [problem(kinds.PEER_NOT_CONFIGURED, "wg-gateway1: peer gateway1 is not configured", ["gateway1"])]
    plain = absence.classify(plan, results(seen), hosts, {"device3": "unreachable"})
    reworded = {h: [dict(f, text=f"Befund {i}") for i, f in enumerate(fs)] for h, fs in seen.items()}
    other = absence.classify(plan, results(reworded), hosts, {"device3": "unreachable"})
    assert plain["status"] == other["status"] == {**{h: "ok" for h in hosts}, "device3": "absent", "device1": "broken"}
    assert "gateway2: Befund 0 [caused by absent device3]" in other["problems"]


def test_check_host_names_the_hosts_its_findings_are_about(plan):
    """verify's own findings carry their subjects: the owner of an address or prefix, the peer of a session."""
    ping = "\n".join(f"{h['address']} {'fail' if n == 'device3' else 'ok'}" for n, h in plan["hosts"].items() if n != "gateway1")
    observed = {"interfaces": [], "handshakes": "", "protocols": PROTOCOLS, "bfd": BFD, "routes": "", "ping": ping}
    found = {f["text"]: f for f in verify.check_host(plan, "gateway1", observed)["findings"]}
    assert found["cannot reach device3 (10.0.0.4)"]["subjects"] == ["device3"]
    assert found["route to 10.0.0.6/32 is missing"]["subjects"] == ["device4"]
    assert found["interface wg0 is missing"] == {"kind": kinds.INTERFACE_MISSING, "subjects": [], "text": "interface wg0 is missing"}
    assert found["BGP dev_device9 is left over (no attached device of the plan has it)"]["kind"] == kinds.LEFT_OVER
