"""Hostile inventory strings: refused naming the host and the variable, or rendered where they cannot leave their field.

Hypothesis draws, for every inventory string that reaches a template, a unit or
a shell (host names, link and interface names, endpoints, service names and
checks, external peers' names, passwords and addresses), either a value a network
engineer uses or one built from the characters that end fields: newlines,
quotes, ';', '#', '=', braces, control and non-ASCII characters. A tiny routed
overlay (two gateways, a device with a service, an unmanaged client, a policy,
an external peer) is planned with them:

* refused: the error is a PlanError naming a host and a variable, on one line,
  without the peer's password;
* accepted: every file the roles would write parses as its daemon parses it and
  holds exactly the fields its template writes: bird.conf (with its BFD and
  password fragments) with ``bird -p -c``, the nftables table with ``nft -c -f``,
  each wg-quick file with ``wg-quick strip`` and a wg-quick style
  ``[Interface]``/``[Peer]`` key = value reader (no PreUp, PostDown, ... beyond the
  template's own PostUp lines), the service checker's settings sourced by bash.

The templates are rendered with Jinja as Ansible's template module does
(trim_blocks), from the same filters' functions the roles call, as
tests/unit/plugins/plugin_utils/test_family.py does.
"""

import json
import os
import pathlib
import re
import shlex
import shutil
import subprocess
import tempfile

import jinja2
import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import peers, policy, topology
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile

ROOT = pathlib.Path(__file__).resolve().parents[2]
CANARY = "CANARY-"
NET = {"wgsdn_network": "10.0.0.0/24"}

# Characters that end a field somewhere: a line, a string, a statement, a comment, a key = value.
BREAKERS = [*"\n\r\t\x00\x0b\x1b \"'`;#=|/\\$(){}[]<>*?&!%,:@+", "é", "\u2028", "\u00a0", "\u200b", "²"]
PLAIN = list("abcgwxyzAZ019-_.")
# Classic payloads: a wg-quick hook, a BIRD statement after a closed string, a shell substitution, a unit line.
PAYLOADS = ["\nPreUp = touch /tmp/wgsdn-pwned", '"; }; protocol static x { ipv4; }; #', "'$(touch /tmp/wgsdn-pwned)'", "\nExecStartPre=/bin/true"]
hostile = st.one_of(
    st.sampled_from(PAYLOADS),
    st.text(st.sampled_from(BREAKERS + PLAIN), max_size=14),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=14),  # what checks and passwords may hold
    st.text(max_size=10),
)


GOOD = {
    "gateway": ("gw1", "edge-1", "gw_1.example"),
    "device": ("dev1", "Dev-2", "d3.example"),
    "client": ("phone", "laptop-1"),
    "link_name": ("g2", "gw-2"),
    "interface": ("wg0", "wg_a"),
    "endpoint": ("gw1.example.org", "192.0.2.10", "2001:db8::10"),
    "service": ("web", "dns-1"),
    "check": ("tcp:80", "http://127.0.0.1:8080/health", "test -e /run/ok", "systemctl is-active nginx"),
    "peer": ("core", "isp-1"),
    "password": ("s3cret", "p@ss w0rd!"),
    "peer_address": ("192.0.2.1", "198.51.100.7"),
}


def field(good):
    """A hostile value, or a good one with hostile text before or after it."""
    base = st.sampled_from(good)
    return st.one_of(hostile, st.builds(str.__add__, base, hostile), st.builds(str.__add__, hostile, base))


HOSTILE = {name: field(good) for name, good in GOOD.items()}  # built once: hypothesis validates each new strategy


@st.composite
def drawn_values(draw):
    """Every field a good value but one to three, which are drawn hostile (so each field's check is reached)."""
    chosen = draw(st.lists(st.sampled_from(sorted(GOOD)), min_size=1, max_size=3, unique=True))
    pick = draw(st.integers(0, 5))  # one draw picks every other field's good value (drawing each is slow)
    values = {name: good[pick % len(good)] for name, good in GOOD.items()}
    values.update((name, draw(HOSTILE[name])) for name in chosen)
    return values


# What each template writes, per wg-quick section; wg-quick would run any PreUp/PostUp/PreDown/PostDown it finds.
WG_INTERFACE_KEYS = {"Address", "ListenPort", "PrivateKey", "PostUp", "Table", "MTU"}
WG_PEER_KEYS = {"PublicKey", "PresharedKey", "AllowedIPs", "Endpoint", "PersistentKeepalive"}
WG_CLIENT_INTERFACE_KEYS = {"Address", "PrivateKey", "DNS", "MTU"}
UNIT_KEYS = {"Description", "After", "StartLimitIntervalSec", "Type", "ExecStartPre", "ExecStart", "ExecStopPost", "Restart", "RestartSec", "WantedBy"}


BIRD = subprocess.run(["bash", str(ROOT / "tools" / "bird-parser.sh")], capture_output=True, text=True, check=False).stdout.strip()
pytestmark = [
    pytest.mark.skipif(not BIRD, reason="no bird parser (tools/bird-parser.sh)"),
    pytest.mark.skipif(not shutil.which("nft") or os.geteuid() != 0, reason="nft -c needs nftables and root"),
    pytest.mark.skipif(not shutil.which("wg-quick"), reason="wg-quick (wireguard-tools) is not installed"),
]


def _environment():
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in sorted(ROOT.glob("roles/*/templates"))]),
        trim_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(quote=lambda s: shlex.quote(str(s)), to_json=json.dumps)
    return env


ENV = _environment()
DEFAULTS = {}
for _role in ("wireguard", "bird", "bfd", "services", "policy"):
    DEFAULTS.update(yaml.safe_load((ROOT / "roles" / _role / "defaults" / "main.yml").read_text()) or {})


def render(template, **variables):
    return ENV.get_template(template).render(**{**DEFAULTS, "ansible_managed": "managed", **variables})


def inventory(v):
    """(gateways, devices, clients, hostvars, groups) of the tiny routed overlay, with the drawn values."""
    gateway, device, client = v["gateway"], v["device"], v["client"]
    hostvars = {
        gateway: dict(
            NET,
            wgsdn_link_name="g1",  # link names set: the host names are checked for what they are
            wgsdn_endpoint=v["endpoint"],
            wgsdn_bgp_peers=[{"name": v["peer"], "address": v["peer_address"], "asn": 65001, "import": ["203.0.113.0/24"], "password": CANARY + v["password"]}],
        ),
        "gw2": dict(NET, wgsdn_link_name=v["link_name"], ansible_host="192.0.2.20"),
        device: dict(NET, wgsdn_link_name="d1", wgsdn_uplinks=[gateway], wgsdn_services=[{"name": v["service"], "address": "10.9.0.1", "check": v["check"]}]),
        client: dict(NET, wgsdn_link_name="c1", wgsdn_uplinks=["gw2"]),
    }
    for host in hostvars.values():
        host["wgsdn_interface"] = v["interface"]
        host["wgsdn_policy"] = {"default": "deny", "rules": [{"from": ["wgsdn_devices"], "to": ["wgsdn_gateways"], "ports": ["tcp/22", "icmp"]}]}
    groups = {"wgsdn_gateways": [gateway, "gw2"], "wgsdn_devices": [device], "wgsdn_clients": [client]}
    return [gateway, "gw2"], [device], [client], hostvars, groups


def wg_sections(text):
    """``[(section, [(key, value)])]`` as wg-quick reads a file: comments cut at '#', blank lines skipped, key = value."""
    sections = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            sections.append((line, []))
            continue
        assert "=" in line, f"not a key = value line: {raw!r}"
        key, value = (part.strip() for part in line.split("=", 1))
        assert sections, f"a key before any section: {raw!r}"
        sections[-1][1].append((key, value))
    return sections


def check_wg_quick(path, interface, interface_keys):
    sections = wg_sections(path.read_text())
    assert [s for s, _ in sections] == ["[Interface]"] + ["[Peer]"] * len(interface["peers"])
    (_, settings_), *peer_sections = sections
    assert {k for k, _ in settings_} <= interface_keys, settings_
    post_up = [v for k, v in settings_ if k == "PostUp"]
    assert post_up == [f"ip {p['ip_option']} address add {p['local']} peer {p['peer']} dev %i" for p in interface.get("ptp", [])]
    for peer, (_, fields) in zip(interface["peers"], peer_sections, strict=True):
        keys = [k for k, _ in fields]
        assert set(keys) <= WG_PEER_KEYS and len(keys) == len(set(keys)), fields
        assert dict(fields)["PublicKey"] == peer["public_key"]
        if peer["endpoint"]:
            assert dict(fields)["Endpoint"] == peer["endpoint"]
    # The peer names are comment lines of their own.
    names = re.findall(r"^\[Peer\]\n# (.*)$", path.read_text(), re.MULTILINE)
    assert names == [p["name"] for p in interface["peers"]]


def wg_quick_strip(path):
    run = subprocess.run(["wg-quick", "strip", str(path)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    return run.stdout


def check_bird(directory, plan, host):
    s = topology.bird_settings(plan, host, device_bgp=DEFAULTS["bird_device_bgp"])
    if not s["enabled"]:
        return
    include = directory / "bird.d"
    include.mkdir()
    (include / "bfd.conf").write_text(render("bfd.conf.j2", _bfd_settings=topology.bird_settings(plan, host), inventory_hostname=host))
    (include / DEFAULTS["bird_secrets_file"]).write_text(render("wgsdn-secrets.conf.j2", wgsdn_plan=plan, inventory_hostname=host))
    conf = directory / "bird.conf"
    text = render("bird.conf.j2", _bird_settings=s, inventory_hostname=host, bird_include_dir=str(include))
    conf.write_text(text)
    run = subprocess.run([BIRD, "-p", "-c", str(conf)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr + run.stdout
    # Every BGP session is there once, with the description the template gives it, and no other.
    expected = [(n["name"], n["peer"]) for n in s["bgp_neighbors"]]
    expected += [(d["name"], f"attached device {d['peer']}") for d in s["device_sessions"]]
    expected += [(u["name"], f"uplink gateway {u['neighbor']}") for u in s["uplink_sessions"]]
    expected += [(p["protocol"], f"external peer {p['name']}") for c in s["channels"] for p in c["bgp_peers"]]
    found = re.findall(r'^protocol bgp (\S+) \{\n\tdescription "([^"\n]*)";$', text, re.MULTILINE)
    assert sorted(found) == sorted(expected)
    assert text.count("protocol bgp ") == len(expected)
    for secret in peers.secrets(plan, host):
        assert re.search(rf'^define {secret["symbol"]} = "[^"\n\\]*";$', (include / DEFAULTS["bird_secrets_file"]).read_text(), re.MULTILINE)


def check_nft(directory, plan, host):
    ruleset = policy.ruleset(plan, host)
    if not ruleset["enabled"]:
        return
    path = directory / "wgsdn.nft"
    text = render("wgsdn.nft.j2", _policy_ruleset=ruleset, inventory_hostname=host)
    path.write_text(text)
    run = subprocess.run(["nft", "-c", "-f", str(path)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    (interfaces,) = set(re.findall(r"iifname != \{ (.*) \} ip6? daddr", text))
    assert json.loads(f"[{interfaces}]") == topology.interface_names(plan, host)


def check_service(directory, plan, host):
    for service in plan["hosts"][host].get("services", []):
        settings_file = directory / f"{service['name']}.conf"
        settings_file.write_text(render("service.conf.j2", item=service))
        script = '. "$1"; printf "%s\\0" "$PROTOCOL" "$ADDRESS" "$KIND" "$PORT" "$URL" "$COMMAND"'
        run = subprocess.run(["bash", "-c", script, "bash", str(settings_file)], capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stderr
        check = service["check"] or {}
        assert run.stdout.split("\0")[:-1] == [
            service["protocol"],
            service["address"],
            check.get("type", "none"),
            str(check.get("port", "")),
            check.get("url", ""),
            check.get("command", ""),
        ]
        ip_option = {f["name"]: f["ip_option"] for f in plan["families"]}
        unit = render("service.unit.j2", item=service, _services_ip_option=ip_option)
        for line in unit.splitlines():
            if line and not line.startswith(("#", "[")):
                assert line.split("=", 1)[0] in UNIT_KEYS, line
        assert f"ExecStopPost=-/usr/sbin/birdc disable {service['protocol']}\n" in unit


def check_accepted(plan, clients):
    with tempfile.TemporaryDirectory() as tmp:
        for index, host in enumerate(plan["hosts"]):
            directory = pathlib.Path(tmp) / str(index)  # the host name is checked, not trusted with the file system here
            directory.mkdir()
            for interface in topology.wg_interfaces(plan, host):
                path = directory / f"{interface['name']}.conf"
                if host in clients:
                    path.write_text(render("wg-client.conf.j2", _wireguard_if=interface, _wireguard_client=host))
                    check_wg_quick(path, interface, WG_CLIENT_INTERFACE_KEYS)
                    continue
                path.write_text(render("wg-quick.conf.j2", _wireguard_if=interface, _wireguard_redact=False, inventory_hostname=host))
                path.chmod(0o600)
                check_wg_quick(path, interface, WG_INTERFACE_KEYS)
                stripped = wg_sections(wg_quick_strip(path))
                assert {k for _, fields in stripped for k, _ in fields} <= {"ListenPort", "PrivateKey"} | WG_PEER_KEYS
            if host in clients:
                continue
            check_bird(directory, plan, host)
            check_nft(directory, plan, host)
            check_service(directory, plan, host)


@settings(max_examples=int(os.environ.get("WGSDN_HOSTILE_EXAMPLES", "300")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn_values())
def test_hostile_strings_are_refused_or_stay_in_their_field(values):
    gateways, devices, clients, hostvars, groups = inventory(values)
    if len({*gateways, *devices, *clients}) < 4:
        return  # two hosts with one name: the inventory itself would merge them
    with tempfile.TemporaryDirectory() as tmp:
        state = StateFile(f"{tmp}/state.json")
        try:
            plan = compute_plan(gateways, devices, hostvars, state, clients=clients, groups=groups)
        except PlanError as exc:
            event(f"refused: {exc.variable}")
            message = str(exc)
            assert exc.host is not None and exc.variable and "\n" not in message and CANARY not in message, message
            assert f"variable '{exc.variable}'" in message
            assert not os.path.exists(state.path), "a refused inventory wrote the state file"
            return
    event("accepted and rendered")
    check_accepted(plan, clients)


def test_the_most_an_accepted_inventory_may_hold_renders_and_parses():
    """Quotes, ';', '#' and braces where their field allows them (a check command, a password), every name at its widest."""
    accepted = dict(
        gateway="gw_1.example",
        device="Dev-2",
        client="laptop-1",
        link_name="gw-2",
        interface="wg_a",
        endpoint="2001:db8::10",
        service="dns-1",
        check="systemctl is-active 'nginx' && echo \"ok\"; exit 0",
        peer="isp-1",
        password="p@ss w0rd! {x};#",
        peer_address="198.51.100.7",
    )
    gateways, devices, clients, hostvars, groups = inventory(accepted)
    with tempfile.TemporaryDirectory() as tmp:
        plan = compute_plan(gateways, devices, hostvars, StateFile(f"{tmp}/state.json"), clients=clients, groups=groups)
    check_accepted(plan, clients)
