# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Local files written only when they differ, atomically, with an exact mode.

Used by the ``wgsdn.fabric.render_template`` action on the controller. A file
is compared with the wanted bytes and permission bits first (``compare``);
``apply`` then creates the missing parent directories, and replaces the file
through a temporary file in the same directory and ``os.replace`` when its
content differs (readers see the old or the new file, never a partial one), or
only changes its mode when just that differs. Modes are set with ``chmod``, so
the umask does not affect them. Rendered files are not fsynced (they can be
written again); the state file uses ``write_atomic(..., durable=True)``.
"""

import dataclasses
import os
import stat

from ansible_collections.wgsdn.fabric.plugins.module_utils.files import write_atomic
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import shown


def parse_mode(value):
    """Permission bits from an octal string (``"0644"``) or an int (YAML's ``0644``). Raises ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"mode {shown(value)} must be an octal string such as '0644'")
    if isinstance(value, str):
        try:
            value = int(value, 8)
        except ValueError:
            raise ValueError(f"mode {shown(value)} is not an octal number such as '0644'") from None
    if not 0 <= value <= 0o7777:
        raise ValueError(f"mode {oct(value)} is out of range")
    return value


@dataclasses.dataclass(frozen=True)
class Update:
    """What writing ``content`` with ``mode`` to ``path`` would change; ``before``/``before_mode`` are None when the file is absent."""

    path: str
    content: bytes
    mode: int
    before: bytes | None
    before_mode: int | None

    @property
    def content_changed(self):
        return self.before != self.content

    @property
    def mode_changed(self):
        return self.before_mode != self.mode

    @property
    def changed(self):
        return self.content_changed or self.mode_changed

    def diff(self, src):
        """Ansible's ``diff`` entries for this update (``src`` names the new content): the text, then the mode."""
        entries = []
        if self.content_changed:
            before = "" if self.before is None else self.before.decode("utf-8", "surrogateescape")
            after = self.content.decode("utf-8", "surrogateescape")
            entries.append({"before_header": self.path, "after_header": src, "before": before, "after": after})
        if self.before_mode is not None and self.mode_changed:
            entries.append({"before": {"path": self.path, "mode": f"0{self.before_mode:03o}"}, "after": {"path": self.path, "mode": f"0{self.mode:03o}"}})
        return entries


def compare(path, content, mode):
    """The Update that would bring ``path`` to ``content`` and ``mode``. Raises OSError when the file cannot be read."""
    try:
        with open(path, "rb") as handle:
            before = handle.read()
            before_mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
    except FileNotFoundError:
        before = before_mode = None
    return Update(path, content, mode, before, before_mode)


def make_parents(path, mode):
    """Create the missing directories above ``path``, outermost first, each with ``mode``.

    Directories that already exist are left as they are, also when another
    process creates one meanwhile.
    """
    missing = []
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(parent):
        missing.append(parent)
        parent = os.path.dirname(parent)
    for directory in reversed(missing):
        try:
            os.mkdir(directory, mode)
        except FileExistsError:
            if not os.path.isdir(directory):
                raise
        else:
            os.chmod(directory, mode)


def apply(update, directory_mode):
    """Carry out an Update: parents created with ``directory_mode``, then the file replaced, or only its mode changed."""
    if update.content_changed:
        make_parents(update.path, directory_mode)
        write_atomic(update.path, update.content, update.mode)
    elif update.mode_changed:
        os.chmod(update.path, update.mode)


def render(path, content, mode, directory_mode, check_mode=False):
    """Bring ``path`` to ``content`` (bytes) and ``mode`` unless ``check_mode``; the Update. Raises OSError."""
    update = compare(path, content, mode)
    if update.changed and not check_mode:
        apply(update, directory_mode)
    return update
