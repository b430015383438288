"""render.yml for the article's three topologies, compared with the article; every bird.conf parses.

The article's configurations, as the design (shared/design.md) records them:

1. device1 10.0.0.1 <-> device2 10.0.0.2 listening on 51820; each side's
   AllowedIPs is the other's /32.
2. device2 (.2, listens on 51820) relays for device1 (.1) and device3 (.3):
   devices send the whole overlay 10.0.0.0/24 to it; it has one peer per
   device with its /32.
3. gateway1 10.0.0.2 serves device1 .1 and device2 .3; gateway2 10.0.0.5
   serves device3 .4 and device4 .6; device1 reaches device3 through
   gateway1 -> gateway2, whose link is watched by BFD.
"""

import hashlib
import pathlib
import re
import shutil
import subprocess

import pytest
import yaml
from wgsdn_testkit.playbooks import ROOT, playbook, write_inventory

from ansible_collections.wgsdn.fabric.tests.unit.topologies import article_topology

# host -> interface -> {"Address", "ListenPort", peers: {peer: (AllowedIPs, Endpoint port)}}
ARTICLE = {
    1: {
        "device1": {"wg0": {"Address": "10.0.0.1/24", "ListenPort": None, "peers": {"device2": (["10.0.0.2/32"], "51820")}}},
        "device2": {"wg0": {"Address": "10.0.0.2/24", "ListenPort": "51820", "peers": {"device1": (["10.0.0.1/32"], None)}}},
    },
    2: {
        "device1": {"wg0": {"Address": "10.0.0.1/24", "ListenPort": None, "peers": {"device2": (["10.0.0.0/24"], "51820")}}},
        "device2": {
            "wg0": {"Address": "10.0.0.2/24", "ListenPort": "51820", "peers": {"device1": (["10.0.0.1/32"], None), "device3": (["10.0.0.3/32"], None)}}
        },
        "device3": {"wg0": {"Address": "10.0.0.3/24", "ListenPort": None, "peers": {"device2": (["10.0.0.0/24"], "51820")}}},
    },
}


def parse_wg(text):
    """(interface settings, {peer name: settings}) of a wg-quick file; peer names come from our '# name' comment."""
    interface, peers, current = {}, {}, None
    for line in text.splitlines():
        line = line.strip()
        if line == "[Interface]":
            current = interface
        elif line == "[Peer]":
            current = {}
            peers[len(peers)] = current
        elif line.startswith("# ") and current is not interface and current is not None and "name" not in current:
            current["name"] = line[2:]
        elif "=" in line and not line.startswith("#"):
            key, value = (part.strip() for part in line.split("=", 1))
            current[key] = value
    return interface, {p.pop("name"): p for p in peers.values()}


def render(tmp_path, number):
    write_inventory(tmp_path, *article_topology(number))
    run = playbook("-i", tmp_path / "hosts.yml", ROOT / "playbooks" / "render.yml", "-e", f"wgsdn_render_dir={tmp_path / 'out'}")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return tmp_path / "out"


def recap(run):
    """{host: changed count} from a run's PLAY RECAP."""
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", run.stdout, re.MULTILINE)}


def tree(directory):
    """{relative path: (bytes, mode)} of the files under ``directory``."""
    return {str(p.relative_to(directory)): (p.read_bytes(), p.stat().st_mode & 0o777) for p in sorted(directory.rglob("*")) if p.is_file()}


def with_builtin_template(directory):
    """A render playbook beside a copy of the collection whose render tasks use ansible.builtin.template instead.

    Ansible prefers collections next to the playbook, so running the returned
    playbook includes each role's tasks/render.yml for every host, as
    render.yml did before wgsdn.fabric.render_hosts, with the same variables,
    only through ansible.builtin.template (which needs the directories to exist
    already).
    """
    collection = directory / "collections" / "ansible_collections" / "wgsdn" / "fabric"
    shutil.copytree(ROOT / "meta", collection / "meta")
    for part in ("plugins", "roles"):
        shutil.copytree(ROOT / part, collection / part, ignore=shutil.ignore_patterns("__pycache__"))
    for render in sorted(collection.glob("roles/*/tasks/render.yml")):
        tasks = yaml.safe_load(render.read_text())
        swapped = [task for task in tasks if "wgsdn.fabric.render_template" in task]
        assert swapped, render
        for task in swapped:
            args = task.pop("wgsdn.fabric.render_template")
            del args["directory_mode"]
            task["ansible.builtin.template"] = args
        render.write_text(yaml.safe_dump(tasks, sort_keys=False))
    plays = yaml.safe_load((ROOT / "playbooks" / "render.yml").read_text())
    plays[1]["tasks"] = [
        {"name": f"Render {role}", "ansible.builtin.include_role": {"name": role, "tasks_from": "render"}} for role in plays[1]["vars"]["_wgsdn_render_roles"]
    ]
    (directory / "render.yml").write_text(yaml.safe_dump(plays, sort_keys=False))
    return directory / "render.yml"


def wg_summary(out):
    result = {}
    for path in sorted(out.glob("*/etc/wireguard/*.conf")):
        host = path.parts[-4]
        interface, peers = parse_wg(path.read_text())
        result.setdefault(host, {})[path.stem] = {
            "Address": interface.get("Address"),
            "ListenPort": interface.get("ListenPort"),
            "peers": {
                name: ([c.strip() for c in p["AllowedIPs"].split(",")], p["Endpoint"].rsplit(":", 1)[1] if "Endpoint" in p else None)
                for name, p in peers.items()
            },
        }
    return result


@pytest.mark.parametrize("number", [1, 2])
def test_wireguard_configs_match_the_article(tmp_path, number):
    out = render(tmp_path, number)
    assert wg_summary(out) == ARTICLE[number]
    for path in out.glob("*/etc/wireguard/*.conf"):
        assert path.stat().st_mode & 0o777 == 0o600
    assert not list(out.glob("*/etc/bird/bird.conf")), "no routing daemon is needed without several gateways"


def test_topology_3_matches_the_article_and_every_bird_conf_parses(tmp_path):
    out = render(tmp_path, 3)
    summary = wg_summary(out)
    # Who serves whom, with the article's addresses.
    served = {"gateway1": {"device1": "10.0.0.1", "device2": "10.0.0.3"}, "gateway2": {"device3": "10.0.0.4", "device4": "10.0.0.6"}}
    for gateway, devices in served.items():
        access = summary[gateway]["wg0"]
        assert access["Address"] == f"{ {'gateway1': '10.0.0.2', 'gateway2': '10.0.0.5'}[gateway] }/24"
        assert access["ListenPort"] == "51820"
        assert access["peers"] == {d: ([f"{a}/32"], None) for d, a in devices.items()}
        for device in devices:
            (uplink,) = summary[device].values()
            assert uplink["peers"] == {gateway: (["10.0.0.0/24"], "51820")}
    # device1 reaches device3 through gateway1 -> gateway2: the gateways share a link carrying the overlay.
    assert summary["gateway1"]["wg-gateway2"]["peers"]["gateway2"][0] == ["10.0.0.0/24"]
    assert summary["gateway2"]["wg-gateway1"]["peers"]["gateway1"][0] == ["10.0.0.0/24"]
    bird = {p.parts[-4]: p.read_text() for p in out.glob("*/etc/bird/bird.conf")}
    assert set(bird) == set(summary)
    assert re.search(r"route 10\.0\.0\.4/32 via 10\.0\.0\.4 bfd;", bird["gateway2"])
    assert re.search(r"neighbor 10\.0\.0\.5 as 4200000002;", bird["gateway1"])
    # device1 learns its routes from gateway1 over BGP, tied to BFD.
    assert re.search(r"protocol bgp wgsdn_uplink1 \{[^}]*neighbor 10\.0\.0\.2 external;", bird["device1"])
    assert "bfd on;" in bird["device1"]

    assert _parse_every_bird_conf(out, tmp_path) == bird
    parser = subprocess.run(["bash", str(ROOT / "tools" / "bird-parser.sh")], capture_output=True, text=True, check=True).stdout.strip()
    broken = tmp_path / "broken.conf"
    broken.write_text(bird["gateway1"].replace("protocol device {", "protocol device {{"))
    assert subprocess.run([parser, "-p", "-c", str(broken)], capture_output=True, check=False).returncode != 0


def test_render_touches_no_host(tmp_path):
    """Hosts whose connection would fail if used (SSH to TEST-NET-1, never answered): the render must still succeed."""
    unreachable = {"ansible_connection": "ssh", "ansible_host": "192.0.2.1", "ansible_ssh_common_args": "-o ConnectTimeout=1"}
    write_inventory(tmp_path, *article_topology(2), extra=unreachable)
    run = playbook("-i", tmp_path / "hosts.yml", ROOT / "playbooks" / "render.yml", "-e", f"wgsdn_render_dir={tmp_path / 'out'}")
    assert run.returncode == 0, run.stdout[-3000:]
    assert pathlib.Path(tmp_path / "out" / "device2" / "etc" / "wireguard" / "wg0.conf").exists()


def test_render_writes_what_ansible_builtin_template_writes_and_is_idempotent(tmp_path):
    reference = with_builtin_template(tmp_path / "reference")
    out = render(tmp_path, 3)
    rendered = tree(out)
    assert {pathlib.PurePath(p).name for p in rendered} == {
        "wg0.conf",
        "wg-gateway1.conf",
        "wg-gateway2.conf",
        "bird.conf",
        "bfd.conf",
        "wgsdn.nft",
        "underlay-ports.txt",
    }
    for directory in out.rglob("*"):
        if directory.is_dir():
            (tmp_path / "builtin" / directory.relative_to(out)).mkdir(parents=True, exist_ok=True)
    run = playbook("-v", "-i", tmp_path / "hosts.yml", reference, "-e", f"wgsdn_render_dir={tmp_path / 'builtin'}")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    # The copy module behind ansible.builtin.template reports the checksum of what it wrote.
    assert f"checksum: {hashlib.sha1(rendered['gateway1/etc/bird/bird.conf'][0]).hexdigest()}" in run.stdout
    assert tree(tmp_path / "builtin") == rendered

    again = playbook("-i", tmp_path / "hosts.yml", ROOT / "playbooks" / "render.yml", "-e", f"wgsdn_render_dir={out}")
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-2000:]
    assert recap(again) and set(recap(again).values()) == {0}  # every task runs once, for the whole play
    assert tree(out) == rendered


def _parse_every_bird_conf(out, tmp_path):
    """Parse each rendered bird.conf with BIRD, together with the fragments it includes from the render tree; {host: text}."""
    parser = subprocess.run(["bash", str(ROOT / "tools" / "bird-parser.sh")], capture_output=True, text=True, check=True).stdout.strip()
    bird = {p.parts[-4]: p.read_text() for p in out.glob("*/etc/bird/bird.conf")}
    for host, text in bird.items():
        checked = tmp_path / f"{host}-bird.conf"
        checked.write_text(text.replace('include "/etc/bird/', f'include "{out / host / "etc" / "bird"}/'))
        result = subprocess.run([parser, "-p", "-c", str(checked)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{host}: {result.stderr}"
    return bird


@pytest.mark.parametrize("stack", ["dual", "ipv6"])
def test_dual_stack_and_ipv6_only_render_and_parse(tmp_path, stack):
    gateways, devices, hostvars = article_topology(3)
    for values in hostvars.values():
        values["wgsdn_network6"] = "fd00:10::/64"
        if stack == "ipv6":
            del values["wgsdn_network"], values["wgsdn_address"]
    hostvars["device4"]["wgsdn_uplinks"] = ["gateway2", "gateway1"]
    hostvars["device3"]["wgsdn_subnets"] = ["fd00:3::/64"]
    write_inventory(tmp_path, gateways, devices, hostvars)
    out = tmp_path / "out"
    run = playbook("-i", tmp_path / "hosts.yml", ROOT / "playbooks" / "render.yml", "-e", f"wgsdn_render_dir={out}")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    bird = _parse_every_bird_conf(out, tmp_path)
    assert set(bird) == set(gateways + devices)
    assert "protocol kernel wgsdn_kernel6" in bird["gateway1"] and "protocol bgp bgp_gateway2_v6" in bird["gateway1"]
    assert ("protocol bgp bgp_gateway2 {" in bird["gateway1"]) == (stack == "dual")
    uplink = (out / "device4" / "etc" / "wireguard" / "wg-gateway1.conf").read_text()
    assert "PostUp = ip -6 address add fd00:10::" in uplink
    assert ("PostUp = ip -4 address add" in uplink) == (stack == "dual")
    assert "fd00:3::/64" in uplink and "fd00:10::/64" in uplink


def test_services_and_external_peers_render_and_parse(tmp_path):
    """Anycast services and an external peer with a password: every bird.conf parses with its fragments,
    the password is only in the secrets fragment (mode 0600 in the render tree) and never in the output."""
    gateways, devices, hostvars = article_topology(3)
    echo = {"name": "echo", "address": "10.0.0.53", "check": "tcp:8053"}
    hostvars["device2"]["wgsdn_services"] = [echo]
    hostvars["device4"]["wgsdn_services"] = [echo]
    hostvars["gateway1"]["wgsdn_bgp_peers"] = [
        {"name": "office-core", "address": "192.0.2.1", "asn": 65010, "import": ["192.168.77.0/24"], "bfd": True, "password": "render-md5-secret"}
    ]
    write_inventory(tmp_path, gateways, devices, hostvars)
    out = tmp_path / "out"
    run = playbook("-i", tmp_path / "hosts.yml", ROOT / "playbooks" / "render.yml", "-e", f"wgsdn_render_dir={out}", "-v")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "render-md5-secret" not in run.stdout + run.stderr
    bird = _parse_every_bird_conf(out, tmp_path)
    assert "protocol bgp ext_office_core {" in bird["gateway1"] and "render-md5-secret" not in bird["gateway1"]
    assert "protocol static wgsdn_svc_echo {" in bird["device2"]
    secrets = out / "gateway1" / "etc" / "bird" / "bird.d" / "wgsdn-secrets.conf"
    assert 'define wgsdn_password_office_core = "render-md5-secret";' in secrets.read_text()
    assert secrets.stat().st_mode & 0o777 == 0o600
    assert not (out / "gateway2" / "etc" / "bird" / "bird.d" / "wgsdn-secrets.conf").exists()
