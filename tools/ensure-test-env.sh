#!/usr/bin/env bash
# One entry point before Molecule (Makefile / CI): make this machine able to
# run the collection's Molecule scenarios. Idempotent and fast when done.
#   1. tools/docker-engine.sh      Docker engine answers (Debian docker.io)
#   2. tools/docker-user-rules.sh  test prefixes can't leave via Docker NAT
#      (and the containers' cgroup weighed as ten host tasks, see weigh_docker_cpu)
#   3. tools/build-images.sh       wgsdn/debian-systemd + wgsdn/node images (Debian 12
#                                  and 13) and wgsdn/controller:trixie (ansible-core 2.21)
#   4. tools/link-collection.sh    .cache/collections/.../wgsdn/fabric -> repo
# Needs root on Debian 12; works non-interactively (CI=true, no stdin).
# Extra arguments go to build-images.sh (e.g. --force).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export DEBIAN_FRONTEND=noninteractive

log() { printf '[ensure-test-env] %s\n' "$*" >&2; }

[ "$(id -u)" -eq 0 ] || { log "ERROR: must run as root (installs packages, starts dockerd, sets iptables rules)"; exit 1; }

# One at a time: .ci/run starts this in the background while the controller-side tests
# run, and `make molecule` calls it again (it then waits here, and finds everything done).
# The steps run with the lock's descriptor closed: a dockerd started by docker-engine.sh
# would otherwise inherit it and hold the lock for as long as it runs, and the second
# caller would wait for ever (a CI run timed out that way). The wait is bounded too.
LOCK_WAIT="${WGSDN_ENSURE_LOCK_WAIT:-2400}"
exec 9>/tmp/wgsdn-ensure-test-env.lock
if ! flock -n 9; then
    log "another ensure-test-env.sh holds /tmp/wgsdn-ensure-test-env.lock; waiting up to ${LOCK_WAIT}s"
    flock -w "$LOCK_WAIT" 9 || { log "ERROR: still locked after ${LOCK_WAIT}s"; exit 1; }
fi

T0=$(date +%s)
step() {
    local name="$1" t0 rc
    shift
    t0=$(date +%s)
    log "--- $name"
    "$@" </dev/null 9>&- || { rc=$?; log "ERROR: $name failed (exit $rc)"; exit "$rc"; }
    log "--- $name: $(( $(date +%s) - t0 ))s"
}

# Every systemd container holds several inotify instances; Debian's default of
# 128 per user made the 18th container's systemd exit at once (code 255).
raise_inotify() {
    local current
    current=$(sysctl -n fs.inotify.max_user_instances)
    [ "$current" -ge 1024 ] || sysctl -q -w fs.inotify.max_user_instances=1024
}
# The containers' BFD flapped under a busy controller: cgroup v1 puts every container under
# one `cpu` group, /docker, weighted as ONE runnable task of the host (cpu.shares 1024), so a
# few Ansible forks left BIRD and wireguard-go of all containers waiting 100-200 ms. Ten times
# that weight cut wireguard-go's worst send delay from 138 to 16 ms and the flaps to none
# (bench/README.md, "BFD under controller load"). A test-machine setting, like the inotify
# limit: the roles set no scheduling. cgroup v2 (one /docker group with cpu.weight) likewise.
weigh_docker_cpu() {
    if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
        [ -d /sys/fs/cgroup/docker ] || { log "cgroup v2 without a /docker group: nothing to weigh"; return 0; }
        echo 1000 >/sys/fs/cgroup/docker/cpu.weight
    elif [ -d /sys/fs/cgroup/cpu ]; then
        mkdir -p /sys/fs/cgroup/cpu/docker
        echo 10240 >/sys/fs/cgroup/cpu/docker/cpu.shares
    fi
}
step inotify-limit     raise_inotify
step docker-engine     bash "$HERE/docker-engine.sh"
step docker-user-rules bash "$HERE/docker-user-rules.sh"
step docker-cpu-weight weigh_docker_cpu
step build-images      bash "$HERE/build-images.sh" "$@"
step link-collection   bash "$HERE/link-collection.sh"

log "test environment ready in $(( $(date +%s) - T0 ))s"
log "run Molecule from the repo root, e.g.: flock /tmp/wgsdn-molecule.lock molecule test -s topology1"
