#!/usr/bin/env bash
# Run ansible-test on this checkout. ansible-test wants the collection at
# .../ansible_collections/wgsdn/fabric and resolves symlinks, so this copies the files git
# knows (tracked, and untracked but not ignored: no state files, caches or venvs) to
# .cache/ansible-test/ansible_collections/wgsdn/fabric and runs there.
# Usage: tools/ansible-test.sh sanity|units [ansible-test options...]
# ANSIBLE_TEST selects the ansible-test executable (default: the one on PATH).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
ansible_test="${ANSIBLE_TEST:-ansible-test}"
py="$(dirname "$(command -v "$ansible_test")")/python"
bash "$ROOT/tools/ansible-test-pip.sh" "$py"
dest="$ROOT/.cache/ansible-test/ansible_collections/wgsdn/fabric"
rm -rf "$dest"
mkdir -p "$dest"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done) |
    (cd "$ROOT" && xargs -0 cp --parents -t "$dest")
cd "$dest"
# ansible-test lists content with git; the copy sits inside this checkout's ignored .cache, so it gets a
# repository of its own (never committed to).
git init -q . && git add -A
# Collections the playbooks and tests import (ansible.posix, community.general) come from the
# `ansible` package beside ansible-core; ansible-test only sees the copy's own collection root.
exec "$ansible_test" "$@"
