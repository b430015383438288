#!/usr/bin/env bash
# Check the execution environment definition without building the image (that needs the base
# image's registry and Galaxy): `ansible-builder create` writes the build context, and the
# context's own introspection, run on the installed tarball, must find the collection's Python
# requirements. Usage: tools/ee-check.sh TARBALL [BIN dir holding ansible-builder and ansible-galaxy]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
tarball="$(realpath "$1")"
bin="$(cd "${2:-$(dirname "$(command -v ansible-builder)")}" && pwd)"
version="$(awk '$1 == "version:" { print $2; exit }' "$ROOT/galaxy.yml")"
grep -q "dist/wgsdn-fabric-$version.tar.gz" "$ROOT/execution-environment.yml" ||
    { echo "[ee-check] ERROR: execution-environment.yml does not name dist/wgsdn-fabric-$version.tar.gz (galaxy.yml version)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/project/dist"
cp "$ROOT/execution-environment.yml" "$work/project/"
cp "$tarball" "$work/project/dist/wgsdn-fabric-$version.tar.gz"
(cd "$work/project" && "$bin/ansible-builder" create --file execution-environment.yml --context "$work/context" --output-filename Containerfile)
context="$work/context"
test -f "$context/_build/dist/wgsdn-fabric-$version.tar.gz"
grep -q "dist/wgsdn-fabric-$version.tar.gz" "$context/_build/requirements.yml"
grep -q 'ansible-galaxy collection install .*-r requirements.yml' "$context/Containerfile"
"$bin/ansible-galaxy" collection install --force --no-deps --offline -p "$work/collections" "$tarball" >/dev/null 2>&1
"$bin/python" "$context/_build/scripts/introspect.py" introspect "$work/collections" | tee "$work/introspect.txt"
for package in netaddr cryptography segno psycopg; do
    grep -q "^- '$package.*from collection wgsdn.fabric'" "$work/introspect.txt" ||
        { echo "[ee-check] ERROR: the EE introspection does not list $package for wgsdn.fabric" >&2; exit 1; }
done
echo "[ee-check] context OK: Containerfile installs dist/wgsdn-fabric-$version.tar.gz; introspection lists netaddr, cryptography, segno, psycopg"
