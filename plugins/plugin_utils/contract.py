# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory contract, described once: the groups and ``wgsdn_*`` variables users type.

The lookup reads exactly ``INPUT_VARIABLES`` from each host; the README's
inventory table and this description are kept in agreement by a unit test.
``shared`` variables describe the whole overlay: every host must see the same
value (set them as group variables), or the plan is refused.
"""

GATEWAYS_GROUP = "wgsdn_gateways"
DEVICES_GROUP = "wgsdn_devices"
CLIENTS_GROUP = "wgsdn_clients"
MONITORS_GROUP = "wgsdn_monitors"

GROUPS = {
    GATEWAYS_GROUP: "hosts that relay traffic and speak BGP",
    DEVICES_GROUP: "every other managed member of the overlay",
    CLIENTS_GROUP: "unmanaged peers (phones, laptops): allocated like other hosts, configs exported with a QR code, never connected to",
    MONITORS_GROUP: "members of the overlay allowed to scrape the exporters (under any `wgsdn_policy`); nobody else may",
}

# name -> (where, shared, meaning). ``where`` is how the README's table names it.
VARIABLES = {
    "wgsdn_network": ("group var", True, "the IPv4 overlay prefix, e.g. `10.0.0.0/24`"),
    "wgsdn_network6": (
        "group var",
        True,
        "the IPv6 overlay prefix, e.g. `fd00:10::/64` (ULA recommended); alone: an IPv6-only overlay, with `wgsdn_network`: dual-stack",
    ),
    "wgsdn_address": ("host var", False, "pin this host's overlay address (inside `wgsdn_network`)"),
    "wgsdn_address6": ("host var", False, "pin this host's IPv6 overlay address (inside `wgsdn_network6`)"),
    "wgsdn_endpoint": ("host var", False, "name or address others dial; default `ansible_host`, else the inventory name (for hosts that listen)"),
    "wgsdn_listen_port": ("host var", False, "UDP port; gateways listen on 51820 by default, devices only when set"),
    "wgsdn_uplinks": ("host var", False, "gateways a device attaches to; optional with exactly one gateway; two or more make it dual-homed"),
    "wgsdn_subnets": (
        "host var",
        False,
        "LAN prefixes reachable through this host (site-to-site); IPv4 and IPv6 may mix, each in a family the overlay carries",
    ),
    "wgsdn_persistent_keepalive": ("host var", False, "seconds, for hosts behind NAT (clients default to 25)"),
    "wgsdn_preshared_keys": ("group var", True, "one preshared key per pair of peers; default `true`"),
    "wgsdn_link_name": ("host var", False, "short name used in `wg-<name>` interface names (letters, digits, `-`, `_`, `.`; Linux allows 15 characters)"),
    "wgsdn_interface": ("group var", True, "name of the single/access interface; default `wg0`"),
    "wgsdn_services": (
        "host var",
        False,
        "`[{name, address, check, check_as_root}]`: addresses this host serves, announced over BGP while the check "
        "(`tcp:PORT`, `http(s)://URL` or a command, run unprivileged unless `check_as_root: true`) passes; "
        "the same address on several hosts is anycast (routed mode only)",
    ),
    "wgsdn_bgp_peers": (
        "gateway host var",
        False,
        "`[{name, address, asn, local_asn, import, export, export_host_routes, max_prefixes, communities, bfd, password}]`: "
        "routers outside the overlay this gateway speaks eBGP with over the underlay; "
        "import only the declared prefixes, at most `max_prefixes` routes (default 1000); "
        "export aggregates (`overlay`: the overlay prefixes and LANs summarised, or a prefix list), host routes only with `export_host_routes: true`; "
        "`local_asn` (default: the gateway's private ASN) and `communities` (`A:B`, `A:B:C`) as engineers set them (see External BGP peers)",
    ),
    "wgsdn_metrics": ("group var", True, "`true`: Prometheus exporters on every managed host, listening on its overlay address (role `wgsdn.fabric.metrics`)"),
    "wgsdn_route_reflector": (
        "host var",
        False,
        "`true` on a gateway: it reflects routes; the other gateways link and peer with the reflectors only (advised above 10 gateways)",
    ),
    "wgsdn_policy": (
        "group var",
        True,
        "segmentation: `{default: deny, rules: [{from: [...], to: [...], ports: [tcp/22, udp/N-M, icmp]}]}` (default `allow` or `deny`); "
        "from/to name inventory groups, hosts or prefixes; enforced with nftables (table `inet wgsdn`); absent: everyone reaches everyone",
    ),
}

# Read by the lookup itself (not by the plan): where the state lives, whether to prune it.
LOOKUP_VARIABLES = {
    "wgsdn_state_file": ("var", False, "where addresses and keys persist; default `.wgsdn-state.json` beside the inventory"),
    "wgsdn_state_prune": ("var", False, "`true` drops the state entries of hosts no longer in the inventory"),
    "wgsdn_state_backend": (
        "var",
        False,
        "where the state lives: `file` (default, `wgsdn_state_file`) or `postgresql` (`wgsdn_state_dsn`; needs a vault secret)",
    ),
    "wgsdn_state_dsn": (
        "var",
        False,
        "PostgreSQL connection string (`host=... dbname=... user=...` or a `postgresql://` URI); unset: the standard `PG*` environment variables",
    ),
    "wgsdn_state_lock_timeout": ("var", False, "seconds to wait for another run's lock of the state before failing clearly; default 300"),
}

SHARED_VARIABLES = tuple(name for name, (_where, shared, _meaning) in VARIABLES.items() if shared)

# The host variables the plan reads; nothing else of the inventory matters to it.
INPUT_VARIABLES = ("ansible_host", *VARIABLES)
