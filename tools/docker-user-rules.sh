#!/usr/bin/env bash
# Keep test traffic on this machine: no packet from a container addressed to
# the overlay / LAN test prefixes may leave through Docker's NAT.
#
# Installs a chain WGSDN-GUARD, jumped to first from DOCKER-USER (created here
# if dockerd has not yet; dockerd keeps an existing DOCKER-USER):
#   1. traffic that stays on a Docker bridge (docker0, br-*) -> RETURN
#      (container <-> container underlay; with bridge-nf-call-iptables=1
#      bridged frames traverse FORWARD too)
#   2. DNS (udp+tcp 53) to each IPv4 nameserver of /etc/resolv.conf -> RETURN
#      (here 10.255.255.53, inside 10/8)
#   3. destination 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10 -> DROP
# Everything else continues through Docker's own rules (apt mirrors etc.).
# Idempotent: the chain is rebuilt on every run; exactly one jump is kept.
set -euo pipefail

log() { printf '[docker-user-rules] %s\n' "$*" >&2; }
die() { printf '[docker-user-rules] ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root"
command -v iptables >/dev/null 2>&1 || die "iptables not found (run tools/docker-engine.sh first)"

CHAIN=WGSDN-GUARD
PREFIXES="10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 100.64.0.0/10"
RESOLV="${WGSDN_RESOLV_CONF:-/etc/resolv.conf}"
ipt() { iptables -w 10 "$@"; }

# DOCKER-USER: dockerd creates it and jumps to it from FORWARD; do both if not yet.
ipt -t filter -n -L DOCKER-USER >/dev/null 2>&1 || ipt -t filter -N DOCKER-USER
ipt -t filter -C FORWARD -j DOCKER-USER 2>/dev/null || ipt -t filter -I FORWARD 1 -j DOCKER-USER

# (Re)build our chain.
ipt -t filter -n -L "$CHAIN" >/dev/null 2>&1 || ipt -t filter -N "$CHAIN"
ipt -t filter -F "$CHAIN"

ipt -A "$CHAIN" -o docker0 -j RETURN -m comment --comment "wgsdn: stays on a docker bridge"
ipt -A "$CHAIN" -o br-+    -j RETURN -m comment --comment "wgsdn: stays on a docker bridge"

nameservers="$(awk '$1 == "nameserver" && $2 ~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/ && $2 !~ /^127\./ { print $2 }' "$RESOLV" 2>/dev/null | sort -u)"
for ns in $nameservers; do
    for proto in udp tcp; do
        ipt -A "$CHAIN" -d "$ns/32" -p "$proto" --dport 53 -j RETURN -m comment --comment "wgsdn: host resolver"
    done
done

for p in $PREFIXES; do
    ipt -A "$CHAIN" -d "$p" -j DROP -m comment --comment "wgsdn: test prefix must not leave"
done

# Exactly one jump, first in DOCKER-USER.
while ipt -t filter -D DOCKER-USER -j "$CHAIN" 2>/dev/null; do :; done
ipt -t filter -I DOCKER-USER 1 -j "$CHAIN"

log "DOCKER-USER -> $CHAIN: drop $PREFIXES; resolvers allowed: ${nameservers:-none}"
