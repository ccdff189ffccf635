"""One SQLite file of flat event-log records, keyed by their gap-free ``seq``.

The same schema serves both sides: the hub appends (and assigns ``seq``), the dashboard replicates
(records and its cursor committed together, ``seq`` as the key so a record can never be stored twice).
Every record keeps its full JSON in ``body``; the columns beside it exist only to index and query.

An ``EventLog`` wraps one sqlite3 connection: use it from one thread at a time. WAL mode lets any
number of readers (each with its own ``EventLog``) run beside the single writer.

A dashboard cache (``replica=True``) stores each record as its ``seq``, ``kind`` and text only (table
``record_texts``, with the one index its reads use, ``(kind, seq)``); ``records`` is there a view that reads
the other columns out of the text, when a query asks for them. It copies its write-ahead log into the
database in larger steps. Both serve copying a backlog of millions of records, where every column, every
index and every checkpoint is paid for on each record (the measurements: ``docs/performance.md``).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Annotated, Any
import functools
import json
import sqlite3
import uuid

import msgspec
import orjson

from switchroom.store.record_shape import TS_GLOB
from switchroom.store.private_files import private_database
from switchroom.store.transactions import write_transaction


# Columns copied out of each record for indexing, in insert order after seq, ts, kind.
INDEXED = (
    "direction", "connection_id", "feature_id", "user_id", "op_id", "status_code", "skipped", "latency_ms",
)
_COLUMN_TYPES = {"status_code": int, "skipped": int, "latency_ms": float}
_INSERT_COLUMNS = ("seq", "ts", "kind", *INDEXED, "body")
TEXTS_TABLE = "record_texts"
"""Where a replica stores its records: each one's ``TEXT_COLUMNS`` only."""
TEXT_COLUMNS = ("seq", "kind", "body")
# A replica's ``records`` is a view with the hub's columns, the others read out of each record's text:
# copied into columns at insert, they cost the cache writer more than half its insert (Python's sqlite3
# binds each value on its own); read from the text, they cost only a scan that filters on them, and
# nothing for one by kind and seq (kind stays a column, for its index). Figures: docs/performance.md.
_RECORDS_VIEW = (
    "CREATE VIEW IF NOT EXISTS records AS SELECT seq, json_extract(body, '$.ts') AS ts, kind, "
    + "".join(f"json_extract(body, '$.{name}') AS {name}, " for name in INDEXED)
    + f"body FROM {TEXTS_TABLE}"
)
# Indexes only the hub's own queries use (store.queries.connection_stats reads (kind, ts)); a dashboard
# cache goes without them. The dashboard's reads (kind_count, records_window, connection_counts)
# need (kind, seq) alone.
_HUB_ONLY_INDEXES = {"idx_records_connection_id_feature_id": ["connection_id", "feature_id"],
                     "idx_records_kind_ts": ["kind", "ts"]}
# How much write-ahead log a cache lets build up before its writer copies it into the database (SQLite's
# default is 1,000 pages): each checkpoint ends in an fsync, and a catch-up writes hundreds of megabytes.
REPLICA_WAL_AUTOCHECKPOINT_BYTES = 64 << 20
# A cache's pages are 16 KiB rather than SQLite's 4: a catch-up appends a million rows of about 600 bytes,
# and per page written (twice: log, then database) SQLite has a fixed cost; this took a fifth off the
# insert's CPU time. Only a new cache file gets it.
REPLICA_PAGE_SIZE = 16384


def iso_timestamp(moment: datetime) -> str:
    """The record timestamp format: UTC, millisecond precision, ``Z`` suffix (sorts as text)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_now_iso() -> str:
    return iso_timestamp(datetime.now(UTC))


class EventLog:
    def __init__(self, path: Path | str, *, check_same_thread: bool = True, replica: bool = False) -> None:
        self.path = Path(path)
        self.replica = replica
        private_database(self.path)
        self._conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=check_same_thread
        )
        # First, so that the statements below wait too: a database another process opens at the same
        # moment (recovering its log after a kill, say) is briefly locked, and would fail them at once.
        self._conn.execute("PRAGMA busy_timeout=5000")
        if replica:  # these two take effect in a new file only (the page size first)
            self._conn.execute(f"PRAGMA page_size={REPLICA_PAGE_SIZE}")
            self._conn.execute("PRAGMA auto_vacuum=INCREMENTAL")  # retention can then hand freed pages back
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        if replica:
            page_size = self._conn.execute("PRAGMA page_size").fetchone()[0]
            self._conn.execute(f"PRAGMA wal_autocheckpoint={REPLICA_WAL_AUTOCHECKPOINT_BYTES // page_size}")
        self._ensure_schema()

    @property
    def conn(self) -> sqlite3.Connection:
        return self._conn

    @property
    def stored_table(self) -> str:
        """The table that holds the records (``records`` itself, but in a replica): the one to delete from."""
        return TEXTS_TABLE if self.keeps_texts else "records"

    def close(self) -> None:
        self._conn.close()

    # -- schema -----------------------------------------------------------------------------------

    def _ensure_schema(self) -> None:
        names = self._schema_names()
        if self._schema_wanting(names):
            with write_transaction(self._conn):  # looked at again under the lock: another process may be at it
                names = self._schema_names()
                if not {"records", "trigger_seen", "user_connections"} <= names:
                    self._create_schema()
                elif self._schema_wanting(names):
                    self._keep_texts_only()
            names = self._schema_names()
        self.keeps_texts = TEXTS_TABLE in names  # records stored as TEXT_COLUMNS only, under the view

    def _schema_names(self) -> set[str]:
        return {name for (name,) in self._conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}

    def _schema_wanting(self, names: set[str]) -> bool:
        """Whether the file lacks the schema, or is a cache made before replicas stored texts only."""
        return not {"records", "trigger_seen", "user_connections"} <= names or (self.replica and TEXTS_TABLE not in names)

    def _keep_texts_only(self) -> None:
        """Turn a cache made before replicas stored texts only into one that does, in place and at once:
        its table becomes ``record_texts`` (the rows it has keep their columns, which no one reads any
        more; new rows leave them empty), with the ``records`` view beside it."""
        for name in _HUB_ONLY_INDEXES:  # older still: made before caches went without them
            self._conn.execute(f"DROP INDEX IF EXISTS {name}")
        self._conn.execute(f"ALTER TABLE records RENAME TO {TEXTS_TABLE}")
        self._conn.execute(_RECORDS_VIEW)

    def _create_schema(self) -> None:
        """Every table, in the caller's transaction; a replica's records as ``record_texts`` and a view."""
        import sqlite_utils  # here, not at the top: opening an existing log (the dashboard's start) skips it

        db = sqlite_utils.Database(self._conn)
        if self.replica:
            self._create_texts_table()
        else:
            self._create_records_table(db)
        db["meta"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
        db["cursors"].create({"name": str, "seq": int}, pk="name", if_not_exists=True)
        # Trigger items already turned into events, per subscription (DESIGN §5 dedupe). The
        # empty meta id marks a subscription whose first poll has been taken as its baseline.
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS trigger_seen (identity TEXT NOT NULL, meta_id TEXT NOT NULL, "
            "PRIMARY KEY (identity, meta_id)) WITHOUT ROWID"
        )
        # The hub's users: who enabled which connection, with what values (JSON of UserConnection).
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS user_connections (user_id TEXT NOT NULL, connection_id TEXT NOT NULL, "
            "body TEXT NOT NULL, PRIMARY KEY (user_id, connection_id)) WITHOUT ROWID"
        )

    @staticmethod
    def _create_records_table(db: Any) -> None:
        db["records"].create(
            {
                "seq": int,
                "ts": str,
                "kind": str,
                **{name: _COLUMN_TYPES.get(name, str) for name in INDEXED},
                "body": str,
            },
            pk="seq",
            if_not_exists=True,
        )
        db["records"].create_index(["kind", "seq"], if_not_exists=True)
        for name, columns in _HUB_ONLY_INDEXES.items():
            db["records"].create_index(columns, index_name=name, if_not_exists=True)

    def _create_texts_table(self) -> None:
        self._conn.execute(f"CREATE TABLE IF NOT EXISTS {TEXTS_TABLE} (seq INTEGER PRIMARY KEY, kind TEXT, body TEXT)")
        self._conn.execute(f"CREATE INDEX IF NOT EXISTS idx_records_kind_seq ON {TEXTS_TABLE} (kind, seq)")
        self._conn.execute(_RECORDS_VIEW)

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
        return self.replicate_rows(text_rows(records) if self.keeps_texts else dict_rows(records), through_seq, cursor)

    def replicate_rows(self, rows: Sequence[Sequence[Any]], through_seq: int, cursor: str = "stream") -> int:
        """``replicate`` for rows already in the order of the columns this log stores: ``TEXT_COLUMNS`` in a
        replica (``record_rows`` gives them), the hub's ``records`` columns otherwise."""
        table, columns = (TEXTS_TABLE, TEXT_COLUMNS) if self.keeps_texts else ("records", _INSERT_COLUMNS)
        with write_transaction(self._conn):
            before = self._conn.total_changes
            _insert_rows(self._conn, rows, table, columns)
            added = self._conn.total_changes - before
            self._conn.execute(
                "INSERT INTO cursors (name, seq) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET seq = MAX(seq, excluded.seq)",
                (cursor, through_seq),
            )
        return added

    def _insert(self, records: Sequence[dict[str, Any]]) -> None:
        if self.keeps_texts:
            self._conn.executemany(_INSERT_TEXTS, text_rows(records))
        else:
            self._conn.executemany(_INSERT, (_row(r, orjson.dumps(r).decode()) for r in records))

    # -- reading ----------------------------------------------------------------------------------

    def seen_meta_ids(self, identity: str) -> set[str] | None:
        """The meta ids already seen for a trigger subscription; None if it was never polled."""
        rows = self._conn.execute("SELECT meta_id FROM trigger_seen WHERE identity = ?", (identity,)).fetchall()
        return {row[0] for row in rows} if rows else None

    def user_connections(self) -> list[str]:
        """Every stored user connection, as JSON."""
        return [row[0] for row in self._conn.execute("SELECT body FROM user_connections")]

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

    def read_after(self, after: int, limit: int, kinds: Sequence[str] | None = None) -> list[dict[str, Any]]:
        bodies, _ = self.read_after_json(after, limit, kinds)
        return [record_of(body) for body in bodies]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read query; the place for the queries in ``store.queries``."""
        return self._conn.execute(sql, params).fetchall()

    def integrity_ok(self) -> bool:
        return self._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


_INSERT = f"INSERT INTO records ({', '.join(_INSERT_COLUMNS)}) VALUES ({', '.join('?' for _ in _INSERT_COLUMNS)})"
_INSERT_TEXTS = f"INSERT INTO {TEXTS_TABLE} ({', '.join(TEXT_COLUMNS)}) VALUES (?, ?, ?)"


def record_of(body: str | bytes) -> dict[str, Any]:
    """A stored record's text, parsed. A hub may send a number no double holds (``1e400``): msgspec lets
    it into a cache (``record_rows`` only checks the fields it skips to be JSON) and orjson refuses it, so
    the standard library reads such a text (as infinity; ``store.record_shape`` counts that field bad)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


def _row(r: dict[str, Any], body: str) -> tuple[Any, ...]:
    """A record's row in ``records``, in ``_INSERT_COLUMNS`` order (spelled out: it runs per record)."""
    get = r.get
    return (
        r["seq"], r["ts"], r["kind"], get("direction"), get("connection_id"), get("feature_id"), get("user_id"),
        get("op_id"), get("status_code"), get("skipped"), get("latency_ms"), body,
    )


class _Key(msgspec.Struct, gc=False):
    """All that a replica decodes of a record (``record_rows``): its other fields are skipped by the
    decoder (checked to be JSON, never made into Python objects)."""

    seq: Annotated[int, msgspec.Meta(ge=0, le=(1 << 63) - 1)]  # as protocol.batches.is_seq
    kind: str


_decode_key = msgspec.json.Decoder(_Key).decode


def record_rows(texts: Sequence[str]) -> list[tuple[int, str, str]] | None:
    """A replica's rows (``TEXT_COLUMNS``) for records given as their JSON text, each text stored as is.

    None unless every text is one JSON object with an integer ``seq`` and a string ``kind`` — which is
    also what tells ``protocol.batches.cut_batch``'s pieces are exactly a frame's records.
    """
    rows: list[tuple[int, str, str]] = []
    append, decode = rows.append, _decode_key
    try:
        for text in texts:
            key = decode(text)
            append((key.seq, key.kind, text))
    except (msgspec.DecodeError, UnicodeError, RecursionError):  # RecursionError: nested past msgspec's depth
        return None
    return rows


def text_rows(records: Iterable[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """A replica's rows for decoded records (each encoded again for its ``body``)."""
    return [(r["seq"], r["kind"], orjson.dumps(r).decode()) for r in records]


def dict_rows(records: Iterable[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Rows of ``records`` for decoded records (each encoded again for its ``body``)."""
    return [_loose_row(r, orjson.dumps(r).decode()) for r in records]


def _loose_row(r: dict[str, Any], body: str) -> tuple[Any, ...]:
    """``_row`` for a record from elsewhere, whose ``seq`` has been checked (``protocol.batches.is_seq``): a
    column whose value SQLite cannot hold (an object, a list, an integer past 64 bits) is left empty, and
    so is a missing ``ts``, so that no record can make a batch fail to store."""
    get = r.get
    return (r["seq"], *(v if _fits(v) else None for v in (get("ts"), get("kind"), *map(get, INDEXED))), body)


def _fits(value: Any) -> bool:
    kind = type(value)
    if kind is int:
        return -(1 << 63) <= value < (1 << 63)
    return kind is str or kind is float or kind is bool or value is None


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


assert _INSERT_COLUMNS == (
    "seq", "ts", "kind", "direction", "connection_id", "feature_id", "user_id", "op_id", "status_code", "skipped",
    "latency_ms", "body",
), "_row spells out these columns"


@dataclass
class StateChanges:
    """Hub state that is written with the next batch of records, in the same transaction."""

    seen: list[tuple[str, str]] = field(default_factory=list)
    """(trigger identity, meta id) pairs of trigger items already turned into events."""
    user_connections: dict[tuple[str, str], str] = field(default_factory=dict)
    """(user id, connection id) → the user connection as JSON; the latest change wins."""

    def __bool__(self) -> bool:
        return bool(self.seen or self.user_connections)
