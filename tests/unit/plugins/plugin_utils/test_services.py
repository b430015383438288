"""Anycast services (plugin_utils.services): parsing, bad input, and their routes, filters and AllowedIPs."""

import copy

import pytest

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import services, topology, verify
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile
from ansible_collections.wgsdn.fabric.tests.unit.plugins.plugin_utils.test_family import render
from ansible_collections.wgsdn.fabric.tests.unit.topologies import article_topology

ECHO = {"name": "echo", "address": "10.0.0.53", "check": "tcp:8053"}


def topology3(**extra):
    """The article's topology 3 with extra host variables: ``extra[host] = {var: value}``."""
    gateways, devices, hostvars = article_topology(3)
    hostvars = copy.deepcopy(hostvars)
    for name, values in extra.items():
        hostvars[name].update(values)
    return gateways, devices, hostvars


def plan_of(state_path, gateways, devices, hostvars):
    return compute_plan(gateways, devices, hostvars, StateFile(str(state_path)))


@pytest.fixture
def anycast(state_path):
    """echo (10.0.0.53) on device2 (behind gateway1) and device4 (behind gateway2)."""
    return plan_of(state_path, *topology3(device2={"wgsdn_services": [ECHO]}, device4={"wgsdn_services": [ECHO]}))


@pytest.mark.parametrize(
    "check, parsed",
    [
        (None, None),
        ("tcp:53", {"type": "tcp", "port": 53}),
        ("http://127.0.0.1:8080/health", {"type": "http", "url": "http://127.0.0.1:8080/health"}),
        ("https://localhost/", {"type": "http", "url": "https://localhost/"}),
        ("pgrep -x unbound", {"type": "command", "command": "pgrep -x unbound"}),
    ],
)
def test_checks_parse(check, parsed):
    assert services.parse_check(check, "h", "svc") == parsed


def test_anycast_plan(anycast):
    assert services.providers(anycast) == {"echo": {"address": "10.0.0.53", "prefix": "10.0.0.53/32", "providers": ["device2", "device4"]}}
    # Each gateway may originate the service for its attached provider; the other gateways check that.
    origins = {o["gateway"]: o["prefixes"] for o in topology.route_origins(anycast)}
    assert "10.0.0.53/32" in origins["gateway1"] and "10.0.0.53/32" in origins["gateway2"]
    # The provider's announcement: a disabled static protocol, exported on its uplink.
    device2 = topology.bird_settings(anycast, "device2")["channels"][0]
    assert [s["protocol"] for s in device2["services"]] == ["wgsdn_svc_echo"]
    # gateway1 accepts the service prefix only from device2.
    gateway1 = topology.bird_settings(anycast, "gateway1")["channels"][0]
    assert gateway1["service_import"] == [{"prefix": "10.0.0.53/32", "from": "10.0.0.3", "device": "device2"}]
    assert gateway1["services"] == []
    # WireGuard lets device2 send from and receive for the service address.
    assert topology.allowed_ips(anycast, "gateway1", "device2") == ["10.0.0.3/32", "10.0.0.53/32"]
    assert topology.allowed_ips(anycast, "gateway1", "device1") == ["10.0.0.1/32"]


def test_service_address_is_never_allocated(state_path):
    gateways, devices, hostvars = topology3(device2={"wgsdn_services": [{"name": "dns", "address": "10.0.0.7"}]})
    hostvars["device5"] = {"wgsdn_network": "10.0.0.0/24", "wgsdn_uplinks": ["gateway1"]}
    plan = plan_of(state_path, gateways, [*devices, "device5"], hostvars)
    assert plan["hosts"]["device5"]["address"] == "10.0.0.8"


def test_service_outside_the_overlay_is_routed(state_path):
    plan = plan_of(state_path, *topology3(device2={"wgsdn_services": [{"name": "dns", "address": "192.168.53.53"}]}))
    assert "192.168.53.53/32" in topology.allowed_ips(plan, "device1", "gateway1")
    assert "192.168.53.53/32" in topology.bird_settings(plan, "device1")["channels"][0]["uplink_accept"]


def render_bird(plan, host):
    return render("bird", "bird.conf.j2", _bird_settings=topology.bird_settings(plan, host), inventory_hostname=host, wgsdn_plan=plan)


def test_templates_write_the_service_filters(anycast):
    gateway1 = render_bird(anycast, "gateway1")
    assert "if net = 10.0.0.53/32 && from = 10.0.0.3 then { bgp_path.delete(4294967294); accept; }" in gateway1
    assert "import filter wgsdn_device_import;" in gateway1
    device2 = render_bird(anycast, "device2")
    assert "protocol static wgsdn_svc_echo {\n\tdisabled;" in device2
    assert "export filter wgsdn_service_export;" in device2
    assert 'if proto ~ "wgsdn_svc_*" then reject;' in device2  # announced, never installed


BAD = [
    # (extra host variables, host, message fragment)
    ({"device2": {"wgsdn_services": [{"name": "x", "address": "10.0.0.4"}]}}, "device2", "collides with the overlay address of host 'device3'"),
    ({"device2": {"wgsdn_services": [{"name": "x", "address": "10.0.0.53", "check": "tcp:99999"}]}}, "device2", "malformed: tcp:PORT needs a port 1-65535"),
    ({"device2": {"wgsdn_services": [{"name": "x", "address": "10.0.0.53", "check": "tcp:"}]}}, "device2", "malformed: tcp:PORT"),
    ({"device2": {"wgsdn_services": [{"name": "x", "address": "10.0.0.53", "check": "http://"}]}}, "device2", "malformed: give a full URL"),
    ({"device2": {"wgsdn_services": [{"name": "x", "address": "10.0.0.53", "check": ""}]}}, "device2", "is not tcp:PORT, an http(s):// URL or a command"),
    ({"device2": {"wgsdn_services": [{"name": "x", "address": "10.0.0.53", "check": "a\nb"}]}}, "device2", "must be one line"),
    ({"device2": {"wgsdn_services": [{"name": "x", "address": "10.0.0.500"}]}}, "device2", "address '10.0.0.500' is not an IP address"),
    ({"device2": {"wgsdn_services": [{"name": "Bad Name", "address": "10.0.0.53"}]}}, "device2", "name 'Bad Name' must be"),
    ({"device2": {"wgsdn_services": [{"name": "x", "address": "10.0.0.53", "port": 1}]}}, "device2", "unknown field(s) 'port'"),
    ({"device2": {"wgsdn_services": "10.0.0.53"}}, "device2", "must be a list"),
    ({"device2": {"wgsdn_services": [{"name": "x", "address": "fd00::53"}]}}, "device2", "the overlay carries no IPv6"),
    ({"device2": {"wgsdn_services": [{"name": "x", "address": "10.0.0.255"}]}}, "device2", "network or broadcast address"),
    (
        {"device1": {"wgsdn_services": [ECHO]}, "device2": {"wgsdn_services": [ECHO]}},
        "device2",
        "also provided by 'device1', attached to the same gateway 'gateway1'",
    ),
    (
        {"device2": {"wgsdn_services": [ECHO]}, "device4": {"wgsdn_services": [dict(ECHO, name="other")]}},
        "device4",
        "10.0.0.53 is service 'echo' on host 'device2'",
    ),
    (
        {"device2": {"wgsdn_services": [ECHO]}, "device4": {"wgsdn_services": [dict(ECHO, address="10.0.0.54")]}},
        "device4",
        "service 'echo' is 10.0.0.53 on host 'device2'",
    ),
    ({"device2": {"wgsdn_services": [ECHO, ECHO]}}, "device2", "listed twice"),
]


@pytest.mark.parametrize("extra, host, fragment", BAD)
def test_bad_services_are_refused(state_path, extra, host, fragment):
    with pytest.raises(PlanError) as error:
        plan_of(state_path, *topology3(**extra))
    assert error.value.host == host and error.value.variable == "wgsdn_services"
    assert fragment in str(error.value)
    assert not state_path.exists()


@pytest.mark.parametrize("number", [1, 2])
def test_services_need_bgp(state_path, number):
    """Direct and hub mode run no routing daemon: services are refused with the reason."""
    gateways, devices, hostvars = article_topology(number)
    hostvars = copy.deepcopy(hostvars)
    hostvars["device1"]["wgsdn_services"] = [ECHO]
    with pytest.raises(
        PlanError, match=r"host 'device1', variable 'wgsdn_services': services are announced over BGP, and this overlay is in (direct|hub) mode"
    ):
        plan_of(state_path, gateways, devices, hostvars)


def test_service_on_an_address_the_state_already_gave_a_host(state_path):
    gateways, devices, hostvars = topology3()
    hostvars["device5"] = {"wgsdn_network": "10.0.0.0/24", "wgsdn_uplinks": ["gateway1"]}
    plan_of(state_path, gateways, [*devices, "device5"], hostvars)  # device5 gets 10.0.0.7
    hostvars["device2"]["wgsdn_services"] = [{"name": "x", "address": "10.0.0.7"}]
    with pytest.raises(PlanError, match=r"service 'x': 10\.0\.0\.7 collides with the overlay address of host 'device5'"):
        plan_of(state_path, gateways, [*devices, "device5"], hostvars)


def test_verify_reports_the_preferred_provider(anycast):
    routes = "10.0.0.53 via 10.0.0.3 dev wg0 proto bird metric 32 \n10.0.0.1 via 10.0.0.1 dev wg0 proto bird metric 32 \n"
    assert services.verify_lines(anycast, "gateway1", [routes], {}) == ["  service echo 10.0.0.53: providers device2, device4; preferred via device2"]
    ecmp = "10.0.0.53 proto bird metric 32 \n\tnexthop via 10.0.0.2 dev wg-gateway1 weight 1 \n\tnexthop via 10.0.0.5 dev wg-gateway2 weight 1 \n"
    assert services.verify_lines(anycast, "device1", ecmp, {})[0].endswith("preferred via gateway1, gateway2")
    assert services.verify_lines(anycast, "device1", "", {})[0].endswith("preferred via none (withdrawn everywhere)")
    assert services.verify_lines(anycast, "device2", "", {"wgsdn_svc_echo": ("down", "")})[0].endswith("this host: check failing, withdrawn")
    # A withdrawn service is a state, not a fault: no host requires its route.
    assert "10.0.0.53/32" not in verify.expected_kernel_routes(anycast, "gateway1")
