"""Benchmark wgsdn_policy: resolution time and ruleset size for N hosts and R rules, and `nft -f` load time.

The overlay is bench/inventory.py's synthetic dual-stack one; 20 inventory
groups take every 20th device each (so a group's addresses are scattered and
merge into few ranges: the worst case for interval sets); R rules pick 1-3
groups, hosts or prefixes per side and 0-3 ports, with a fixed seed.

    python bench/policy.py [--hosts N] [--rules R] [--nft]

``--nft`` also loads the busiest host's ruleset into a throwaway wgsdn/node
container (Docker, NET_ADMIN) with `nft -f`, first load and reload, and checks it with `nft -c`.
"""

import argparse
import json
import os
import pathlib
import random
import subprocess
import sys
import tempfile
import time

import jinja2

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests")]

import wgsdn_testkit  # noqa: E402, F401  (makes this checkout importable as the collection)
from inventory import synthetic  # noqa: E402

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import policy  # noqa: E402
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan  # noqa: E402
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile  # noqa: E402

PORTS = ["tcp/22", "tcp/80", "tcp/443", "tcp/8000-8099", "udp/53", "udp/137-138", "icmp"]


def scenario(hosts, rules, seed=7):
    gateways, devices, hostvars = synthetic(hosts, "dual")
    groups = {"wgsdn_gateways": gateways, "wgsdn_devices": devices}
    groups.update({f"team{k}": devices[k::20] for k in range(20)})
    rng = random.Random(seed)
    names = [*groups, *rng.sample(devices, 20), "192.168.0.0/16", "fd00:aa::/48"]
    policy_value = {
        "default": "deny",
        "rules": [
            dict(
                {"from": rng.sample(names, rng.randint(1, 3)), "to": rng.sample(names, rng.randint(1, 3))},
                **({"ports": rng.sample(PORTS, n)} if (n := rng.randint(0, 3)) else {}),
            )
            for _ in range(rules)
        ],
    }
    for values in hostvars.values():
        values["wgsdn_policy"] = policy_value
    return gateways, devices, hostvars, groups


def render(ruleset, host):
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(ROOT / "roles" / "policy" / "templates")), keep_trailing_newline=True)
    env.filters["to_json"] = json.dumps
    return env.get_template("wgsdn.nft.j2").render(_policy_ruleset=ruleset, inventory_hostname=host, ansible_managed="bench")


def measure(hosts, rules):
    gateways, devices, hostvars, groups = scenario(hosts, rules)
    with tempfile.TemporaryDirectory() as tmp:
        state = StateFile(os.path.join(tmp, "state.json"))
        compute_plan(gateways, devices, hostvars, state, groups=groups)  # allocate once
        start = time.perf_counter()
        without = compute_plan(gateways, devices, {n: {k: v for k, v in h.items() if k != "wgsdn_policy"} for n, h in hostvars.items()}, state)
        plain = time.perf_counter() - start
        start = time.perf_counter()
        plan = compute_plan(gateways, devices, hostvars, state, groups=groups)
        with_policy = time.perf_counter() - start
    assert without["policy"] is None
    start = time.perf_counter()
    rulesets = {name: policy.ruleset(plan, name) for name in plan["hosts"]}
    per_host = time.perf_counter() - start
    busiest = max(rulesets, key=lambda n: sum(len(s["elements"]) for s in rulesets[n]["sets"]))
    text = render(rulesets[busiest], busiest)
    ruleset = rulesets[busiest]
    return {
        "hosts": hosts,
        "rules": rules,
        "plan_s": round(plain, 3),
        "plan_with_policy_s": round(with_policy, 3),
        "resolution_s": round(with_policy - plain, 3),
        "rulesets_all_hosts_s": round(per_host, 3),
        "busiest_host": busiest,
        "sets": len(ruleset["sets"]),
        "set_elements": sum(len(s["elements"]) for s in ruleset["sets"]),
        "statements": len(ruleset["rules"]) + len(ruleset["control"]),
        "ruleset_bytes": len(text.encode()),
        "text": text,
    }


def nft_load(text):
    """Seconds for `nft -c -f`, a first `nft -f` and a reload, in a throwaway wgsdn/node container."""
    script = (
        'cat > /tmp/wgsdn.nft; t() { s=$(date +%s%N); "$@" >/dev/null || exit 1; echo $(( ($(date +%s%N) - s) / 1000000 )); }; '
        "t nft -c -f /tmp/wgsdn.nft; t nft -f /tmp/wgsdn.nft; t nft -f /tmp/wgsdn.nft; nft list table inet wgsdn | grep -c elements"
    )
    run = subprocess.run(
        ["docker", "run", "--rm", "-i", "--cap-add", "NET_ADMIN", "--entrypoint", "/bin/bash", "wgsdn/node:bookworm", "-c", script],
        input=text,
        capture_output=True,
        text=True,
        check=True,
    )
    check_ms, first_ms, reload_ms, sets = run.stdout.split()
    return {"nft_check_ms": int(check_ms), "nft_load_ms": int(first_ms), "nft_reload_ms": int(reload_ms), "sets_loaded": int(sets)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--nft", action="store_true")
    args = parser.parse_args()
    for hosts in args.hosts:
        result = measure(hosts, args.rules)
        text = result.pop("text")
        if args.nft:
            result.update(nft_load(text))
        print(json.dumps(result))


if __name__ == "__main__":
    main()
