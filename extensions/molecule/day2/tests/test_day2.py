"""Day-2 operations on a live routed fabric, in the order an administrator meets them.

gateway1 10.0.0.1 and gateway2 10.0.0.2 serve device1 .11 (gateway1), device2 .12
(gateway2) and device3 .13 (both). They are edge gateways: eBGP + BFD with the
route reflectors rr1 .3 and rr2 .4 only (which mesh with each other), so traffic
between them crosses a reflector. d2-client .21 is an
unmanaged client of gateway1 (group wgsdn_clients): Ansible never touches it; it
is configured by hand from the file playbooks/clients.yml exports. d2-spare is in
no wgsdn group until inventory/spare.yml adds it. The tests run in file order,
each leaving the fabric as the inventory says; measurements are printed at the end.
"""

import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import ops
import pytest
from wgsdn_testkit import fabric, ping, scenario
from wgsdn_testkit.docker import docker, docker_exec, exec_all
from wgsdn_testkit.ping import PingStream
from wgsdn_testkit.playbooks import recap

GW1, GW2 = "d2-gateway1", "d2-gateway2"
RR1, RR2 = "d2-rr1", "d2-rr2"
DEV1, DEV2, DEV3 = "d2-device1", "d2-device2", "d2-device3"
CLIENT, SPARE = "d2-client", "d2-spare"
MANAGED = [GW1, GW2, RR1, RR2, DEV1, DEV2, DEV3]
ADDRESS = {
    GW1: "10.0.0.1",
    GW2: "10.0.0.2",
    RR1: "10.0.0.3",
    RR2: "10.0.0.4",
    DEV1: "10.0.0.11",
    DEV2: "10.0.0.12",
    DEV3: "10.0.0.13",
    CLIENT: "10.0.0.21",
    SPARE: "10.0.0.14",
}
BFD_PEERS = {
    GW1: ["10.0.0.3", "10.0.0.4", "10.0.0.11", "10.0.0.13"],
    GW2: ["10.0.0.3", "10.0.0.4", "10.0.0.12", "10.0.0.13"],
    RR1: ["10.0.0.1", "10.0.0.2", "10.0.0.4"],
    RR2: ["10.0.0.1", "10.0.0.2", "10.0.0.3"],
    DEV1: ["10.0.0.1"],
    DEV2: ["10.0.0.2"],
    DEV3: ["10.0.0.1", "10.0.0.2"],
}


ATTACHED = {GW1: 2, GW2: 2}  # devices per gateway (d2-device3 on both)

# Packets of a 10 ms stream a change may lose and still count as hitless: most runs lose
# none; one clean-clone run of an add lost 2 in a row (20 ms, cause not found), which a
# user would not see and a failed make-before-break (a whole handshake, 500) dwarfs.
# The figures of every run are printed with the measurements and kept in bench/README.md.
HICCUP = 3


def sessions_up(h, name):
    """Every BGP session Established, and on gateways at least one per attached device.

    A gateway has one passive session per attached device (dev_<device>); the
    session of a device that is being added or removed may be listed and not
    Established while the fabric changes, so only the count of attached devices
    is required of them.
    """
    states = fabric.bgp_states(h)
    fixed = {p: s for p, s in states.items() if not p.startswith("dev_")}
    dynamic = [s for p, s in states.items() if p.startswith("dev_")]
    return all(s == "Established" for s in fixed.values()) and dynamic.count("Established") >= ATTACHED.get(name, 0) and states


def steady(hosts=MANAGED, timeout=90):
    """Every BGP session Established and every BFD session Up on ``hosts``, every managed host reachable."""
    for name in hosts:
        h = scenario.host(name)
        fabric.wait_for(f"BGP Established on {name}", lambda h=h, n=name: sessions_up(h, n), timeout=timeout, interval=0.5)
        fabric.wait_for(f"BFD Up on {name}", lambda h=h, n=name: fabric.all_bfd_up(h, BFD_PEERS[n]), timeout=timeout, interval=0.5)
    for name in hosts:
        targets = [ADDRESS[o] for o in MANAGED if o != name]
        fabric.wait_for(f"{name} reaching every managed host", lambda n=name, t=targets: ping.ping_all(scenario.host(n), t) == dict.fromkeys(t, 0), timeout=30)


def snapshots(hosts=MANAGED):
    return {name: (ops.wg_snapshot(name), ops.config_digests(name)) for name in hosts}


@pytest.fixture(scope="module", autouse=True)
def converged():
    ops.read_state()
    steady()
    yield
    print("\nMEASUREMENTS " + " ".join(f"{k}={v}" for k, v in ops.MEASUREMENTS.items()))


# --- 8. Diagram --------------------------------------------------------------


def test_diagram_is_drawn_from_the_inventory():
    out = Path(tempfile.mkdtemp(prefix="wgsdn-diagram-"))
    run = ops.playbook("diagram", "-e", f"wgsdn_diagram_dir={out}", record="diagram_s")
    assert run.returncode == 0, run.out[-3000:]
    dot, md = (out / "topology.dot").read_text(), (out / "topology.md").read_text()
    assert dot.startswith("graph wgsdn {"), dot
    assert '"d2-gateway1" -- "d2-gateway2"' not in dot, dot  # edges peer with the reflectors only
    for a, b in [(GW1, RR1), (GW1, RR2), (GW2, RR1), (GW2, RR2), (RR1, RR2)]:
        assert f'"{a}" -- "{b}" [style=bold' in dot, (a, b)  # the BGP links
    assert "route reflectors d2-rr1, d2-rr2" in dot and dot.count("peripheries=2") == 2, dot
    for name in [*MANAGED, CLIENT]:
        assert f'"{name}" [' in dot and ADDRESS[name] in dot, name
    assert SPARE not in dot
    for device, gateway in [(DEV1, GW1), (DEV2, GW2), (DEV3, GW1), (DEV3, GW2), (CLIENT, GW1)]:
        assert f'"{device}" -- "{gateway}"' in dot, (device, gateway)
    assert "```mermaid" in md and "n_d2_gateway1 ==eBGP + BFD=== n_d2_rr1" in md, md
    assert "Route reflectors: d2-rr1, d2-rr2" in md, md
    assert (out / "topology.svg").exists() == bool(shutil.which("dot"))
    shutil.rmtree(out)


# --- 6. Preshared keys -------------------------------------------------------


def test_every_peer_has_its_own_preshared_key():
    state = ops.read_state()
    by_key = {ops.public_key(h["private_key"]): n for n, h in state["hosts"].items()}
    live = {}
    for name in MANAGED:
        for line in docker_exec(name, "wg show all preshared-keys").splitlines():
            iface, peer, psk = line.split()
            assert psk != "(none)", f"{name} {iface}: peer {by_key.get(peer)} has no preshared key"
            live.setdefault(frozenset((name, by_key[peer])), []).append(ops.digest(psk))
    # The state keeps departed hosts' entries (d2-spare after its removal): only current pairs count.
    current = {p: k for p, k in state["preshared_keys"].items() if SPARE not in p.split("|")}
    pairs = {frozenset(p.split("|")) for p in current}
    expected = {
        frozenset(p) for p in [(GW1, RR1), (GW1, RR2), (GW2, RR1), (GW2, RR2), (RR1, RR2), (DEV1, GW1), (DEV2, GW2), (DEV3, GW1), (DEV3, GW2), (CLIENT, GW1)]
    }
    assert set(live) == expected == pairs
    for pair, digests in live.items():
        # Both ends of a pair hold the same key (the client's end is its exported file).
        assert len(digests) == (1 if CLIENT in pair else 2) and len(set(digests)) == 1, pair
    assert len({d[0] for d in live.values()}) == len(expected), "a preshared key is shared by two pairs"
    assert {ops.digest(k) for k in current.values()} == {d[0] for d in live.values()}


# --- 1. verify.yml -------------------------------------------------------------


def verify_until_it_passes(attempts=3):
    """verify.yml, again while it fails (a BFD session may flap on a loaded 2-core box);
    the attempts it took are recorded with the measurements."""
    tries = 0
    while True:
        tries += 1
        run = ops.playbook("verify")
        if run.returncode == 0 or tries == attempts:
            break
        steady(timeout=60)
    ops.MEASUREMENTS["verify_attempts"] = ops.MEASUREMENTS.get("verify_attempts", "") + str(tries)
    assert run.returncode == 0, run.out[-4000:]
    return run


def test_verify_passes_on_the_converged_fabric():
    run = verify_until_it_passes()
    ops.MEASUREMENTS["verify_s"] = round(run.seconds, 1)
    for session in (
        "bgp_d2_rr1 (d2-rr1 10.0.0.3)",
        "bgp_d2_rr2 (d2-rr2 10.0.0.4)",
        "bgp_d2_gateway1 (d2-gateway1 10.0.0.1)",
        "wgsdn_uplink2 (d2-gateway2 10.0.0.2)",
    ):
        assert f"BGP {session}: Established" in run.out, session
    for peer in BFD_PEERS[GW1]:
        assert f"BFD {peer} on" in run.out
    assert "peer d2-device1: handshake " in run.out and "peer d2-rr2: handshake " in run.out
    assert "peer d2-client: no handshake (unmanaged client, offline?)" in run.out
    assert "reaches 6 of 6 other hosts" in run.out
    assert run.out.count("edge gateway: BGP with the route reflectors only (d2-rr1, d2-rr2)") == 2
    assert run.out.count("route reflector: BGP and BFD with every gateway") == 2
    # The matrix: every managed host reaches every other; the client (last column) is offline.
    rows = {}
    for line in run.stdout.splitlines():
        m = re.match(r"^\s*-\s*'?\s*(d2-\S+)((?:\s+(?:ok|XX|\?|-))+)\s*'?\s*$", line)
        if m:
            rows[m.group(1)] = m.group(2).split()
    assert set(rows) == {*MANAGED, CLIENT}, rows
    for i, name in enumerate(MANAGED):
        assert rows[name][:-1] == [*["ok"] * i, "-", *["ok"] * (len(MANAGED) - i - 1)], (name, rows[name])
        # The offline client is not reached: XX, or ? when the host's sweep printed no line
        # for it (seen once, on d2-rr1 in a clean-clone run; cause not found, see bench/README.md).
        assert rows[name][-1] in ("XX", "?"), (name, rows[name])


# --- 2. --check --diff -----------------------------------------------------------


def test_check_diff_shows_an_inventory_change_without_applying_it():
    before = snapshots()
    state_before = ops.STATE.read_bytes()
    # Without -vvv (214 s of a 2-core CI with it): faults' test_site_at_vvv_with_diff_prints_no_key holds -vvv --diff to no key.
    run = ops.playbook("site", "--check", "--diff", inventories=["subnet"], record="check_diff_change_s")
    assert run.returncode == 0, run.out[-3000:]
    # gateway1's peer section for device1 gains the LAN; the keys around it stay hidden.
    assert "+AllowedIPs = 10.0.0.11/32, 192.168.51.0/24" in run.out, run.out[-3000:]
    assert "PresharedKey = (hidden)" in run.out
    assert "192.168.51.0/24" in run.out.split("bird.conf", 1)[-1]  # BIRD's diff too
    changed = {n for n, h in recap(run.stdout).items() if h["changed"]}
    assert {GW1, GW2, DEV2, DEV3} <= changed, changed
    # Nothing applied: same configs, same live peers, same state, no route to the LAN.
    assert snapshots() == before
    assert ops.STATE.read_bytes() == state_before
    for name in MANAGED:
        assert "192.168.51." not in docker_exec(name, "ip -4 route")


# --- 3. --limit ------------------------------------------------------------------


def test_limit_changes_only_the_hosts_it_names():
    before = snapshots()
    run = ops.playbook("site", "--limit", GW1, inventories=["subnet"], record="limit_gateway1_s")
    assert run.returncode == 0, run.out[-3000:]
    assert set(recap(run.stdout)) == {GW1}
    after = snapshots()
    for name in MANAGED:
        if name != GW1:
            assert after[name] == before[name], f"{name} changed by a run limited to {GW1}"
    # gateway1 applied the change and kept every peer, including the client and gateway2.
    assert set(after[GW1][0]) == set(before[GW1][0])
    dev1_key = ops.public_key(ops.read_state()["hosts"][DEV1]["private_key"])
    assert sorted(ops.allowed_ips(GW1, "wg0")[dev1_key]) == ["10.0.0.11/32", "192.168.51.0/24"]
    steady(timeout=30)
    # Back to the inventory, again touching gateway1 alone.
    run = ops.playbook("site", "--limit", GW1)
    assert run.returncode == 0 and set(recap(run.stdout)) == {GW1}, run.out[-3000:]
    assert snapshots() == before
    steady(timeout=30)


# --- 4. Hitless changes --------------------------------------------------------------


def departure_leftovers(name, address):
    """What a departed host left on the managed hosts: BIRD protocols named after it, BFD
    sessions, kernel routes (IPv4 and IPv6), WireGuard AllowedIPs and nftables entries with its
    address, and device sessions (dev_*) that are not Established. ``{host: [findings]}``."""
    symbol, sep = name.replace("-", "_"), "=====wgsdn====="
    script = f"birdc show protocols; echo {sep}; birdc show bfd sessions; echo {sep}; ip -4 route; ip -6 route; echo {sep}; wg show all allowed-ips; echo {sep}; nft list table inet wgsdn 2>/dev/null"
    found = {}
    for host, (_rc, out) in exec_all(dict.fromkeys(MANAGED, script)).items():
        parts = out.split(sep)
        assert len(parts) == 5, f"{host}: {out[-500:]}"
        protocols, bfd, routes, allowed, nft = (p.splitlines() for p in parts)
        seen = [f"BIRD protocol: {line}" for line in protocols if symbol in line or (re.match(r"^dev6?_\S+\s+BGP\s", line) and "Established" not in line)]
        seen += [f"BFD session: {line}" for line in bfd if line.startswith(f"{address} ")]
        seen += [f"route: {line}" for line in routes if re.search(rf"(^|\s){re.escape(address)}(/32)?(\s|$)", line)]
        seen += [f"AllowedIPs: {line}" for line in allowed if f"{address}/32" in line]
        seen += [f"nftables: {line.strip()}" for line in nft if re.search(rf"\b{re.escape(address)}\b", line)]
        if seen:
            found[host] = seen
    return found


def test_adding_and_removing_a_device_loses_no_packet():
    before_join = snapshots()
    stream = PingStream(DEV1, ADDRESS[DEV2])
    run = ops.playbook("site", inventories=["spare"], record="add_device_converge_s")
    assert run.returncode == 0, run.out[-3000:]
    added = stream.stop()
    ops.MEASUREMENTS["add_device_lost"] = f"{added['lost']}/{added['judged']}"
    ops.MEASUREMENTS["add_device_longest_gap_ms"] = added["longest_gap_ms"]
    print(f"add: {added}")
    assert added["first_reply"] < added["last_reply"] - run.seconds
    assert added["lost"] <= HICCUP, added
    # The newcomer works: BGP with both gateways, reachable both ways.
    spare = scenario.host(SPARE)
    fabric.wait_for("spare's BGP sessions", lambda: len(fabric.all_established(spare) or {}) == 2, timeout=60)
    fabric.wait_for(
        "spare reaches device1 and device2", lambda: ping.ping_all(spare, ["10.0.0.11", "10.0.0.12"]) == {"10.0.0.11": 0, "10.0.0.12": 0}, timeout=30
    )
    assert ping.ping_all(scenario.host(DEV2), ["10.0.0.14"]) == {"10.0.0.14": 0}
    # Each gateway has a BGP session of its own with the newcomer, named from it.
    for gw in (GW1, GW2):
        assert fabric.bgp_states(scenario.host(gw)).get("dev_d2_spare") == "Established", fabric.bgp_states(scenario.host(gw))

    stream = PingStream(DEV1, ADDRESS[DEV2])
    run = ops.playbook("site", record="remove_device_converge_s")
    assert run.returncode == 0, run.out[-3000:]
    removed = stream.stop()
    ops.MEASUREMENTS["remove_device_lost"] = f"{removed['lost']}/{removed['judged']}"
    ops.MEASUREMENTS["remove_device_longest_gap_ms"] = removed["longest_gap_ms"]
    print(f"remove: {removed}")
    assert removed["lost"] <= HICCUP, removed
    for gw in (GW1, GW2):
        assert "10.0.0.14/32" not in str(ops.allowed_ips(gw, "wg0")), gw
        assert not fabric.kernel_route(scenario.host(gw), "10.0.0.14/32"), gw
    assert ping.ping_all(spare, ["10.0.0.11"]) == {"10.0.0.11": 100}
    # Departures leave nothing behind after one converge (issue 17): no BGP or BFD session, route,
    # AllowedIPs or nftables entry of the spare on any gateway, reflector or device, and every
    # host's WireGuard (live) and WireGuard/BIRD configuration (files) exactly as before it joined.
    start = time.monotonic()
    fabric.wait_for("no trace of the departed spare", lambda: not departure_leftovers(SPARE, ADDRESS[SPARE]), timeout=10, interval=0.5)
    ops.MEASUREMENTS["departure_clean_after_converge_s"] = round(time.monotonic() - start, 1)
    assert not departure_leftovers(SPARE, ADDRESS[SPARE])
    assert snapshots() == before_join, "a host's WireGuard state or configuration files differ from before the spare joined"
    ops.MEASUREMENTS["departure_check_s"] = round(time.monotonic() - start, 1)
    steady(timeout=30)


# --- 5. Key rotation ------------------------------------------------------------------

PROBE = """[Interface]
PrivateKey = {private}
Table = off

[Peer]
PublicKey = {gateway}
PresharedKey = {psk}
AllowedIPs = 10.0.0.1/32
Endpoint = d2-gateway1:51820
PersistentKeepalive = 1
"""


def probe_handshake(private, psk, wait=3.0):
    """Bring up a WireGuard interface on the spare container that dials gateway1 with
    the given key; True if a handshake completes within ``wait`` seconds."""
    state = ops.read_state()
    conf = PROBE.format(private=private, psk=psk, gateway=ops.public_key(state["hosts"][GW1]["private_key"]))
    docker_exec(SPARE, "umask 077; cat > /root/probe.conf && wg-quick up /root/probe.conf >/dev/null 2>&1", stdin=conf)
    try:
        time.sleep(wait)
        stamps = docker_exec(SPARE, "wg show probe latest-handshakes").split()
        return int(stamps[1]) > 0
    finally:
        docker_exec(SPARE, "wg-quick down /root/probe.conf >/dev/null 2>&1; rm -f /root/probe.conf", check=False)


def live_public_keys():
    """{host: set of peer public keys} of every managed host."""
    return {name: {k[1] for k in ops.wg_snapshot(name) if k[1] != "self"} for name in MANAGED}


def rotate(target, record):
    """Rotate under two 10 ms ping streams and record both.

    device3 -> rr1 has another path at every step (device3 is dual-homed; rr1 is reached
    through either edge, and over either of its own mesh links): the rotation drains each
    link before switching it, so this stream must lose nothing. device1 -> device2 crosses
    two single-homed uplinks: each switches at both ends at one agreed instant, so it may
    lose about one handshake per switch.
    """
    dual = PingStream(DEV3, ADDRESS[RR1], count=90000)
    single = PingStream(DEV1, ADDRESS[DEV2], count=90000)
    run = ops.playbook("rotate_keys", "-e", f"wgsdn_rotate_keys={target}", record=f"{record}_converge_s")
    assert run.returncode == 0, run.out[-3000:]
    start = time.monotonic()
    fabric.wait_for(
        "device1 reaching device2", lambda: ping.ping_all(scenario.host(DEV1), ["10.0.0.12"], count=1) == {"10.0.0.12": 0}, timeout=60, interval=0.2
    )
    ops.MEASUREMENTS[f"{record}_back_after_converge_s"] = round(time.monotonic() - start, 1)
    stats = {"dual": dual.stop(), "single": single.stop()}
    for name, stream in stats.items():
        ops.MEASUREMENTS[f"{record}_{name}_gap_ms"] = stream["longest_gap_ms"]
        ops.MEASUREMENTS[f"{record}_{name}_lost"] = f"{stream['lost']}/{stream['judged']}"
    print(f"rotate {target}: device3 -> rr1 {stats['dual']}; device1 -> device2 {stats['single']}")
    steps = re.search(r"(\d+) step\(s\)", run.out)
    ops.MEASUREMENTS[f"{record}_steps"] = steps[1] if steps else "?"
    return stats


def test_rotating_every_key():
    """Every key pair and preshared key replaced, link by link (the single-host case, plan-side,
    is tests/unit/plugins/plugin_utils/test_plan.py; its steps are test_rotation.py's)."""
    old = ops.read_state()
    old_private = old["hosts"][DEV1]["private_key"]
    old_psk = next(k for p, k in old["preshared_keys"].items() if set(p.split("|")) == {DEV1, GW1})
    stats = rotate("all", "rotate_all")
    # Every link device3 -> rr1 crosses was drained before it switched: nothing lost.
    assert stats["dual"]["lost"] <= HICCUP, stats["dual"]
    new = ops.read_state()
    assert all(new["hosts"][n]["private_key"] != old["hosts"][n]["private_key"] for n in [*MANAGED, CLIENT])
    assert all(new["preshared_keys"][p] != old["preshared_keys"][p] for p in old["preshared_keys"] if SPARE not in p.split("|"))
    expected = {n: ops.public_key(new["hosts"][n]["private_key"]) for n in new["hosts"]}
    keys = live_public_keys()
    assert keys[GW1] == {expected[n] for n in (RR1, RR2, DEV1, DEV3, CLIENT)}
    assert keys[GW2] == {expected[n] for n in (RR1, RR2, DEV2, DEV3)}
    assert keys[RR1] == {expected[n] for n in (GW1, GW2, RR2)}
    assert keys[DEV3] == {expected[GW1], expected[GW2]}
    for name in MANAGED:
        own = {v[0] for k, v in ops.wg_snapshot(name).items() if k[1] == "self"}
        assert own == {ops.digest(new["hosts"][name]["private_key"])}, name
    # device1 -> device2: two single-homed uplinks, each switched at both ends at once, so the
    # first handshake with the new keys succeeds: a few packets lost (2-3 of 15,000-19,000
    # measured), where a switch that missed it would lose a 5 s handshake retry (500 packets).
    # The longest silence is recorded, not asserted: a loaded box stalls for as long on its own.
    assert stats["single"]["lost"] <= 50, stats["single"]
    steady(timeout=60)
    test_every_peer_has_its_own_preshared_key()
    # The old key is refused (with the old or the new preshared key); a valid key from
    # the same probe does complete a handshake (the probe can tell them apart).
    new_psk = next(k for p, k in new["preshared_keys"].items() if set(p.split("|")) == {DEV1, GW1})
    assert not any(ops.public_key(old_private) in k for k in keys.values())
    assert not probe_handshake(old_private, old_psk), "gateway1 still accepts device1's old key"
    assert not probe_handshake(old_private, new_psk), "gateway1 still accepts device1's old key"
    client_psk = next(k for p, k in new["preshared_keys"].items() if set(p.split("|")) == {CLIENT, GW1})
    assert probe_handshake(new["hosts"][CLIENT]["private_key"], client_psk), "the probe cannot handshake even with a valid key"
    # Nothing of the rotation is left behind: no drain, no staged file, no silenced BFD.
    for name in MANAGED:
        leftovers = docker_exec(
            name, "ls /var/lib/wgsdn/bird/drain /var/lib/wgsdn/wireguard/*.next 2>/dev/null; nft list tables 2>/dev/null | grep wgsdn_drain", check=False
        )
        assert not leftovers.strip(), (name, leftovers)


@pytest.mark.skipif(not os.environ.get("DAY2_LOADED"), reason="benchmark only: DAY2_LOADED=1 (bench/README.md)")
def test_rotating_every_key_with_both_cores_busy():
    """The same rotation with two busy loops on the machine's two cores (the loaded figures of bench/README.md)."""
    hogs = [subprocess.Popen(["nice", "-n", "0", "sh", "-c", "while :; do :; done"]) for _ in range(2)]
    try:
        stats = rotate("all", "rotate_all_loaded")
    finally:
        for hog in hogs:
            hog.kill()
    assert stats["dual"]["lost"] <= HICCUP, stats["dual"]
    steady(timeout=90)


# --- 7. Unmanaged client --------------------------------------------------------------


def test_unmanaged_client_configured_by_hand_interoperates():
    run = ops.playbook("clients", record="clients_export_s")
    assert run.returncode == 0, run.out[-3000:]
    directory = Path(ops.INVENTORY).parent / ".wgsdn-clients"
    assert f"{directory}/{CLIENT}.conf and .png" in " ".join(run.out.split()), run.out[-2000:]  # the playbook says where
    conf, png = directory / f"{CLIENT}.conf", directory / f"{CLIENT}.png"
    for path in (conf, png):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = conf.read_text()
    state = ops.read_state()
    assert f"PrivateKey = {state['hosts'][CLIENT]['private_key']}" in text
    assert "Address = 10.0.0.21/32" in text and "Endpoint = d2-gateway1:51820" in text
    # By hand, as a user would: copy the file over and bring it up with wg-quick.
    fabric.wait_for("client container booted", lambda: docker_exec(CLIENT, "systemctl is-system-running", check=False).strip() in ("running", "degraded"))
    subprocess.run(["docker", "cp", str(conf), f"{CLIENT}:/root/{CLIENT}.conf"], check=True, capture_output=True)
    docker_exec(CLIENT, f"cd /root && wg-quick up ./{CLIENT}.conf 2>&1")
    client = scenario.host(CLIENT)
    fabric.wait_for("client handshake with gateway1", lambda: int(docker_exec(CLIENT, f"wg show {CLIENT} latest-handshakes").split()[1]) > 0, timeout=20)
    client_key = ops.public_key(state["hosts"][CLIENT]["private_key"])
    gw1_handshakes = dict(line.split() for line in docker_exec(GW1, "wg show wg0 latest-handshakes").splitlines())
    assert int(gw1_handshakes[client_key]) > 0
    # Through gateway1, a route reflector and gateway2 to device2, and back.
    assert fabric.wait_for("client reaching device2", lambda: ping.ping_all(client, ["10.0.0.12"]) == {"10.0.0.12": 0}, timeout=20)
    assert ping.ping_all(scenario.host(DEV2), ["10.0.0.21"]) == {"10.0.0.21": 0}
    assert "via 10.0.0.2 dev wg-gateway2" in docker_exec(DEV2, "ip route get 10.0.0.21")


def test_verify_passes_at_the_end_with_the_client_online():
    run = verify_until_it_passes()
    assert "reaches 6 of 6 other hosts, 1 of 1 unmanaged clients" in run.out
    assert "peer d2-client: handshake " in run.out


# --- 9. Route reflectors ------------------------------------------------------------


def bgp_gateway_sessions(name):
    """{protocol: state} of a host's sessions with other gateways (``bgp_*``)."""
    return {p: st for p, st in fabric.bgp_states(scenario.host(name)).items() if p.startswith("bgp_")}


def nexthop_links(name, destination):
    """The WireGuard interfaces of the kernel route ``name`` holds for ``destination`` (several: ECMP)."""
    return sorted(set(re.findall(r"dev (wg-\S+)", docker_exec(name, f"ip -4 route show exact {destination}/32"))))


def test_an_edge_gateway_peers_with_the_reflectors_only():
    for edge in (GW1, GW2):
        assert bgp_gateway_sessions(edge) == {"bgp_d2_rr1": "Established", "bgp_d2_rr2": "Established"}, edge
        links = sorted(i for i in docker_exec(edge, "wg show interfaces").split() if i != "wg0")
        assert links == ["wg-rr1", "wg-rr2"], (edge, links)
        # BFD: Up with both reflectors, none with the other edge (a removed device's session may
        # linger Down until BIRD restarts, as its dynamic BGP session does: see sessions_up).
        bfd = {s[0]: s[2] for s in fabric.bfd_sessions(scenario.host(edge))}
        assert all(bfd.get(ADDRESS[r]) == "Up" for r in (RR1, RR2)), (edge, bfd)
        assert not {ADDRESS[GW1], ADDRESS[GW2]} & set(bfd), (edge, bfd)
    for reflector, other in ((RR1, "rr2"), (RR2, "rr1")):
        assert bgp_gateway_sessions(reflector) == {"bgp_d2_gateway1": "Established", "bgp_d2_gateway2": "Established", f"bgp_d2_{other}": "Established"}
    # Edges learn each other's devices through both reflectors: one ECMP route, each with the origin AS last.
    assert nexthop_links(GW1, ADDRESS[DEV2]) == ["wg-rr1", "wg-rr2"]
    assert nexthop_links(GW2, ADDRESS[DEV1]) == ["wg-rr1", "wg-rr2"]
    routes = docker_exec(GW1, f"birdc show route for {ADDRESS[DEV2]} all")
    paths = re.findall(r"BGP.as_path: (.+)", routes)
    asn = {n: 4200000000 + ops.read_state()["hosts"][n]["gateway_id"] for n in (GW2, RR1, RR2)}
    assert sorted(paths) == sorted([f"{asn[RR1]} {asn[GW2]}", f"{asn[RR2]} {asn[GW2]}"]), routes
    # The config says so too.
    conf = docker_exec(GW1, "cat /etc/bird/bird.conf")
    assert "# Route reflectors d2-rr1, d2-rr2: this edge gateway has BGP" in conf


def test_dual_homed_device_fails_over_behind_the_reflectors():
    """The gateway device3 (on both edges) sends through dies: it keeps reaching everyone through the other edge and a reflector."""
    victim = fabric.uplink_in_use(DEV3, ADDRESS[RR1])  # ECMP picked one of its two uplinks
    survivor, lost_device = (GW2, DEV1) if victim == GW1 else (GW1, DEV2)
    stream = PingStream(DEV3, ADDRESS[RR1])
    docker("pause", victim)
    start = time.monotonic()
    try:
        others = [ADDRESS[n] for n in (survivor, RR1, RR2, DEV1 if survivor == GW1 else DEV2)]
        fabric.wait_for("device3 reaching every live host", lambda: ping.ping_all(scenario.host(DEV3), others) == dict.fromkeys(others, 0), timeout=30)
        ops.MEASUREMENTS["failover_dev3_s"] = round(time.monotonic() - start, 1)
        assert fabric.uplink_in_use(DEV3, ADDRESS[RR1]) == survivor
        for reflector in (RR1, RR2):  # the dead edge's own device is withdrawn everywhere
            fabric.wait_for(
                f"{reflector} withdrawing {lost_device}",
                lambda r=reflector: not fabric.kernel_route(scenario.host(r), f"{ADDRESS[lost_device]}/32"),
                timeout=10,
            )
    finally:
        stats = stream.stop()
        subprocess.run(["docker", "unpause", victim], check=False, capture_output=True)
    ops.MEASUREMENTS["failover_dev3_lost"] = f"{stats['lost']}/{stats['judged']}"
    ops.MEASUREMENTS["failover_dev3_gap_ms"] = stats["longest_gap_ms"]
    print(f"failover device3 -> rr1 with {victim} paused: {stats}")
    assert stats["longest_gap_ms"] < 5000, stats  # BFD detection is 2 s here (relaxed timers)
    steady(timeout=90)


def test_pausing_one_reflector_keeps_every_other_pair_reachable():
    # Pause the reflector that device1 -> device2 traffic crosses now (gateway1's multipath hash of
    # the forwarded packets: source device1, arriving on wg0), so it has to move.
    route = docker_exec(GW1, f"ip route get {ADDRESS[DEV2]} from {ADDRESS[DEV1]} iif wg0")
    victim = RR1 if "dev wg-rr1" in route else RR2
    survivor = RR2 if victim == RR1 else RR1
    stream = PingStream(DEV1, ADDRESS[DEV2])
    docker("pause", victim)
    start = time.monotonic()
    try:
        for edge in (GW1, GW2):
            fabric.wait_for(
                f"{edge} dropping {victim}", lambda e=edge: nexthop_links(e, ADDRESS[DEV1 if e == GW2 else DEV2]) == [f"wg-{survivor[3:]}"], timeout=15
            )
        ops.MEASUREMENTS["reflector_pause_reroute_s"] = round(time.monotonic() - start, 1)
        live = [n for n in MANAGED if n != victim]
        for name in live:
            targets = [ADDRESS[o] for o in live if o != name]
            fabric.wait_for(f"{name} reaching every live host", lambda n=name, t=targets: ping.ping_all(scenario.host(n), t) == dict.fromkeys(t, 0), timeout=20)
        assert "10.0.0.12" in docker_exec(DEV1, "ip route get 10.0.0.12")
    finally:
        stats = stream.stop()
        subprocess.run(["docker", "unpause", victim], check=False, capture_output=True)
    ops.MEASUREMENTS["reflector_pause_lost"] = f"{stats['lost']}/{stats['judged']}"
    ops.MEASUREMENTS["reflector_pause_gap_ms"] = stats["longest_gap_ms"]
    print(f"{victim} paused, device1 -> device2: {stats}")
    # BFD detection is 2 s here (relaxed timers): the gap is that, not a lost route.
    assert stats["longest_gap_ms"] < 5000, stats
    steady(timeout=90)
    # The sessions being up is not the end: the unpaused reflector may first have learned
    # device2 through the other reflector (a longer path), until its own session with
    # gateway2 replaces it. Then gateway1 has both again.
    fabric.wait_for("gateway1's multipath route over both reflectors", lambda: nexthop_links(GW1, ADDRESS[DEV2]) == ["wg-rr1", "wg-rr2"], timeout=30)
