# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keyed digests of what a host holds: HMAC-SHA256 with a key that never leaves the host.

Host-side, standard library only. A plain digest of a file holding a short secret
(a BGP password beside a configuration an attacker can guess) could be inverted
offline; with a random per-host key, a digest shown in a run's output tells nothing.
"""

import hashlib
import hmac
import os
import stat

from ansible_collections.wgsdn.fabric.plugins.module_utils.files import write_atomic

KEY_BYTES = 32


def host_key(path, create=True):
    """The host's digest key kept in ``path`` (0600, made on first use); a throwaway key when absent and not ``create``."""
    try:
        with open(path, "rb") as handle:
            key = handle.read()
        if len(key) == KEY_BYTES:
            return key
    except FileNotFoundError:
        pass
    key = os.urandom(KEY_BYTES)
    if create:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        write_atomic(path, key, 0o600, durable=True)
    return key


def mac(key, data):
    """HMAC-SHA256 of ``data`` (bytes or text) under ``key``, in hex."""
    return hmac.new(key, data.encode() if isinstance(data, str) else data, hashlib.sha256).hexdigest()


def _entry(path, key):
    """One filesystem entry: what it is, its mode and owner, and its content's keyed digest or link target;
    with whether it is a directory to descend into."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return "missing", False
    head = f"{stat.S_IFMT(info.st_mode):o} {stat.S_IMODE(info.st_mode):o} {info.st_uid}:{info.st_gid}"
    if stat.S_ISLNK(info.st_mode):
        return f"{head} -> {os.readlink(path)}", False
    if stat.S_ISREG(info.st_mode):
        digest = hmac.new(key, digestmod=hashlib.sha256)
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return f"{head} {digest.hexdigest()}", False
    return head, stat.S_ISDIR(info.st_mode)


def tree(key, top, skip=()):
    """Keyed digest over ``top`` and, for a directory, everything under it (links not followed; ``skip`` left out)."""
    digest = hmac.new(key, digestmod=hashlib.sha256)
    pending = [top]
    while pending:
        path = pending.pop()
        if path in skip:
            continue
        entry, directory = _entry(path, key)
        digest.update(f"{os.path.relpath(path, top)}\0{entry}\n".encode())
        if directory:
            pending.extend(sorted((os.path.join(path, name) for name in os.listdir(path)), reverse=True))
    return digest.hexdigest()
