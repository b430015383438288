# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state file: allocated addresses, keys and gateway numbers, persisted safely.

The file is JSON (optionally wrapped by an ``encode``/``decode`` pair, which the
lookup uses for ansible-vault). Writers hold an exclusive ``flock`` on a lock
file beside it for the whole read-allocate-write cycle, and replace the file
atomically (temporary file in the same directory, fsync, ``os.replace``), so
concurrent forks see one consistent state and a crash never leaves a truncated
file. The file is created 0600.

Schema (version 1)::

    {"version": 1, "network": "10.0.0.0/24", "next_gateway_id": 3,
     "hosts": {"gw1": {"address": "10.0.0.2", "private_key": "…", "gateway_id": 1}, …},
     "preshared_keys": {"dev1|gw1": "…", …}}
"""

import contextlib
import fcntl
import json
import os
import time

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import files
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.deps import optional
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError, shown
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.family import FAMILIES
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.keys import decode_key

netaddr = optional("netaddr")

VERSION = 1
VARIABLE = "wgsdn_state_file"
LOCK_TIMEOUT_VARIABLE = "wgsdn_state_lock_timeout"


def lock_timeout_message(where, seconds):
    """What a run says when another run held the state's lock longer than it would wait."""
    return f"another run has held the lock of the {where} for more than {seconds:g} s; nothing was written (wait for it, or raise {LOCK_TIMEOUT_VARIABLE})"


def empty_state():
    return {"version": VERSION, "network": None, "next_gateway_id": 1, "hosts": {}, "preshared_keys": {}}


def pair_key(a, b):
    return "|".join(sorted((a, b)))


def validate_state(data, path, variable=VARIABLE, label="state file"):
    """Check a parsed state document; return it. Raises PlanError naming the entry.

    ``label`` and ``path`` say where the document came from (the PostgreSQL backend
    passes its own, and its own ``variable``).
    """

    def fail(host, message):
        raise PlanError(host, variable, f"{label} {path}: {message}")

    if not isinstance(data, dict) or data.get("version") != VERSION:
        fail(None, f"not a wgsdn state document of version {VERSION}")
    for name in ("hosts", "preshared_keys"):
        if not isinstance(data.get(name), dict):
            fail(None, f"'{name}' must be a mapping")
    if not isinstance(data.get("next_gateway_id"), int) or data["next_gateway_id"] < 1:
        fail(None, "'next_gateway_id' must be a positive integer")
    for family in FAMILIES:
        network = data.get(family.state_network_key)
        if network is not None:
            try:
                netaddr.IPNetwork(network, version=family.version)
            except (netaddr.AddrFormatError, ValueError, TypeError):
                fail(None, f"'{family.state_network_key}' {shown(network)} is not an {family.label} prefix")

    addresses = {}
    gateway_ids = {}
    for name, entry in data["hosts"].items():
        if not isinstance(entry, dict):
            fail(name, "the entry must be a mapping")
        if not any(family.state_key in entry for family in FAMILIES):
            fail(name, f"the entry has no address ({', '.join(family.state_key for family in FAMILIES)})")
        for family in FAMILIES:
            if family.state_key not in entry:
                continue
            try:
                addr = netaddr.IPAddress(entry[family.state_key], version=family.version, flags=netaddr.INET_PTON)
            except (netaddr.AddrFormatError, ValueError, TypeError):
                fail(name, f"{family.state_key} {shown(entry[family.state_key])} is not an {family.label} address")
            if addr in addresses:
                fail(name, f"{family.state_key} {addr} is also allocated to host '{addresses[addr]}'")
            addresses[addr] = name
        try:
            decode_key(entry.get("private_key"))
        except ValueError as exc:
            fail(name, f"private_key is malformed ({exc})")
        if "gateway_id" in entry:
            gid = entry["gateway_id"]
            if not isinstance(gid, int) or isinstance(gid, bool) or not 1 <= gid < data["next_gateway_id"]:
                fail(name, f"gateway_id {shown(gid)} is not a number below next_gateway_id")
            if gid in gateway_ids:
                fail(name, f"gateway_id {gid} is also used by host '{gateway_ids[gid]}'")
            gateway_ids[gid] = name
    for pair, key in data["preshared_keys"].items():
        if not isinstance(pair, str) or pair.count("|") != 1:
            fail(None, f"preshared key entry {shown(pair)} is not named 'hostA|hostB'")
        try:
            decode_key(key)
        except ValueError as exc:
            fail(pair.split("|")[0], f"preshared key for {pair} is malformed ({exc})")
    return data


class StateFile:
    """A state file on disk with locking, atomic replacement and an optional codec.

    ``encode(text) -> bytes`` and ``decode(bytes) -> text`` wrap the JSON text
    (the lookup passes ansible-vault here); by default the file is plain UTF-8.
    ``encoded(bytes) -> bool`` tells whether a file is already in the codec's form
    at rest (vault's header): a plaintext file that ``load`` read is then encoded
    by ``seal`` (or ``save``), its text unchanged. ``notices`` says what was done
    or, in check mode, would be done (paths only, never content).
    """

    def __init__(self, path, encode=None, decode=None, encoded=None, lock_timeout=None):
        self.path = os.path.abspath(path)
        self.lock_timeout = lock_timeout  # seconds; None: wait as long as another run holds the lock
        self._encode = encode or (lambda text: text.encode("utf-8"))
        self._decode = decode or (lambda raw: raw.decode("utf-8"))
        self._encoded = encoded
        self._plaintext = None  # the text of a file load() found not encoded, while it stays so
        self.notices = []

    @contextlib.contextmanager
    def locked(self):
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            raise PlanError(None, VARIABLE, f"directory of the state file {self.path} does not exist")
        fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            self._lock(fd)
            yield self
        finally:
            os.close(fd)  # closing releases the lock

    def _lock(self, fd):
        if self.lock_timeout is None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            return
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise PlanError(None, LOCK_TIMEOUT_VARIABLE, lock_timeout_message(f"state file {self.path}", self.lock_timeout)) from None
                time.sleep(0.05)

    def read_raw(self):
        try:
            with open(self.path, "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    def load(self):
        """The validated state document (an empty one when there is no file)."""
        raw = self.read_raw()
        self._plaintext = None
        if raw is None:
            return empty_state()
        try:
            text = self._decode(raw)
        except Exception as exc:  # the codec is pluggable: report whatever it raises
            raise PlanError(None, VARIABLE, f"cannot decrypt or decode state file {self.path}: {exc}") from None
        self._plaintext = text if self._encoded is not None and not self._encoded(raw) else None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise PlanError(
                None, VARIABLE, f"state file {self.path} is corrupt: {exc}; restore it from backup (it holds every host's address and keys)"
            ) from None
        return validate_state(data, self.path)

    def save(self, data):
        self._write(json.dumps(data, indent=1, sort_keys=True) + "\n")

    def seal(self, write=True):
        """Encode the plaintext file the last ``load`` read (its text as it was); with ``write`` false, only say so."""
        if self._plaintext is None:
            return
        if write:
            self._write(self._plaintext)
        else:
            self.notices.append(f"state file {self.path} is plaintext: a run outside check mode encrypts it with the vault secret")

    def _write(self, text):
        files.write_atomic(self.path, self._encode(text), 0o600, prefix=".wgsdn-tmp.", durable=True)
        if self._plaintext is not None:
            self.notices.append(f"state file {self.path} was plaintext: encrypted it with the vault secret")
            self._plaintext = None
