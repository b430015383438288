#!/usr/bin/env bash
# wgsdn.fabric: switch WireGuard interfaces to their staged configurations (a key rotation step).
# Usage: wg-apply.sh STATE_DIR switch AT IFNAME...
#   Each staged STATE_DIR/IFNAME.conf.next becomes /etc/wireguard/IFNAME.conf, then the running
#   interfaces get what their files say.
#   AT    wall-clock time (seconds since the epoch) to wait for before applying, so that
#         both ends of a link switch at the same instant; 0 applies at once.
# (An ordinary converge applies files with the wgsdn.fabric.wireguard_apply module.)
# Each interface records the digests of the files it last applied. One whose unit runs and
# whose files differ from that record gets them now: a restart when the wg-quick settings
# (Address, PostUp, Table, MTU) changed, else `wg syncconf`, which keeps live sessions. A
# stopped unit reads its file when it starts. Prints "ACTION IFNAME at TIME (instant AT)".
set -euo pipefail
umask 077
dir=$1 mode=$2 at=$3
shift 3
[ "$mode" = switch ] || { echo "wg-apply.sh: the only mode is switch, not '$mode'" >&2; exit 2; }
digest() { sha256sum <"$1" | cut -d' ' -f1; }
recorded() { cat "$dir/$1.applied" 2>/dev/null || true; }

for ifname in "$@"; do
  if [ -e "$dir/$ifname.conf.next" ]; then
    mv "$dir/$ifname.conf.next" "/etc/wireguard/$ifname.conf"
  fi
done

todo=()
for ifname in "$@"; do
  systemctl is-active --quiet "wg-quick@$ifname" || continue
  if [ -n "$(recorded "$ifname.settings")" ] && [ "$(digest "$dir/$ifname.settings")" != "$(recorded "$ifname.settings")" ]; then
    todo+=("restart $ifname")
  elif [ "$(digest "/etc/wireguard/$ifname.conf")" != "$(recorded "$ifname.conf")" ]; then
    todo+=("sync $ifname")
  fi
done
# The stripped configurations are made before the wait, so that both ends of a link act at
# the instant itself. They hold keys: private to root (umask), removed on exit.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for item in "${todo[@]}"; do
  ifname=${item#* }
  # Never hand syncconf an empty or partial configuration when strip fails.
  wg-quick strip "$ifname" >"$tmp/$ifname"
  grep -q '^PrivateKey = ' "$tmp/$ifname"
done

# The peers a switch must see handshake again: those this end initiates to (an endpoint),
# all of them when the interface's own key changed, else the peers that are new.
fingerprint() { wg show "$1" private-key 2>/dev/null | sha256sum | cut -d' ' -f1; }
initiated() { wg show "$1" endpoints | awk '$2 != "(none)" { print $1 }'; }
renewed() {  # IFNAME KEY_FINGERPRINT_BEFORE PEERS_BEFORE
  if [ "$(fingerprint "$1")" != "$2" ] || [ -z "$3" ]; then
    initiated "$1"
  else
    initiated "$1" | grep -vxF -e "$3" || true
  fi
}

# A first handshake that left before the other end switched is refused, and WireGuard waits
# its REKEY_TIMEOUT (5 s) before the next one: a 5 s hole in a single-homed link. A peer
# re-added is a new peer, whose next packet starts a handshake at once: every 0.5 s, for at
# most 6 s, each renewed peer without a handshake since the switch is removed and re-added.
nudge() {  # IFNAME SINCE PEER...
  local ifname=$1 since=$2 peer latest
  shift 2
  local pending=("$@") deadline=$(( since + 6 )) left
  while [ ${#pending[@]} -gt 0 ] && [ "$(date +%s)" -lt "$deadline" ]; do
    sleep 0.5
    left=()
    for peer in "${pending[@]}"; do
      latest=$(wg show "$ifname" latest-handshakes | awk -v p="$peer" '$1 == p { print $2 }')
      [ "${latest:-0}" -ge "$since" ] && continue
      wg set "$ifname" peer "$peer" remove
      echo "re-added $ifname ${peer:0:8} at $(date +%s.%N)"
      left+=("$peer")
    done
    [ ${#left[@]} -eq 0 ] || wg syncconf "$ifname" "$tmp/$ifname"
    pending=("${left[@]}")
  done
}

# At most 10 s: a host whose clock runs behind must not hold its links down for long.
sleep "$(awk -v at="$at" -v now="$(date +%s.%N)" 'BEGIN { d = at - now; printf "%.3f", (d < 0 ? 0 : (d > 10 ? 10 : d)) }')"
since=$(date +%s)
declare -A key_before peers_before
for item in "${todo[@]}"; do
  action=${item%% *} ifname=${item#* }
  key_before[$ifname]=$(fingerprint "$ifname")
  peers_before[$ifname]=$(wg show "$ifname" peers)
  if [ "$action" = restart ]; then
    systemctl restart "wg-quick@$ifname"
  else
    wg syncconf "$ifname" "$tmp/$ifname"
  fi
  digest "/etc/wireguard/$ifname.conf" >"$dir/$ifname.conf.applied"
  digest "$dir/$ifname.settings" >"$dir/$ifname.settings.applied"
  echo "$item at $(date +%s.%N) (instant $at)"
done
for item in "${todo[@]}"; do
  ifname=${item#* }
  mapfile -t peers < <(renewed "$ifname" "${key_before[$ifname]}" "${peers_before[$ifname]}")
  [ ${#peers[@]} -eq 0 ] || nudge "$ifname" "$since" "${peers[@]}" &
done
wait
