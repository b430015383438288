"""Live scale run: the largest fabric this machine holds, converged, re-converged, verified and weighed.

    flock /tmp/wgsdn-molecule.lock python bench/live_scale.py [--gateways 4] [--reflectors 2] [--devices 20]

Brings up one container per host with Molecule's create/prepare playbooks (the scenario
image and settings): ``ls-gw1``... gateways, the first ``--reflectors`` of them route
reflectors, and ``ls-dev1``... devices, each attached to one edge gateway in turn (or to
the reflectors when there are no edges). Then, with this checkout's playbooks:

- the first ``site.yml`` converge;
- a no-op ``site.yml`` (the receipts skip every role) and one with ``-e wgsdn_site_full=true``;
- ``verify.yml`` (BGP, BFD, routes and the full reachability matrix; again, at most 3 runs,
  when a BFD session flapped under the load, each run printed);
- the memory of every container, by kind of host: the proportional set size (PSS) of its
  processes, read inside it. ``docker stats`` cannot say: systemd in these containers runs in
  the host's cgroup namespace and moves their processes out of Docker's cgroup.

Every site.yml run records which hosts converged and why (site.yml's "Say why a host converges").

Prints a Markdown table, writes bench/out/live-scale.json, and removes the containers.
Not part of ``make test`` (about 15 minutes on 2 cores).
"""

import argparse
import json
import re
import statistics
import subprocess
import tempfile

import yaml
from converge import ROOT, docker_inventory, molecule_play, timed
from wgsdn_testkit.playbooks import playbook


def fabric(gateways, reflectors, devices):
    """(platforms, host vars): reflectors first among the gateways, devices spread over the edges."""
    names = [f"ls-gw{i}" for i in range(1, gateways + 1)]
    edges = names[reflectors:] or names
    hosts = [{"name": n, "groups": ["wgsdn_gateways"]} for n in names]
    host_vars = {n: {"wgsdn_route_reflector": True} for n in names[:reflectors]}
    for i in range(1, devices + 1):
        name = f"ls-dev{i}"
        hosts.append({"name": name, "groups": ["wgsdn_devices"]})
        host_vars[name] = {"wgsdn_uplinks": [edges[(i - 1) % len(edges)]]}
    return hosts, host_vars


def memory_mib(names):
    """{container: MiB}: the sum of the proportional set sizes of the container's processes
    (a page shared by N processes counts 1/N to each, so the sum over containers adds up)."""
    usage = {}
    for name in names:
        rollups = subprocess.run(
            ["docker", "exec", name, "sh", "-c", "cat /proc/[0-9]*/smaps_rollup 2>/dev/null"], capture_output=True, text=True, check=False
        ).stdout
        usage[name] = round(sum(int(kb) for kb in re.findall(r"^Pss:\s+(\d+) kB", rollups, re.M)) / 1024, 1)
    return usage


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateways", type=int, default=4)
    parser.add_argument("--reflectors", type=int, default=2)
    parser.add_argument("--devices", type=int, default=20)
    args = parser.parse_args()
    hosts, host_vars = fabric(args.gateways, args.reflectors, args.devices)
    results = {"gateways": args.gateways, "reflectors": args.reflectors, "devices": args.devices}
    site, verify = ROOT / "playbooks" / "site.yml", ROOT / "playbooks" / "verify.yml"
    with tempfile.TemporaryDirectory() as tmp:
        inventory = f"{tmp}/hosts.yml"
        with open(inventory, "w") as handle:
            yaml.safe_dump(docker_inventory(hosts, host_vars), handle)
        molecule_play("create", "livescale", hosts)
        try:
            molecule_play("prepare", "livescale", hosts)
            results["first_converge"] = timed("-i", inventory, site)
            print(f"first converge: {results['first_converge']['wall']} s", flush=True)
            results["noop"] = timed("-i", inventory, site)
            results["noop_every_role"] = timed("-i", inventory, site, "-e", "wgsdn_site_full=true")
            results["noop_again"] = timed("-i", inventory, site)
            for run in ("first_converge", "noop", "noop_every_role", "noop_again"):
                print(f"{run}: {results[run]['wall']} s, {results[run]['converged_hosts']} hosts converged: {results[run]['why']}", flush=True)
            results["verify_runs"] = []
            for _attempt in range(3):
                run = playbook("-i", inventory, verify, merge_output=True, timeout=1800)
                results["verify_runs"].append({"seconds": round(run.seconds, 1), "rc": run.returncode})
                print(f"verify.yml: rc {run.returncode} in {run.seconds:.1f} s", flush=True)
                if run.returncode == 0:
                    break
                print(run.stdout[-3000:])
            # verify.yml fails unless every BGP and BFD session, route and matrix pair is as planned.
            assert run.returncode == 0, "verify.yml did not pass in 3 runs"
            memory = memory_mib([h["name"] for h in hosts])
            kinds = {"reflector": [n for n in host_vars if host_vars[n].get("wgsdn_route_reflector")]}
            kinds["edge gateway"] = [h["name"] for h in hosts if "wgsdn_gateways" in h["groups"] and h["name"] not in kinds["reflector"]]
            kinds["device"] = [h["name"] for h in hosts if "wgsdn_devices" in h["groups"]]
            results["memory_mib"] = {
                kind: {
                    "min": min(memory[n] for n in names),
                    "median": round(statistics.median(memory[n] for n in names), 1),
                    "max": max(memory[n] for n in names),
                }
                for kind, names in kinds.items()
                if names
            }
            results["memory_mib_total"] = round(sum(memory[h["name"]] for h in hosts), 1)
        finally:
            molecule_play("destroy", "livescale", hosts)
    print(
        "| fabric | first converge (s) | no-op (s) | no-op, every role (s) | no-op again (s) | verify.yml (s) | memory MiB per container, PSS (min / median / max) |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    memory = "; ".join(f"{k} {v['min']} / {v['median']} / {v['max']}" for k, v in results["memory_mib"].items())
    print(
        f"| {args.gateways} gateways ({args.reflectors} reflectors), {args.devices} devices | {results['first_converge']['wall']} | "
        f"{results['noop']['wall']} | {results['noop_every_role']['wall']} | {results['noop_again']['wall']} | {results['verify_runs'][-1]['seconds']} | {memory} |"
    )
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "live-scale.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
