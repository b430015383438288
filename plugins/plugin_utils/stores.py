# Copyright: wgsdn.fabric maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the state lives: ``wgsdn_state_backend`` (``file`` or ``postgresql``), checked and opened.

``settings`` checks the three variables of the seam as the planning host sees them and
raises PlanError naming that host and the variable; ``open_store`` returns a
``state.StateFile`` or a ``state_pg.StatePostgres``, which ``service.compute_plan``
uses alike (``locked``, ``load``, ``save``, ``seal``, ``notices``). A ``codec`` is
``(encode, decode, encoded)``: the run's vault secret, with ``encode`` None when there is
none (``decode`` then refuses an encrypted state file). ``migrate`` copies a state from one
store to the other (``playbooks/state_migrate.yml``).
"""

import contextlib
import dataclasses
import numbers

from ansible_collections.wgsdn.fabric.plugins.plugin_utils import state_pg
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.errors import PlanError, shown
from ansible_collections.wgsdn.fabric.plugins.plugin_utils.state import LOCK_TIMEOUT_VARIABLE, StateFile

FILE = "file"
POSTGRESQL = "postgresql"
BACKENDS = (FILE, POSTGRESQL)
BACKEND_VARIABLE = state_pg.BACKEND_VARIABLE
DSN_VARIABLE = state_pg.DSN_VARIABLE

# Seconds a run waits for another run's lock by default (a plan takes well under one).
DEFAULT_LOCK_TIMEOUT = 300
MAX_LOCK_TIMEOUT = 86400
# Any of these (as an AWX credential injects them) stands for wgsdn_state_dsn.
PG_ENVIRONMENT = ("PGHOST", "PGHOSTADDR", "PGSERVICE", "PGDATABASE")


@dataclasses.dataclass(frozen=True)
class Settings:
    backend: str = FILE
    dsn: str | None = None
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT


def settings(host, backend=None, dsn=None, lock_timeout=None, environ=None):
    """Check the state variables ``host`` sees (None: unset); return Settings. Raises PlanError."""
    backend = FILE if backend is None else backend
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise PlanError(host, BACKEND_VARIABLE, f"{shown(backend)} is not one of {', '.join(BACKENDS)}")
    return Settings(str(backend), _dsn(host, backend, dsn, environ or {}), _lock_timeout(host, lock_timeout))


def _dsn(host, backend, dsn, environ):
    if dsn is None or dsn == "":
        if backend == POSTGRESQL and not any(environ.get(name) for name in PG_ENVIRONMENT):
            raise PlanError(
                host,
                DSN_VARIABLE,
                f"{BACKEND_VARIABLE} is {POSTGRESQL}: set {DSN_VARIABLE}, or the PG* environment variables ({', '.join(PG_ENVIRONMENT)}, PGUSER, ...)",
            )
        return None
    if not isinstance(dsn, str):
        raise PlanError(host, DSN_VARIABLE, f"must be a connection string (key=value pairs or a postgresql:// URI), not a {type(dsn).__name__}")
    if state_pg.psycopg is not None:  # without psycopg the lookup fails first, naming the package
        try:
            state_pg.psycopg.conninfo.conninfo_to_dict(dsn)
        except state_pg.psycopg.Error:  # libpq's message may quote the string, password included: not echoed
            raise PlanError(host, DSN_VARIABLE, "is not a PostgreSQL connection string (key=value pairs or a postgresql:// URI)") from None
    return str(dsn)


def _lock_timeout(host, value):
    if value is None:
        return DEFAULT_LOCK_TIMEOUT
    number = value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if isinstance(number, bool) or not isinstance(number, numbers.Real) or not 0 < number <= MAX_LOCK_TIMEOUT:
        raise PlanError(host, LOCK_TIMEOUT_VARIABLE, f"{shown(value)} is not a number of seconds above 0 and at most {MAX_LOCK_TIMEOUT}")
    return float(number)


def open_store(config, path, codec, environ=None):
    """The state store the settings name: the state file at ``path``, or the overlay's PostgreSQL state."""
    encode, decode, encoded = codec
    if config.backend == POSTGRESQL:
        return state_pg.StatePostgres(config.dsn, (encode, decode) if encode else None, config.lock_timeout, environ=environ)
    return StateFile(path, encode=encode, decode=decode, encoded=encoded, lock_timeout=config.lock_timeout)


def migrate(source, target, write=True):
    """Copy the whole state from ``source`` to ``target`` (stores), both locked for the copy. Raises PlanError.

    A target already holding the same state is left alone (``changed`` False); a target holding
    another state is refused (nothing is overwritten); an empty source is refused. With ``write``
    false nothing is written. Returns ``{"changed", "hosts", "preshared_keys"}``.
    """
    with contextlib.ExitStack() as stack:
        for store in sorted((source, target), key=lambda s: not isinstance(s, StateFile)):  # one order: no deadlock
            stack.enter_context(store.locked())
        data = source.load()
        if not data["hosts"]:
            raise PlanError(None, BACKEND_VARIABLE, f"the {where(source)} holds no host: nothing to move")
        present = target.load()
        changed = present != data
        if changed and present["hosts"]:
            differ = sorted(name for name in {*data["hosts"], *present["hosts"]} if data["hosts"].get(name) != present["hosts"].get(name))
            detail = (
                f"hosts {', '.join(shown(name) for name in differ[:5])}{' ...' if len(differ) > 5 else ''} differ"
                if differ
                else "its networks or preshared keys differ"
            )
            raise PlanError(None, BACKEND_VARIABLE, f"the {where(target)} already holds another state ({detail}): nothing was written; move it away first")
        if changed and write:
            target.save(data)
    return {"changed": changed, "hosts": len(data["hosts"]), "preshared_keys": len(data["preshared_keys"])}


def where(store):
    """Where a store keeps the state, for messages (never a password)."""
    return f"state file {store.path}" if isinstance(store, StateFile) else store.where
