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
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from inventory import write_inventory  # noqa: E402


def render(total):
    """(first run, which also allocates every address and key; a rerun; files written)."""
    with tempfile.TemporaryDirectory() as tmp:
        write_inventory(f"{tmp}/hosts.yml", total)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
        command = [
            str(pathlib.Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            f"{tmp}/hosts.yml",
            str(ROOT / "playbooks" / "render.yml"),
            "-e",
            f"wgsdn_render_dir={tmp}/out",
        ]
        times = []
        for _ in range(2):
            start = time.perf_counter()
            subprocess.run(command, env=env, check=True, capture_output=True)
            times.append(time.perf_counter() - start)
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
