#!/usr/bin/env bash
# ansible-test --venv bootstraps pip with a get-pip script from ci-files.testing.ansible.com,
# which is not reachable here. Put a stand-in where ansible-test caches that script
# (~/.ansible/test/cache/get_pip_<version>.py): it runs `pip install` from pip's own wheel,
# downloaded from PyPI. Usage: tools/ansible-test-pip.sh [python-with-ansible-test]
set -euo pipefail
py="${1:-python3}"
reqs="$("$py" -c 'import ansible_test, os; print(os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py"))')"
version="$(sed -n "s/^ *pip='\([0-9.]*\)',.*/\1/p" "$reqs" | head -n1)"
[ -n "$version" ] || { echo "[ansible-test-pip] ERROR: no pip version found in $reqs" >&2; exit 1; }
cache="$HOME/.ansible/test/cache"
script="$cache/get_pip_${version//./_}.py"
wheel="$cache/pip-$version-py3-none-any.whl"
mkdir -p "$cache"
[ -f "$wheel" ] || "$py" -m pip download -q --no-deps --only-binary=:all: --dest "$cache" "pip==$version"
cat > "$script" <<PY
"""Stand-in for get-pip.py $version, written by wgsdn.fabric tools/ansible-test-pip.sh.

get-pip.py installs pip (plus setuptools and wheel unless --no-setuptools / --no-wheel) into the
running interpreter; this does the same with pip run from its wheel.
"""

import runpy
import sys

sys.path.insert(0, "$wheel")
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
if "--no-setuptools" not in sys.argv:
    args.append("setuptools")
if "--no-wheel" not in sys.argv:
    args.append("wheel")
sys.argv = ["pip", "install", *args]
runpy.run_module("pip", run_name="__main__", alter_sys=True)
PY
echo "[ansible-test-pip] pip $version bootstrap: $script (from $wheel)" >&2
