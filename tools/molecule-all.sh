#!/usr/bin/env bash
# Every Molecule scenario, one after another (molecule test --all). CI keeps only the last
# lines of what it printed, and Molecule prints the destroy step after a failing test: on a
# failure, the failing tests and their first error lines are printed again at the very end.
set -uo pipefail
log=$(mktemp)
trap 'rm -f "$log"' EXIT
molecule test --all 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ]; then
  echo "=== molecule failed (exit $rc); what failed, again: ==="
  # Without colours, and without the frame Molecule draws around a step's output.
  sed -e 's/\x1b\[[0-9;]*m//g' -e 's/^ *│ //' "$log" >"$log.plain"
  grep -E '^(FAILED|ERROR) | ➜ [a-z]+: Executed: Failed' "$log.plain" | cut -c1-300 | head -n 5
  grep -E '^E  ' "$log.plain" | cut -c1-300 | head -n 8
  grep -E '^(fatal|failed): \[' "$log.plain" | cut -c1-300 | head -n 4
  rm -f "$log.plain"
fi
exit "$rc"
