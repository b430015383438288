"""External BGP peers of gateways (plugin_utils.peers): parsing, bad input, filters, routes and the password's path."""

import pytest

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import diagram, peers, topology, verify
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile
from ansible_collections.wgsdn.fabric.tests.unit.plugins.plugin_utils.test_family import render
from ansible_collections.wgsdn.fabric.tests.unit.plugins.plugin_utils.test_services import plan_of, topology3
from ansible_collections.wgsdn.fabric.tests.unit.topologies import article_topology

OFFICE = {
    "name": "office-core",
    "address": "192.0.2.1",
    "asn": 65010,
    "import": ["192.168.77.0/24"],
    "export": "overlay",
    "bfd": True,
    "password": "md5-secret",
}


@pytest.fixture
def office(state_path):
    return plan_of(state_path, *topology3(gateway1={"wgsdn_bgp_peers": [OFFICE]}))


def test_peer_plan(office):
    (peer,) = office["hosts"]["gateway1"]["bgp_peers"]
    assert peer["protocol"] == "ext_office_core" and peer["password_symbol"] == "wgsdn_password_office_core"
    settings = topology.bird_settings(office, "gateway1")
    # The settings (a fact Ansible may print) never carry the password.
    assert "md5-secret" not in repr(settings)
    assert settings["secrets"] is True and topology.bird_settings(office, "gateway2")["secrets"] is False
    assert peers.secrets(office, "gateway1") == [{"symbol": "wgsdn_password_office_core", "password": "md5-secret"}]
    channel = settings["channels"][0]
    assert channel["external"] == ["192.168.77.0/24+"]
    assert channel["external_origins"] == [{"asn": office["hosts"]["gateway1"]["asn"], "peer_asn": 65010, "prefixes": ["192.168.77.0/24"]}]


def test_learned_prefixes_reach_the_devices(office):
    # Devices behind either gateway route the external LAN into the overlay and accept it from their gateway.
    assert topology.allowed_ips(office, "device3", "gateway2") == ["10.0.0.0/24", "192.168.77.0/24"]
    assert topology.allowed_ips(office, "gateway2", "gateway1") == ["10.0.0.0/24", "192.168.77.0/24"]
    assert "192.168.77.0/24+" in topology.bird_settings(office, "device3")["channels"][0]["uplink_accept"]
    # Without device BGP, the static routes through the uplinks include it.
    assert "192.168.77.0/24" in [r["prefix"] for r in topology.static_routes(office, "device3")]


def test_templates(office):
    gateway1 = render("bird", "bird.conf.j2", _bird_settings=topology.bird_settings(office, "gateway1"), inventory_hostname="gateway1", wgsdn_plan=office)
    assert "md5-secret" not in gateway1
    assert "\tpassword wgsdn_password_office_core;" in gateway1 and "\tbfd on;" in gateway1
    assert "\tif net ~ [ 192.168.77.0/24+ ] then accept;" in gateway1
    gateway2 = render("bird", "bird.conf.j2", _bird_settings=topology.bird_settings(office, "gateway2"), inventory_hostname="gateway2", wgsdn_plan=office)
    asn = office["hosts"]["gateway1"]["asn"]
    assert f"if net ~ [ 192.168.77.0/24+ ] && bgp_path ~ [= * {asn} 65010 * =] then return true;" in gateway2
    assert "protocol bgp ext_" not in gateway2
    secrets = render("bird", "wgsdn-secrets.conf.j2", inventory_hostname="gateway1", wgsdn_plan=office)
    assert 'define wgsdn_password_office_core = "md5-secret";' in secrets


def test_export_list_and_no_password(state_path):
    peer = dict(OFFICE, export=["10.0.0.0/25"], bfd=False)
    del peer["password"]
    plan = plan_of(state_path, *topology3(gateway1={"wgsdn_bgp_peers": [peer]}))
    text = render("bird", "bird.conf.j2", _bird_settings=topology.bird_settings(plan, "gateway1"), inventory_hostname="gateway1", wgsdn_plan=plan)
    # A list is the aggregates to announce, and nothing inside them without export_host_routes.
    assert "\tif net ~ [ 10.0.0.0/25 ] then return true;\n\treturn false;" in text
    assert "route 10.0.0.0/25 blackhole;" in text
    assert "password" not in text.split("protocol bgp ext_office_core")[1]
    assert topology.bird_settings(plan, "gateway1")["secrets"] is False


def _ext(plan, host="gateway1"):
    (channel,) = topology.bird_settings(plan, host)["channels"]
    return channel


def test_the_overlay_goes_out_as_aggregates(state_path):
    """export: overlay announces the overlay prefix and the LANs summarised, the services outside them while they are
    announced, from a static protocol no gateway, device or kernel gets; host routes only when the peer asks."""
    lans = {"device2": {"wgsdn_subnets": ["10.0.1.0/24", "192.168.2.0/24"]}, "device3": {"wgsdn_subnets": ["192.168.3.0/24"]}}
    echo = {"wgsdn_services": [{"name": "echo", "address": "10.53.0.1"}, {"name": "inside", "address": "10.0.0.53"}]}
    plan = plan_of(state_path, *topology3(gateway1={"wgsdn_bgp_peers": [OFFICE]}, device4=echo, **lans))
    channel = _ext(plan)
    (view,) = channel["bgp_peers"]
    assert view["aggregates"] == ["10.0.0.0/23", "192.168.2.0/23"] == channel["aggregates"]
    assert view["services"] == ["10.53.0.1/32"] and view["export_host_routes"] is False
    assert _ext(plan, "gateway2")["aggregates"] == [], "a gateway without external peers originates no aggregate"
    text = render("bird", "bird.conf.j2", _bird_settings=topology.bird_settings(plan, "gateway1"), inventory_hostname="gateway1", wgsdn_plan=plan)
    static = text.split("protocol static wgsdn_aggregate {")[1].split("}\n}")[0]
    assert "preference 1;" in static and "route 10.0.0.0/23 blackhole;" in static and "route 192.168.2.0/23 blackhole;" in static
    # Never into the kernel, never to another gateway or a device.
    assert text.count('if proto = "wgsdn_aggregate" then reject;') == 2
    exportable = text.split("function wgsdn_ext_exportable_ext_office_core()")[1].split("}")[0]
    assert "if net ~ [ 10.0.0.0/23, 192.168.2.0/23 ] then return true;" in exportable
    assert "if net ~ [ 10.53.0.1/32 ] && (source = RTS_STATIC || source = RTS_BGP) then return true;" in exportable
    assert "wgsdn_routable()" not in exportable
    hosts = plan_of(state_path.with_name("hosts.json"), *topology3(gateway1={"wgsdn_bgp_peers": [dict(OFFICE, export_host_routes=True)]}))
    text = render("bird", "bird.conf.j2", _bird_settings=topology.bird_settings(hosts, "gateway1"), inventory_hostname="gateway1", wgsdn_plan=hosts)
    assert "if net ~ [ 10.0.0.0/24+ ] && wgsdn_routable() && (source = RTS_STATIC || source = RTS_BGP) then return true;" in text


def test_local_asn_communities_limit_and_private_asns(state_path):
    peer = dict(OFFICE, local_asn="64500", communities=["65010:100", "65010:100", "64500:1:2"], max_prefixes=20)
    plan = plan_of(state_path, *topology3(gateway1={"wgsdn_bgp_peers": [peer]}))
    (view,) = _ext(plan)["bgp_peers"]
    assert (view["local_asn"], view["max_prefixes"]) == (64500, 20)
    assert view["communities"] == {"standard": [[65010, 100]], "large": [[64500, 1, 2]]}
    text = render("bird", "bird.conf.j2", _bird_settings=topology.bird_settings(plan, "gateway1"), inventory_hostname="gateway1", wgsdn_plan=plan)
    session = text.split("protocol bgp ext_office_core {")[1]
    assert "\tlocal as 64500;\n\tneighbor 192.0.2.1 as 65010;" in session
    assert "\t\timport keep filtered on;\n\t\treceive limit 20 action disable;" in session
    export = text.split("filter wgsdn_ext_export_ext_office_core")[1].split("}")[0]
    assert "bgp_path.delete([4200000000..4294967294]);" in export
    assert "bgp_community.add((65010, 100));" in export and "bgp_large_community.add((64500, 1, 2));" in export
    # Routes carrying graceful shutdown get the lowest preference, from the peer as from anyone.
    assert "wgsdn_gshut();\n\tif net ~ [ 192.168.77.0/24+ ] then accept;" in text
    assert "if (65535, 0) ~ bgp_community then {\n\t\tbgp_local_pref = 0;" in text


@pytest.mark.parametrize("imports, limit", [(1, 1000), (499, 1000), (800, 1600)])
def test_default_prefix_limit(state_path, imports, limit):
    prefixes = [f"172.{16 + i // 256}.{i % 256}.0/24" for i in range(imports)]
    plan = plan_of(state_path, *topology3(gateway1={"wgsdn_bgp_peers": [dict(OFFICE, **{"import": prefixes})]}))
    assert plan["hosts"]["gateway1"]["bgp_peers"][0]["max_prefixes"] == limit
    assert plan["hosts"]["gateway1"]["bgp_peers"][0]["local_asn"] is None
    assert _ext(plan)["bgp_peers"][0]["local_asn"] == plan["hosts"]["gateway1"]["asn"], "default: the gateway's own AS number"


def peer(**changes):
    return {"wgsdn_bgp_peers": [dict(OFFICE, **changes)]}


BAD = [
    # (extra host variables, host, message fragment)
    ({"gateway1": peer(address="10.0.0.200")}, "gateway1", "address 10.0.0.200 lies inside the overlay (wgsdn_network 10.0.0.0/24)"),
    ({"gateway1": peer(asn=0)}, "gateway1", "asn 0 is not a valid AS number"),
    ({"gateway1": peer(asn="x")}, "gateway1", "asn 'x' is not a valid AS number"),
    ({"gateway1": peer(asn=4294967296)}, "gateway1", "is not a valid AS number"),
    ({"gateway1": peer(asn=23456)}, "gateway1", "asn 23456 is not a valid AS number"),
    ({"gateway1": peer(asn=4294967294)}, "gateway1", "the private AS number wgsdn devices use"),
    ({"gateway1": peer(asn=4200000002)}, "gateway1", "asn 4200000002 is the AS number of gateway 'gateway2'"),
    ({"gateway1": peer(**{"import": ["10.0.0.0/16"]})}, "gateway1", "import 10.0.0.0/16 would accept the overlay's own prefixes (wgsdn_network 10.0.0.0/24)"),
    ({"gateway1": peer(**{"import": ["0.0.0.0/0"]})}, "gateway1", "import 0.0.0.0/0 would accept the overlay's own prefixes"),
    (
        {"gateway1": peer(**{"import": ["192.168.0.0/16"]}), "device3": {"wgsdn_subnets": ["192.168.3.0/24"]}},
        "gateway1",
        "would accept the overlay's own prefixes (subnet 192.168.3.0/24 of host 'device3')",
    ),
    ({"gateway1": peer(**{"import": ["192.168.77.0/33"]})}, "gateway1", "not a valid IPv4 CIDR prefix"),
    ({"gateway1": peer(password="")}, "gateway1", "password is empty"),
    ({"gateway1": peer(password=None)}, "gateway1", "password is empty"),
    ({"gateway1": peer(password='bad"quote')}, "gateway1", "password is malformed"),
    ({"gateway1": peer(password="x" * 81)}, "gateway1", "password is malformed"),
    ({"gateway1": peer(password=1234)}, "gateway1", "password must be a string"),
    ({"gateway1": peer(bfd="yes")}, "gateway1", "bfd 'yes' must be true or false"),
    ({"gateway1": peer(export="everything")}, "gateway1", "export 'everything' must be 'overlay' or a list of prefixes"),
    ({"gateway1": peer(address="office")}, "gateway1", "address 'office' is not an IP address"),
    ({"gateway1": peer(colour="red")}, "gateway1", "unknown field(s) 'colour'"),
    ({"gateway1": peer(local_asn=4294967296)}, "gateway1", "peer 'office-core': local_asn 4294967296 is not a valid AS number"),
    ({"gateway1": peer(local_asn="sixty")}, "gateway1", "local_asn 'sixty' is not a valid AS number"),
    ({"gateway1": peer(local_asn=65010)}, "gateway1", "local_asn 65010 is the peer's own asn: that would be an iBGP session"),
    ({"gateway1": peer(local_asn=4200000002)}, "gateway1", "local_asn 4200000002 is the AS number of gateway 'gateway2'"),
    ({"gateway1": peer(max_prefixes=0)}, "gateway1", "max_prefixes 0 is not a positive integer"),
    ({"gateway1": peer(max_prefixes=-5)}, "gateway1", "max_prefixes -5 is not a positive integer"),
    ({"gateway1": peer(max_prefixes="lots")}, "gateway1", "max_prefixes 'lots' is not a positive integer"),
    ({"gateway1": peer(max_prefixes=True)}, "gateway1", "max_prefixes True is not a positive integer"),
    ({"gateway1": peer(max_prefixes=2.5)}, "gateway1", "max_prefixes 2.5 is not a positive integer"),
    ({"gateway1": peer(communities=["65010:x"])}, "gateway1", "communities: '65010:x' is not a community (A:B, each 0-65535"),
    ({"gateway1": peer(communities=["65536:1"])}, "gateway1", "communities: '65536:1' is not a community"),
    ({"gateway1": peer(communities=["1:2:3:4"])}, "gateway1", "communities: '1:2:3:4' is not a community"),
    ({"gateway1": peer(communities=["1:2:4294967296"])}, "gateway1", "communities: '1:2:4294967296' is not a community"),
    ({"gateway1": peer(communities=[[65010, 100]])}, "gateway1", "communities: [65010, 100] is not a community"),
    ({"gateway1": peer(communities={"a": 1})}, "gateway1", "communities {'a': 1} must be a list of A:B or A:B:C"),
    ({"gateway1": peer(export_host_routes="yes")}, "gateway1", "export_host_routes 'yes' must be true or false"),
    ({"gateway1": peer(export=["10.0.0.0/16"])}, "gateway1", "export 10.0.0.0/16 does not cover only the overlay: 10.0.1.0/24 is neither"),
    ({"gateway1": peer(export=["192.168.9.0/24"])}, "gateway1", "export 192.168.9.0/24 does not cover only the overlay: 192.168.9.0/24 is neither"),
    ({"device1": peer()}, "device1", "only gateways (wgsdn_gateways) speak BGP"),
    ({"gateway1": {"wgsdn_bgp_peers": [OFFICE, OFFICE]}}, "gateway1", "peer 'office-core' is listed twice"),
]


@pytest.mark.parametrize("extra, host, fragment", BAD)
def test_bad_peers_are_refused(state_path, extra, host, fragment):
    with pytest.raises(PlanError) as error:
        plan_of(state_path, *topology3(**extra))
    assert error.value.host == host and error.value.variable == "wgsdn_bgp_peers"
    assert fragment in str(error.value)
    assert "md5-secret" not in str(error.value) and 'bad"quote' not in str(error.value)


def test_peers_need_bgp(state_path):
    gateways, devices, hostvars = article_topology(2)
    hostvars["device2"]["wgsdn_bgp_peers"] = [OFFICE]
    with pytest.raises(
        PlanError, match="host 'device2', variable 'wgsdn_bgp_peers': external peers need BIRD on the gateways, and this overlay is in hub mode"
    ):
        plan_of(state_path, gateways, devices, hostvars)


def test_diagram_shows_peers_and_services(state_path):
    plan = plan_of(state_path, *topology3(gateway1={"wgsdn_bgp_peers": [OFFICE]}, device2={"wgsdn_services": [{"name": "echo", "address": "10.0.0.53"}]}))
    dot = diagram.render(plan, "dot")
    assert '"gateway1" -- "ext gateway1 office-core" [style=dashed, color="#a86a1f", label="eBGP + BFD + MD5"];' in dot
    assert "office-core\\n192.0.2.1\\nAS65010\\n192.168.77.0/24" in dot
    assert "service echo 10.0.0.53" in dot
    mermaid = diagram.render(plan, "mermaid")
    assert "n_gateway1 -.-|eBGP + BFD + MD5| n_ext_gateway1_office_core" in mermaid


def test_verify_reports_external_sessions(office):
    shown = (
        "BIRD 2.0.12 ready.\nName       Proto      Table      State  Since         Info\n"
        "ext_office_core BGP   ---        up     13:50:00.123  Established\n"
        "  BGP state:          Established\n    Routes:         1 imported, 9 exported, 1 preferred\n"
    )
    report, problems = peers.verify_lines(office, "gateway1", [shown])
    assert report == ["  external BGP ext_office_core (office-core 192.0.2.1, AS 65010): Established, 1 prefixes imported, 9 exported"] and problems == []
    report, problems = peers.verify_lines(office, "gateway1", ["  BGP state:          Active\n"])
    assert problems == ["external BGP ext_office_core with office-core 192.0.2.1 (AS 65010) is Active"]
    limited = (
        "ext_office_core BGP        ---        down   19:46:03.827  Automatic shutdown: Route limit exceeded\n"
        "  BGP state:          Down\n    Last error:       Automatic shutdown: Route limit exceeded\n"
        "    Receive limit:  1000 [HIT]\n"
    )
    _report, problems = peers.verify_lines(office, "gateway1", [limited])
    assert problems == [
        "external BGP ext_office_core with office-core 192.0.2.1 (AS 65010) is Down: it sent more than max_prefixes 1000 routes "
        "(fix the peer, then birdc enable ext_office_core or run site.yml)"
    ]
    assert verify.probes(office, "gateway1")["external"] == ["birdc show protocols all ext_office_core"]
    assert verify.probes(office, "gateway2")["external"] == []


def test_underlay_ports_of_a_gateway_name_every_flow_and_its_other_end(state_path):
    """What render.yml writes as underlay-ports.txt: WireGuard in and out per link, the external peer's BGP and BFD."""
    transit = {"name": "transit", "address": "198.51.100.1", "asn": 65020, "import": ["203.0.113.0/24"], "bfd": True, "multihop": 2}
    gateways, devices, hostvars = topology3(
        gateway1={"wgsdn_bgp_peers": [OFFICE, transit], "ansible_host": "192.0.2.2"}, gateway2={"ansible_host": "192.0.2.5"}
    )
    plan = plan_of(state_path, gateways, devices, hostvars)
    rows = topology.underlay_ports(plan, "gateway1")
    line = {(r["direction"], r["protocol"], r["port"], r["address"], r["purpose"]) for r in rows}
    assert line == {
        # Devices only dial out: the plan knows no underlay address of theirs, so any source.
        ("in", "udp", 51820, None, "WireGuard wg0 with device1"),
        ("in", "udp", 51820, None, "WireGuard wg0 with device2"),
        # gateway1 listens on 51820 + gateway2's number for that link, and dials gateway2 on 51820 + its own.
        ("in", "udp", 51822, "192.0.2.5", "WireGuard wg-gateway2 with gateway2"),
        ("out", "udp", 51821, "192.0.2.5", "WireGuard wg-gateway2 with gateway2"),
        ("both", "tcp", 179, "192.0.2.1", "BGP office-core (TCP MD5)"),
        ("both", "udp", 3784, "192.0.2.1", "BFD office-core"),
        ("both", "tcp", 179, "198.51.100.1", "BGP transit"),
        ("both", "udp", 4784, "198.51.100.1", "BFD transit"),  # multihop BFD (RFC 5883)
    }
    # A device dials its gateway and listens nowhere.
    assert topology.underlay_ports(plan, "device3") == [
        {"direction": "out", "protocol": "udp", "port": 51820, "address": "192.0.2.5", "purpose": "WireGuard wg-gateway2 with gateway2"}
    ]
    # gateway2 sees gateway1's port scheme from the other side: the two ends agree.
    mirrored = {(r["direction"], r["port"], r["address"]) for r in topology.underlay_ports(plan, "gateway2") if "gateway1" in r["purpose"]}
    assert mirrored == {("in", 51821, "192.0.2.2"), ("out", 51822, "192.0.2.2")}


def test_underlay_ports_of_a_client_peer_are_open_to_any_source(tmp_path):
    """An unmanaged client has no endpoint: its gateway's port is open to wherever the phone is."""
    gateways, devices, hostvars = article_topology(3)
    hostvars["phone"] = {"wgsdn_network": "10.0.0.0/24", "wgsdn_uplinks": ["gateway1"]}
    plan = compute_plan(gateways, devices, hostvars, StateFile(str(tmp_path / "state.json")), clients=["phone"])
    phone = [r for r in topology.underlay_ports(plan, "gateway1") if r["purpose"].endswith("with phone")]
    assert phone == [{"direction": "in", "protocol": "udp", "port": 51820, "address": None, "purpose": "WireGuard wg0 with phone"}]
