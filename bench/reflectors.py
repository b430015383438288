"""Route reflectors vs a full mesh, simulated: BIRD in network namespaces over veth pairs.

One command (from the repository root, with the project's venv):

    python bench/reflectors.py [--sizes 20,50,100] [--designs mesh,rr] [--prefixes 10000]

For every size and design this script builds the overlay with the collection's
own plan (``service.compute_plan``: N gateways, the first two with
``wgsdn_route_reflector: true`` in the ``rr`` design) and renders each gateway's
``bird.conf`` and ``bfd.conf`` with the roles' own templates and defaults (as
the template module does: Jinja2 with trim_blocks). The device prefixes are
``wgsdn_subnets`` of the gateways (``--prefixes`` /32s spread evenly): announced
as each gateway's own routes and listed in every gateway's origin filter, the
same BGP load as that many devices (devices themselves would need WireGuard
next hops the simulation does not have). Then ONE container of the
wgsdn/node:bookworm image (bird2 inside, nothing installed on the host) runs
``bench/reflectors_sim.py``: a namespace per gateway, a veth pair per link of
the plan (named and addressed as the WireGuard links are), one BIRD per
namespace, and the measurements. Results: bench/reflectors-results.json and the
graph bench/reflectors.png.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import jinja2
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".cache" / "collections"))

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import topology  # noqa: E402
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan  # noqa: E402
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile  # noqa: E402

IMAGE = "wgsdn/node:bookworm"
REFLECTORS = 2
# BFD in the simulation: 200 ms x 5 = 1 s detection (the role's 100 ms x 5 on 4,950 sessions
# would be 99,000 packets per second on 2 cores); the same for every run, so runs compare.
BFD = {"bfd_min_rx_interval": 200, "bfd_min_tx_interval": 200, "bfd_multiplier": 5}


def inventory(size, design, prefixes):
    gateways = [f"g{i}" for i in range(1, size + 1)]
    hostvars = {g: {"wgsdn_network": "10.0.0.0/16"} for g in gateways}
    if design == "rr":
        for g in gateways[:REFLECTORS]:
            hostvars[g]["wgsdn_route_reflector"] = True
    base = 172 << 24 | 16 << 16  # 172.16.0.0/12: the device prefixes
    for i in range(prefixes):
        value = base + i
        hostvars[gateways[i % size]].setdefault("wgsdn_subnets", []).append(f"{value >> 24}.{value >> 16 & 255}.{value >> 8 & 255}.{value & 255}/32")
    return gateways, hostvars


def render_env(role):
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(ROOT / "roles" / role / "templates")), trim_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined
    )
    defaults = yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text())
    return env, defaults


def build(size, design, prefixes, out):
    """Plan and render one fabric into ``out``; returns the topology the simulator reads."""
    gateways, hostvars = inventory(size, design, prefixes)
    start = time.monotonic()
    plan = compute_plan(gateways, [], hostvars, StateFile(str(out / "state.json")))
    plan_s = time.monotonic() - start
    bird_env, bird_defaults = render_env("bird")
    bfd_env, bfd_defaults = render_env("bfd")
    bird_t, bfd_t = bird_env.get_template("bird.conf.j2"), bfd_env.get_template("bfd.conf.j2")
    start = time.monotonic()
    nodes = []
    for name in gateways:
        conf_dir = out / name
        (conf_dir / "bird.d").mkdir(parents=True)
        settings = topology.bird_settings(plan, name)
        common = {"ansible_managed": "wgsdn bench", "inventory_hostname": name}
        bird_vars = dict(bird_defaults, bird_include_dir=f"/bench/{name}/bird.d")
        (conf_dir / "bird.conf").write_text(bird_t.render(**bird_vars, _bird_settings=settings, **common))
        (conf_dir / "bird.d" / "bfd.conf").write_text(bfd_t.render(**dict(bfd_defaults, **BFD), _bfd_settings=settings, **common))
        # The links as wg_interfaces lays them out (without its peer sections: their AllowedIPs merge
        # every subnet of the overlay once per peer, which is the slow part at 10,000 prefixes).
        hosts = plan["hosts"]
        links = [
            {"ifname": topology.link_interface(hosts[peer]["link_name"]), "local": hosts[name]["address"], "peer": hosts[peer]["address"]}
            for peer in hosts[name]["neighbours"]
        ]
        nodes.append({"name": name, "links": links, "reflector": plan["hosts"][name].get("route_reflector", False)})
    render_s = time.monotonic() - start
    pairs = [[link["a"], link["b"]] for link in plan["links"]]
    ifname = {name: topology.link_interface(plan["hosts"][name]["link_name"]) for name in gateways}
    victim = gateways[-1]  # an edge gateway in both designs
    own = len(hostvars[victim].get("wgsdn_subnets", [])) + 1
    return {
        "size": size,
        "design": design,
        "prefixes": prefixes,
        "nodes": nodes,
        "pairs": pairs,
        "ifname": ifname,
        "expected_networks": size + prefixes,
        "victim": victim,
        "victim_networks": own,
        "sessions": len(pairs),
        "plan_s": round(plan_s, 2),
        "render_s": round(render_s, 2),
        "warnings": plan["warnings"],
    }


def simulate(work, timeout):
    """Run the simulator in one container; returns its JSON result."""
    name = f"wgsdn-bench-rr-{os.getpid()}"
    cmd = [
        "docker",
        "run",
        "--rm",
        "--name",
        name,
        "--network",
        "none",
        *("--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN", "--cap-add", "NET_RAW", "--cap-add", "NET_BROADCAST"),
        *("--security-opt", "apparmor=unconfined", "--security-opt", "seccomp=unconfined"),
        *("-v", f"{work}:/bench", "-v", f"{ROOT / 'bench' / 'reflectors_sim.py'}:/sim.py:ro"),
        IMAGE,
        "python3",
        "/sim.py",
        "/bench/topology.json",
        str(timeout),
    ]
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout * 3 + 300, check=False)
    except subprocess.TimeoutExpired:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
        return {"error": "the container ran past its time limit and was removed"}
    sys.stderr.write(run.stderr[-3000:])
    lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {"error": f"no result (rc {run.returncode})"}


def plot(results, path):
    import matplotlib  # noqa: PLC0415 - only the graph needs it (pip install matplotlib)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    panels = [
        ("sessions", "BGP sessions (= BFD sessions, links)"),
        ("memory_mib", "BIRD memory, all instances (MiB RSS)"),
        ("converge_s", "converge after start (s)"),
        ("withdraw_s", "withdraw a dead gateway's prefixes (s)"),
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(18, 4.2))
    for ax, (key, title) in zip(axes, panels, strict=True):
        for design, label, style in (("mesh", "full mesh", "o-"), ("rr", f"{REFLECTORS} route reflectors", "s-")):
            points = [(r["size"], r[key]) for r in results if r["design"] == design and r.get(key) is not None]
            if points:
                ax.plot(*zip(*points, strict=True), style, label=label)
            for r in results:
                measured = key != "withdraw_s" or r.get("converge_s") is not None  # no withdrawal without convergence
                if r["design"] == design and r.get(key) is None and r.get("error") and r.get("cap_s") and measured:
                    # Not converged (or not withdrawn) within the cap: drawn at the cap, hollow.
                    ax.plot([r["size"]], [r["cap_s"]], style[0], mfc="none", color=ax.lines[-1].get_color() if points else None)
                    ax.annotate(f"> {r['cap_s']} s cap", (r["size"], r["cap_s"]), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("gateways")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"BIRD 2.0.12 in network namespaces, {results[0]['prefixes']:,} device prefixes, one 2-core machine", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20,50,100")
    parser.add_argument("--designs", default="mesh,rr")
    parser.add_argument("--prefixes", type=int, default=10000)
    parser.add_argument("--timeout", type=int, default=600, help="seconds each phase (converge, withdraw) may take")
    parser.add_argument("--results", default=str(ROOT / "bench" / "reflectors-results.json"))
    parser.add_argument("--graph", default=str(ROOT / "bench" / "reflectors.png"))
    args = parser.parse_args()
    results = json.loads(pathlib.Path(args.results).read_text()) if pathlib.Path(args.results).exists() else []
    for size in [int(s) for s in args.sizes.split(",")]:
        for design in args.designs.split(","):
            with tempfile.TemporaryDirectory(prefix="wgsdn-bench-rr-") as tmp:
                work = pathlib.Path(tmp)
                os.chmod(work, 0o755)
                spec = build(size, design, args.prefixes, work)
                (work / "topology.json").write_text(json.dumps(spec))
                print(f"{design} {size} gateways: {spec['sessions']} sessions, plan {spec['plan_s']} s, render {spec['render_s']} s", flush=True)
                outcome = simulate(work, args.timeout)
            result = {k: spec[k] for k in ("size", "design", "prefixes", "sessions", "plan_s", "render_s", "warnings")}
            result.update(outcome, cap_s=args.timeout)
            print(json.dumps(result), flush=True)
            results = [r for r in results if (r["size"], r["design"], r["prefixes"]) != (size, design, args.prefixes)] + [result]
            results.sort(key=lambda r: (r["design"], r["size"]))
            pathlib.Path(args.results).write_text(json.dumps(results, indent=1) + "\n")
    plot([r for r in results if r["prefixes"] == args.prefixes], args.graph)
    print(f"wrote {args.results} and {args.graph}")


if __name__ == "__main__":
    main()
