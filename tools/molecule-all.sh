#!/usr/bin/env bash
# Run every Molecule scenario under extensions/molecule (but the image smoke test,
# and scenarios holding a NOT-IN-CI file whose first line says why) one after
# another, report each one's duration, fail if any failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export ANSIBLE_COLLECTIONS_PATH="$PWD/.cache/collections" ANSIBLE_CONFIG="$PWD/ansible.cfg"
only=("$@")
failed=()
skipped=0
summary=()
for dir in extensions/molecule/*/; do
  name=$(basename "$dir")
  [ -f "$dir/molecule.yml" ] || continue
  [ "$name" = smoke ] && continue
  if [ -f "$dir/NOT-IN-CI" ]; then
    summary+=("$(printf '%-14s %-7s %s' "$name" skipped "$(head -n 1 "$dir/NOT-IN-CI")")")
    skipped=$((skipped + 1))
    continue
  fi
  if [ ${#only[@]} -gt 0 ] && [[ " ${only[*]} " != *" $name "* ]]; then continue; fi
  echo "=== molecule test -s $name"
  start=$(date +%s)
  if flock /tmp/wgsdn-molecule.lock molecule test -s "$name"; then
    result=passed
  else
    result=FAILED
    failed+=("$name")
  fi
  summary+=("$(printf '%-14s %-7s %4ss' "$name" "$result" "$(( $(date +%s) - start ))")")
done
echo "=== Molecule summary"
printf '%s\n' "${summary[@]}"
echo "$(( ${#summary[@]} - ${#failed[@]} - skipped )) passed, ${#failed[@]} failed, $skipped skipped"
[ ${#failed[@]} -eq 0 ]
