"""No-op converge: wgsdn.fabric's site.yml (this checkout and main) against githubixx's WireGuard role, same containers, one run.

    flock /tmp/wgsdn-molecule.lock python bench/converge.py [--hosts 6|9] [--reps N] [--githubixx DIR] [--before GITREF] [--mitogen]

Brings up the containers of the topology3 Molecule scenario (6 hosts: 2
gateways, 4 devices) or, with --hosts 9, a full mesh of 6 gateways and 3
devices (Molecule's create/prepare playbooks, so the same image and settings),
converges them once with this checkout's playbooks/site.yml, then times,
alternating, N no-op runs of:

- ``after``: this checkout's site.yml, as a user runs it (a host whose receipt matches runs no role);
- ``after, every role``: the same with ``-e wgsdn_site_full=true`` (every role on every host);
- ``before``: site.yml of GITREF (default ``main``; ``--before ''`` skips it), exported with git archive;
- ``githubixx``: githubixx/ansible-role-wireguard (a local copy: --githubixx
  DIR, never committed) with its defaults and an equivalent full mesh on its own
  interface (wg9, port 51899, 10.99.0.0/24), converged once first. Its
  ``wireguard`` package would pull wireguard-dkms through Recommends (no
  kernel headers in a container), so apt's Recommends are off in the containers,
  and its Raspbian check needs lsb_release (``ansible_facts.lsb.id``), so
  lsb-release is installed first.
- ``after+mitogen`` (with --mitogen): this checkout's site.yml under Mitogen's
  ``mitogen_linear`` strategy, installed from PyPI into a temporary directory
  for the run (never a requirement of the collection). Mitogen replaces only
  the connection types it knows by their short names, so this run's inventory
  says ``ansible_connection: docker`` (Ansible routes that name to
  community.docker.docker when Mitogen is not in use).

Prints one Markdown row per run (wall seconds, CPU seconds of the controller,
tasks and changed per host from the recap), then the medians and the ratio of
``after`` to ``githubixx``, and writes bench/out/converge-HOSTS.json. The containers are removed at the end.
"""

import argparse
import json
import os
import pathlib
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests")]

from wgsdn_testkit.playbooks import converge_reasons, playbook, recap  # noqa: E402

MOLECULE = ROOT / "extensions" / "molecule"


def platforms(count):
    """(scenario name, platforms, host vars) of the measured fabric."""
    if count == 6:
        scenario = yaml.safe_load((MOLECULE / "topology3" / "molecule.yml").read_text())
        # The fabric's hosts only: topology3's FRR router (in no group) and gateway1's external
        # peering with it are left out, as githubixx's role has nothing of the kind.
        hosts = [p for p in scenario["platforms"] if p.get("groups")]
        host_vars = {n: {k: v for k, v in hv.items() if k != "wgsdn_bgp_peers"} for n, hv in scenario["provisioner"]["inventory"]["host_vars"].items()}
        return "topology3", hosts, host_vars
    gateways = [f"sc-gateway{i}" for i in range(1, 7)]
    devices = [f"sc-device{i}" for i in range(1, 4)]
    hosts = [{"name": g, "groups": ["wgsdn_gateways"]} for g in gateways] + [{"name": d, "groups": ["wgsdn_devices"]} for d in devices]
    host_vars = {d: {"wgsdn_uplinks": [gateways[i % 6]]} for i, d in enumerate(devices)}
    return "scalemesh", hosts, host_vars


def molecule_play(name, scenario, hosts):
    """Run Molecule's create.yml / prepare.yml / destroy.yml for ``hosts`` (as Molecule would, with molecule_yml)."""
    with tempfile.TemporaryDirectory() as tmp:
        inventory = pathlib.Path(tmp) / "hosts.yml"
        inventory.write_text(yaml.safe_dump(docker_inventory(hosts, {})))
        extra = pathlib.Path(tmp) / "extra.yml"
        extra.write_text(yaml.safe_dump({"molecule_yml": {"platforms": hosts, "scenario": {"name": scenario}}}))
        run = playbook("-i", inventory, MOLECULE / f"{name}.yml", "-e", f"@{extra}")
        assert run.returncode == 0, run.out[-3000:]


def docker_inventory(hosts, host_vars, extra_vars=None):
    groups = {}
    for host in hosts:
        for group in host["groups"]:
            groups.setdefault(group, {"hosts": {}})["hosts"][host["name"]] = dict(host_vars.get(host["name"], {}))
    connection = {"ansible_connection": "community.docker.docker", "ansible_become_method": "ansible.builtin.su"}  # as Molecule's config.yml
    return {"all": {"vars": {**connection, "wgsdn_network": "10.0.0.0/24", **(extra_vars or {})}, "children": groups}}


def githubixx_inventory(hosts):
    vpn = {}
    for index, host in enumerate(hosts, start=1):
        vpn[host["name"]] = {"wireguard_address": f"10.99.0.{index}/24", "wireguard_endpoint": host["name"]}
    return {
        "all": {
            "vars": {
                "ansible_connection": "community.docker.docker",
                "ansible_become_method": "ansible.builtin.su",
                "wireguard_interface": "wg9",
                "wireguard_port": "51899",
                # No kernel module in these containers (wg-quick falls back to wireguard-go).
                "wireguard_install_kernel_module": False,
            },
            "children": {"vpn": {"hosts": vpn}},
        }
    }


def githubixx_playbook(directory, role):
    roles = directory / "roles"
    roles.mkdir(parents=True, exist_ok=True)
    shutil.copytree(role, roles / "githubixx.ansible_role_wireguard", ignore=shutil.ignore_patterns(".git"))
    path = directory / "githubixx.yml"
    path.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "WireGuard with githubixx's role, as its README shows",
                    "hosts": "vpn",
                    "become": True,
                    "roles": ["githubixx.ansible_role_wireguard"],
                }
            ],
            sort_keys=False,
        )
    )
    return path


def export_collection(ref, directory):
    """``git archive REF`` as ansible_collections/wgsdn/fabric under ``directory``; the collections path."""
    target = directory / "ansible_collections" / "wgsdn" / "fabric"
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return directory


def _cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(*args, **env_overrides):
    cpu = _cpu()
    run = playbook(*args, **env_overrides)
    cpu = _cpu() - cpu
    assert run.returncode == 0, run.out[-4000:]
    rows = recap(run.stdout)
    reasons = converge_reasons(run.stdout)
    return {
        "wall": round(run.seconds, 1),
        "cpu": round(cpu, 1),
        "tasks_per_host": max(r["ok"] + r["skipped"] for r in rows.values()),
        "module_tasks_max": max(r["ok"] for r in rows.values()),
        "changed": sum(r["changed"] for r in rows.values()),
        # site.yml's receipts: how many hosts converged, and why ({reason: hosts}).
        "converged_hosts": len(reasons),
        "why": {why: sorted(h for h, r in reasons.items() if why in r) for why in sorted({w for r in reasons.values() for w in r})},
    }


def mitogen_command(tmp, hosts, host_vars, site):
    """A no-op run of ``site`` under Mitogen's linear strategy (Mitogen pip-installed under ``tmp``)."""
    target = tmp / "mitogen"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", str(target), "mitogen"], check=True)
    inventory = tmp / "mitogen-inventory" / "hosts.yml"
    inventory.parent.mkdir()
    inventory.write_text(yaml.safe_dump(docker_inventory(hosts, host_vars, {"ansible_connection": "docker", "ansible_become_method": "su"})))
    strategy = target / "ansible_mitogen" / "plugins" / "strategy"
    return lambda: timed("-i", inventory, site, ANSIBLE_STRATEGY_PLUGINS=str(strategy), ANSIBLE_STRATEGY="mitogen_linear", PYTHONPATH=str(target))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, choices=[6, 9], default=6)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--githubixx", type=pathlib.Path, help="a local copy of githubixx/ansible-role-wireguard (skipped when absent)")
    parser.add_argument("--before", default="main", help="a git ref to compare with; an empty string skips it")
    parser.add_argument("--mitogen", action="store_true", help="also time this checkout under Mitogen (pip-installed into a temporary directory)")
    args = parser.parse_args()

    scenario, hosts, host_vars = platforms(args.hosts)
    results = {"hosts": args.hosts, "scenario": scenario, "load_before": os.getloadavg()[0], "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        inventory = tmp / "inventory" / "hosts.yml"
        inventory.parent.mkdir()
        inventory.write_text(yaml.safe_dump(docker_inventory(hosts, host_vars)))
        before = export_collection(args.before, tmp / "before") if args.before else None
        molecule_play("create", scenario, hosts)
        try:
            molecule_play("prepare", scenario, hosts)
            site = ROOT / "playbooks" / "site.yml"
            first = timed("-i", inventory, site)
            results["first_converge"] = first
            print(f"first converge (this checkout): {first}", flush=True)
            # "after" is what a user runs (hosts as their receipts say are skipped); "after, every
            # role" is the same checkout with -e wgsdn_site_full=true (every role on every host).
            commands = {
                "after": lambda: timed("-i", inventory, site),
                "after, every role": lambda: timed("-i", inventory, site, "-e", "wgsdn_site_full=true"),
            }
            if before:
                commands["before"] = lambda: timed(
                    "-i",
                    inventory,
                    before / "ansible_collections" / "wgsdn" / "fabric" / "playbooks" / "site.yml",
                    ANSIBLE_COLLECTIONS_PATH=str(before),
                )
            if args.mitogen:
                commands["after+mitogen"] = mitogen_command(tmp, hosts, host_vars, site)
            if args.githubixx:
                for host in hosts:
                    subprocess.run(
                        ["docker", "exec", host["name"], "sh", "-c", "echo 'APT::Install-Recommends \"false\";' > /etc/apt/apt.conf.d/99-bench-norecommends"],
                        check=True,
                    )
                    # Its Raspbian check reads ansible_facts.lsb.id, which a host without lsb_release lacks (an error with ansible-core 2.19).
                    subprocess.run(
                        ["docker", "exec", host["name"], "sh", "-c", "apt-get -qq update && apt-get -qq install -y lsb-release >/dev/null"],
                        check=True,
                    )
                gx_inventory = tmp / "githubixx" / "hosts.yml"
                gx_inventory.parent.mkdir()
                gx_inventory.write_text(yaml.safe_dump(githubixx_inventory(hosts)))
                gx_playbook = githubixx_playbook(tmp / "githubixx", args.githubixx)
                results["githubixx_first_converge"] = timed("-i", gx_inventory, gx_playbook)
                print(f"first converge (githubixx): {results['githubixx_first_converge']}", flush=True)
                commands["githubixx"] = lambda: timed("-i", gx_inventory, gx_playbook)
            print("| rep | run | wall (s) | controller CPU (s) | tasks per host (max) | changed |")
            print("|---:|---|---:|---:|---:|---:|")
            for rep in range(1, args.reps + 1):
                for name, command in commands.items():
                    row = command()
                    results["runs"].append({"rep": rep, "run": name, **row})
                    print(f"| {rep} | {name} | {row['wall']} | {row['cpu']} | {row['tasks_per_host']} | {row['changed']} |", flush=True)
        finally:
            molecule_play("destroy", scenario, hosts)
    results["load_after"] = os.getloadavg()[0]
    medians = {}
    for name in dict.fromkeys(r["run"] for r in results["runs"]):
        medians[name] = statistics.median(r["wall"] for r in results["runs"] if r["run"] == name)
    results["median_wall"] = medians
    if medians.get("githubixx"):
        results["after_over_githubixx"] = round(medians["after"] / medians["githubixx"], 2)
    print(f"median wall (s): {medians}; load average {results['load_before']:.1f} before, {results['load_after']:.1f} after")
    if "after_over_githubixx" in results:
        print(f"no-op after / githubixx (medians): {results['after_over_githubixx']}")
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / f"converge-{args.hosts}.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
