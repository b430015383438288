"""Benchmark the plan: build + validate + allocate + plan for 100, 1,000 and 10,000 hosts.

Each size runs in a fresh process so peak memory (ru_maxrss) is its own. "cold"
allocates everything (keys made, state written); "warm" re-plans from the
state file, which is what every later run does.

    python bench/plan.py [--stack ipv4|dual|ipv6] [SIZES...]
"""

import json
import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests")]

import wgsdn_testkit  # noqa: E402, F401  (makes this checkout importable as the collection)
from inventory import synthetic  # noqa: E402

from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan  # noqa: E402
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile  # noqa: E402


def measure(total, stack):
    gateways, devices, hostvars = synthetic(total, stack)
    with tempfile.TemporaryDirectory() as tmp:
        state = StateFile(os.path.join(tmp, "state.json"))
        start = time.perf_counter()
        compute_plan(gateways, devices, hostvars, state)
        cold = time.perf_counter() - start
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            plan = compute_plan(gateways, devices, hostvars, state)
            runs.append(time.perf_counter() - start)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "hosts": total,
        "gateways": len(gateways),
        "cold_s": round(cold, 3),
        "warm_s": round(min(runs), 3),
        "peak_rss_mib": round(peak_mib, 1),
        "psks": len(plan["preshared_keys"]),
    }


def main():
    args = sys.argv[1:]
    stack = "ipv4"
    if args[:1] == ["--stack"]:
        stack, args = args[1], args[2:]
    if args[:1] == ["--one"]:
        print(json.dumps(measure(int(args[1]), stack)))
        return
    sizes = [int(a) for a in args] or [100, 1000, 10000]
    print(f"stack: {stack}")
    print("| hosts | gateways | cold plan (s) | warm plan (s) | peak RSS (MiB) |")
    print("|---:|---:|---:|---:|---:|")
    for size in sizes:
        out = subprocess.run([sys.executable, __file__, "--stack", stack, "--one", str(size)], capture_output=True, text=True, check=True).stdout
        r = json.loads(out)
        print(f"| {r['hosts']:,} | {r['gateways']} | {r['cold_s']} | {r['warm_s']} | {r['peak_rss_mib']} |")


if __name__ == "__main__":
    main()
