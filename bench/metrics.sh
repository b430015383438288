#!/usr/bin/env bash
# Benchmark of wgsdn.fabric.metrics on a synthetic gateway with N WireGuard peers (default 50):
# node-exporter's scrape duration and metric count with the collector's textfile, the collector's
# own series count, wall time and CPU time. One throwaway container (wgsdn/node:bookworm,
# wireguard-go); touches nothing else. Usage: bash bench/metrics.sh [PEERS] [RUNS]
set -euo pipefail
peers=${1:-50}
runs=${2:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
name=wgsdn-bench-metrics-$$
trap 'docker rm -f "$name" >/dev/null 2>&1 || true' EXIT
docker run -d --name "$name" --cap-add NET_ADMIN --device /dev/net/tun --entrypoint sleep wgsdn/node:bookworm 600 >/dev/null
docker cp "$root/roles/metrics/files/wgsdn-metrics-collector" "$name:/usr/local/sbin/wgsdn-metrics-collector"
docker exec -i "$name" bash -s "$peers" "$runs" <<'SCRIPT'
set -euo pipefail
peers=$1 runs=$2
mkdir -p /var/lib/prometheus/node-exporter /etc/wgsdn
wireguard-go wg0 2>/dev/null
ip address add 10.0.0.1/16 dev wg0 && ip link set wg0 up
(umask 077; wg genkey > /tmp/key) && wg set wg0 private-key /tmp/key listen-port 51820
echo '{' > /etc/wgsdn/metrics-peers.json
for i in $(seq 1 "$peers"); do
  pub=$(wg genkey | wg pubkey)
  wg set wg0 peer "$pub" allowed-ips "10.0.$((i / 250)).$((i % 250 + 2))/32" endpoint "192.0.2.$((i % 250 + 1)):51820"
  printf '%s"%s": "device%d"\n' "$([ "$i" -gt 1 ] && echo ,)" "$pub" "$i" >> /etc/wgsdn/metrics-peers.json
done
echo '}' >> /etc/wgsdn/metrics-peers.json
prometheus-node-exporter --web.listen-address=10.0.0.1:9100 --collector.textfile.directory=/var/lib/prometheus/node-exporter >/dev/null 2>&1 &
sleep 2
# The collector: wall and CPU (user+system, children included: wg) per run, averaged over $runs runs.
python3 - "$runs" <<'PY'
import os, subprocess, sys, time
runs = int(sys.argv[1])
start_wall, start = time.perf_counter(), os.times()
for _ in range(runs):
    subprocess.run(["python3", "/usr/local/sbin/wgsdn-metrics-collector"], check=True)
wall, end = time.perf_counter() - start_wall, os.times()
cpu = (end.children_user - start.children_user) + (end.children_system - start.children_system)
print(f"collector: {wall / runs * 1000:.0f} ms wall, {cpu / runs * 1000:.0f} ms CPU per run (python3 + wg show all dump)")
PY
echo "collector series: $(grep -vc '^#' /var/lib/prometheus/node-exporter/wgsdn.prom) ($(stat -c %s /var/lib/prometheus/node-exporter/wgsdn.prom) bytes)"
for i in $(seq 1 5); do curl -s -o /tmp/scrape -w '%{time_total}\n' http://10.0.0.1:9100/metrics; done | sort -n | awk '{a[NR]=$1} END {printf "node-exporter scrape: median %.0f ms of 5\n", a[3] * 1000}'
echo "node-exporter series: $(grep -vc '^#' /tmp/scrape), of which wgsdn_*: $(grep -c '^wgsdn_' /tmp/scrape)"
SCRIPT
