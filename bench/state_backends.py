"""Allocation against each state backend, in one run: the state file (plaintext and vault-encrypted) and PostgreSQL.

For each size (default 1,000 hosts, the synthetic overlay of bench/inventory.py): "cold" plans an
empty state (every address and key allocated and written), "warm" re-plans an unchanged state (a
no-op: read, nothing written), "one more" adds one host. Each figure is the best of REPS runs of
compute_plan, the whole planning step with its store. PostgreSQL runs in a private cluster started
for the benchmark (tests/wgsdn_testkit/postgres.py, Debian's server; TCP on 127.0.0.1 with a
password, as a controller connects), or the one $WGSDN_BENCH_DSN names.

    python bench/state_backends.py [--reps N] [SIZES...]
"""

import argparse
import os
import pathlib
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests")]

import wgsdn_testkit  # noqa: E402, F401  (makes this checkout importable as the collection)
from ansible.parsing.vault import VaultLib, VaultSecret, is_encrypted  # noqa: E402
from inventory import synthetic  # noqa: E402
from wgsdn_testkit.postgres import Cluster  # noqa: E402

from ansible_collections.wgsdn.fabric.plugins.plugin_utils.service import compute_plan  # noqa: E402
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import StateFile  # noqa: E402
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state_pg import StatePostgres  # noqa: E402

VAULT = VaultLib([("default", VaultSecret(b"bench secret"))])


def vault_codec():
    return VAULT.encrypt, lambda raw: VAULT.decrypt(raw).decode()


BACKENDS = {
    "file": lambda where, n: StateFile(os.path.join(where, f"plain-{n}.json")),
    "file, vault": lambda where, n: StateFile(os.path.join(where, f"vault-{n}.json"), *vault_codec(), encoded=is_encrypted),
    "postgresql": lambda where, n: StatePostgres(where, vault_codec(), 60),
}


def measure(name, make, where, size, reps):
    gateways, devices, hostvars = synthetic(size)
    more = f"dev{len(devices)}"
    grown = {**hostvars, more: dict(hostvars[devices[1]])}  # one uplink, no subnet
    figures = {"cold": [], "warm": [], "one more": []}
    for rep in range(reps):
        store = make(where(rep), f"{size}-{rep}")
        for phase, devs, variables in (("cold", devices, hostvars), ("warm", devices, hostvars), ("one more", [*devices, more], grown)):
            start = time.perf_counter()
            compute_plan(gateways, devs, variables, store)
            figures[phase].append(time.perf_counter() - start)
    return {phase: min(values) for phase, values in figures.items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("sizes", nargs="*", type=int, default=[1000])
    args = parser.parse_args()
    cluster = None
    dsn = os.environ.get("WGSDN_BENCH_DSN")
    if not dsn:
        cluster = Cluster.start()
        dsn = cluster.dsn
    schemas = iter(range(1_000_000))
    try:
        with tempfile.TemporaryDirectory() as tmp:

            def new_schema(_rep):
                schema = f"bench{next(schemas)}"
                if cluster:
                    cluster.psql(f"CREATE SCHEMA {schema} AUTHORIZATION wgsdn")
                else:
                    import psycopg  # noqa: PLC0415

                    with psycopg.connect(dsn, autocommit=True) as connection:
                        connection.execute(f"CREATE SCHEMA {schema}")
                return f"{dsn} options=-csearch_path={schema}"

            print(f"best of {args.reps} runs each; seconds; ratio: postgresql / the file backend of the same column")
            print("| hosts | backend | cold (s) | warm, no-op (s) | one more host (s) |")
            print("|---:|---|---:|---:|---:|")
            for size in args.sizes:
                results = {}
                for name, make in BACKENDS.items():
                    where = new_schema if name == "postgresql" else (lambda _rep: tmp)
                    results[name] = measure(name, make, where, size, args.reps)
                    r = results[name]
                    print(f"| {size:,} | {name} | {r['cold']:.3f} | {r['warm']:.3f} | {r['one more']:.3f} |")
                for base in ("file", "file, vault"):
                    ratios = " | ".join(f"{results['postgresql'][p] / results[base][p]:.2f}x" for p in ("cold", "warm", "one more"))
                    print(f"| {size:,} | postgresql / {base} | {ratios} |")
    finally:
        if cluster:
            cluster.stop()


if __name__ == "__main__":
    main()
