#!/usr/bin/env bash
# Usage: tools/debian-unpack.sh NAME FILE PACKAGE...
# Unpack Debian PACKAGEs (apt-get download + dpkg -x, nothing installed, nothing started) under
# .cache/NAME unless .cache/NAME/FILE is already there; print that directory. For the tools the
# tests run on the controller when the host does not have them (tools/bird-parser.sh, tools/promtool.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
name="$1" file="$2"
shift 2
dest="$ROOT/.cache/$name"
if [ ! -e "$dest/$file" ]; then
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
  (cd "$work" && { apt-get download "$@" >/dev/null 2>&1 || { apt-get update -qq && apt-get download "$@" >/dev/null; }; })
  mkdir -p "$dest"
  for deb in "$work"/*.deb; do dpkg -x "$deb" "$dest"; done
fi
echo "$dest"
