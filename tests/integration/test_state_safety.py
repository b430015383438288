"""State safety under real concurrency and real crashes.

* 50 Ansible forks evaluate the allocate lookup at once for 150 hosts: one
  consistent state, no duplicate address, every fork saw the persisted values.
  (Each host computes the whole plan, so the cost grows with the square of the
  hosts: 500 hosts took 273 s of the 2-core CI for no more contention than 150.)
* A writer killed with SIGKILL at random moments, over and over, never leaves a
  truncated or half-written state file.
"""

import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import time

from wgsdn_testkit.playbooks import ROOT, playbook

sys.path.insert(0, str(ROOT / "bench"))
from inventory import write_inventory

from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile

EVERY_HOST_PLANS = """
- hosts: wgsdn_gateways:wgsdn_devices
  gather_facts: false
  tasks:
    - name: Every host evaluates the lookup itself, 50 at a time
      ansible.builtin.set_fact:
        _seen: "{{ lookup('wgsdn.fabric.allocate').hosts[inventory_hostname].address }}"
    - name: Record what each host saw
      ansible.builtin.copy:
        content: "{{ ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars, '_seen')) | map('join', ' ') | join('\\n') }}\\n"
        dest: "{{ inventory_dir }}/seen.txt"
        mode: "0600"
      delegate_to: localhost
      run_once: true
"""


def test_fifty_forks_over_a_hundred_and_fifty_hosts(tmp_path):
    write_inventory(tmp_path / "hosts.yml", 150)
    (tmp_path / "play.yml").write_text(EVERY_HOST_PLANS)
    run = playbook("-i", tmp_path / "hosts.yml", tmp_path / "play.yml", "--forks", "50")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    state = json.loads((tmp_path / ".wgsdn-state.json").read_text())
    allocated = {name: entry["address"] for name, entry in state["hosts"].items()}
    assert len(allocated) == 150
    assert len(set(allocated.values())) == 150
    seen = dict(line.split() for line in (tmp_path / "seen.txt").read_text().splitlines())
    assert seen == allocated


WRITER = """
import sys
sys.path.insert(0, {collections!r})
sys.path.insert(0, {bench!r})
from inventory import synthetic
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile
gateways, devices, hostvars = synthetic(3000)
state = StateFile({path!r})
round = 0
while True:  # every round rotates a key, so every round rewrites the whole file
    compute_plan(gateways, devices, hostvars, state, rotate=[devices[round % len(devices)]])
    round += 1
"""


def test_sigkill_never_leaves_a_broken_state(tmp_path):
    path = tmp_path / "state.json"
    script = WRITER.format(collections=str(ROOT / ".cache" / "collections"), bench=str(ROOT / "bench"), path=str(path))
    rng = random.Random(20261125)
    kills = 0
    for _ in range(25):
        writer = subprocess.Popen([sys.executable, "-c", script])
        time.sleep(rng.uniform(0.8, 2.0))
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        kills += 1
        if path.exists():
            state = StateFile(str(path)).load()  # raises on a truncated or half-written file
            assert len(state["hosts"]) == 3000
        leftovers = [p for p in pathlib.Path(tmp_path).iterdir() if p.name.startswith(".wgsdn-tmp.")]
        for stale in leftovers:  # a temporary file may survive a kill; it is never the state
            stale.unlink()
    assert kills == 25 and path.exists()
