# wgsdn.fabric: bring the running WireGuard interfaces to what their files say.
# Usage: wg-apply.sh STATE_DIR MODE AT IFNAME...
#   MODE  apply: apply what lags; check: only report it; switch: first make each
#         staged STATE_DIR/IFNAME.conf.next the configuration (a key rotation step).
#   AT    wall-clock time (seconds since the epoch) to wait for before applying, so that
#         both ends of a link switch at the same instant; 0 applies at once.
# Each interface records the digests of the files it last applied. One whose unit runs and
# whose files differ from that record gets them now, whatever happened to an earlier run (a
# controller killed between writing a file and applying it leaves exactly that): a restart
# when the wg-quick settings (Address, PostUp, Table, MTU) changed, else `wg syncconf`, which
# keeps live sessions. A stopped unit reads its file when it starts. Prints "ACTION IFNAME".
set -euo pipefail
umask 077
dir=$1 mode=$2 at=$3
shift 3
digest() { sha256sum <"$1" | cut -d' ' -f1; }
recorded() { cat "$dir/$1.applied" 2>/dev/null || true; }

if [ "$mode" = switch ]; then
  for ifname in "$@"; do
    if [ -e "$dir/$ifname.conf.next" ]; then
      mv "$dir/$ifname.conf.next" "/etc/wireguard/$ifname.conf"
    fi
  done
fi

todo=()
for ifname in "$@"; do
  systemctl is-active --quiet "wg-quick@$ifname" || continue
  if [ -n "$(recorded "$ifname.settings")" ] && [ "$(digest "$dir/$ifname.settings")" != "$(recorded "$ifname.settings")" ]; then
    todo+=("restart $ifname")
  elif [ "$(digest "/etc/wireguard/$ifname.conf")" != "$(recorded "$ifname.conf")" ]; then
    todo+=("sync $ifname")
  fi
done
if [ "$mode" = check ]; then
  [ ${#todo[@]} -eq 0 ] || printf '%s\n' "${todo[@]}"
  exit 0
fi

# At most 10 s: a host whose clock runs behind must not hold its links down for long.
sleep "$(awk -v at="$at" -v now="$(date +%s.%N)" 'BEGIN { d = at - now; printf "%.3f", (d < 0 ? 0 : (d > 10 ? 10 : d)) }')"
for item in "${todo[@]}"; do
  action=${item%% *} ifname=${item#* }
  if [ "$action" = restart ]; then
    systemctl restart "wg-quick@$ifname"
  else
    # Never hand syncconf an empty or partial configuration when strip fails.
    stripped=$(mktemp)
    wg-quick strip "$ifname" >"$stripped"
    grep -q '^PrivateKey = ' "$stripped"
    wg syncconf "$ifname" "$stripped"
    rm -f "$stripped"
  fi
  digest "/etc/wireguard/$ifname.conf" >"$dir/$ifname.conf.applied"
  digest "$dir/$ifname.settings" >"$dir/$ifname.settings.applied"
  echo "$item"
done
