"""Benchmark playbooks/render.yml: wall time for 10, 100 and 500 hosts (touches no host).

    python bench/render.py [SIZES...]

Each size renders a synthetic routed overlay (bench/inventory.py) into a
temporary directory twice with the forks of ansible.cfg: the first run also
allocates every address and key (a new inventory), the rerun is every later
render; the per-host column shows whether the cost per host stays flat as the
inventory grows.
"""

import os
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests")]

from inventory import write_inventory  # noqa: E402
from wgsdn_testkit.playbooks import playbook  # noqa: E402


def render(total):
    """(first run, which also allocates every address and key; a rerun; files written)."""
    with tempfile.TemporaryDirectory() as tmp:
        write_inventory(f"{tmp}/hosts.yml", total)
        times = []
        for _ in range(2):
            run = playbook("-i", f"{tmp}/hosts.yml", ROOT / "playbooks" / "render.yml", "-e", f"wgsdn_render_dir={tmp}/out")
            assert run.returncode == 0, run.out[-3000:]
            times.append(run.seconds)
        files = sum(1 for _ in pathlib.Path(f"{tmp}/out").rglob("*.conf"))
    return times[0], times[1], files


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [10, 100, 500]
    print(f"load average before: {os.getloadavg()[0]:.1f}, forks from ansible.cfg")
    print("| hosts | files rendered | first run, allocating (s) | rerun (s) | rerun per host (ms) |")
    print("|---:|---:|---:|---:|---:|")
    for size in sizes:
        first, rerun, files = render(size)
        print(f"| {size} | {files} | {first:.1f} | {rerun:.1f} | {1000 * rerun / size:.0f} |", flush=True)


if __name__ == "__main__":
    main()
