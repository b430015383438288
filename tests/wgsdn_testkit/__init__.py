"""The test kit of wgsdn.fabric: one set of helpers for the Molecule verifiers,
the integration tests and bench/.

- ``playbooks``: run ansible-playbook / ansible-doc against this checkout (its environment, an
  inventory file); read PLAY RECAP. tests/unit uses it too, so the kit ships with tests/unit.
- ``docker``: ``docker`` CLI calls and ``docker exec`` into the test containers.
- ``bird``: parsers of ``birdc`` output (BGP states, BFD sessions).
- ``ping``: fping rounds and timestamped ping streams with their gaps and losses.
- ``scenario``: the hosts of the Molecule scenario under test (its inventory).
- ``fabric``: live checks of a routed fabric (BGP/BFD up, routes, failover timing).
- ``tunnels`` / ``routed``: the checks every WireGuard-only / routed scenario runs
  (``TestTunnels``, ``TestRoutedFabric``), bound into a scenario's test module.

Importable as ``wgsdn_testkit``: pytest puts ``tests/`` on the path (pyproject.toml;
tests/unit/conftest.py for ansible-test units), bench scripts insert it themselves. Importing
it makes this checkout importable as ``ansible_collections.wgsdn.fabric`` (the link
tools/link-collection.sh makes); an installed collection (ansible-test's
``.../ansible_collections/wgsdn/fabric``) already is. The kit imports nothing of tests/unit.
"""

import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
INSTALLED = ROOT.parents[1].name == "ansible_collections"
# Where Ansible finds this collection: a checkout through .cache/collections, an installed one where it is.
COLLECTIONS = ROOT.parents[2] if INSTALLED else ROOT / ".cache" / "collections"

_link = COLLECTIONS / "ansible_collections" / "wgsdn" / "fabric"
if not INSTALLED and not _link.exists():
    _link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(ROOT, _link)
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
