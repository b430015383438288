"""playbooks/clients.yml: unmanaged clients exported on the controller, touching no host.

The inventory is a directory, as many administrators keep it: the exported
files land beside it without ever being read back as inventory sources.
"""

import json
import re
import stat

import yaml
from wgsdn_testkit.playbooks import playbook

from ansible_collections.wgsdn.fabric.plugins.plugin_utils.keys import public_key

INVENTORY = {
    "all": {
        "vars": {"ansible_connection": "local", "wgsdn_network": "10.0.0.0/24"},
        "children": {
            "wgsdn_gateways": {"hosts": {"gateway1": {"wgsdn_address": "10.0.0.1", "wgsdn_endpoint": "vpn.example.net"}}},
            "wgsdn_devices": {"hosts": {"device1": {"wgsdn_address": "10.0.0.11"}}},
            "wgsdn_clients": {"hosts": {"phone": {"wgsdn_address": "10.0.0.21"}, "laptop": {}}},
        },
    }
}


def test_clients_are_exported_beside_the_inventory_and_never_parsed_as_inventory(tmp_path):
    inventory = tmp_path / "inventory"
    inventory.mkdir()
    (inventory / "hosts.yml").write_text(yaml.safe_dump(INVENTORY))

    first = playbook("-i", inventory, "playbooks/clients.yml")
    assert first.returncode == 0, first.stdout[-3000:]
    directory = inventory / ".wgsdn-clients"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    state = json.loads((inventory / ".wgsdn-state.json").read_text())
    gateway_public = public_key(state["hosts"]["gateway1"]["private_key"])
    for client in ("phone", "laptop"):
        conf, png = directory / f"{client}.conf", directory / f"{client}.png"
        assert f"{conf} and .png" in " ".join(first.stdout.split()), first.stdout[-2000:]  # it says where
        for path in (conf, png):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        text = conf.read_text()
        host = state["hosts"][client]
        assert f"PrivateKey = {host['private_key']}" in text
        assert f"Address = {host['address']}/32" in text
        assert f"PublicKey = {gateway_public}" in text and "Endpoint = vpn.example.net:51820" in text
        assert host["private_key"] not in first.stdout + first.stderr
    assert "Address = 10.0.0.21/32" in (directory / "phone.conf").read_text()  # the pin holds

    second = playbook("-i", inventory, "playbooks/clients.yml")
    assert second.returncode == 0, second.stdout[-3000:]
    assert "Unable to parse" not in second.stderr and ".wgsdn-clients" not in second.stderr, second.stderr
    recap = second.stdout.split("PLAY RECAP", 1)[1]
    assert re.findall(r"changed=(\d+)", recap) and set(re.findall(r"changed=(\d+)", recap)) == {"0"}, recap
