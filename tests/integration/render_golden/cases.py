"""The inventories whose render.yml output is kept as golden files (see test_render_golden.py).

Each case is an inventory document; the hosts run on the local connection and
are never contacted. Together they cover what the templates branch on:
topology 3 as the article prints it, dual-stack and IPv6-only overlays, LAN
subnets behind devices and gateways, unmanaged clients, dual-homed devices,
keepalive, and per-host / group overrides of role defaults.
"""

import copy

NET = {"wgsdn_network": "10.0.0.0/24"}


def _inventory(gateways, devices, clients=None, all_vars=None):
    children = {"wgsdn_gateways": {"hosts": gateways}, "wgsdn_devices": {"hosts": devices}}
    if clients is not None:
        children["wgsdn_clients"] = {"hosts": clients}
    return {"all": {"vars": {"ansible_connection": "local", **(all_vars or {})}, "children": children}}


def _topology3(**net):
    return (
        {"gateway1": {"wgsdn_address": "10.0.0.2"}, "gateway2": {"wgsdn_address": "10.0.0.5"}},
        {
            "device1": {"wgsdn_address": "10.0.0.1", "wgsdn_uplinks": ["gateway1"]},
            "device2": {"wgsdn_address": "10.0.0.3", "wgsdn_uplinks": ["gateway1"]},
            "device3": {"wgsdn_address": "10.0.0.4", "wgsdn_uplinks": ["gateway2"]},
            "device4": {"wgsdn_address": "10.0.0.6", "wgsdn_uplinks": ["gateway2"]},
        },
    )


def _without_v4(hosts):
    return {name: {k: v for k, v in values.items() if k != "wgsdn_address"} for name, values in hosts.items()}


def cases():
    """{case name: inventory document}."""
    gateways, devices = _topology3()
    result = {"topology3": _inventory(gateways, devices, all_vars=NET)}

    dual_g, dual_d = copy.deepcopy((gateways, devices))
    dual_d["device4"]["wgsdn_uplinks"] = ["gateway2", "gateway1"]
    dual_d["device3"]["wgsdn_subnets"] = ["fd00:3::/64", "192.168.3.0/24"]
    result["dualstack"] = _inventory(dual_g, dual_d, all_vars=dict(NET, wgsdn_network6="fd00:10::/64"))

    v6_g, v6_d = _without_v4(dual_g), _without_v4(dual_d)
    v6_g["gateway1"]["wgsdn_address6"] = "fd00:10::2"
    v6_d["device3"]["wgsdn_subnets"] = ["fd00:3::/64"]
    result["ipv6only"] = _inventory(v6_g, v6_d, all_vars={"wgsdn_network6": "fd00:10::/64"})

    # Three gateways, dual-homed devices, LANs behind a device and a gateway, keepalive, a
    # device that listens, and role defaults overridden per host and per group.
    result["dualhomed_lans"] = _inventory(
        {
            "gw1": {
                "wgsdn_address": "10.1.0.1",
                "wgsdn_endpoint": "gw1.example.net",
                "bfd_interface_timers": {"wg-gw2": {"min_rx_interval": 200, "multiplier": 3}},
            },
            "gw2": {"wgsdn_address": "10.1.0.2", "wgsdn_listen_port": 51999, "wgsdn_subnets": ["192.168.20.0/24"], "bird_kernel_metric": 40},
            "gw3": {"ansible_host": "198.51.100.3", "bird_extra_config": "# site-specific\nprotocol static extra { ipv4; }\n"},
        },
        {
            "dev1": {"wgsdn_uplinks": ["gw1", "gw2"], "wgsdn_persistent_keepalive": 25, "wgsdn_subnets": ["192.168.1.0/24"]},
            "dev2": {"wgsdn_uplinks": ["gw3"], "wgsdn_listen_port": 51821, "ansible_host": "203.0.113.2", "wireguard_mtu": 1380},
            "dev3": {"wgsdn_uplinks": ["gw2", "gw3"], "bird_device_bgp": False, "bfd_min_rx_interval": 300},
        },
        all_vars={"wgsdn_network": "10.1.0.0/24", "bfd_multiplier": 4},
    )

    # Unmanaged clients (phones, laptops) attached to a gateway, beside managed devices.
    result["clients"] = _inventory(
        {"gateway1": {"wgsdn_address": "10.0.0.1", "wgsdn_endpoint": "vpn.example.net"}, "gateway2": {"wgsdn_address": "10.0.0.2"}},
        {"device1": {"wgsdn_address": "10.0.0.11", "wgsdn_uplinks": ["gateway1"]}},
        clients={"phone": {"wgsdn_address": "10.0.0.21", "wgsdn_uplinks": ["gateway1"]}, "laptop": {"wgsdn_uplinks": ["gateway2"]}},
        all_vars=NET,
    )

    # No gateways: devices peer directly (no routing daemon at all).
    result["mesh"] = _inventory(
        {}, {"a": {"wgsdn_listen_port": 51820}, "b": {"wgsdn_listen_port": 51820, "wgsdn_persistent_keepalive": 15}, "c": {}}, all_vars=NET
    )
    return result
