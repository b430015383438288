# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state in PostgreSQL (``wgsdn_state_backend: postgresql``): the same document as the state file.

One overlay per database (or per schema: the DSN's ``options=-csearch_path=NAME``). The
read-allocate-write cycle is one transaction that first takes a transaction-scoped advisory
lock of the overlay (``pg_advisory_xact_lock``, waiting at most ``lock_timeout`` seconds), so
two controllers serialise as the forks of one run do on the state file's ``flock``; a run
killed anywhere before the commit leaves the previous state whole, as the transaction dies
with its connection. A no-op plan takes the lock, checks the schema version and reads the
whole state in one query; it writes nothing.

Schema (version 1, created by the first write, never in check mode)::

    wgsdn_schema (version)                                   -- one row
    wgsdn_meta (network, network6, next_gateway_id, data_key) -- one row
    wgsdn_hosts (name, address, address6, gateway_id, private_key)
    wgsdn_preshared_keys (pair, key)

Addresses and gateway numbers are plain (unique per family, checked at commit), so the
database itself refuses a duplicate. Keys are encrypted: each private and preshared key with
AES-256-GCM under the overlay's data key, bound to its row (the row's table and name are the
associated data, so a key moved to another row no longer decrypts), and the data key itself
is stored encrypted with the run's vault secret (``codec``: ansible-vault, as for the state
file). Without a vault secret the backend is refused. A schema newer than this code's is
refused, naming its version.

Plain Python: psycopg 3 is imported through ``deps.optional``.
"""

import base64
import contextlib
import os

from ansible_collections.wgsdn.fabric.plugins.plugin_utils.deps import optional
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError, shown
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.family import FAMILIES
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import LOCK_TIMEOUT_VARIABLE, VERSION, empty_state, lock_timeout_message, validate_state

psycopg = optional("psycopg")
_aead = optional("cryptography.hazmat.primitives.ciphers.aead")

SCHEMA_VERSION = 1
DSN_VARIABLE = "wgsdn_state_dsn"
BACKEND_VARIABLE = "wgsdn_state_backend"
# The advisory lock of an overlay: this constant and the schema holding its tables.
LOCK_NAMESPACE = "wgsdn.fabric state"

# The state document's address keys and the columns that hold them (a new family needs a schema version).
ADDRESS_COLUMNS = ("address", "address6")
if tuple(f.state_key for f in FAMILIES) != ADDRESS_COLUMNS:  # a new family must extend the schema
    raise AssertionError("state_pg: the schema has no columns for every address family")
NETWORK_COLUMNS = tuple(f.state_network_key for f in FAMILIES)

SCHEMA = """
CREATE TABLE wgsdn_schema (version integer NOT NULL);
CREATE TABLE wgsdn_meta (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    network text, network6 text,
    next_gateway_id integer NOT NULL CHECK (next_gateway_id >= 1),
    data_key text NOT NULL
);
CREATE TABLE wgsdn_hosts (
    name text PRIMARY KEY,
    address text UNIQUE DEFERRABLE INITIALLY DEFERRED,
    address6 text UNIQUE DEFERRABLE INITIALLY DEFERRED,
    gateway_id integer UNIQUE DEFERRABLE INITIALLY DEFERRED,
    private_key text NOT NULL
);
CREATE TABLE wgsdn_preshared_keys (pair text PRIMARY KEY, key text NOT NULL);
"""

# The whole state in one query (the schema version was checked before).
READ = """
SELECT m.network, m.network6, m.next_gateway_id, m.data_key,
       (SELECT coalesce(json_agg(json_build_array(name, address, address6, gateway_id, private_key)), '[]') FROM wgsdn_hosts),
       (SELECT coalesce(json_agg(json_build_array(pair, key)), '[]') FROM wgsdn_preshared_keys)
FROM wgsdn_meta m
"""

CONNECT_TIMEOUT = 10  # seconds, unless the DSN or PGCONNECT_TIMEOUT says otherwise


def describe(dsn, environ=None):
    """Where the state lives, for messages: user@host:port/dbname, never the password."""
    environ = os.environ if environ is None else environ
    params = psycopg.conninfo.conninfo_to_dict(dsn or "")

    def get(key, env, default):
        return str(params.get(key) or environ.get(env) or default)

    return f"{get('user', 'PGUSER', '')}@{get('host', 'PGHOST', 'localhost')}:{get('port', 'PGPORT', '5432')}/{get('dbname', 'PGDATABASE', '')}"


class DataKey:
    """AES-256-GCM over one overlay's keys, each bound to its row."""

    def __init__(self, raw):
        self._aead = _aead.AESGCM(raw)

    def seal(self, where, text):
        nonce = os.urandom(12)
        return base64.b64encode(nonce + self._aead.encrypt(nonce, text.encode("ascii"), where.encode())).decode("ascii")

    def open(self, where, sealed):
        raw = base64.b64decode(sealed)
        return self._aead.decrypt(raw[:12], raw[12:], where.encode()).decode("ascii")


class StatePostgres:
    """The state of one overlay in PostgreSQL, with the interface of ``state.StateFile``.

    ``codec``: ``(encode(text) -> bytes, decode(bytes) -> text)``, the run's vault secret
    (required). ``connect(dsn, **kwargs)`` is psycopg's by default.
    """

    def __init__(self, dsn, codec, lock_timeout, environ=None, connect=None):
        if codec is None:
            raise PlanError(
                None,
                BACKEND_VARIABLE,
                "the postgresql backend keeps private and preshared keys encrypted with the vault secret, and none is configured "
                "(--vault-password-file or --vault-id; in AWX a Vault credential)",
            )
        self.dsn = dsn or ""
        self._encode, self._decode = codec
        self.lock_timeout = lock_timeout
        self.environ = os.environ if environ is None else environ
        self.where = f"PostgreSQL state {shown(describe(self.dsn, self.environ))}"
        self._connect = connect or psycopg.connect
        self._connection = None
        self._schema = None  # the version found under the lock, None when there is no schema yet
        self._loaded = None  # the stored rows as the last load read them
        self._plain = {}  # their keys decrypted, by row (``host|NAME``, ``psk|A|B``)
        self._data_key = None
        self.notices = []
        self.statements = []  # what this store sent, for tests and the benchmark

    # --- the transaction -------------------------------------------------------------------

    def _execute(self, sql, params=None):
        self.statements.append(" ".join(sql.split()))
        return self._connection.execute(sql, params)

    @contextlib.contextmanager
    def locked(self):
        self._connection = self._open()
        try:
            with self._connection.transaction():
                self._execute("SELECT set_config('lock_timeout', %s, true)", (f"{int(self.lock_timeout * 1000)}ms",))
                self._execute("SELECT pg_advisory_xact_lock(hashtextextended(%s || current_schema(), 0))", (LOCK_NAMESPACE,))
                self._schema = None
                if self._execute("SELECT to_regclass('wgsdn_schema') IS NOT NULL").fetchone()[0]:
                    self._schema = self._execute("SELECT max(version) FROM wgsdn_schema").fetchone()[0]
                    if self._schema != SCHEMA_VERSION:
                        raise PlanError(
                            None,
                            DSN_VARIABLE,
                            f"{self.where} has schema version {shown(self._schema)}, and this wgsdn.fabric knows version {SCHEMA_VERSION} only: "
                            "upgrade the collection on this controller (nothing was written)",
                        )
                yield self
        except psycopg.errors.LockNotAvailable:
            raise PlanError(None, LOCK_TIMEOUT_VARIABLE, lock_timeout_message(self.where, self.lock_timeout)) from None
        except psycopg.Error as exc:
            raise PlanError(None, DSN_VARIABLE, f"{self.where}: {_reason(exc)}; nothing was written") from None
        finally:
            connection, self._connection = self._connection, None
            connection.close()

    def _open(self):
        kwargs = {"autocommit": True}
        if "connect_timeout" not in psycopg.conninfo.conninfo_to_dict(self.dsn) and "PGCONNECT_TIMEOUT" not in self.environ:
            kwargs["connect_timeout"] = CONNECT_TIMEOUT
        try:
            return self._connect(self.dsn, **kwargs)
        except psycopg.Error as exc:
            raise PlanError(None, DSN_VARIABLE, f"cannot connect to the {self.where}: {_reason(exc)}") from None

    # --- reading ---------------------------------------------------------------------------

    def load(self):
        """The validated state document (an empty one when the overlay has none yet)."""
        self._loaded, self._plain, self._data_key = None, {}, None
        if not self._schema:
            return empty_state()
        row = self._execute(READ).fetchone()
        if row is None:
            return empty_state()
        *networks, next_gateway_id, data_key, hosts, psks = row
        self._data_key = self._open_data_key(data_key)
        self._loaded = {"meta": (*networks, next_gateway_id), "hosts": {h[0]: tuple(h) for h in hosts}, "preshared_keys": dict(psks)}
        data = {"version": VERSION, "next_gateway_id": next_gateway_id, "hosts": {}, "preshared_keys": {}}
        data.update({key: value for key, value in zip(NETWORK_COLUMNS, networks, strict=True) if value is not None})
        for name, *addresses, gateway_id, private_key in hosts:
            entry = {key: value for key, value in zip(ADDRESS_COLUMNS, addresses, strict=True) if value is not None}
            entry["private_key"] = self._unseal(f"host|{name}", private_key, name)
            if gateway_id is not None:
                entry["gateway_id"] = gateway_id
            data["hosts"][name] = entry
        for pair, key in psks:
            data["preshared_keys"][pair] = self._unseal(f"psk|{pair}", key, pair.split("|")[0])
        return validate_state(data, "", variable=DSN_VARIABLE, label=self.where)

    def _open_data_key(self, stored):
        try:
            raw = base64.b64decode(self._decode(stored.encode("ascii")), validate=True)
        except Exception as exc:  # the codec is pluggable: report whatever it raises
            raise PlanError(None, BACKEND_VARIABLE, f"cannot decrypt the data key of the {self.where} with the vault secret: {exc}") from None
        return DataKey(raw)

    def _unseal(self, where, sealed, host):
        try:
            self._plain[where] = self._data_key.open(where, sealed)
            return self._plain[where]
        except Exception:
            raise PlanError(host, DSN_VARIABLE, f"{self.where}: the key stored for {where} does not decrypt (altered, or moved from another row)") from None

    # --- writing ---------------------------------------------------------------------------

    def save(self, data):
        """Write what differs from what ``load`` read (the whole state the first time), in the locked transaction."""
        if not self._schema:
            self._connection.execute(SCHEMA)
            self._execute("INSERT INTO wgsdn_schema (version) VALUES (%s)", (SCHEMA_VERSION,))
            self._schema = SCHEMA_VERSION
        loaded = self._loaded or {"meta": None, "hosts": {}, "preshared_keys": {}}
        if self._data_key is None:
            raw = os.urandom(32)
            self._data_key = DataKey(raw)
            sealed_key = self._encode(base64.b64encode(raw).decode("ascii"))
            sealed_key = sealed_key.decode("ascii") if isinstance(sealed_key, bytes) else sealed_key
            self._execute("DELETE FROM wgsdn_meta")
            self._execute(
                "INSERT INTO wgsdn_meta (network, network6, next_gateway_id, data_key) VALUES (%s, %s, %s, %s)",
                (*self._meta(data)[:-1], data["next_gateway_id"], sealed_key),
            )
        elif self._meta(data) != loaded["meta"]:
            self._execute("UPDATE wgsdn_meta SET network = %s, network6 = %s, next_gateway_id = %s", self._meta(data))

        hosts = {name: self._host_row(name, entry, loaded["hosts"].get(name)) for name, entry in data["hosts"].items()}
        stale = [name for name, row in loaded["hosts"].items() if hosts.get(name) != row]
        fresh = [row for name, row in hosts.items() if loaded["hosts"].get(name) != row]
        self._replace("wgsdn_hosts", "name", ("name", *ADDRESS_COLUMNS, "gateway_id", "private_key"), stale, fresh)

        psks = {pair: self._psk(pair, key, loaded["preshared_keys"].get(pair)) for pair, key in data["preshared_keys"].items()}
        stale = [pair for pair, key in loaded["preshared_keys"].items() if psks.get(pair) != key]
        fresh = [(pair, key) for pair, key in psks.items() if loaded["preshared_keys"].get(pair) != key]
        self._replace("wgsdn_preshared_keys", "pair", ("pair", "key"), stale, fresh)
        self._loaded = {"meta": self._meta(data), "hosts": hosts, "preshared_keys": psks}

    @staticmethod
    def _meta(data):
        return (*(data.get(key) for key in NETWORK_COLUMNS), data["next_gateway_id"])

    def _sealed(self, where, key, stored):
        """The ciphertext of ``key`` for row ``where``: the stored one when the key is unchanged (no rewrite)."""
        if stored is None or self._plain.get(where) != key:
            stored = self._data_key.seal(where, key)
            self._plain[where] = key
        return stored

    def _host_row(self, name, entry, stored):
        private_key = self._sealed(f"host|{name}", entry["private_key"], stored and stored[-1])
        return (name, *(entry.get(key) for key in ADDRESS_COLUMNS), entry.get("gateway_id"), private_key)

    def _psk(self, pair, key, stored):
        return self._sealed(f"psk|{pair}", key, stored)

    def _replace(self, table, key, columns, stale, fresh):
        """Delete the rows named ``stale``, then copy in ``fresh`` (uniqueness is checked at commit)."""
        if stale:
            self._execute(f"DELETE FROM {table} WHERE {key} = ANY(%s)", (stale,))  # table and key are constants
        if fresh:
            self.statements.append(f"COPY {table}")
            with self._connection.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in fresh:
                    copy.write_row(row)

    def seal(self, write=True):
        """Keys are always encrypted at rest here: nothing to do (the state file's plaintext case)."""


def _reason(exc):
    """What went wrong, from the server or libpq, on one line (it names hosts and users, never a password)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    sqlstate = getattr(exc, "sqlstate", None)
    return f"{shown(text)}" + (f" (SQLSTATE {sqlstate})" if sqlstate else "")
