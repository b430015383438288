#!/usr/bin/env bash
# Every Molecule scenario, one after another (as molecule test --all, stopping at the first
# failure), then each scenario's wall time. SKIP_SCENARIOS (names, space-separated) leaves some
# out. CI keeps only the last lines of what it printed,
# and Molecule prints the destroy step after a failing test: on a failure, the failing tests
# and their first error lines are printed again at the very end.
set -uo pipefail
log=$(mktemp)
trap 'rm -f "$log" "$log.plain"' EXIT
rc=0
times=()
for file in extensions/molecule/*/molecule.yml; do
  scenario=$(basename "$(dirname "$file")")
  case " ${SKIP_SCENARIOS:-} " in *" $scenario "*) echo "=== molecule: $scenario left out (SKIP_SCENARIOS)"; continue ;; esac
  start=$(date +%s)
  molecule test -s "$scenario" 2>&1 | tee -a "$log"
  rc=${PIPESTATUS[0]}
  times+=("$scenario $(($(date +%s) - start)) s")
  echo "=== molecule: $scenario took $(($(date +%s) - start)) s (exit $rc)"
  [ "$rc" -eq 0 ] || break
done
echo "=== molecule wall time per scenario: $(IFS=,; echo "${times[*]}" | sed 's/,/, /g')"
if [ "$rc" -ne 0 ]; then
  echo "=== molecule failed (exit $rc); what failed, again: ==="
  # Without colours, and without the frame Molecule draws around a step's output.
  sed -e 's/\x1b\[[0-9;]*m//g' -e 's/^ *│ //' "$log" >"$log.plain"
  grep -E '^(FAILED|ERROR) | ➜ [a-z]+: Executed: Failed' "$log.plain" | cut -c1-300 | head -n 5
  grep -E '^E  ' "$log.plain" | cut -c1-300 | head -n 8
  grep -E '^(fatal|failed): \[' "$log.plain" | cut -c1-300 | head -n 4
fi
exit "$rc"
