#!/usr/bin/env bash
# The one-command demo of wgsdn.fabric (`make demo` / `make demo-down`).
#
#   tools/demo.sh up     install what is missing, start one systemd container per host of
#                        inventories/demo, converge them with playbooks/site.yml, then show
#                        who reaches whom over the overlay and the WireGuard handshake ages.
#                        Running it again re-converges (and adds/removes containers when the
#                        inventory changed).
#   tools/demo.sh down   remove the demo containers and their Docker network.
#   tools/demo.sh show   only run playbooks/verify.yml again: its report of every host
#                        (handshakes, BGP and BFD sessions, routes) and who reaches whom.
#
# Containers are started by extensions/molecule/create.yml and waited for by
# extensions/molecule/prepare.yml, exactly like the Molecule scenarios' (systemd as
# PID 1, capabilities, /dev/net/tun, host cgroup namespace, tmpfs, sysctls).
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

# "inventory_name container_name" for every overlay host of the demo inventory.
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
    print(name, hostvars.get(name, {}).get("ansible_host", name))
'
}

start_containers() {
    local hosts container wanted nodes
    hosts="$(demo_hosts)"
    [ -n "$hosts" ] || die "no hosts in $INVENTORY (groups wgsdn_gateways, wgsdn_devices)"

    # Demo containers the inventory no longer lists go away.
    wanted=" $(awk '{ print $2 }' <<<"$hosts" | tr '\n' ' ') "
    for container in $(docker ps -a --filter "label=$LABEL=1" --format '{{.Names}}'); do
        if [[ "$wanted" != *" $container "* ]]; then
            log "removing $container (no longer in the inventory)"
            docker rm -f "$container" >/dev/null
        fi
    done

    log "starting the containers (extensions/molecule/create.yml), waiting for systemd (prepare.yml)"
    nodes="$(awk -v image="$IMAGE" '{ printf "%s{\"name\": \"%s\", \"hostname\": \"%s\", \"image\": \"%s\"}", (NR > 1 ? ", " : ""), $2, $1, image }' <<<"$hosts")"
    ansible-playbook -i localhost, "$ROOT/extensions/molecule/create.yml" \
        -e "{\"wgsdn_test_nodes\": [$nodes], \"wgsdn_test_network\": \"$NETWORK\", \"wgsdn_test_labels\": {\"$LABEL\": \"1\"}}" ||
        die "extensions/molecule/create.yml failed"
    ansible-playbook -i "$INVENTORY" "$ROOT/extensions/molecule/prepare.yml" ||
        die "systemd did not finish booting in every container (extensions/molecule/prepare.yml)"
}

converge() {
    local t0 rc=0
    log "converging: ansible-playbook playbooks/site.yml (inventory $INVENTORY)"
    t0="$(now)"
    ansible-playbook -i "$INVENTORY" "$ROOT/playbooks/site.yml" || rc=$?
    CONVERGE_SECONDS="$(since "$t0")"
    [ "$rc" -eq 0 ] || die "site.yml failed (exit $rc)"
}

# verify.yml's own report: every host's handshakes, BGP/BFD sessions and routes, who
# reaches whom; it fails when the live network differs from the inventory.
show() {
    local rc=0
    ansible-playbook -i "$INVENTORY" "$ROOT/playbooks/verify.yml" || rc=$?
    # A hidden directory: Ansible would read anything else in the inventory directory as inventory.
    if ansible-playbook -i "$INVENTORY" "$ROOT/playbooks/diagram.yml" -e "wgsdn_diagram_dir=$INVENTORY/.diagram" >/dev/null 2>&1; then
        echo
        echo "Topology diagram (from the inventory): $INVENTORY/.diagram/topology.md (Mermaid), topology.dot (Graphviz)"
    fi
    return "$rc"
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
