"""Run the collection's playbooks and ansible-doc against this checkout, and read their output."""

import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

import yaml

from wgsdn_testkit import COLLECTIONS, ROOT

BIN = pathlib.Path(sys.executable).parent


def env(**overrides):
    """os.environ plus this checkout as the collection, its ansible.cfg, no colours, the venv first on PATH."""
    result = dict(os.environ)
    result.update(
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        PATH=f"{BIN}:{result.get('PATH', '')}",
    )
    result.update(overrides)
    return result


def _tool(name):
    """The venv's ansible tool beside this Python, else the one on PATH."""
    exe = BIN / name
    return str(exe) if exe.exists() else shutil.which(name) or name


def playbook(*args, cwd=None, timeout=None, merge_output=False, **env_overrides):
    """``ansible-playbook ARGS`` (never raises on failure).

    Returns the CompletedProcess with ``.seconds`` (wall time) and ``.out``
    (stdout then stderr; with ``merge_output`` both are interleaved in ``stdout``).
    """
    start = time.monotonic()
    run = subprocess.run(
        [_tool("ansible-playbook"), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_output else subprocess.PIPE,
        text=True,
        env=env(**env_overrides),
        cwd=cwd or ROOT,
        timeout=timeout,
        check=False,
    )
    run.seconds = time.monotonic() - start
    run.out = run.stdout + (run.stderr or "")
    return run


def ansible_doc(*args):
    return subprocess.run([_tool("ansible-doc"), *args], capture_output=True, text=True, env=env(), check=False)


def write_inventory(directory, gateways, devices, hostvars, extra=None):
    """An inventory file in ``directory`` for the given overlay, all hosts on the local connection."""
    groups = {"wgsdn_gateways": {"hosts": {g: hostvars[g] for g in gateways}}, "wgsdn_devices": {"hosts": {d: hostvars[d] for d in devices}}}
    inventory = {"all": {"vars": {"ansible_connection": "local", **(extra or {})}, "children": groups}}
    path = pathlib.Path(directory) / "hosts.yml"
    path.write_text(yaml.safe_dump(inventory))
    return path


def recap(output):
    """``{host: {ok, changed, unreachable, failed, ...}}`` from a PLAY RECAP."""
    rows = {}
    for m in re.finditer(r"^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$", output, re.M):
        rows[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
    return rows


def changed_tasks(output, host):
    """Names of the tasks and handlers that reported ``changed`` for ``host``."""
    tasks, current = set(), None
    for line in output.splitlines():
        m = re.match(r"^(?:TASK|RUNNING HANDLER) \[(.+?)\] \*", line)
        if m:
            current = m.group(1)
        elif line.startswith(f"changed: [{host}]"):
            tasks.add(current)
    return tasks
