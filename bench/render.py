"""Benchmark playbooks/render.yml: wall time for 10, 100 and 500 hosts (touches no host).

    python bench/render.py [SIZES...]

Each size renders a synthetic routed overlay (bench/inventory.py) into a
temporary directory with the default forks; the per-host column shows whether
the cost per host stays flat as the inventory grows.
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
    with tempfile.TemporaryDirectory() as tmp:
        write_inventory(f"{tmp}/hosts.yml", total)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
        # Allocate first, so the timing is the render itself, as on every run after the first.
        command = [
            str(pathlib.Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            f"{tmp}/hosts.yml",
            str(ROOT / "playbooks" / "render.yml"),
            "-e",
            f"wgsdn_render_dir={tmp}/out",
        ]
        subprocess.run(command, env=env, check=True, capture_output=True)
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        elapsed = time.perf_counter() - start
        files = sum(1 for _ in pathlib.Path(f"{tmp}/out").rglob("*.conf"))
    return elapsed, files


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [10, 100, 500]
    print("| hosts | files rendered | wall time (s) | per host (ms) |")
    print("|---:|---:|---:|---:|")
    for size in sizes:
        elapsed, files = render(size)
        print(f"| {size} | {files} | {elapsed:.1f} | {1000 * elapsed / size:.0f} |")


if __name__ == "__main__":
    main()
