#!/usr/bin/env bash
# The one-command demo of wgsdn.fabric (`make demo` / `make demo-down`).
#
#   tools/demo.sh up     install what is missing, start one systemd container per host of
#                        inventories/demo, converge them with playbooks/site.yml, then show
#                        who reaches whom over the overlay and the WireGuard handshake ages.
#                        Running it again re-converges (and adds/removes containers when the
#                        inventory changed).
#   tools/demo.sh down   remove the demo containers and their Docker network.
#   tools/demo.sh show   only print the reachability matrix and handshakes again.
#
# Containers are started exactly like the Molecule scenarios' (extensions/molecule/*):
# systemd as PID 1, capabilities, /dev/net/tun, host cgroup namespace, tmpfs, sysctls.
# Needs root on Debian 12 (tools/ensure-test-env.sh installs Docker and builds the image).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

NETWORK=wgsdn-demo
LABEL=wgsdn.demo
IMAGE=${WGSDN_DEMO_IMAGE:-wgsdn/node:bookworm}
INVENTORY="$ROOT/inventories/demo"
VENV="$ROOT/.venv"

export ANSIBLE_CONFIG="$ROOT/ansible.cfg"
export ANSIBLE_COLLECTIONS_PATH="$ROOT/.cache/collections"
export ANSIBLE_PIPELINING=true
export PATH="$VENV/bin:$PATH"

log() { printf '[demo] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

ensure_tools() {
    [ "$(id -u)" -eq 0 ] || die "run as root (installs Docker, starts containers)"
    if [ ! -x "$VENV/bin/ansible-playbook" ]; then
        log "creating the Python virtualenv (.venv)"
        if command -v make >/dev/null; then
            make -s -C "$ROOT" venv
        else
            python3 -m venv "$VENV"
            "$VENV/bin/pip" install -q -r "$ROOT/requirements-test.txt"
        fi
    fi
    bash "$ROOT/tools/ensure-test-env.sh"
}

# "inventory_name container_name pinned_address|-" for every overlay host of the demo inventory.
demo_hosts() {
    ansible-inventory -i "$INVENTORY" --list 2>/dev/null | python3 -c '
import json, sys
inv = json.load(sys.stdin)
hostvars = inv.get("_meta", {}).get("hostvars", {})
names = []
for group in ("wgsdn_gateways", "wgsdn_devices"):
    for name in inv.get(group, {}).get("hosts", []):
        if name not in names:
            names.append(name)
for name in sorted(names):
    hv = hostvars.get(name, {})
    print(name, hv.get("ansible_host", name), hv.get("wgsdn_address") or "-")
'
}

start_containers() {
    local hosts name container wanted
    hosts="$(demo_hosts)"
    [ -n "$hosts" ] || die "no hosts in $INVENTORY (groups wgsdn_gateways, wgsdn_devices)"
    docker network inspect "$NETWORK" >/dev/null 2>&1 || docker network create --label "$LABEL=1" "$NETWORK" >/dev/null

    # Demo containers the inventory no longer lists go away.
    wanted=" $(awk '{ print $2 }' <<<"$hosts" | tr '\n' ' ') "
    for container in $(docker ps -a --filter "label=$LABEL=1" --format '{{.Names}}'); do
        if [[ "$wanted" != *" $container "* ]]; then
            log "removing $container (no longer in the inventory)"
            docker rm -f "$container" >/dev/null
        fi
    done

    while read -r name container _; do
        if docker container inspect "$container" >/dev/null 2>&1; then
            [ "$(docker container inspect -f '{{.State.Running}}' "$container")" = true ] || docker start "$container" >/dev/null
            continue
        fi
        log "starting $container ($name)"
        docker run -d --name "$container" --hostname "$name" \
            --label "$LABEL=1" --network "$NETWORK" \
            --cap-add SYS_ADMIN --cap-add NET_ADMIN --cap-add NET_RAW --cap-add NET_BROADCAST \
            --device /dev/net/tun:/dev/net/tun \
            --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
            --tmpfs /run --tmpfs /run/lock \
            --sysctl net.ipv4.ip_forward=1 \
            --sysctl net.ipv4.conf.all.rp_filter=2 \
            --sysctl net.ipv4.conf.default.rp_filter=2 \
            --stop-signal SIGRTMIN+3 \
            "$IMAGE" /lib/systemd/systemd >/dev/null
    done <<<"$hosts"

    while read -r name container _; do
        state="$(docker exec "$container" timeout 90 systemctl is-system-running --wait 2>/dev/null || true)"
        case "$state" in
            running | degraded) ;;
            *) die "systemd in $container did not finish booting (state: ${state:-unknown})" ;;
        esac
    done <<<"$hosts"
}

converge() {
    local t0 rc=0
    log "converging: ansible-playbook playbooks/site.yml (inventory $INVENTORY)"
    t0="$(now)"
    ansible-playbook -i "$INVENTORY" "$ROOT/playbooks/site.yml" || rc=$?
    CONVERGE_SECONDS="$(since "$t0")"
    [ "$rc" -eq 0 ] || die "site.yml failed (exit $rc)"
}

# Overlay address of a container: the address on its WireGuard interfaces.
overlay_address() {
    docker exec "$1" ip -4 -o address show 2>/dev/null |
        awk '$2 ~ /^wg/ { split($4, a, "/"); print a[1]; exit }'
}

show() {
    local hosts name container pinned src dst pub
    hosts="$(demo_hosts)"
    declare -A addr=() key=()
    while read -r name container pinned; do
        # The live address; else the pinned one (the interface may be down).
        addr[$name]="$(overlay_address "$container")"
        [ -n "${addr[$name]}" ] || [ "$pinned" = - ] || addr[$name]="$pinned"
        pub="$(docker exec "$container" wg show all public-key 2>/dev/null | awk 'NR == 1 { print $2 }')"
        [ -z "$pub" ] || key[$pub]="$name"
    done <<<"$hosts"
    mapfile -t names < <(awk '{ print $1 }' <<<"$hosts")
    declare -A box=()
    while read -r name container _; do box[$name]="$container"; done <<<"$hosts"

    # A host that does not listen is reachable only after it sent a first packet
    # (it has no keepalive by default): one round of packets first, then the matrix.
    for src in "${names[@]}"; do
        for dst in "${names[@]}"; do
            [ "$src" = "$dst" ] || [ -z "${addr[$dst]}" ] ||
                docker exec "${box[$src]}" ping -c 1 -W 1 "${addr[$dst]}" >/dev/null 2>&1 || true
        done
    done

    echo
    echo "Who reaches whom over the overlay (ping from row to column, round-trip ms):"
    printf '%-14s' ""
    for dst in "${names[@]}"; do printf '%-20s' "$dst ${addr[$dst]:-?}"; done
    echo
    local ok=0 total=0 out rtt
    for src in "${names[@]}"; do
        printf '%-14s' "$src"
        for dst in "${names[@]}"; do
            if [ "$src" = "$dst" ]; then printf '%-20s' "-"; continue; fi
            total=$((total + 1))
            if [ -n "${addr[$dst]}" ] && out="$(docker exec "${box[$src]}" ping -c 3 -i 0.2 -W 1 "${addr[$dst]}" 2>/dev/null)"; then
                rtt="$(awk -F/ '/^rtt/ { printf "%.2f", $5 }' <<<"$out")"
                printf '%-20s' "ok ${rtt}"
                ok=$((ok + 1))
            else
                printf '%-20s' "FAIL"
            fi
        done
        echo
    done
    echo "$ok of $total pairs reach each other."

    echo
    echo "WireGuard handshakes (seconds since the latest handshake, per interface and peer):"
    local now_s iface peer stamp
    now_s="$(date +%s)"
    for src in "${names[@]}"; do
        while read -r iface peer stamp; do
            [ -n "$iface" ] || continue
            if [ "$stamp" -gt 0 ]; then
                printf '  %-10s %-14s -> %-10s %4ss ago\n' "$src" "$iface" "${key[$peer]:-$peer}" "$((now_s - stamp))"
            else
                printf '  %-10s %-14s -> %-10s never\n' "$src" "$iface" "${key[$peer]:-$peer}"
            fi
        done < <(docker exec "${box[$src]}" wg show all latest-handshakes 2>/dev/null)
    done

    local routed=""
    for src in "${names[@]}"; do
        docker exec "${box[$src]}" test -S /run/bird/bird.ctl 2>/dev/null && routed="$routed $src"
    done
    if [ -n "$routed" ]; then
        echo
        echo "Routing (BIRD): BGP sessions and BFD sessions per host:"
        for src in $routed; do
            docker exec "${box[$src]}" birdc -r show protocols 2>/dev/null |
                awk -v h="$src" '$2 == "BGP" { printf "  %-10s BGP %-16s %s %s\n", h, $1, $4, $NF }'
            docker exec "${box[$src]}" birdc -r show bfd sessions 2>/dev/null |
                awk -v h="$src" '$1 ~ /^[0-9]+\./ { printf "  %-10s BFD %-16s %-14s %s\n", h, $1, $2, $3 }'
        done
    fi

    if ansible-playbook -i "$INVENTORY" "$ROOT/playbooks/diagram.yml" -e "wgsdn_diagram_dir=$INVENTORY/diagram" >/dev/null 2>&1; then
        echo
        echo "Topology diagram (from the inventory): $INVENTORY/diagram/topology.md (Mermaid), topology.dot (Graphviz)"
    fi
    [ "$ok" -eq "$total" ]
}

usage_hint() {
    local first
    first="$(demo_hosts | awk 'NR == 1 { print $2 }')"
    cat <<EOF

Converge took ${CONVERGE_SECONDS:-?} s (re-run \`make demo\` to converge again; the second run changes nothing).
Open a shell in a host:    docker exec -it $first bash      (then: wg show, ip route, birdc show protocols, ping 10.0.0.4)
Check the live network:    ansible-playbook -i inventories/demo playbooks/verify.yml
Show this summary again:   bash tools/demo.sh show
Tear the demo down:        make demo-down                   (or: bash tools/demo.sh down)
EOF
}

down() {
    local containers
    containers="$(docker ps -a --filter "label=$LABEL=1" --format '{{.Names}}')"
    if [ -n "$containers" ]; then
        log "removing $(tr '\n' ' ' <<<"$containers")"
        # shellcheck disable=SC2086
        docker rm -f $containers >/dev/null
    fi
    if docker network inspect "$NETWORK" >/dev/null 2>&1; then
        docker network rm "$NETWORK" >/dev/null
    fi
    log "demo removed (addresses and keys stay in inventories/demo/.wgsdn-state.json)"
}

case "${1:-}" in
    up)
        ensure_tools
        start_containers
        converge
        rc=0
        show || rc=$?
        usage_hint
        exit "$rc"
        ;;
    show)
        show
        ;;
    down)
        command -v docker >/dev/null || exit 0
        down
        ;;
    *)
        echo "usage: $0 up|show|down" >&2
        exit 2
        ;;
esac
