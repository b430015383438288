#!/usr/bin/env bash
# Make this checkout importable as the collection wgsdn.fabric without
# building/installing it (Galaxy is unreachable; edits stay live):
#   <repo>/.cache/collections/ansible_collections/wgsdn/fabric -> <repo>
# Then: export ANSIBLE_COLLECTIONS_PATH=<repo>/.cache/collections
# (extensions/molecule/config.yml sets it for Molecule). Collections shipped
# in the `ansible` PyPI package (community.docker, ansible.posix, ...) are
# still found through the Python path.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
[ -f "$ROOT/galaxy.yml" ] || { echo "[link-collection] ERROR: no galaxy.yml in $ROOT" >&2; exit 1; }

ns="$(awk -F: '$1 == "namespace" { gsub(/[ "\047]/, "", $2); print $2 }' "$ROOT/galaxy.yml")"
name="$(awk -F: '$1 == "name" { gsub(/[ "\047]/, "", $2); print $2 }' "$ROOT/galaxy.yml")"
if [ -z "$ns" ] || [ -z "$name" ]; then echo "[link-collection] ERROR: cannot read namespace/name from galaxy.yml" >&2; exit 1; fi

dir="$ROOT/.cache/collections/ansible_collections/$ns"
link="$dir/$name"
mkdir -p "$dir"
if [ -L "$link" ] && [ "$(readlink "$link")" = "$ROOT" ]; then
    :
else
    [ -e "$link" ] && [ ! -L "$link" ] && { echo "[link-collection] ERROR: $link exists and is not a symlink" >&2; exit 1; }
    ln -sfn "$ROOT" "$link"
fi
echo "[link-collection] $ns.$name: $link -> $ROOT" >&2
echo "[link-collection] export ANSIBLE_COLLECTIONS_PATH=$ROOT/.cache/collections" >&2
