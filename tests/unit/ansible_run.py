"""Run real ansible-playbook / ansible-doc against this checkout (no hosts touched)."""

import os
import pathlib
import shutil
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
# A checkout finds itself through .cache/collections (tests/unit/conftest.py links it); ansible-test
# units runs from an installed-style .../ansible_collections/wgsdn/fabric, without ansible.cfg.
COLLECTIONS = ROOT.parents[2] if ROOT.parents[1].name == "ansible_collections" else ROOT / ".cache" / "collections"


def env():
    result = dict(os.environ)
    result.update(
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        PATH=f"{BIN}:{result.get('PATH', '')}",
    )
    if (ROOT / "ansible.cfg").exists():
        result["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    return result


def write_inventory(directory, gateways, devices, hostvars, extra=None):
    """An inventory file in ``directory`` for the given overlay, all hosts on the local connection."""
    groups = {"wgsdn_gateways": {"hosts": {g: hostvars[g] for g in gateways}}, "wgsdn_devices": {"hosts": {d: hostvars[d] for d in devices}}}
    inventory = {"all": {"vars": {"ansible_connection": "local", **(extra or {})}, "children": groups}}
    path = pathlib.Path(directory) / "hosts.yml"
    path.write_text(yaml.safe_dump(inventory))
    return path


def tool(name):
    """The Ansible command beside this Python (a venv), else the one on PATH (ansible-test units puts its own there)."""
    local = BIN / name
    return str(local) if local.exists() else shutil.which(name) or name


def playbook(*args, cwd=None):
    return subprocess.run([tool("ansible-playbook"), *map(str, args)], capture_output=True, text=True, env=env(), cwd=cwd or ROOT, check=False)


def ansible_doc(*args):
    return subprocess.run([tool("ansible-doc"), *args], capture_output=True, text=True, env=env(), check=False)
