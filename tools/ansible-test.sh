#!/usr/bin/env bash
# Run ansible-test on the collection as it ships: build the tarball from this checkout, install it
# into .cache/ansible-test/ansible_collections/wgsdn/fabric (ansible-test needs that path shape and
# resolves symlinks), and run there. Dev tooling (tools/, bench/, Molecule scenarios) is not part of
# the collection and is checked by tools/lint.sh instead.
# Usage: tools/ansible-test.sh sanity|units [ansible-test options...]
# ANSIBLE_TEST selects the ansible-test executable (default: the one on PATH).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
ansible_test="$(command -v "${ANSIBLE_TEST:-ansible-test}")"
bin="$(dirname "$ansible_test")"
bash "$ROOT/tools/ansible-test-pip.sh" "$bin/python"
out="$ROOT/.cache/ansible-test"
rm -rf "$out"
mkdir -p "$out"
"$bin/ansible-galaxy" collection build --output-path "$out" "$ROOT" >/dev/null
"$bin/ansible-galaxy" collection install --force --no-deps --offline -p "$out" "$out"/wgsdn-fabric-*.tar.gz >/dev/null
cd "$out/ansible_collections/wgsdn/fabric"
# ansible-test lists content with git: a throwaway repository of the installed files, which
# ignores ansible-test's own output.
git init -q . && echo "tests/output/" > .git/info/exclude && git add -A
exec "$ansible_test" "$@"
