#!/usr/bin/env python3
"""Failover and failback of a dual-homed device, measured on the live `dualhomed` scenario.

Topology (extensions/molecule/dualhomed): device1 10.0.0.11 attached to gateway1
10.0.0.1 and gateway2 10.0.0.2; device2 10.0.0.12 behind gateway3 10.0.0.3.

Per repetition:
1. wait for the steady state (every BGP session Established, device1's overlay
   route with both next hops, gateway3's ECMP route to device1);
2. failover: a 10 ms ping stream (`fping -l -p 10 -D` inside device1, to device2)
   while the gateway device1's traffic leaves through is `docker pause`d:
   the longest gap between replies;
3. failback: a second stream runs while that gateway is unpaused: time until
   everything is back (BGP Established everywhere, both next hops on device1,
   ECMP on gateway3) and the packets lost meanwhile.

Devices learn their routes from their gateways over BGP (bird_device_bgp), so
device1 uses gateway1 again only once gateway1 announces device2's address,
i.e. once gateway1's own BGP session with gateway3 is back.

Usage: bench/failover.sh (brings the scenario up, runs this, tears it down), or
`python3 bench/failover.py --reps 3` with the scenario already converged.
Results: a table on stdout and JSON in bench/out/failover.json.
"""

import argparse
import json
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))

from wgsdn_testkit import bird
from wgsdn_testkit.docker import docker, docker_exec
from wgsdn_testkit.ping import ping_stream_stats, start_ping_stream

DUAL, FAR = "dh-device1", "dh-device2"
FAR_IP, DUAL_IP = "10.0.0.12", "10.0.0.11"
GATEWAYS = {"gateway1": "dh-gateway1", "gateway2": "dh-gateway2", "gateway3": "dh-gateway3"}
FAR_GATEWAY = "dh-gateway3"


def bgp_established(container):
    return bool(bird.all_established(bird.parse_bgp_states(docker_exec(container, "birdc show protocols all", check=False))))


def nexthops(container, prefix):
    return docker_exec(container, f"ip -4 route show exact {prefix}").count("nexthop")


def steady():
    return all(bgp_established(g) for g in GATEWAYS.values()) and nexthops(DUAL, f"{FAR_IP}/32") == 2 and nexthops(FAR_GATEWAY, f"{DUAL_IP}/32") == 2


def wait(what, check, timeout=120.0, interval=0.05):
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(interval)
    return time.monotonic() - start


def uplink_in_use():
    route = docker_exec(DUAL, f"ip route get {FAR_IP}")
    return GATEWAYS[re.search(r"dev wg-(\S+)", route).group(1)]


def stream_stats(proc):
    stats = ping_stream_stats(proc, timeout=300)
    return {"sent": stats["sent"], "received": stats["received"], "longest_gap_ms": round(stats["longest_gap_ms"], 1)}


def repetition(pause_seconds):
    wait("steady state", steady, timeout=180, interval=0.5)
    victim = uplink_in_use()

    # Failover: the stream runs 2 s, the gateway in use dies, the stream runs on.
    stream = start_ping_stream(DUAL, FAR_IP, int(2 + pause_seconds))
    time.sleep(2)
    docker("pause", victim)
    try:
        failover = stream_stats(stream)
        rerouted_via = uplink_in_use()
        # Failback: a fresh stream starts 1 s before the unpause and runs 15 s.
        stream = start_ping_stream(DUAL, FAR_IP, 16)
        time.sleep(1)
    finally:
        t0 = time.monotonic()
        docker("unpause", victim)
    marks = {}
    while time.monotonic() - t0 < 14:
        now = round(time.monotonic() - t0, 2)
        if "device_both_uplinks_s" not in marks and nexthops(DUAL, f"{FAR_IP}/32") == 2:
            marks["device_both_uplinks_s"] = now
        if "bgp_established_s" not in marks and all(bgp_established(g) for g in GATEWAYS.values()):
            marks["bgp_established_s"] = now
        if "far_gateway_ecmp_s" not in marks and nexthops(FAR_GATEWAY, f"{DUAL_IP}/32") == 2:
            marks["far_gateway_ecmp_s"] = now
        if len(marks) == 3:
            break
        time.sleep(0.05)
    failback = stream_stats(stream)
    recovered = max(marks.values()) if len(marks) == 3 else None
    return {
        "paused": victim,
        "rerouted_via": rerouted_via,
        "failover_gap_ms": failover["longest_gap_ms"],
        "failover_lost": failover["sent"] - failover["received"],
        "failback_recovered_s": recovered,
        **marks,
        "failback_lost": failback["sent"] - failback["received"],
        "failback_longest_gap_ms": failback["longest_gap_ms"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--pause", type=float, default=5.0, help="seconds the gateway stays paused")
    parser.add_argument(
        "--settle",
        type=float,
        default=65.0,
        help="seconds between repetitions: BIRD doubles the BGP restart delay for errors closer together than"
        " `error forget time` (60 s), so back-to-back repetitions would measure that dampening, not a failover",
    )
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out", "failover.json"))
    args = parser.parse_args()

    bfd = docker_exec(GATEWAYS["gateway1"], "cat /etc/bird/bird.d/bfd.conf", check=False)
    timers = dict(re.findall(r"(min rx interval|min tx interval|multiplier) (\d+)", bfd))
    results = []
    for i in range(args.reps):
        if i:
            time.sleep(args.settle)
        r = repetition(args.pause)
        results.append(r)
        print(f"rep {i + 1}: " + ", ".join(f"{k}={v}" for k, v in r.items()), flush=True)

    def summary(key):
        values = [r[key] for r in results if r[key] is not None]
        return {"min": min(values), "median": statistics.median(values), "max": max(values)} if values else None

    report = {
        "bfd_timers": timers,
        "repetitions": results,
        "summary": {k: summary(k) for k in ("failover_gap_ms", "failback_recovered_s", "failback_lost")},
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report["summary"], indent=2))
    ok = all(r["failover_gap_ms"] < 500 and r["failback_lost"] == 0 and (r["failback_recovered_s"] or 99) < 5 for r in results)
    print("targets (gap < 500 ms, failback < 5 s with zero loss):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
