"""The one narrow interface through which a hub reaches its storage, and the choice of backend.

``--db hub.sqlite`` (the default) is ``store.eventlog``'s SQLite file, for one hub on one machine;
``--db postgresql://…`` is ``store.postgres_log``, one database shared by any number of hubs (DESIGN §12).
Both keep the records with the hub's state (trigger seen marks, user connections) and commit them together.
"""

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, Self
from urllib.parse import urlsplit, urlunsplit
import re
import sqlite3

from switchroom.store.eventlog import EventLog, StateChanges

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class HubLog(Protocol):
    """What a hub does with its log: one object per thread (``reader()`` opens another)."""

    shared: bool
    """Whether other hubs write to it too (and state held in memory must be read again)."""

    def reader(self) -> Self: ...

    def close(self) -> None: ...

    def ensure_hub_id(self) -> str:
        """The hub id, made by the first hub on this storage: a new one tells dashboards to start over."""
        ...

    def head_seq(self) -> int: ...

    def append(self, bodies: Sequence[dict[str, Any]],
               state: StateChanges | None = None) -> Sequence[dict[str, Any] | None]:
        """Records and state changes, committed together; the records with their seqs and ``ts`` (None for a
        trigger event another hub made first, where hubs share the log)."""
        ...

    def read_after_json(self, after: int, limit: int, kinds: Sequence[str] | None = None,
                        max_chars: int | None = None) -> tuple[list[str], int]: ...

    def seen_meta_ids(self, identity: str) -> set[str] | None: ...

    def user_connections(self) -> list[str]: ...

    def user_connections_of(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """The stored user connections (JSON) of these (user id, connection id) keys, those that exist."""
        ...

    def user_connections_after(self, version: int) -> tuple[list[str], int]:
        """The user connections other hubs wrote since ``version``, and the version they bring it to."""
        ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A read query in SQLite's SQL (the PostgreSQL backend translates it: ``store.postgres_sql``)."""
        ...

    async def follow_head(self, on_head: Callable[[int], None]) -> None:
        """Report the heads other hubs commit, until cancelled (nothing to do for a log with one writer)."""
        ...


def is_postgres_url(db: Path | str) -> bool:
    return isinstance(db, str) and db.startswith(POSTGRES_SCHEMES)


def open_hub_log(db: Path | str) -> HubLog:
    """The hub's log at ``db``: a SQLite file's path, or a PostgreSQL URL."""
    if is_postgres_url(db):
        try:
            import psycopg

            from switchroom.store.postgres_log import PostgresLog
        except ImportError as exc:
            raise MissingBackend("a PostgreSQL database needs psycopg: pip install 'switchroom[postgres]'") from exc
        try:
            return PostgresLog(str(db))
        except psycopg.Error as exc:
            raise StorageError(str(exc).strip()) from exc
    return EventLog(db, check_same_thread=False)


def storage_errors() -> tuple[type[Exception], ...]:
    """The errors a backend raises when its storage fails (psycopg's only where it is installed)."""
    try:
        import psycopg
    except ImportError:
        return (sqlite3.Error, OSError, MissingBackend, StorageError)
    return (sqlite3.Error, OSError, MissingBackend, StorageError, psycopg.Error)


def shown_db(db: Path | str) -> str:
    """``db`` as messages name it: a URL's password (in its user part or its query) left out."""
    if not is_postgres_url(db):
        return str(db)
    parts = urlsplit(str(db))
    netloc = parts.netloc
    if parts.password is not None:
        netloc = f"{parts.username}:***@{netloc.rsplit('@', 1)[-1]}"
    query = re.sub(r"(?i)(^|&)(password=)[^&]*", r"\1\2***", parts.query)
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def looks_like_connection_string(text: str) -> bool:
    """Whether ``text`` is PostgreSQL's ``key=value`` connection string (which ``--db`` does not take),
    rather than a file's name."""
    return re.match(r"^\s*(host|dbname|user|port|password|hostaddr)\s*=", text) is not None


class MissingBackend(RuntimeError):
    """The backend a ``--db`` names is not installed."""


class StorageError(RuntimeError):
    """The storage a ``--db`` names cannot be reached or used."""
