"""Address families are data: IPv6 flows from the inventory through the plan into every template.

No template or plan function spells a family out: the dual-stack overlay below
gets a BIRD channel, kernel and static protocols, filters, sessions, wg-quick
addresses and PostUp lines for IPv6 from ``family.IPV6``'s data alone, while
IPv4 keeps its names.
"""

import pathlib

import jinja2
import pytest
import yaml

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import topology
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile
from ansible_collections.wgsdn.fabric.tests.unit.topologies import article_topology

ROOT = pathlib.Path(__file__).resolve().parents[4]


@pytest.fixture
def plan(tmp_path):
    gateways, devices, hostvars = article_topology(3)
    for values in hostvars.values():
        values["wgsdn_network6"] = "fd00:10::/64"
    hostvars["gateway2"]["wgsdn_address6"] = "fd00:10::5"
    hostvars["device3"]["wgsdn_subnets"] = ["192.168.3.0/24", "fd00:3::/64"]
    return compute_plan(gateways, devices, hostvars, StateFile(str(tmp_path / "s.json")))


def render(role, template, **variables):
    """Render a role template as Ansible's template module would (trim_blocks), with the role defaults."""
    templates = ROOT / "roles" / role / "templates"
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)), trim_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    defaults = yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text())
    return env.get_template(template).render(**defaults, ansible_managed="managed", **variables)


def test_plan_carries_both_families(plan):
    assert [f["name"] for f in plan["families"]] == ["ipv4", "ipv6"]
    assert plan["hosts"]["gateway2"]["addresses"] == {"ipv4": "10.0.0.5", "ipv6": "fd00:10::5"}
    addresses = [h["addresses"]["ipv6"] for h in plan["hosts"].values()]
    assert len(set(addresses)) == len(addresses)
    assert topology.allowed_ips(plan, "gateway2", "device3") == [
        "10.0.0.4/32",
        plan["hosts"]["device3"]["addresses"]["ipv6"] + "/128",
        "192.168.3.0/24",
        "fd00:3::/64",
    ]
    assert topology.allowed_ips(plan, "device1", "gateway1") == ["10.0.0.0/24", "192.168.3.0/24", "fd00:3::/64", "fd00:10::/64"]


def test_bird_conf_gets_a_channel_per_family(plan):
    settings = topology.bird_settings(plan, "gateway2")
    text = render("bird", "bird.conf.j2", _bird_settings=settings, inventory_hostname="gateway2")
    for fragment in (
        "protocol kernel wgsdn_kernel6 {\n\tipv6 {",
        "krt_prefsrc = fd00:10::5;",
        # IPv6 connected routes have metric 256: BIRD's rank below them, so a link neighbour is reached over its link.
        "metric 1056;",
        "if net.ip = gw then reject;",
        "protocol static wgsdn_own6 {\n\tipv6;\n\troute fd00:10::5/128 blackhole;",
        "route fd00:3::/64 via " + plan["hosts"]["device3"]["addresses"]["ipv6"] + " bfd;",
        "filter wgsdn_bgp_import6\n{\n\tif net.type != NET_IP6 then reject;",
        "\tipv6 {\n\t\timport filter wgsdn_bgp_import6;\n\t\texport filter wgsdn_bgp_export6;\n\t};",
    ):
        assert fragment in text, fragment
    # The first family keeps today's names.
    assert "protocol kernel wgsdn_kernel {\n\tipv4 {" in text and "filter wgsdn_bgp_import\n{" in text
    device = render("bird", "bird.conf.j2", _bird_settings=topology.bird_settings(plan, "device1"), inventory_hostname="device1")
    assert "filter wgsdn_uplink_import6\n{\n\tif net.type != NET_IP6 then reject;" in device
    assert "fd00:10::/64{128,128}, fd00:3::/64" in device


def test_wg_quick_gets_addresses_of_every_family(plan):
    interfaces = {i["name"]: i for i in topology.wg_interfaces(plan, "gateway2")}
    access = render("wireguard", "wg-quick.conf.j2", _wireguard_if=interfaces["wg0"], _wireguard_redact=True, inventory_hostname="gateway2")
    assert "Address = 10.0.0.5/24, fd00:10::5/64\n" in access
    link = render("wireguard", "wg-quick.conf.j2", _wireguard_if=interfaces["wg-gateway1"], _wireguard_redact=True, inventory_hostname="gateway2")
    assert "PostUp = ip -4 address add 10.0.0.5 peer 10.0.0.2 dev %i\n" in link
    gateway1 = plan["hosts"]["gateway1"]["addresses"]["ipv6"]
    assert f"PostUp = ip -6 address add fd00:10::5 peer {gateway1} dev %i\n" in link


def test_a_clients_exported_config_holds_both_addresses(tmp_path):
    gateways, devices, hostvars = article_topology(3)
    hostvars["phone"] = {"wgsdn_network": "10.0.0.0/24", "wgsdn_uplinks": ["gateway1"]}
    for values in hostvars.values():
        values["wgsdn_network6"] = "fd00:10::/64"
    plan = compute_plan(gateways, devices, hostvars, StateFile(str(tmp_path / "s.json")), clients=["phone"])
    phone = plan["hosts"]["phone"]["addresses"]
    (interface,) = topology.wg_interfaces(plan, "phone")
    text = render("wireguard", "wg-client.conf.j2", _wireguard_if=interface, _wireguard_client="phone")
    assert f"Address = {phone['ipv4']}/32, {phone['ipv6']}/128\n" in text
    assert "AllowedIPs = 10.0.0.0/24, fd00:10::/64\n" in text
