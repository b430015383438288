#!/usr/bin/env bash
# Run a command on the ansible-core 2.21 controller: the wgsdn/controller:trixie
# image (Debian 13, Python 3.13, the venv of
# tools/images/controller/requirements-core221.txt; built by tools/build-images.sh).
#   tools/controller-run.sh ansible --version
#   tools/controller-run.sh bash tools/controller-test.sh
# The checkout is mounted at its own path (so .cache/collections' symlink and
# Molecule's bind mounts mean the same inside and out), the host's Docker socket
# lets Molecule's docker driver start the test hosts beside this container, and
# /tmp/wgsdn-molecule.lock is shared so `flock` inside serializes with the host.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
IMAGE="${WGSDN_CONTROLLER_IMAGE:-wgsdn/controller:trixie}"
SOCK="${WGSDN_DOCKER_SOCK:-/var/run/docker.sock}"
LOCK=/tmp/wgsdn-molecule.lock

[ "$#" -gt 0 ] || { echo "usage: $0 COMMAND [ARG...]" >&2; exit 2; }
docker image inspect "$IMAGE" >/dev/null 2>&1 \
    || { echo "[controller-run] ERROR: no image $IMAGE (run tools/build-images.sh trixie)" >&2; exit 1; }
[ -S "$SOCK" ] || { echo "[controller-run] ERROR: no Docker socket at $SOCK" >&2; exit 1; }
bash "$ROOT/tools/link-collection.sh" 2>/dev/null
touch "$LOCK"

tty=()
[ -t 0 ] && [ -t 1 ] && tty=(-it)
exec docker run --rm --init "${tty[@]}" \
    --name "wgsdn-controller-$$" \
    -v "$SOCK:/var/run/docker.sock" \
    -v "$ROOT:$ROOT" -w "$ROOT" \
    -v "$LOCK:$LOCK" \
    -e ANSIBLE_COLLECTIONS_PATH="$ROOT/.cache/collections" \
    -e ANSIBLE_CONFIG="$ROOT/ansible.cfg" \
    -e CI="${CI:-}" \
    "$IMAGE" "$@"
