"""Benchmark playbooks/render.yml: wall time for 10, 100 and 1,000 hosts (touches no host).

    python bench/render.py [SIZES...]

Each size renders a synthetic routed overlay (bench/inventory.py) into a
temporary directory twice with the forks of ansible.cfg: the first run also
allocates every address and key (a new inventory), the rerun is every later
render; the per-host column shows whether the cost per host stays flat as the
inventory grows. Each size also times `ansible-inventory --list` on the same
inventory, right before the renders (issue 16: a render may cost at most ten
times that), and reports the CPU seconds of each run beside its wall time (the
machine is shared: wall time moves with the load, CPU time much less).
"""

import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests")]

from inventory import write_inventory  # noqa: E402
from wgsdn_testkit.playbooks import env, playbook  # noqa: E402


def _cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(function):
    """(result, wall seconds, CPU seconds of the child processes it waited for)."""
    cpu, wall = _cpu(), time.monotonic()
    result = function()
    return result, time.monotonic() - wall, _cpu() - cpu


def inventory_list(path):
    """``ansible-inventory --list`` on ``path``, as a user would run it (the output is read, then dropped)."""
    tool = pathlib.Path(sys.executable).parent / "ansible-inventory"
    run = subprocess.run([str(tool), "-i", str(path), "--list"], capture_output=True, text=True, env=env(), cwd=ROOT, check=False)
    assert run.returncode == 0, run.stderr[-3000:]


def render(total):
    """Timings of ansible-inventory --list, a first render (which also allocates every address and key) and a rerun."""
    with tempfile.TemporaryDirectory() as tmp:
        write_inventory(f"{tmp}/hosts.yml", total)
        _, inv_wall, inv_cpu = timed(lambda: inventory_list(f"{tmp}/hosts.yml"))
        runs = []
        for _ in range(2):
            run, wall, cpu = timed(lambda: playbook("-i", f"{tmp}/hosts.yml", ROOT / "playbooks" / "render.yml", "-e", f"wgsdn_render_dir={tmp}/out"))
            assert run.returncode == 0, run.out[-3000:]
            runs.append((wall, cpu))
        files = sum(1 for _ in pathlib.Path(f"{tmp}/out").rglob("*.conf"))
    return (inv_wall, inv_cpu), runs[0], runs[1], files


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [10, 100, 1000]
    print(f"load average before: {os.getloadavg()[0]:.1f}, forks from ansible.cfg")
    print(
        "| hosts | files | ansible-inventory --list: wall / CPU (s) | first render: wall / CPU (s) | rerun: wall / CPU (s) | rerun / inventory, wall | rerun / inventory, CPU |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for size in sizes:
        (inv_wall, inv_cpu), (first_wall, first_cpu), (wall, cpu), files = render(size)
        print(
            f"| {size} | {files} | {inv_wall:.1f} / {inv_cpu:.1f} | {first_wall:.1f} / {first_cpu:.1f} | {wall:.1f} / {cpu:.1f} "
            f"| {wall / inv_wall:.1f} | {cpu / inv_cpu:.1f} |",
            flush=True,
        )
        print(f"load average after {size}: {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
