"""wgsdn_policy through the real playbooks: refused before any host is touched, rendered, and checked by policy_check.yml.

The inventory is the article's topology 3 (hosts are containers that do not
exist: a run that reached one would stop at UNREACHABLE) with a nested group
``staff`` (children ``admins`` and ``ops``) that rules name.
"""

import copy

import pytest
import yaml
from wgsdn_testkit.playbooks import ROOT, playbook, write_inventory

from ansible_collections.wgsdn.fabric.tests.unit.topologies import article_topology

POLICY = {
    "default": "deny",
    "rules": [
        {"from": ["staff"], "to": ["wgsdn_gateways"], "ports": ["tcp/22", "icmp"]},
        {"from": ["192.168.10.0/24"], "to": ["device4"], "ports": ["tcp/9100"]},
    ],
}


def _inventory(directory, policy):
    gateways, devices, hostvars = copy.deepcopy(article_topology(3))
    hostvars["device4"]["wgsdn_subnets"] = ["192.168.4.0/24"]
    write_inventory(directory, gateways, devices, hostvars, extra={"ansible_connection": "community.docker.docker"})
    inventory = yaml.safe_load((directory / "hosts.yml").read_text())
    inventory["all"].setdefault("vars", {})["wgsdn_policy"] = policy
    inventory["all"]["children"]["staff"] = {"children": {"admins": {"hosts": {"device1": None}}, "ops": {"hosts": {"device3": None}}}}
    (directory / "hosts.yml").write_text(yaml.safe_dump(inventory))
    return directory / "hosts.yml"


def _check(inventory, src, dst, port):
    run = playbook("-i", inventory, ROOT / "playbooks" / "policy_check.yml", "-e", f"src={src}", "-e", f"dst={dst}", "-e", f"port={port}")
    assert run.returncode == 0, run.out[-3000:]
    return " ".join(run.stdout.split())


def test_policy_check_says_which_rule_decides_without_touching_a_host(tmp_path):
    inventory = _inventory(tmp_path, POLICY)
    # device3 is in ops, a child of staff.
    assert "device3 -> gateway2 tcp/22: ALLOWED - rules[0] (allow staff -> wgsdn_gateways: tcp/22, icmp)" in _check(inventory, "device3", "gateway2", "tcp/22")
    assert "device2 -> gateway2 tcp/22: DENIED - no rule matches: default deny" in _check(inventory, "device2", "gateway2", "tcp/22")
    assert "192.168.10.9 -> 192.168.4.7 tcp/9100: ALLOWED - rules[1]" in _check(inventory, "192.168.10.9", "192.168.4.7", "tcp/9100")


def test_render_writes_each_hosts_table(tmp_path):
    inventory = _inventory(tmp_path, POLICY)
    out = tmp_path / "out"
    run = playbook("-i", inventory, ROOT / "playbooks" / "render.yml", "-e", f"wgsdn_render_dir={out}")
    assert run.returncode == 0, run.out[-3000:]
    for host in ("gateway1", "gateway2", "device1", "device2", "device3", "device4"):
        text = (out / host / "etc" / "nftables.d" / "wgsdn.nft").read_text()
        statements = [line for line in text.splitlines() if not line.startswith("#")]
        assert statements[:3] == ["table inet wgsdn", "delete table inet wgsdn", "table inet wgsdn {"], statements[:3]
        assert "flush ruleset" not in text
        assert 'tcp dport { 22 } accept comment "rules[0]"' in text
    assert 'iifname { "wg-gateway2" } ip daddr @edge_v4 jump overlay' in (out / "device4" / "etc" / "nftables.d" / "wgsdn.nft").read_text()


BAD = [
    ("not a mapping", ["deny"], "wgsdn_policy': must be a mapping"),
    ("unknown default", {"default": "drop"}, "default: 'drop' is not allow or deny"),
    ("unknown group", {"rules": [{"from": ["staf"], "to": ["device1"]}]}, "rules[0].from: 'staf' is neither"),
    ("bad port", {"rules": [{"from": ["staff"], "to": ["device1"], "ports": ["tcp/22-21"]}]}, "rules[0].ports: 'tcp/22-21'"),
    ("bad prefix", {"rules": [{"from": ["staff"], "to": ["10.0.0.0/8", "192.168.1.1/24"]}]}, "rules[0].to: '192.168.1.1/24' has host bits set"),
    ("names nobody", {"rules": [{"from": ["staff"], "to": []}]}, "rules[0].to: names nobody"),
]


@pytest.mark.parametrize("policy, words", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_policy_is_refused_before_any_host_is_touched(tmp_path, policy, words):
    inventory = _inventory(tmp_path, policy)
    run = playbook("-i", inventory, ROOT / "playbooks" / "site.yml")
    output = " ".join(run.out.split())
    assert run.returncode != 0
    assert words in output, output[-3000:]
    assert "UNREACHABLE" not in output and "TASK [wgsdn.fabric.wireguard" not in output
    assert not (tmp_path / ".wgsdn-state.json").exists(), "the state file was written"
