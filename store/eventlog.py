"""One SQLite file of flat event-log records, keyed by their gap-free ``seq``.

The same schema serves both sides: the hub appends (and assigns ``seq``), the dashboard replicates
(records and its cursor committed together, ``seq`` as the key so a record can never be stored twice).
Every record keeps its full JSON in ``body``; the columns beside it exist only to index and query.

An ``EventLog`` wraps one sqlite3 connection: use it from one thread at a time. WAL mode lets any
number of readers (each with its own ``EventLog``) run beside the single writer.

How the records are laid out in the file, the hub's way or a dashboard cache's (``replica=True``), is
``store.log_layouts``'s, chosen once as the file opens.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any
import functools
import json
import sqlite3
import uuid

import orjson

from switchroom.store.log_layouts import HUB_COLUMNS, REPLICA_TEXTS, LogLayout, layout_of
from switchroom.store.record_shape import TS_GLOB
from switchroom.store.private_files import private_database
from switchroom.store.transactions import write_transaction


def iso_timestamp(moment: datetime) -> str:
    """The record timestamp format: UTC, millisecond precision, ``Z`` suffix (sorts as text)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_now_iso() -> str:
    return iso_timestamp(datetime.now(UTC))


class EventLog:
    shared = False
    """A SQLite log has one writer: the hub that holds it knows all its state."""

    def __init__(self, path: Path | str, *, check_same_thread: bool = True, replica: bool = False) -> None:
        self.path = Path(path)
        wanted = REPLICA_TEXTS if replica else HUB_COLUMNS
        private_database(self.path)
        self._conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=check_same_thread
        )
        # First, so that the statements below wait too: a database another process opens at the same
        # moment (recovering its log after a kill, say) is briefly locked, and would fail them at once.
        self._conn.execute("PRAGMA busy_timeout=5000")
        wanted.before_wal(self._conn)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        wanted.after_wal(self._conn)
        self.layout = self._ensure_schema(wanted)

    @property
    def conn(self) -> sqlite3.Connection:
        return self._conn

    @property
    def keeps_texts(self) -> bool:
        """Whether records are stored as their seq, kind and text only, under the ``records`` view."""
        return self.layout is REPLICA_TEXTS

    @property
    def stored_table(self) -> str:
        """The table that holds the records (``records`` itself, but in a replica): the one to delete from."""
        return self.layout.table

    def reader(self) -> "EventLog":
        """Another connection to the same file, for a reader thread (in the layout the file has)."""
        return EventLog(self.path, check_same_thread=False)

    def close(self) -> None:
        self._conn.close()

    # -- schema -----------------------------------------------------------------------------------

    def _ensure_schema(self, wanted: LogLayout) -> LogLayout:
        """Create what the file lacks, in ``wanted``'s layout; the layout the file then has."""
        names = self._schema_names()
        if self._schema_wanting(names, wanted):
            with write_transaction(self._conn):  # looked at again under the lock: another process may be at it
                names = self._schema_names()
                held = _held_layout(names, wanted)
                if not _tables(held) <= names:
                    self._create_schema(held)
                elif self._schema_wanting(names, wanted):
                    wanted.upgrade(self._conn)
            names = self._schema_names()
        return layout_of(names)

    def _schema_names(self) -> set[str]:
        return {name for (name,) in self._conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}

    @staticmethod
    def _schema_wanting(names: set[str], wanted: LogLayout) -> bool:
        """Whether the file lacks the schema (its records, or the state tables of the layout it holds them
        in: a reader of a dashboard cache wants none of the hub's), or holds its records in an older
        layout than ``wanted``."""
        return not _tables(_held_layout(names, wanted)) <= names or wanted.table not in names

    def _create_schema(self, layout: LogLayout) -> None:
        """Every table, in the caller's transaction; the records' as ``layout`` has them."""
        import sqlite_utils  # here, not at the top: opening an existing log (the dashboard's start) skips it

        layout.create(self._conn)
        db = sqlite_utils.Database(self._conn)
        db["meta"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
        db["cursors"].create({"name": str, "seq": int}, pk="name", if_not_exists=True)

    # -- identity ---------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def ensure_hub_id(self) -> str:
        """The hub's identity, made once per hub database: a new one tells clients to start over."""
        hub_id = self.meta("hub_id")
        if hub_id is None:
            hub_id = uuid.uuid4().hex
            self.set_meta("hub_id", hub_id)
        return hub_id

    # -- writing ----------------------------------------------------------------------------------

    def head_seq(self) -> int:
        return self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM records").fetchone()[0]

    def newest_ts(self) -> str | None:
        """When the last record held that has a timestamp was written; None for a log without one (a
        hub's record may come with a ``ts`` of another shape: see ``store.record_shape``)."""
        row = self._conn.execute("SELECT ts FROM records WHERE ts GLOB ? ORDER BY seq DESC LIMIT 1",
                                 (TS_GLOB,)).fetchone()
        return row[0] if row else None

    def append(self, bodies: Sequence[dict[str, Any]], state: "StateChanges | None" = None) -> list[dict[str, Any]]:
        """Append new records (hub side) in one transaction, assigning the next seqs and ``ts``.

        ``state`` changes are written in the same transaction, so that, for instance, a trigger event and
        the mark that stops it being delivered again are stored together or not at all.
        Returns the stored records. Seqs stay gap-free because there is one writer per database.
        """
        with write_transaction(self._conn):
            if state:
                self._write_state(state)
            head = self.head_seq()
            records = []
            for offset, body in enumerate(bodies, start=1):
                record = {"seq": head + offset, "ts": body.get("ts") or utc_now_iso()}
                record.update((k, v) for k, v in body.items() if k not in record)
                records.append(record)
            self._insert(records)
        return records

    def _write_state(self, state: "StateChanges") -> None:
        self._conn.executemany("INSERT OR IGNORE INTO trigger_seen (identity, meta_id) VALUES (?, ?)", state.seen)
        self._conn.executemany(
            "INSERT OR REPLACE INTO user_connections (user_id, connection_id, body) VALUES (?, ?, ?)",
            [(user_id, connection_id, body) for (user_id, connection_id), body in state.user_connections.items()],
        )

    def replicate(self, records: Sequence[dict[str, Any]], through_seq: int, cursor: str = "stream") -> int:
        """Store records copied from a hub (dashboard side) and move the cursor, atomically.

        Records already present are ignored (``seq`` is the key). Returns how many were new.
        """
        return self.replicate_rows(self.layout.copied_rows(records), through_seq, cursor)

    def replicate_rows(self, rows: Sequence[Sequence[Any]], through_seq: int, cursor: str = "stream") -> int:
        """``replicate`` for rows already in the order of the columns this log stores (``layout.columns``:
        in a replica, those ``protocol.batches.batch_rows`` gives)."""
        with write_transaction(self._conn):
            before = self._conn.total_changes
            _insert_rows(self._conn, rows, self.layout.table, self.layout.columns)
            added = self._conn.total_changes - before
            self._conn.execute(
                "INSERT INTO cursors (name, seq) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET seq = MAX(seq, excluded.seq)",
                (cursor, through_seq),
            )
        return added

    def _insert(self, records: Sequence[dict[str, Any]]) -> None:
        self._conn.executemany(self.layout.append_statement, self.layout.appended_rows(records))

    # -- reading ----------------------------------------------------------------------------------

    def seen_meta_ids(self, identity: str) -> set[str] | None:
        """The meta ids already seen for a trigger subscription; None if it was never polled."""
        rows = self._conn.execute("SELECT meta_id FROM trigger_seen WHERE identity = ?", (identity,)).fetchall()
        return {row[0] for row in rows} if rows else None

    def user_connections(self) -> list[str]:
        """Every stored user connection, as JSON."""
        return [row[0] for row in self._conn.execute("SELECT body FROM user_connections")]

    def user_connections_of(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """The stored user connections of these (user id, connection id) keys, those that exist."""
        found = {}
        for user_id, connection_id in keys:
            row = self._conn.execute("SELECT body FROM user_connections WHERE user_id = ? AND connection_id = ?",
                                     (user_id, connection_id)).fetchone()
            if row:
                found[(user_id, connection_id)] = row[0]
        return found

    def user_connections_after(self, version: int) -> tuple[list[str], int]:
        """None: no other hub writes to a SQLite log."""
        return [], version

    def cursor(self, name: str = "stream") -> int:
        row = self._conn.execute("SELECT seq FROM cursors WHERE name = ?", (name,)).fetchone()
        return row[0] if row else 0

    def read_after_json(self, after: int, limit: int, kinds: Sequence[str] | None = None,
                        max_chars: int | None = None) -> tuple[list[str], int]:
        """Records with ``seq > after`` as raw JSON text, oldest first, at most ``limit`` of them and (past
        the first) at most ``max_chars`` of text in all.

        Returns them with the seq they cover through: the last seq looked at, which passes over
        records of other kinds, so a stream's cursor moves past what it does not carry.
        """
        rows = self._conn.execute(
            "SELECT seq, kind, body FROM records WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit)
        ).fetchall()
        return bodies_through(rows, after, kinds, max_chars)

    def read_after(self, after: int, limit: int, kinds: Sequence[str] | None = None) -> list[dict[str, Any]]:
        bodies, _ = self.read_after_json(after, limit, kinds)
        return [record_of(body) for body in bodies]

    async def follow_head(self, on_head: Callable[[int], None]) -> None:
        """Nothing to follow: a SQLite log has one writer, which knows its own head."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read query; the place for the queries in ``store.queries``."""
        return self._conn.execute(sql, params).fetchall()

    def integrity_ok(self) -> bool:
        return self._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def bodies_through(rows: Sequence[tuple[int, str, str]], after: int, kinds: Sequence[str] | None,
                   max_chars: int | None) -> tuple[list[str], int]:
    """``read_after_json``'s answer from the (seq, kind, body) rows past ``after``, oldest first (either
    backend's)."""
    wanted = set(kinds) if kinds is not None else None
    bodies: list[str] = []
    through, size = after, 0
    for seq, kind, body in rows:
        if wanted is None or kind in wanted:
            if max_chars is not None and bodies and size + len(body) > max_chars:
                break
            bodies.append(body)
            size += len(body) + 1
        through = seq
    return bodies, through


def _held_layout(names: set[str], wanted: LogLayout) -> LogLayout:
    """The layout a file with these tables and views holds its records in; ``wanted`` for one without any."""
    return layout_of(names) if "records" in names else wanted


def _tables(layout: LogLayout) -> set[str]:
    """What a log file of ``layout`` has: ``records`` (a table or a view) and the layout's state tables."""
    return {"records", *layout.state_tables}


def record_of(body: str | bytes) -> dict[str, Any]:
    """A stored record's text, parsed. A hub may send a number no double holds (``1e400``): msgspec lets
    it into a cache (``protocol.batches.keyed_texts`` only checks the fields it skips to be JSON) and
    orjson refuses it, so the standard library reads such a text (as infinity; ``store.record_shape``
    counts that field bad)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


@functools.cache
def _rows_per_insert(columns: int) -> int:
    """Rows bound per INSERT statement: one statement of many rows costs Python's sqlite3 about a third
    less per record than one per row, and SQLite runs each statement with Python's lock let go, so the
    fewer times the writer has to take that lock back, the more its work overlaps other threads'."""
    conn = sqlite3.connect(":memory:")
    parameters = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)  # 32,766 by default, 999 before 3.32
    conn.close()
    return max(1, min(500, parameters // columns))


@functools.cache
def _insert_statement(table: str, columns: tuple[str, ...], rows: int) -> str:
    return (f"INSERT OR IGNORE INTO {table} ({', '.join(columns)}) VALUES "
            + ", ".join([f"({', '.join('?' for _ in columns)})"] * rows))


def _insert_rows(conn: sqlite3.Connection, rows: Sequence[Sequence[Any]], table: str, columns: tuple[str, ...]) -> None:
    per_insert = _rows_per_insert(len(columns))
    whole = len(rows) - len(rows) % per_insert
    if whole:
        conn.executemany(_insert_statement(table, columns, per_insert),
                         [tuple(chain.from_iterable(rows[start:start + per_insert])) for start in range(0, whole, per_insert)])
    if whole < len(rows):
        conn.executemany(_insert_statement(table, columns, 1), rows[whole:])


@dataclass
class StateChanges:
    """Hub state that is written with the next batch of records, in the same transaction."""

    seen: list[tuple[str, str]] = field(default_factory=list)
    """(trigger identity, meta id) pairs of trigger items already turned into events."""
    user_connections: dict[tuple[str, str], str] = field(default_factory=dict)
    """(user id, connection id) → the user connection as JSON; the latest change wins."""

    def __bool__(self) -> bool:
        return bool(self.seen or self.user_connections)
