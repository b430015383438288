#!/usr/bin/env bash
# Failover/failback benchmark on the `dualhomed` Molecule scenario:
# bring it up (create + converge), run bench/failover.py (3 repetitions by
# default; extra arguments are passed on), tear it down.
#   bash bench/failover.sh [--reps N] [--pause S]
# KEEP=1 leaves the containers running afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
export ANSIBLE_COLLECTIONS_PATH="$PWD/.cache/collections" ANSIBLE_CONFIG="$PWD/ansible.cfg"
[ -d .venv ] && source .venv/bin/activate
bash tools/link-collection.sh >/dev/null 2>&1
exec 9>/tmp/wgsdn-molecule.lock
flock 9   # one Molecule run at a time on this machine
cleanup() { [ "${KEEP:-0}" = 1 ] || molecule destroy -s dualhomed >/dev/null 2>&1 || true; }
trap cleanup EXIT
molecule create -s dualhomed
molecule converge -s dualhomed
python3 bench/failover.py "$@"
