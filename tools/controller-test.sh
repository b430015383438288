#!/usr/bin/env bash
# The newer ansible-core checks of `make test`, run inside wgsdn/controller:trixie
# (Debian 13, Python 3.13) by `make test-core221` and `make test-core220`
# (tools/controller-run.sh bash tools/controller-test.sh [2.21|2.20]):
#   1. the unit tests,
#   2. render.yml: tests/integration/test_render.py (the article's topologies,
#      every bird.conf parsed by Debian 13's BIRD 2.17) and test_render_golden.py
#      (every golden case byte for byte, with the fast render and the ordinary one),
#   3. 2.21 only: the topology1 Molecule scenario, whose two hosts mix Debian 12
#      and 13 (the smallest mixed fleet: the full routed dualhomed scenario, also
#      mixed, runs once with ansible-core 2.19 in `make molecule`; running it again
#      here cost 6 of make test's 60 minutes).
# 2.21 is the image's own venv (tools/images/controller/requirements-core221.txt);
# 2.20 is a venv made on first use under .cache/venv-core220 (requirements-core220.txt).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
[ -f /etc/debian_version ] && grep -q '^13' /etc/debian_version \
    || { echo "[controller-test] ERROR: run me through tools/controller-run.sh" >&2; exit 1; }

core="${1:-2.21}"
case "$core" in
    2.21) ;;
    2.20)
        venv=.cache/venv-core220
        requirements=tools/images/controller/requirements-core220.txt
        if ! cmp -s "$requirements" "$venv/.installed" 2>/dev/null; then
            rm -rf "$venv"
            /usr/bin/python3 -m venv "$venv" && "$venv/bin/pip" install -q -r "$requirements" \
                && cp "$requirements" "$venv/.installed" \
                || { echo "[controller-test] ERROR: cannot install $requirements into $venv" >&2; exit 1; }
        fi
        PATH="$PWD/$venv/bin:$PATH"
        export PATH
        ;;
    *) echo "usage: $0 [2.21|2.20]" >&2; exit 2 ;;
esac

ansible --version | head -n 1
python3 --version
ansible --version | head -n 1 | grep -q "core $core\." \
    || { echo "[controller-test] ERROR: expected ansible-core $core" >&2; exit 1; }
failed=()
summary=()
step() {
    local name="$1" start result
    shift
    echo "=== [core $core] $name"
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
step render    python3 -m pytest -q -p no:cacheprovider tests/integration/test_render.py tests/integration/test_render_golden.py
[ "$core" = 2.21 ] && step topology1 molecule_locked topology1
echo "=== ansible-core $core summary"
printf '%s\n' "${summary[@]}"
echo "$(( ${#summary[@]} - ${#failed[@]} )) passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
