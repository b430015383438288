#!/usr/bin/env bash
# Print the path of a `promtool` usable on the controller (checking and unit-testing the alert rules
# playbooks/monitoring.yml writes). Uses an installed promtool when there is one; otherwise unpacks
# Debian's prometheus package (the one the monitors run) under .cache/prometheus, installing nothing.
set -euo pipefail
if command -v promtool >/dev/null 2>&1; then command -v promtool; exit 0; fi
dest=$(bash "$(dirname "${BASH_SOURCE[0]}")/debian-unpack.sh" prometheus usr/bin/promtool prometheus)
echo "$dest/usr/bin/promtool"
