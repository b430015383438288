#!/usr/bin/env bash
# Ensure a Docker engine answers on this machine (Debian 12, root).
#
# Idempotent: when `docker info` already answers, nothing is done.
# Otherwise installs Debian's docker.io (+ iptables), starts dockerd in the
# background (detached, survives this script; log in /var/log/wgsdn-dockerd.log)
# and waits until it answers.
#
# Env: WGSDN_DOCKERD_TIMEOUT (seconds to wait for dockerd, default 60)
#      WGSDN_DOCKERD_LOG (default /var/log/wgsdn-dockerd.log)
set -euo pipefail

log() { printf '[docker-engine] %s\n' "$*" >&2; }
die() { printf '[docker-engine] ERROR: %s\n' "$*" >&2; exit 1; }

TIMEOUT="${WGSDN_DOCKERD_TIMEOUT:-60}"
bgpid=""
DLOG="${WGSDN_DOCKERD_LOG:-/var/log/wgsdn-dockerd.log}"
export DEBIAN_FRONTEND=noninteractive

docker_answers() { timeout 10 docker info >/dev/null 2>&1; }
# pgrep (procps) may be absent on a minimal host: look at /proc directly.
dockerd_running() { grep -qx dockerd /proc/[0-9]*/comm 2>/dev/null; }

# The docker client found first on PATH may be newer than Debian's dockerd
# (e.g. a docker 28 client in /usr/local/bin vs docker.io 20.10 = API 1.41).
# Modern clients negotiate the API version downwards; check it really works,
# and explain what to do if not.
check_client() {
    local out
    if ! out="$(timeout 10 docker version --format '{{.Client.Version}} (API {{.Client.APIVersion}}) -> server {{.Server.Version}} (API {{.Server.APIVersion}})' 2>&1)"; then
        die "docker client cannot talk to dockerd: $out
  Try: DOCKER_API_VERSION=<server API> docker info, or use /usr/bin/docker from docker.io"
    fi
    log "client $(command -v docker): $out"
}

if docker_answers; then
    log "docker engine already answers; nothing to do"
    check_client
    exit 0
fi

[ "$(id -u)" -eq 0 ] || die "must run as root (installs packages, starts dockerd)"

# Address pool: keep every Docker network (the test underlay) inside
# 172.16.0.0/12 in /24s. Docker's default falls back to 192.168.0.0/16 after
# 15 networks, which would collide with the LAN test prefixes (and with the
# DOCKER-USER drop rules of docker-user-rules.sh). Written before the package
# is installed so that a systemd-started docker.service uses it too; an
# existing daemon.json is left alone.
DAEMON_JSON=/etc/docker/daemon.json
if [ ! -e "$DAEMON_JSON" ]; then
    mkdir -p /etc/docker
    cat > "$DAEMON_JSON" <<'JSON'
{
  "default-address-pools": [ { "base": "172.16.0.0/12", "size": 24 } ]
}
JSON
    log "wrote $DAEMON_JSON (address pool 172.16.0.0/12, /24 networks)"
elif ! grep -q default-address-pools "$DAEMON_JSON"; then
    log "WARNING: $DAEMON_JSON exists without default-address-pools; Docker may hand out 192.168.x networks"
fi

t0=$(date +%s)
if ! command -v dockerd >/dev/null 2>&1 || ! command -v iptables >/dev/null 2>&1; then
    log "installing docker.io and iptables from Debian"
    # A foreign docker client (e.g. /usr/local/bin/docker) does not conflict
    # with docker.io, which puts its client at /usr/bin/docker.
    # Unrelated third-party sources may fail; only the install decides.
    apt-get update -qq || log "WARNING: apt-get update reported errors; trying the install anyway"
    apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        docker.io iptables ca-certificates >/dev/null \
        || die "apt-get install docker.io iptables failed"
    log "installed in $(( $(date +%s) - t0 ))s"
fi

# Debian's iptables defaults to the nft backend; dockerd uses whatever
# `iptables` is, which is fine as long as it is consistent. Nothing to do.

if dockerd_running; then
    log "a dockerd process exists but does not answer yet; waiting for it"
else
    # An init system may exist (then prefer it), but in this sandbox PID 1 is
    # not systemd: start dockerd by hand, detached in its own session.
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
        log "starting docker via systemd"
        systemctl start docker || log "systemctl start docker failed; falling back to a manual dockerd"
    fi
    if ! dockerd_running; then
        log "starting dockerd (log: $DLOG)"
        mkdir -p "$(dirname "$DLOG")"
        # Remove a stale pid file left by a dockerd killed earlier.
        if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
            rm -f /var/run/docker.pid
        fi
        setsid nohup dockerd >>"$DLOG" 2>&1 </dev/null &
        bgpid=$!
        disown || true
    fi
fi

deadline=$(( $(date +%s) + TIMEOUT ))
until docker_answers; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
        tail -n 30 "$DLOG" >&2 2>/dev/null || true
        die "dockerd did not answer within ${TIMEOUT}s (see $DLOG)"
    fi
    if ! dockerd_running && ! kill -0 "${bgpid:-0}" 2>/dev/null; then
        tail -n 30 "$DLOG" >&2 2>/dev/null || true
        die "dockerd exited (see $DLOG)"
    fi
    sleep 1
done
log "docker engine up after $(( $(date +%s) - t0 ))s total"
check_client
