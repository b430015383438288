#!/usr/bin/env bash
# Print the path of a `promtool` usable on the controller (checking and unit-testing the alert rules
# playbooks/monitoring.yml writes). Uses an installed promtool when there is one; otherwise unpacks
# Debian's prometheus package (the one the monitors run) under .cache/prometheus, installing nothing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
if command -v promtool >/dev/null 2>&1; then command -v promtool; exit 0; fi
dest="$ROOT/.cache/prometheus"
if [ ! -x "$dest/usr/bin/promtool" ]; then
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
  (cd "$work" && { apt-get download prometheus >/dev/null 2>&1 || { apt-get update -qq && apt-get download prometheus >/dev/null; }; })
  mkdir -p "$dest"
  dpkg -x "$work"/prometheus_*.deb "$dest"
fi
echo "$dest/usr/bin/promtool"
