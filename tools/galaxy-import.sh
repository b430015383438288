#!/usr/bin/env bash
# Import a built tarball with galaxy-importer, offline, as Galaxy would (ansible-test off), in a venv
# with ansible-core alone; then check that every plugin came with its documentation and every role
# with a README. Usage: tools/galaxy-import.sh TARBALL [PYTHON of the release venv]
# Galaxy requires `repository` in galaxy.yml. The project has no public home yet, so galaxy.yml
# has none and this check fails until it gets one; GALAXY_REPOSITORY=URL imports a copy with that
# URL (a dry run of everything else).
set -euo pipefail
tarball="$(realpath "$1")"
py="$(cd "$(dirname "${2:-$(command -v python3)}")" && pwd)/$(basename "${2:-python3}")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/in" "$work/out"
if [ -n "${GALAXY_REPOSITORY:-}" ]; then
    tar -xzf "$tarball" -C "$work/in"
    "$py" - "$work/in/MANIFEST.json" "$GALAXY_REPOSITORY" <<'PY'
import json, sys
path, url = sys.argv[1:]
manifest = json.load(open(path))
manifest["collection_info"]["repository"] = url
json.dump(manifest, open(path, "w"), indent=4)
PY
    echo "[galaxy-import] dry run with repository $GALAXY_REPOSITORY (not in galaxy.yml)"
    tar -czf "$work/$(basename "$tarball")" -C "$work/in" .
    tarball="$work/$(basename "$tarball")"
fi
cat > "$work/importer.cfg" <<'CFG'
[galaxy-importer]
RUN_ANSIBLE_TEST = False
RUN_ANSIBLE_LINT = True
CHECK_REQUIRED_TAGS = False
CFG
cd "$work/out"
GALAXY_IMPORTER_CONFIG="$work/importer.cfg" PATH="$(dirname "$py"):$PATH" "$py" -m galaxy_importer.main "$tarball"
"$py" - importer_result.json <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))
problems = []
for item in result["docs_blob"]["contents"]:
    kind, name = item["content_type"], item["content_name"]
    if kind in ("filter", "lookup", "module") and not item.get("doc_strings"):
        problems.append(f"{kind} {name}: no documentation")
    if kind == "role" and not item.get("readme_file"):
        problems.append(f"role {name}: no README")
documented = sum(1 for i in result["docs_blob"]["contents"] if i.get("doc_strings"))
roles = sum(1 for i in result["docs_blob"]["contents"] if i["content_type"] == "role")
print(f"[galaxy-import] {documented} plugins with documentation, {roles} roles with a README, requires_ansible {result['requires_ansible']}")
if problems:
    sys.exit("[galaxy-import] FAILED:\n" + "\n".join(problems))
PY
