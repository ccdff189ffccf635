"""The two ways an event log file holds its records, chosen once as an ``EventLog`` opens it.

The hub's log (``HUB_COLUMNS``) keeps each record in table ``records``: its full JSON in ``body`` and, beside
it, the columns the hub's queries index. A dashboard cache (``REPLICA_TEXTS``) stores each record as its
``seq``, ``kind`` and text only (table ``record_texts``, with the one index its reads use, ``(kind, seq)``);
``records`` is there a view that reads the other columns out of the text, when a query asks for them. A
backlog of a million records is written in seconds, and every column, every index and every checkpoint is
paid for on each of them.
"""

from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import Any
import sqlite3

import orjson

from switchroom.protocol.batches import keyed_records

# Columns copied out of each record for indexing, in insert order after seq, ts, kind.
INDEXED = (
    "direction", "connection_id", "feature_id", "user_id", "op_id", "status_code", "skipped", "latency_ms",
)
_COLUMN_TYPES = {"status_code": int, "skipped": int, "latency_ms": float}
RECORD_COLUMNS = ("seq", "ts", "kind", *INDEXED, "body")
"""The columns of the hub's ``records`` table."""
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


class LogLayout:
    """How a log file stores its records: the table and its columns, the rows for them, the schema."""

    table: str
    """The table that holds the records: the one to insert into and delete from."""
    columns: tuple[str, ...]
    state_tables: tuple[str, ...] = ()
    """The tables of state kept beside the records: a hub's own (a dashboard cache keeps none)."""

    @cached_property
    def append_statement(self) -> str:
        return f"INSERT INTO {self.table} ({', '.join(self.columns)}) VALUES ({', '.join('?' for _ in self.columns)})"

    def before_wal(self, conn: sqlite3.Connection) -> None:
        """Settings for a new file, made before it turns to write-ahead logging."""

    def after_wal(self, conn: sqlite3.Connection) -> None:
        """Settings of this connection's write-ahead logging."""

    def create(self, conn: sqlite3.Connection) -> None:
        """The records' table (and what reads it), in the caller's transaction."""
        raise NotImplementedError

    def upgrade(self, conn: sqlite3.Connection) -> None:
        """Bring a file made in an older layout to this one, in the caller's transaction."""

    def appended_rows(self, records: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """Rows for records this log appends itself (seq, ts and kind set)."""
        raise NotImplementedError

    def copied_rows(self, records: Iterable[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """Rows for records copied from elsewhere (their seq checked, the rest as they came)."""
        raise NotImplementedError


class _HubColumns(LogLayout):
    table, columns = "records", RECORD_COLUMNS
    state_tables = ("trigger_seen", "user_connections")

    def create(self, conn: sqlite3.Connection) -> None:
        import sqlite_utils  # here, not at the top: opening an existing log (the dashboard's start) skips it

        records = sqlite_utils.Database(conn).table("records")
        records.create(
            {"seq": int, "ts": str, "kind": str, **{name: _COLUMN_TYPES.get(name, str) for name in INDEXED},
             "body": str},
            pk="seq", if_not_exists=True,
        )
        records.create_index(["kind", "seq"], if_not_exists=True)
        for name, columns in _HUB_ONLY_INDEXES.items():
            records.create_index(columns, index_name=name, if_not_exists=True)
        # Trigger items already turned into events, per subscription (DESIGN §5 dedupe). The
        # empty meta id marks a subscription whose first poll has been taken as its baseline.
        conn.execute(
            "CREATE TABLE IF NOT EXISTS trigger_seen (identity TEXT NOT NULL, meta_id TEXT NOT NULL, "
            "PRIMARY KEY (identity, meta_id)) WITHOUT ROWID"
        )
        # The hub's users: who enabled which connection, with what values (JSON of UserConnection).
        conn.execute(
            "CREATE TABLE IF NOT EXISTS user_connections (user_id TEXT NOT NULL, connection_id TEXT NOT NULL, "
            "body TEXT NOT NULL, PRIMARY KEY (user_id, connection_id)) WITHOUT ROWID"
        )

    def appended_rows(self, records: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [_row(r, orjson.dumps(r).decode()) for r in records]

    def copied_rows(self, records: Iterable[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [_loose_row(r, orjson.dumps(r).decode()) for r in records]


class _ReplicaTexts(LogLayout):
    table, columns = TEXTS_TABLE, TEXT_COLUMNS

    def before_wal(self, conn: sqlite3.Connection) -> None:
        conn.execute(f"PRAGMA page_size={REPLICA_PAGE_SIZE}")  # these two take effect in a new file only
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")  # retention can then hand freed pages back

    def after_wal(self, conn: sqlite3.Connection) -> None:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        conn.execute(f"PRAGMA wal_autocheckpoint={REPLICA_WAL_AUTOCHECKPOINT_BYTES // page_size}")

    def create(self, conn: sqlite3.Connection) -> None:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {TEXTS_TABLE} (seq INTEGER PRIMARY KEY, kind TEXT, body TEXT)")
        conn.execute(f"CREATE INDEX IF NOT EXISTS idx_records_kind_seq ON {TEXTS_TABLE} (kind, seq)")
        conn.execute(_RECORDS_VIEW)

    def upgrade(self, conn: sqlite3.Connection) -> None:
        """A cache made before replicas stored texts only, turned into one that does in place and at once:
        its table becomes ``record_texts`` (the rows it has keep their columns, which no one reads any
        more; new rows leave them empty), with the ``records`` view beside it."""
        for name in _HUB_ONLY_INDEXES:  # older still: made before caches went without them
            conn.execute(f"DROP INDEX IF EXISTS {name}")
        conn.execute(f"ALTER TABLE records RENAME TO {TEXTS_TABLE}")
        conn.execute(_RECORDS_VIEW)

    def appended_rows(self, records: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return keyed_records(records)

    def copied_rows(self, records: Iterable[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return keyed_records(records)


HUB_COLUMNS: LogLayout = _HubColumns()
REPLICA_TEXTS: LogLayout = _ReplicaTexts()


def layout_of(tables: set[str]) -> LogLayout:
    """The layout of a file with these tables and views."""
    return REPLICA_TEXTS if TEXTS_TABLE in tables else HUB_COLUMNS


def _row(r: dict[str, Any], body: str) -> tuple[Any, ...]:
    """A record's row in ``records``, in ``RECORD_COLUMNS`` order (spelled out: it runs per record)."""
    get = r.get
    return (
        r["seq"], r["ts"], r["kind"], get("direction"), get("connection_id"), get("feature_id"), get("user_id"),
        get("op_id"), get("status_code"), get("skipped"), get("latency_ms"), body,
    )


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


assert RECORD_COLUMNS == (
    "seq", "ts", "kind", "direction", "connection_id", "feature_id", "user_id", "op_id", "status_code", "skipped",
    "latency_ms", "body",
), "_row spells out these columns"
