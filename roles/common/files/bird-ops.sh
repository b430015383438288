#!/usr/bin/env bash
# wgsdn.fabric: BIRD operations of a key rotation, and repairs after an interrupted run.
# Usage: bird-ops.sh ACTION STATE_DIR [PROTOCOLS [INTERFACES [PEERS]]]  (lists comma-separated)
#   drain    record the drain in STATE_DIR/drain, stop sending BFD out of INTERFACES (nftables
#            table inet wgsdn_drain), disable PROTOCOLS, then wait until the BFD sessions with
#            PEERS are down: the neighbours have routed around these links, which still carry
#            whatever is in flight
#   lift     undo the recorded drain, then wait until PROTOCOLS are Established and the BFD
#            sessions with PEERS are Up again
#   recover  (every converge) undo a drain an interrupted rotation left behind, enable the
#            protocols someone disabled (`birdc disable`) but those in PROTOCOLS, which service
#            checkers turn on and off, and reconfigure BIRD when a configuration file is newer than
#            its last reconfiguration (a run killed between writing a file and reloading BIRD)
#   check    say what recover would do, and do nothing (check mode)
# Prints what it changed (or would); nothing when there was nothing to do.
set -euo pipefail
action=$1 dir=$2 protocols=${3:-} interfaces=${4:-} peers=${5:-}
config=/etc/bird/bird.conf include_dir=/etc/bird/bird.d
words() { tr ',' ' ' <<<"$1"; }

wait_for() { # DESCRIPTION SECONDS COMMAND...
  local what=$1 deadline=$(($(date +%s) + $2))
  shift 2
  until "$@"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "timed out waiting for $what" >&2
      exit 1
    fi
    sleep 0.1
  done
}
bfd_state() { birdc -r show bfd sessions | awk -v a="$1" '$1 == a { print $3 }'; }
bfd_down() { [ "$(bfd_state "$1")" != Up ]; }
bfd_up() { [ "$(bfd_state "$1")" = Up ]; }
established() { birdc -r show protocols "$1" | grep -q Established; }

lift_recorded() {
  [ -e "$dir/drain" ] || return 0
  local recorded
  recorded=$(head -n 1 "$dir/drain")
  nft delete table inet wgsdn_drain 2>/dev/null || true
  for p in $(words "$recorded"); do birdc enable "$p" >/dev/null; done
  rm -f "$dir/drain"
  echo "lifted the drain of ${recorded:-BFD only}"
}

case $action in
drain)
  mkdir -p "$dir"
  printf '%s\n%s\n' "$protocols" "$interfaces" >"$dir/drain"
  if [ -n "$interfaces" ]; then
    names=$(words "$interfaces" | sed 's/[^ ]\+/"&"/g; s/ /, /g')
    nft -f - <<NFT
table inet wgsdn_drain
delete table inet wgsdn_drain
table inet wgsdn_drain {
	chain output {
		type filter hook output priority 0; policy accept;
		oifname { $names } udp dport { 3784, 4784 } drop
	}
}
NFT
  fi
  for p in $(words "$protocols"); do birdc disable "$p" >/dev/null; done
  for a in $(words "$peers"); do wait_for "the BFD session with $a to go down" 60 bfd_down "$a"; done
  echo "drained ${protocols:-BFD only}"
  ;;
lift)
  lift_recorded
  for p in $(words "$protocols"); do wait_for "$p to be Established" 120 established "$p"; done
  for a in $(words "$peers"); do wait_for "the BFD session with $a to come up" 120 bfd_up "$a"; done
  ;;
recover | check)
  command -v birdc >/dev/null && systemctl is-active --quiet bird || exit 0
  if [ "$action" = check ]; then
    [ ! -e "$dir/drain" ] || echo "would lift the drain of $(head -n 1 "$dir/drain")"
  else
    lift_recorded
  fi
  # A protocol BIRD shows as "down" was disabled: by hand, a drain, or its service checker.
  for p in $(birdc -r show protocols | awk 'NR > 2 && $4 == "down" { print $1 }'); do
    [[ ",$protocols," == *",$p,"* ]] && continue
    if [ "$action" = check ]; then
      echo "would enable $p (disabled)"
    else
      birdc enable "$p" >/dev/null
      echo "enabled $p (disabled)"
    fi
  done
  [ "$action" = recover ] || exit 0
  last=$(birdc -r show status | sed -n 's/^Last reconfiguration on //p')
  if [ -n "$last" ] && [ -n "$(find "$config" "$include_dir" -maxdepth 1 -name '*.conf' -newermt "$last" 2>/dev/null)" ]; then
    out=$(birdc configure)
    case $out in
    *Reconfigured* | *"Reconfiguration in progress"*) echo "reconfigured: the files were newer than the running configuration" ;;
    *) echo "$out" >&2; exit 1 ;;
    esac
  fi
  ;;
*) echo "unknown action $action" >&2; exit 2 ;;
esac
