# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Atomic file replacement, shared by the controller (state file, rendered files) and the hosts' modules.

Standard library only: modules carry it to the hosts.
"""

import contextlib
import os
import tempfile


def write_atomic(path, content, mode, prefix=None, durable=False):
    """Replace ``path`` with ``content`` and ``mode`` through a temporary file beside it.

    The mode is set before any byte is written (secrets never sit in a wider
    file). ``durable`` fsyncs the file and then its directory, so the new
    content survives a crash once this returns.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=prefix or f".{os.path.basename(path)}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(content)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    if durable:
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
