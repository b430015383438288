#!/usr/bin/env bash
# Every benchmark; results are pasted into bench/README.md by hand (numbers are not asserted in tests).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "## Plan computation"; python bench/plan.py
echo "## render.yml"; python bench/render.py
if [ "${1:-}" = "--failover" ]; then echo "## Failover"; bash bench/failover.sh; fi
