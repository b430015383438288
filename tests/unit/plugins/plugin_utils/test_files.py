"""Rendered files: written atomically with an exact mode, only when they differ; missing directories created."""

import os
import stat

import pytest

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import files


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize(("value", "expected"), [("0644", 0o644), ("600", 0o600), ("0700", 0o700), (0o640, 0o640)])
def test_parse_mode(value, expected):
    assert files.parse_mode(value) == expected


@pytest.mark.parametrize("value", ["u=rw", "0999", "", "17777", True, None, 1.5, -1])
def test_parse_mode_refuses(value):
    with pytest.raises(ValueError, match="mode"):
        files.parse_mode(value)


def test_missing_file_and_directories_are_created_with_their_modes(tmp_path):
    path = tmp_path / "out" / "host" / "etc" / "wireguard" / "wg0.conf"
    update = files.compare(str(path), b"[Interface]\n", 0o600)
    assert (update.before, update.before_mode, update.changed) == (None, None, True)
    files.apply(update, 0o700)
    assert path.read_bytes() == b"[Interface]\n"
    assert mode_of(path) == 0o600
    for directory in (path.parent, path.parents[1], path.parents[2], path.parents[3]):
        assert mode_of(directory) == 0o700


def test_modes_are_exact_whatever_the_umask(tmp_path):
    old = os.umask(0o077)
    try:
        path = tmp_path / "d" / "bird.conf"
        files.apply(files.compare(str(path), b"x", 0o644), 0o755)
    finally:
        os.umask(old)
    assert (mode_of(path), mode_of(path.parent)) == (0o644, 0o755)


def test_existing_directory_is_left_as_it_is(tmp_path):
    directory = tmp_path / "etc"
    directory.mkdir(mode=0o750)
    os.chmod(directory, 0o750)
    files.apply(files.compare(str(directory / "bird" / "bird.conf"), b"x", 0o644), 0o700)
    assert mode_of(directory) == 0o750
    assert mode_of(directory / "bird") == 0o700


def test_unchanged_file_is_not_rewritten(tmp_path):
    path = tmp_path / "bird.conf"
    files.apply(files.compare(str(path), b"router id 1.2.3.4;\n", 0o644), 0o755)
    inode = os.stat(path).st_ino
    os.utime(path, (1, 1))
    update = files.compare(str(path), b"router id 1.2.3.4;\n", 0o644)
    assert not update.changed
    files.apply(update, 0o755)
    assert (os.stat(path).st_ino, os.stat(path).st_mtime) == (inode, 1)


def test_changed_content_replaces_the_file_atomically(tmp_path):
    path = tmp_path / "bird.conf"
    path.write_bytes(b"old\n")
    os.chmod(path, 0o644)
    reader = open(path, "rb")  # noqa: SIM115 - held open across the replacement on purpose
    inode = os.stat(path).st_ino
    update = files.compare(str(path), b"new\n", 0o644)
    assert (update.before, update.content_changed, update.mode_changed) == (b"old\n", True, False)
    files.apply(update, 0o755)
    with reader:
        assert reader.read() == b"old\n", "a reader of the old file still sees it whole"
    assert path.read_bytes() == b"new\n"
    assert os.stat(path).st_ino != inode, "a new file was renamed over the old one"
    assert os.listdir(tmp_path) == ["bird.conf"], "no temporary file is left behind"


def test_only_the_mode_differs(tmp_path):
    path = tmp_path / "wg0.conf"
    path.write_bytes(b"secret\n")
    os.chmod(path, 0o644)
    inode = os.stat(path).st_ino
    update = files.compare(str(path), b"secret\n", 0o600)
    assert (update.before_mode, update.content_changed, update.mode_changed, update.changed) == (0o644, False, True, True)
    files.apply(update, 0o700)
    assert mode_of(path) == 0o600
    assert os.stat(path).st_ino == inode, "the content was not rewritten"


def test_new_content_gets_the_new_mode(tmp_path):
    path = tmp_path / "wg0.conf"
    path.write_bytes(b"old\n")
    os.chmod(path, 0o644)
    files.apply(files.compare(str(path), b"new\n", 0o600), 0o700)
    assert (path.read_bytes(), mode_of(path)) == (b"new\n", 0o600)


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "bird.conf"
    path.write_bytes(b"old\n")

    def broken_replace(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space"):
        files.apply(files.compare(str(path), b"new\n", 0o644), 0o755)
    assert path.read_bytes() == b"old\n"
    assert os.listdir(tmp_path) == ["bird.conf"]


def test_directory_created_meanwhile_by_another_process_is_fine(tmp_path, monkeypatch):
    path = tmp_path / "a" / "b" / "f"
    real_mkdir = os.mkdir

    def racing_mkdir(directory, mode=0o777):
        real_mkdir(directory, mode)  # the other process wins
        real_mkdir(directory, mode)

    monkeypatch.setattr(os, "mkdir", racing_mkdir)
    files.make_parents(str(path), 0o755)
    assert path.parent.is_dir()


def test_parent_that_is_a_file_is_an_error(tmp_path):
    (tmp_path / "etc").write_bytes(b"")
    path = tmp_path / "etc" / "bird" / "bird.conf"
    with pytest.raises(OSError):
        files.apply(files.compare(str(path), b"x", 0o644), 0o755)


def test_render_writes_unless_checking_and_describes_the_change_as_a_diff(tmp_path):
    path = tmp_path / "etc" / "bird" / "bird.conf"
    checked = files.render(str(path), b"router id 1;\n", 0o640, 0o755, check_mode=True)
    assert checked.changed and not path.exists()
    assert checked.diff("bird.conf.j2") == [{"before_header": str(path), "after_header": "bird.conf.j2", "before": "", "after": "router id 1;\n"}]
    files.render(str(path), b"router id 1;\n", 0o640, 0o755)
    assert path.read_bytes() == b"router id 1;\n" and mode_of(path) == 0o640
    again = files.render(str(path), b"router id 1;\n", 0o600, 0o755)
    assert again.diff("bird.conf.j2") == [{"before": {"path": str(path), "mode": "0640"}, "after": {"path": str(path), "mode": "0600"}}]
    assert not files.render(str(path), b"router id 1;\n", 0o600, 0o755).changed
    # Bytes that are not UTF-8 reach the diff escaped, as Ansible's to_text does.
    odd = files.render(str(path), b"\xff\n", 0o600, 0o755, check_mode=True)
    assert odd.diff("x")[0]["after"] == "\udcff\n"
