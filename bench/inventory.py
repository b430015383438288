"""Synthetic overlays for benchmarks: G gateways in a full BGP mesh, devices spread over them.

Every tenth device is dual-homed and every fifth has a LAN subnet, so the plan
exercises multipath routes, subnets and preshared keys at scale.
"""

import sys

import yaml

# The overlay prefixes of each stack: IPv4 only (as before), dual-stack, IPv6 only.
STACKS = {
    "ipv4": {"wgsdn_network": "10.64.0.0/16"},
    "dual": {"wgsdn_network": "10.64.0.0/16", "wgsdn_network6": "fd00:64::/64"},
    "ipv6": {"wgsdn_network6": "fd00:64::/64"},
}


def synthetic(total, stack="ipv4"):
    """(gateways, devices, hostvars) with ``total`` hosts, about 1 gateway per 100 hosts.

    Every fifth device has a LAN: IPv4 in IPv4-only overlays, alternately IPv4 and IPv6 in dual-stack ones.
    """
    n_gateways = max(2, total // 100)
    gateways = [f"gw{i}" for i in range(n_gateways)]
    devices = [f"dev{i}" for i in range(total - n_gateways)]
    base = STACKS[stack]
    hostvars = {g: dict(base, ansible_host=f"{g}.example.net") for g in gateways}
    for index, name in enumerate(devices):
        uplinks = [gateways[index % n_gateways]]
        if index % 10 == 0:
            uplinks.append(gateways[(index + 1) % n_gateways])
        values = dict(base, wgsdn_uplinks=uplinks)
        if index % 5 == 0:
            ipv6 = stack == "ipv6" or (stack == "dual" and index % 10 == 5)
            values["wgsdn_subnets"] = [f"fd00:ff:{index:x}::/64" if ipv6 else f"172.{16 + index // 65536}.{index // 256 % 256}.{index % 256}/32"]
        hostvars[name] = values
    return gateways, devices, hostvars


def write_inventory(path, total, connection="local"):
    gateways, devices, hostvars = synthetic(total)
    inventory = {
        "all": {
            "vars": {"ansible_connection": connection, "ansible_python_interpreter": sys.executable},
            "children": {
                "wgsdn_gateways": {"hosts": {g: hostvars[g] for g in gateways}},
                "wgsdn_devices": {"hosts": {d: hostvars[d] for d in devices}},
            },
        }
    }
    with open(path, "w") as handle:
        yaml.safe_dump(inventory, handle)
