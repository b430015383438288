"""Route reflectors: with ``wgsdn_route_reflector`` set, edge gateways link and peer with the reflectors only.

The design (docs/architecture.md): eBGP stays, each gateway keeps its ASN, a
reflector is a transit AS that passes on routes with itself as the next hop. So
the origin check (the last AS of the path) is unchanged and an edge reaches
every next hop it learns directly.
"""

import pytest

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import diagram, topology, verify
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.model import ASN_BASE
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.plan import MESH_WARNING_GATEWAYS
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile
from ansible_collections.wgsdn.fabric.tests.unit.plugins.plugin_utils.test_family import render
from ansible_collections.wgsdn.fabric.tests.unit.topologies import NETWORK

NET = {"wgsdn_network": NETWORK}
EDGES = ["edge1", "edge2", "edge3"]
REFLECTORS = ["rr1", "rr2"]


def fabric(reflectors=None, edges=None, **extra):
    """Gateways (the reflectors first, then the edges), a device behind each edge, one dual-homed on edge1 and edge2."""
    reflectors = REFLECTORS if reflectors is None else reflectors
    edges = EDGES if edges is None else edges
    gateways = [*reflectors, *edges]
    hostvars = {g: dict(NET, wgsdn_route_reflector=True) if g in reflectors else dict(NET) for g in gateways}
    devices = []
    for i, edge in enumerate(edges, 1):
        devices.append(f"dev{i}")
        hostvars[f"dev{i}"] = dict(NET, wgsdn_uplinks=[edge])
    if len(edges) >= 2:
        devices.append("dual")
        hostvars["dual"] = dict(NET, wgsdn_uplinks=edges[:2])
    for name, values in extra.items():
        hostvars.setdefault(name, dict(NET)).update(values)
    return gateways, devices, hostvars


@pytest.fixture
def plan_for(tmp_path):
    def build(gateways, devices, hostvars):
        return compute_plan(gateways, devices, hostvars, StateFile(str(tmp_path / "state.json")))

    return build


def mesh(plan):
    return {frozenset((link["a"], link["b"])) for link in plan["links"] if link["kind"] == topology.MESH_LINK}


def test_edges_link_to_the_reflectors_only_and_reflectors_mesh(plan_for):
    plan = plan_for(*fabric())
    assert plan["reflectors"] == REFLECTORS
    expected = {frozenset(("rr1", "rr2"))} | {frozenset((e, r)) for e in EDGES for r in REFLECTORS}
    assert mesh(plan) == expected
    for edge in EDGES:
        assert {s["peer"] for s in topology.bgp_neighbors(plan, edge)} == set(REFLECTORS)
        assert topology.interface_names(plan, edge) == ["wg0", "wg-rr1", "wg-rr2"]
        assert topology.bfd_neighbors(plan, edge) == sorted(
            [plan["hosts"][r]["address"] for r in REFLECTORS] + [plan["hosts"][n]["address"] for n in plan["hosts"][edge]["neighbours"] if n not in REFLECTORS]
        )
    assert {s["peer"] for s in topology.bgp_neighbors(plan, "rr1")} == {"rr2", *EDGES}


def test_sessions_grow_linearly_with_reflectors(plan_for):
    edges = [f"edge{i}" for i in range(1, 19)]
    plan = plan_for(*fabric(edges=edges))
    assert len(mesh(plan)) == 1 + 2 * len(edges)  # 37 links, not 190
    assert plan["warnings"] == []


def test_a_reflector_links_to_every_gateway_so_one_survives_the_other(plan_for):
    """Every edge has a link and a session with each reflector: losing one leaves a full path set."""
    plan = plan_for(*fabric())
    for reflector in REFLECTORS:
        others = set(plan["hosts"]) - {reflector}
        gateways = {n for n in others if plan["hosts"][n]["role"] == "gateway"}
        for edge in EDGES:
            peers = {s["peer"] for s in topology.bgp_neighbors(plan, edge)} - {reflector}
            assert peers and peers <= gateways


def test_edges_accept_only_the_origin_as_of_each_prefix(plan_for):
    """The origin check is unchanged: prefix -> the ASN of the gateway that serves it, on every gateway."""
    plan = plan_for(*fabric())
    origins = {o["gateway"]: (o["asn"], o["prefixes"]) for o in topology.route_origins(plan)}
    assert set(origins) == {*REFLECTORS, *EDGES}
    assert plan["hosts"]["dual"]["address"] + "/32" in origins["edge1"][1] and plan["hosts"]["dual"]["address"] + "/32" in origins["edge2"][1]
    settings = topology.bird_settings(plan, "edge3")
    text = render("bird", "bird.conf.j2", _bird_settings=settings, inventory_hostname="edge3")
    asn = plan["hosts"]["edge1"]["asn"]
    assert f"\t{asn}: return net ~ [ {', '.join(origins['edge1'][1])} ];" in text
    assert "case bgp_path.last {" in text
    assert "# Route reflectors rr1, rr2: this edge gateway has BGP" in text
    assert text.count("protocol bgp bgp_") == 2 and "is a route reflector: a transit AS" in text
    for edge in ("edge1", "edge2"):
        assert f'description "{edge}";' not in text
    reflector = render("bird", "bird.conf.j2", _bird_settings=topology.bird_settings(plan, "rr1"), inventory_hostname="rr1")
    assert "# A route reflector: BGP and BFD with every gateway" in reflector and reflector.count("protocol bgp bgp_") == 4


def test_full_mesh_bird_conf_has_no_reflector_text(plan_for):
    plan = plan_for(*fabric(reflectors=[]))
    assert plan["reflectors"] == [] and len(mesh(plan)) == 3
    text = render("bird", "bird.conf.j2", _bird_settings=topology.bird_settings(plan, "edge1"), inventory_hostname="edge1")
    assert "reflector" not in text
    assert topology.reflector_settings(plan, "edge1") == {"route_reflector": False, "reflectors": [], "edge": False}


def test_one_reflector_is_allowed_and_reported_as_such(plan_for):
    plan = plan_for(*fabric(reflectors=["rr1"]))
    assert mesh(plan) == {frozenset((e, "rr1")) for e in EDGES}
    assert topology.reflector_settings(plan, "edge2")["edge"] is True
    assert topology.reflector_settings(plan, "rr1") == {"route_reflector": True, "reflectors": ["rr1"], "edge": False}


@pytest.mark.parametrize("count, warned", [(MESH_WARNING_GATEWAYS, False), (MESH_WARNING_GATEWAYS + 1, True)])
def test_a_large_full_mesh_warns_once(plan_for, count, warned):
    edges = [f"edge{i}" for i in range(1, count + 1)]
    plan = plan_for(*fabric(reflectors=[], edges=edges))
    assert len(plan["warnings"]) == (1 if warned else 0)
    if warned:
        sessions = count * (count - 1) // 2
        assert f"{count} gateways in a full mesh: {sessions} WireGuard links" in plan["warnings"][0]
        assert "wgsdn_route_reflector: true" in plan["warnings"][0]


def test_reflectors_silence_the_warning(plan_for):
    edges = [f"edge{i}" for i in range(1, MESH_WARNING_GATEWAYS + 5)]
    assert plan_for(*fabric(edges=edges))["warnings"] == []


def test_reflector_flag_on_a_device_is_refused(plan_for):
    gateways, devices, hostvars = fabric(dev1={"wgsdn_route_reflector": True})
    with pytest.raises(PlanError, match=r"host 'dev1', variable 'wgsdn_route_reflector': only gateways reflect routes; this host is a device"):
        plan_for(gateways, devices, hostvars)


@pytest.mark.parametrize("value", ["yes", 1, "true", [True]])
def test_reflector_flag_must_be_a_boolean(plan_for, value):
    gateways, devices, hostvars = fabric(rr1={"wgsdn_route_reflector": value})
    with pytest.raises(PlanError, match=r"host 'rr1', variable 'wgsdn_route_reflector': .* must be true or false"):
        plan_for(gateways, devices, hostvars)


def test_false_is_an_edge(plan_for):
    gateways, devices, hostvars = fabric(edge1={"wgsdn_route_reflector": False})
    plan = plan_for(gateways, devices, hostvars)
    assert plan["hosts"]["edge1"]["route_reflector"] is False and plan["reflectors"] == REFLECTORS


def test_adding_reflectors_keeps_addresses_keys_and_asns(plan_for):
    """Turning a full mesh into a reflector design renumbers nothing (gateway numbers, so ASNs and ports, stay)."""
    gateways, devices, hostvars = fabric()
    before = plan_for(gateways, devices, {n: {k: v for k, v in values.items() if k != "wgsdn_route_reflector"} for n, values in hostvars.items()})
    assert before["reflectors"] == [] and len(mesh(before)) == 10
    after = plan_for(gateways, devices, hostvars)
    assert len(mesh(after)) == 7
    for name, host in before["hosts"].items():
        kept = ("address", "private_key", "gateway_id", "asn")
        assert {k: host.get(k) for k in kept} == {k: after["hosts"][name].get(k) for k in kept}, name
    assert after["hosts"]["rr1"]["asn"] == ASN_BASE + before["hosts"]["rr1"]["gateway_id"]


PROTOCOLS = """BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
bgp_rr1    BGP        ---        up     12:00:00.000  Established
bgp_rr2    BGP        ---        up     12:00:00.000  Established
{extra}"""


def test_verify_reports_an_edge_session_with_a_non_reflector(plan_for):
    plan = plan_for(*fabric())
    observed = {"protocols": PROTOCOLS.format(extra=""), "interfaces": topology.interface_names(plan, "edge1")}
    result = verify.check_host(plan, "edge1", observed)
    assert "  edge gateway: BGP with the route reflectors only (rr1, rr2)" in result["report"]
    assert not any("not with a route reflector" in p for p in result["problems"])
    observed["protocols"] = PROTOCOLS.format(extra="bgp_edge2  BGP        ---        up     12:00:00.000  Established\n")
    result = verify.check_host(plan, "edge1", observed)
    assert "edge1: BGP bgp_edge2 is not with a route reflector (edge gateways peer with rr1, rr2 only)" in result["problems"]
    reflector = verify.check_host(plan, "rr1", {"protocols": "", "interfaces": []})
    assert "  route reflector: BGP and BFD with every gateway" in reflector["report"]


def test_diagram_marks_the_reflectors(plan_for):
    plan = plan_for(*fabric())
    dot = diagram.to_dot(plan)
    assert "(routed, route reflectors rr1, rr2)" in dot
    assert '"rr1" [shape=box, style="rounded,bold,filled", fillcolor="#dbe9f6", peripheries=2' in dot
    assert '"edge1" -- "edge2"' not in dot and '"rr1" -- "edge1" [style=bold' in dot
    md = diagram.to_mermaid(plan)
    assert "Route reflectors: rr1, rr2; the other gateways peer with them only." in md
    assert "route reflector" in md.split("n_rr1[", 1)[1].split("\n", 1)[0]
