"""The release tarball: built from a used checkout it holds the collection only, and it installs and runs as a user's would."""

import json
import os
import pathlib
import shutil
import subprocess
import tarfile

import pytest
import yaml
from wgsdn_testkit.playbooks import BIN, ROOT

from ansible_collections.wgsdn.fabric.tests.unit.topologies import article_topology

FAKE_PRIVATE_KEY = "cFakePrivateKeyNeverToBeShipped0000000000000="

# What a checkout accumulates: state files with keys, caches, venvs, rendered configs, a built tarball.
PLANTED = {
    "inventories/demo/.wgsdn-state.json": json.dumps({"hosts": {"gw1": {"private_key": FAKE_PRIVATE_KEY}}}),
    ".wgsdn-state.json": FAKE_PRIVATE_KEY,
    ".wgsdn-state.json.lock": "",
    "playbooks/.wgsdn-state.json": FAKE_PRIVATE_KEY,
    "roles/wireguard/.wgsdn-clients/laptop.conf": f"[Interface]\nPrivateKey = {FAKE_PRIVATE_KEY}\n",
    "render/gateway1/etc/wireguard/wg0.conf": f"PrivateKey = {FAKE_PRIVATE_KEY}\n",
    "demo/hosts.yml": "all: {}\n",
    ".hypothesis/examples/x": "x",
    ".pytest_cache/v/cache/nodeids": "[]",
    "tests/unit/.pytest_cache/v/cache/lastfailed": "{}",
    "plugins/filter/__pycache__/allowed_ips.cpython-311.pyc": "x",
    ".venv/bin/python": "",
    ".venv/lib/python3.11/site-packages/netaddr/__init__.py": "",
    ".cache/collections/x.yml": "x: 1\n",
    "tests/output/junit.xml": "<x/>",
    "bench/out/render.txt": "x",
    "wgsdn-fabric-0.0.1.tar.gz": "",
    "roles/wireguard/tasks/main.yml.swp": "x",
}

# The collection: what users install.
REQUIRED = [
    "MANIFEST.json",
    "FILES.json",
    "README.md",
    "LICENSE",
    "CHANGELOG.md",
    "changelogs/changelog.yaml",
    "meta/runtime.yml",
    "meta/execution-environment.yml",
    "meta/ee-requirements.txt",
    "plugins/lookup/allocate.py",
    "plugins/filter/allowed_ips.py",
    "plugins/plugin_utils/model.py",
    "playbooks/site.yml",
    "playbooks/render.yml",
    "roles/plan/README.md",
    "roles/wireguard/README.md",
    "roles/bird/README.md",
    "roles/bfd/README.md",
    "roles/metrics/files/wgsdn-metrics-collector",
    "playbooks/monitoring.yml",
    "roles/policy/README.md",
    "playbooks/policy_check.yml",
    "tests/unit/conftest.py",
    "tests/wgsdn_testkit/playbooks.py",
]

# Development tooling and anything hidden: never in the tarball.
FORBIDDEN_PREFIXES = ("tools/", "bench/", ".ci/", "extensions/", "inventories/", "render/", "demo/", "tests/integration/", "tests/output/")
FORBIDDEN_FILES = {"Makefile", "ansible.cfg", "pyproject.toml", "galaxy.yml", "requirements.txt", "requirements-test.txt", "requirements-release.txt"}


def git_files():
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, check=True)
    return [name for name in listed.stdout.decode().split("\0") if name and (ROOT / name).is_file()]


def build(source, output):
    run = subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(output), str(source)], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    (tarball,) = pathlib.Path(output).glob("wgsdn-fabric-*.tar.gz")
    return tarball


@pytest.fixture(scope="module")
def used_checkout_tarball(tmp_path_factory):
    """The tarball built from a copy of this checkout with a used checkout's debris planted in it."""
    checkout = tmp_path_factory.mktemp("checkout")
    for name in git_files():
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, checkout / name)
    for name, text in PLANTED.items():
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        (checkout / name).write_text(text)
    return build(checkout, tmp_path_factory.mktemp("dist"))


def test_used_checkout_tarball_holds_the_collection_only(used_checkout_tarball):
    with tarfile.open(used_checkout_tarball) as tar:
        members = tar.getmembers()
        names = {m.name for m in members}
        contents = b"".join(tar.extractfile(m).read() for m in members if m.isfile())
    print("\n".join(sorted(names)))
    assert not [r for r in REQUIRED if r not in names], "missing from the tarball"
    assert FAKE_PRIVATE_KEY.encode() not in contents
    assert not [n for n in names if any(part.startswith(".") for part in n.split("/"))], "hidden files or directories shipped"
    assert not [n for n in names if n.startswith(FORBIDDEN_PREFIXES) or n in FORBIDDEN_FILES or "__pycache__" in n or n.endswith((".pyc", ".swp", ".tar.gz"))]
    assert not [n for n in names if "vault" in n or ".wgsdn-state" in n]
    assert all(not m.mode & 0o022 for m in members), "group/world-writable members"


def test_installed_tarball_runs_from_an_unrelated_directory(used_checkout_tarball, tmp_path):
    """Install into a fresh collections path; render.yml and site.yml --syntax-check by FQCN, no checkout in sight."""
    collections = tmp_path / "collections"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_NOCOLOR="1", PATH=f"{BIN}:{env.get('PATH', '')}", HOME=str(tmp_path))
    install = subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "install", "--no-deps", "--offline", "-p", str(collections), str(used_checkout_tarball)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    installed = collections / "ansible_collections" / "wgsdn" / "fabric"
    assert (installed / "MANIFEST.json").is_file()
    assert not installed.is_symlink()

    project = tmp_path / "project"
    project.mkdir()
    gateways, devices, hostvars = article_topology(3)
    groups = {"wgsdn_gateways": {"hosts": {g: hostvars[g] for g in gateways}}, "wgsdn_devices": {"hosts": {d: hostvars[d] for d in devices}}}
    (project / "hosts.yml").write_text(yaml.safe_dump({"all": {"vars": {"ansible_connection": "local"}, "children": groups}}))

    def ansible_playbook(*args):
        return subprocess.run([str(BIN / "ansible-playbook"), "-i", "hosts.yml", *args], capture_output=True, text=True, env=env, cwd=project, check=False)

    render = ansible_playbook("wgsdn.fabric.render", "-e", "wgsdn_render_dir=out")
    assert render.returncode == 0, render.stdout + render.stderr
    for host in [*gateways, *devices]:
        assert list((project / "out" / host / "etc" / "wireguard").glob("*.conf")), host
    assert (project / "out" / "gateway1" / "etc" / "bird" / "bird.conf").is_file()
    assert (project / ".wgsdn-state.json").is_file(), "the state file belongs beside the user's inventory"
    monitoring = ansible_playbook("wgsdn.fabric.monitoring", "-e", "wgsdn_monitoring_dir=prom")
    assert monitoring.returncode == 0, monitoring.stdout + monitoring.stderr
    for name in ("prometheus.yml", "rules/wgsdn.rules.yml", "file_sd/wgsdn-node.json", "file_sd/wgsdn-bird.json", "grafana/wgsdn.json"):
        assert (project / "prom" / name).is_file(), name
    assert not list(installed.rglob(".wgsdn-state.json*")), "nothing written into the installed collection"

    syntax = ansible_playbook("wgsdn.fabric.site", "--syntax-check")
    assert syntax.returncode == 0, syntax.stdout + syntax.stderr
