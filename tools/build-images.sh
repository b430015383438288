#!/usr/bin/env bash
# Build the local test images used by Molecule, once, cached, for each
# supported Debian release (SUITE = bookworm: Debian 12, trixie: Debian 13):
#   wgsdn/debian-systemd:SUITE  systemd as PID 1, python3, iproute2, ping
#   wgsdn/node:SUITE            + bird2, wireguard-tools, wireguard-go, nftables, exporters, frr, prometheus, ...
# and the newer-Ansible controller (ansible-core 2.21 needs Python >= 3.12;
# Debian 13 ships 3.13; run it with tools/controller-run.sh):
#   wgsdn/controller:trixie     Debian 13 + the pinned venv of
#                               tools/images/controller/requirements-core221.txt
#
# Base: `docker pull debian:SUITE` when a registry answers within
# WGSDN_PULL_TIMEOUT seconds (default 20); otherwise (normal here) a minbase
# rootfs made locally from Debian's mirror and loaded with `docker import`:
# mmdebstrap (faster) or debootstrap (WGSDN_ROOTFS_BUILDER=debootstrap, and
# the fallback when mmdebstrap fails).
# Cache: each image carries a label with the hash of its build inputs (this
# script + its tools/images/<name>/ context); a matching image is not rebuilt.
#
# Usage: tools/build-images.sh [--force] [SUITE...]   (default: bookworm trixie;
#        the controller is built with trixie)
set -euo pipefail

log() { printf '[build-images] %s\n' "$*" >&2; }
die() { printf '[build-images] ERROR: %s\n' "$*" >&2; exit 1; }

FORCE=0
SUITES=()
for a in "$@"; do
    case "$a" in
        --force) FORCE=1 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        bookworm|trixie) SUITES+=("$a") ;;
        *) die "unknown argument: $a (usage: $0 [--force] [bookworm] [trixie])" ;;
    esac
done
[ "${#SUITES[@]}" -gt 0 ] || SUITES=(bookworm trixie)

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CTX="$HERE/images"
MIRROR="${WGSDN_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PULL_TIMEOUT="${WGSDN_PULL_TIMEOUT:-20}"
CONTROLLER_IMAGE="wgsdn/controller:trixie"
LABEL=org.wgsdn.inputs-hash
ROOTFS_PKGS=systemd,systemd-sysv,dbus,python3,iproute2,iputils-ping,ca-certificates
export DOCKER_BUILDKIT=0   # Debian's docker.io has no buildx; use the classic builder.
export DEBIAN_FRONTEND=noninteractive

timeout 15 docker info >/dev/null 2>&1 || die "no Docker engine answers (run tools/docker-engine.sh first)"

# Hash of the suite, this script and the given context directories (content + relative names).
inputs_hash() {
    {
        echo "$SUITE"
        sha256sum < "$HERE/build-images.sh"
        local d
        for d in "$@"; do
            (cd "$CTX" && find "$d" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
        done
    } | sha256sum | cut -c1-16
}

image_hash() {  # prints the image's input-hash label, or nothing
    docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null || true
}

up_to_date() {  # image hash
    [ "$FORCE" -eq 0 ] && [ "$(image_hash "$1")" = "$2" ]
}

elapsed() { echo "$(( $(date +%s) - $1 ))s"; }

# --- base rootfs -------------------------------------------------------------
# Prints the image to build debian-systemd FROM.
base_rootfs() {
    local h="$1" t0
    t0=$(date +%s)
    if [ "$FORCE" -eq 0 ] && [ "$(image_hash "$ROOTFS_IMAGE")" = "$h" ]; then
        log "rootfs $ROOTFS_IMAGE up to date" ; echo "$ROOTFS_IMAGE"; return
    fi
    if [ "${WGSDN_SKIP_PULL:-0}" != 1 ] && timeout "$PULL_TIMEOUT" docker pull -q "debian:$SUITE" >/dev/null 2>&1; then
        log "pulled debian:$SUITE in $(elapsed "$t0")"
        echo "debian:$SUITE"; return
    fi
    log "no registry answered within ${PULL_TIMEOUT}s ($(elapsed "$t0")); building the rootfs locally"
    local builder="${WGSDN_ROOTFS_BUILDER:-mmdebstrap}"
    if [ "$builder" = mmdebstrap ]; then
        need_pkg mmdebstrap mmdebstrap
        if rootfs_mmdebstrap "$h"; then echo "$ROOTFS_IMAGE"; return; fi
        log "WARNING: mmdebstrap failed; falling back to debootstrap"
    fi
    need_pkg debootstrap debootstrap
    rootfs_debootstrap "$h"
    echo "$ROOTFS_IMAGE"
}

need_pkg() {  # command package
    command -v "$1" >/dev/null 2>&1 && return 0
    [ "$(id -u)" -eq 0 ] || die "$1 missing and not root"
    log "installing $2"
    apt-get update -qq || log "WARNING: apt-get update reported errors; trying the install anyway"
    apt-get install -y -qq --no-install-recommends "$2" >/dev/null || die "cannot install $2"
}

# mmdebstrap (apt-based, parallel downloads: ~25 s here) streams a tarball
# straight into `docker import`.
rootfs_mmdebstrap() {
    local h="$1" t0 mlog
    t0=$(date +%s)
    mlog="$(mktemp /tmp/wgsdn-mmdebstrap.XXXXXX)"
    # The merged-usr hook sets up /usr-merge itself and installs usr-is-merged
    # (as debootstrap does); without it apt picks usrmerge and drags in perl.
    local hooks=()
    [ -d /usr/share/mmdebstrap/hooks/merged-usr ] && hooks=(--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr)
    if mmdebstrap --variant=minbase --include="$ROOTFS_PKGS" "${hooks[@]}" \
            --aptopt='Acquire::Retries "3"' \
            "$SUITE" - "$MIRROR" 2>"$mlog" \
        | docker import --change "LABEL $LABEL=$h" - "$ROOTFS_IMAGE" >/dev/null; then
        rm -f "$mlog"
        log "mmdebstrap + import of $ROOTFS_IMAGE done in $(elapsed "$t0")"
        return 0
    fi
    tail -n 30 "$mlog" >&2; rm -f "$mlog"
    docker image rm -f "$ROOTFS_IMAGE" >/dev/null 2>&1 || true
    return 1
}

# debootstrap (~45-60 s here) into a directory, then tar | docker import.
rootfs_debootstrap() {
    local h="$1" t0 dir
    dir="$(mktemp -d /var/tmp/wgsdn-rootfs.XXXXXX)"
    # shellcheck disable=SC2064
    trap "umount -R '$dir/rootfs/proc' '$dir/rootfs/sys' 2>/dev/null || true; rm -rf '$dir'" EXIT
    t0=$(date +%s)
    if ! debootstrap --variant=minbase --include="$ROOTFS_PKGS" \
        "$SUITE" "$dir/rootfs" "$MIRROR" > "$dir/debootstrap.log" 2>&1; then
        tail -n 30 "$dir/debootstrap.log" >&2
        [ -f "$dir/rootfs/debootstrap/debootstrap.log" ] && tail -n 30 "$dir/rootfs/debootstrap/debootstrap.log" >&2
        die "debootstrap failed"
    fi
    log "debootstrap done in $(elapsed "$t0")"
    t0=$(date +%s)
    rm -rf "$dir"/rootfs/var/cache/apt/archives/*.deb "$dir"/rootfs/var/lib/apt/lists/* \
           "$dir"/rootfs/debootstrap
    tar --numeric-owner --xattrs -C "$dir/rootfs" -c . \
        | docker import --change "LABEL $LABEL=$h" - "$ROOTFS_IMAGE" >/dev/null \
        || die "docker import failed"
    rm -rf "$dir"; trap - EXIT
    log "imported $ROOTFS_IMAGE in $(elapsed "$t0")"
}

build() {  # image context hash base [context dir]
    local image="$1" ctx="$2" h="$3" base="$4" dir="${5:-$CTX/$2}" t0 out
    t0=$(date +%s)
    out="$(mktemp /tmp/wgsdn-build.XXXXXX)"
    if ! docker build --pull=false --build-arg "BASE=$base" --build-arg "SUITE=$SUITE" \
            --label "$LABEL=$h" -t "$image" "$dir" > "$out" 2>&1; then
        tail -n 40 "$out" >&2; rm -f "$out"
        die "docker build of $image failed"
    fi
    rm -f "$out"
    log "built $image in $(elapsed "$t0")"
}

# The controller installs its venv from PyPI. Where HTTPS leaves through an
# intercepting proxy, the host trusts extra CAs (/usr/local/share/ca-certificates);
# the build gets a copy of them (not part of the hash: they belong to the machine).
build_controller() {  # hash
    local dir
    dir="$(mktemp -d /tmp/wgsdn-controller-ctx.XXXXXX)"
    cp -a "$CTX/controller/." "$dir/"
    mkdir -p "$dir/host-ca"
    find /usr/local/share/ca-certificates -name '*.crt' -type f -exec cp {} "$dir/host-ca/" \; 2>/dev/null || true
    build "$CONTROLLER_IMAGE" controller "$1" "wgsdn/debian-systemd:trixie" "$dir"
    rm -rf "$dir"
}

T0=$(date +%s)
for SUITE in "${SUITES[@]}"; do
    BASE_IMAGE="wgsdn/debian-systemd:$SUITE"
    NODE_IMAGE="wgsdn/node:$SUITE"
    ROOTFS_IMAGE="wgsdn/rootfs:$SUITE"
    H_ROOTFS="$(inputs_hash)"
    H_BASE="$(inputs_hash debian-systemd)"
    H_NODE="$(inputs_hash debian-systemd node)"

    if up_to_date "$BASE_IMAGE" "$H_BASE"; then
        log "$BASE_IMAGE up to date ($H_BASE)"
        rebuilt_base=0
    else
        from="$(base_rootfs "$H_ROOTFS")"
        build "$BASE_IMAGE" debian-systemd "$H_BASE" "$from"
        rebuilt_base=1
    fi

    if [ "$rebuilt_base" -eq 0 ] && up_to_date "$NODE_IMAGE" "$H_NODE"; then
        log "$NODE_IMAGE up to date ($H_NODE)"
    else
        build "$NODE_IMAGE" node "$H_NODE" "$BASE_IMAGE"
    fi

    if [ "$SUITE" = trixie ]; then
        H_CONTROLLER="$(inputs_hash debian-systemd controller)"
        if [ "$rebuilt_base" -eq 0 ] && up_to_date "$CONTROLLER_IMAGE" "$H_CONTROLLER"; then
            log "$CONTROLLER_IMAGE up to date ($H_CONTROLLER)"
        else
            build_controller "$H_CONTROLLER"
        fi
    fi
done

# Drop dangling layers of earlier builds.
docker image prune -f >/dev/null 2>&1 || true
log "images ready in $(elapsed "$T0"):"
docker image ls --format '{{.Repository}}:{{.Tag}}  {{.ID}}  {{.Size}}' | grep -E '^wgsdn/' | sed 's/^/  /' >&2 || true
