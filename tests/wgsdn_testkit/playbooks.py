"""Run the collection's playbooks and ansible-doc against this checkout (no hosts touched), and read their output."""

import os
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap
import time

import yaml

from . import COLLECTIONS, ROOT

BIN = pathlib.Path(sys.executable).parent


def env(**overrides):
    """This checkout as the collection, its ansible.cfg, no colours, the venv first; plus ``overrides``."""
    result = dict(os.environ)
    result.update(
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        PATH=f"{BIN}:{result.get('PATH', '')}",
    )
    if (ROOT / "ansible.cfg").exists():
        result["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    result.update(overrides)
    return result


def tool(name):
    """The Ansible command beside this Python (a venv), else the one on PATH (ansible-test units puts its own there)."""
    local = BIN / name
    return str(local) if local.exists() else shutil.which(name) or name


def write_inventory(directory, gateways, devices, hostvars, extra=None):
    """An inventory file in ``directory`` for the given overlay, all hosts on the local connection."""
    groups = {"wgsdn_gateways": {"hosts": {g: hostvars[g] for g in gateways}}, "wgsdn_devices": {"hosts": {d: hostvars[d] for d in devices}}}
    inventory = {"all": {"vars": {"ansible_connection": "local", **(extra or {})}, "children": groups}}
    path = pathlib.Path(directory) / "hosts.yml"
    path.write_text(yaml.safe_dump(inventory))
    return path


def playbook(*args, cwd=None, timeout=None, merge_output=False, **env_overrides):
    """``ansible-playbook ARGS`` (never raises on failure).

    Returns the CompletedProcess with ``.seconds`` (wall time) and ``.out``
    (stdout then stderr; with ``merge_output`` both are interleaved in ``stdout``).
    """
    start = time.monotonic()
    run = subprocess.run(
        [tool("ansible-playbook"), *map(str, args)],
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
    """``ansible-doc ARGS`` (never raises on failure)."""
    return subprocess.run([tool("ansible-doc"), *args], capture_output=True, text=True, env=env(), check=False)


def recap(output):
    """``{host: {ok, changed, unreachable, failed, ...}}`` from a PLAY RECAP."""
    rows = {}
    for m in re.finditer(r"^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$", output, re.M):
        rows[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
    return rows


def _tasks(output, result):
    """Names of the tasks and handlers with a result line matching the regular expression ``result``."""
    tasks, current = set(), None
    for line in output.splitlines():
        m = re.match(r"^(?:TASK|RUNNING HANDLER) \[(.+?)\] \*", line)
        if m:
            current = m.group(1)
        elif re.match(result, line):
            tasks.add(current)
    return tasks


def ran_tasks(output, host):
    """Names of the tasks and handlers that ran on ``host`` (ok, changed or failed; not skipped)."""
    return _tasks(output, rf"^(?:ok|changed|fatal): \[{re.escape(host)}(?:\]| ->)")


def changed_tasks(output, host):
    """Names of the tasks and handlers that reported ``changed`` for ``host``."""
    return _tasks(output, rf"^changed: \[{re.escape(host)}\]")


def converge_reasons(output):
    """``{host: [reason, ...]}`` from site.yml's "Say why a host converges" task: the hosts whose
    receipt did not match, and why (YAML result format)."""
    if "TASK [Say why a host converges]" not in output:
        return {}
    section = re.split(r"^(?:TASK|PLAY|RUNNING HANDLER) ", output.split("TASK [Say why a host converges]", 1)[1], maxsplit=1, flags=re.M)[0]
    # Each host's result line, then (for a host that converges) its indented message.
    parts = re.split(r"^(\w+): \[([^\]]+)\].*$", section, flags=re.M)
    return {
        host: yaml.safe_load(textwrap.dedent(text))["msg"] for result, host, text in zip(parts[1::3], parts[2::3], parts[3::3], strict=True) if result == "ok"
    }
