#!/usr/bin/env bash
# One entry point before Molecule (Makefile / CI): make this machine able to
# run the collection's Molecule scenarios. Idempotent and fast when done.
#   1. tools/docker-engine.sh      Docker engine answers (Debian docker.io)
#   2. tools/docker-user-rules.sh  test prefixes can't leave via Docker NAT
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
step inotify-limit     raise_inotify
step docker-engine     bash "$HERE/docker-engine.sh"
step docker-user-rules bash "$HERE/docker-user-rules.sh"
step build-images      bash "$HERE/build-images.sh" "$@"
step link-collection   bash "$HERE/link-collection.sh"

log "test environment ready in $(( $(date +%s) - T0 ))s"
log "run Molecule from the repo root, e.g.: flock /tmp/wgsdn-molecule.lock molecule test -s topology1"
