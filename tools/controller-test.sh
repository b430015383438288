#!/usr/bin/env bash
# The ansible-core 2.21 checks of `make test`, run inside wgsdn/controller:trixie
# by `make test-core221` (tools/controller-run.sh bash tools/controller-test.sh):
#   1. the unit tests,
#   2. render.yml (tests/integration/test_render.py: the article's topologies,
#      every bird.conf parsed by Debian 13's BIRD 2.17),
#   3. the topology1 Molecule scenario, whose two hosts mix Debian 12 and 13
#      (the smallest mixed fleet: the full routed dualhomed scenario, also mixed,
#      runs once with ansible-core 2.19 in `make molecule`; running it again here
#      cost 6 of make test's 60 minutes).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
[ -f /etc/debian_version ] && grep -q '^13' /etc/debian_version \
    || { echo "[controller-test] ERROR: run me through tools/controller-run.sh" >&2; exit 1; }

ansible --version | head -n 1
python3 --version
failed=()
summary=()
step() {
    local name="$1" start result
    shift
    echo "=== [core 2.21] $name"
    start=$(date +%s)
    if "$@"; then result=passed; else result=FAILED; failed+=("$name"); fi
    summary+=("$(printf '%-10s %-7s %4ss' "$name" "$result" "$(( $(date +%s) - start ))")")
}
# Molecule under the lock shared with the host's runs (container names are
# global); the time spent waiting for it is reported apart from the run.
molecule_locked() {
    local asked
    asked=$(date +%s)
    # shellcheck disable=SC2016
    flock /tmp/wgsdn-molecule.lock bash -c \
        'echo "[controller-test] waited $(( $(date +%s) - $1 ))s for the Molecule lock"; exec molecule test -s "$2"' _ "$asked" "$1"
}
step unit      python3 -m pytest -q -p no:cacheprovider tests/unit
step render    python3 -m pytest -q -p no:cacheprovider tests/integration/test_render.py
step topology1 molecule_locked topology1
echo "=== ansible-core 2.21 summary"
printf '%s\n' "${summary[@]}"
echo "$(( ${#summary[@]} - ${#failed[@]} )) passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
