"""Derived data of a cache, kept up to date behind ingest by an indexer with cursors of its own.

A dashboard cache stores each record's seq, kind and text only, with one index, ``(kind, seq)``, so that
replication writes a backlog fast: every column, index and per-record step at insert would cost there.
What the dashboard's summaries, filters and search need is built here instead, by an indexer reading
the records past its cursor a chunk at a time, into a file of its own beside the cache (``derived_path``:
``<cache>-derived``), so that its writes never hold the lock the replication writer takes (in one file,
the writer's transactions waited behind the indexer's: figures in ``docs/performance.md``):

- ``derived_entries``: a narrow copy of each record's filterable columns (plus ``outcome``: the
  api_call's error code, the script run's status, the trigger event's delivery; and an api_call's
  ``op``), with the indexes the filtered log view needs.
- ``derived_text``: an FTS5 index of each record's text (every string in its body but ``ts`` and
  ``kind``), rowid = seq, in the column named after the record's kind: a search within kinds is then a
  column filter, answered from the index alone (no look-up of each match's entry for its kind).
  Contentless (the text lives once, in ``records.body``), so deleting a row means handing FTS5 the
  same text again: retention does that through ``forget``.
- ``derived_minute_counts`` and ``derived_counts``: api_calls and script runs counted per minute, and
  per ten minutes (``span`` 't') and per hour ('h') once those are over and rolled up
  (``derived_rollups`` says how far: ``store.analytics.derived_counts``), × kind × connection × feature
  × op id × direction × status × skipped × outcome × op (action, query, trigger…), with the first and
  last ``ts`` and last seq and a latency histogram (``store.analytics.latency``). Summaries over a
  window read the hours it covers whole, the ten-minutes and minutes before its first whole hour and
  since the last roll-up, and the records of its first, partial minute (``store.analytics.aggregates``):
  a day of a feature is a few hundred rows, whatever the record count. Aggregates rather than a
  covering index over the records: an index still reads every record of the window (80k for one
  feature over a day of 1M), and a percentile needs them sorted; a histogram sums.
- ``derived_minutes``: the first and last seq of each minute, to turn a ``since`` into a seq range.
- ``derived_activity``: per minute and connection, inbound calls and failures and script runs and
  failures, for the Connections pane's sparklines.
- ``derived_bad``: the records of the wrong shape (``store.record_shape``), with the names of their bad
  fields. Such a record is indexed without those fields; one without a usable ``ts`` is counted in no
  minute, ten minutes or hour (it has none), but is still listed and found.

The indexer goes over the records twice. First it counts them (``CURSOR``): the count tables,
``derived_minutes`` and ``derived_activity``, which the summaries read, at the cost of decoding an
entry's fields and a tally a record. Behind that it enters them (``ENTRIES_CURSOR``, never past
``CURSOR``): ``derived_entries``, ``derived_text`` and ``derived_bad`` (the whole record is checked
then), a row in a table of five indexes and a full-text row a record, which cost it several times as
much and which only the filtered log view, search and the count of bad records read. Readers of the
entries read the records past their cursor from the cache itself (``store.analytics.record_windows``,
``store.analytics.aggregates``), so that no figure waits for them, nor is partial meanwhile.

The file also holds the indexer's cursors (``derived_cursors``, names ``derived`` and ``entries``) and
the id of the cache it was built from (``derived_meta``; every table's name starts with ``derived_``, so
that none hides a cache's own when the file is attached), so a cache started afresh under the same name
gets its derived data built afresh. Readers attach it to their connection to the cache (``attach``). Retention
(``store.analytics.retention``) drops only records the indexer has entered (``entered_through``), and
takes them out of it (``forget_dropped``) right after dropping them; should the dashboard stop in
between, the indexer forgets them itself from their entries (less their search text, which then
lingers unseen: a search reads no text older than the oldest entry).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
import sqlite3
import uuid

import orjson

from switchroom.protocol.kinds import KINDS, OUTCOME_FIELD, SCRIPT_RUN
from switchroom.store.analytics.derived_counts import (
    COUNTS, KEY_COLUMNS, MINUTES, WIDTH, Count, Entry, add, count_of, roll_up, take_out)
from switchroom.store.analytics.entry_fields import count_texts, entries_from_texts
from switchroom.store.eventlog import EventLog, record_of
from switchroom.store.log_layouts import INDEXED
from switchroom.store.analytics.latency import COLUMNS as HIST
from switchroom.store.record_shape import BAD, shaped
from switchroom.store.file_damage import damage_of, is_damage, remove
from switchroom.store.private_files import private_database
from switchroom.store.transactions import write_transaction

CURSOR = "derived"
ENTRIES_CURSOR = "entries"
"""How far ``derived_entries`` and ``derived_text`` have gone (never past ``CURSOR``, the counts')."""
SUFFIX = "-derived"
TABLES = ("derived_entries", "derived_text", MINUTES, COUNTS, "derived_rollups", "derived_minutes", "derived_activity",
          "derived_bad")
CHUNK = 5_000
CACHE_KIB = 65_536
"""The indexer's page cache (SQLite's default is 2 MiB): each chunk of entries goes into five indexes at
as many places as there are users, features, connections and codes; pages read again for every chunk
when they do not all fit."""
WAL_AUTOCHECKPOINT_PAGES = 16_384
"""WAL pages the derived file lets build up before copying them in (64 MiB at 4 KiB a page, against
SQLite's 1,000): each checkpoint ends in an fsync, and an indexer catching up writes hundreds of MB."""
_RECORD_FIELDS = ("ts", *INDEXED)
"""The fields an entry copies from its record, in ``entry_of``'s order."""
ENTRY_COLUMNS = ("seq", "ts", "kind", "direction", "connection_id", "feature_id", "user_id", "op_id",
                 "status_code", "skipped", "latency_ms", "outcome", "op")
SCHEMA_VERSION = "6"
"""Kept with the cache's id in ``derived_meta``: a derived file of another version is built afresh."""

_COUNT_COLUMNS = ", ".join(
    [*(f"{c} {'INTEGER' if c in ('status_code', 'skipped') else 'TEXT'} NOT NULL" for c in KEY_COLUMNS),
     "count INTEGER NOT NULL", "first_ts TEXT NOT NULL", "last_ts TEXT NOT NULL", "last_seq INTEGER NOT NULL",
     *(f"{h} INTEGER NOT NULL DEFAULT 0" for h in HIST)])
"""The columns of a count row past its bucket (and span): its key, its tally and its latency histogram."""
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS derived_meta (key TEXT PRIMARY KEY, value TEXT)",
    "CREATE TABLE IF NOT EXISTS derived_cursors (name TEXT PRIMARY KEY, seq INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS derived_entries (seq INTEGER PRIMARY KEY, ts TEXT NOT NULL, kind TEXT NOT NULL, "
    "direction TEXT, connection_id TEXT, feature_id TEXT, user_id TEXT, op_id TEXT, status_code INTEGER, "
    "skipped INTEGER, latency_ms REAL, outcome TEXT, op TEXT)",
    # Indexes for the filters, each followed by kind (every filter names kinds) and seq (the rowid: the
    # order the log is shown in), so a window near either end of a filter's matches is found without
    # walking the records that do not match; ``store.analytics.record_windows`` names the one to use.
    "CREATE INDEX IF NOT EXISTS derived_entries_kind ON derived_entries (kind)",
    "CREATE INDEX IF NOT EXISTS derived_entries_status ON derived_entries (status_code, skipped, kind)",
    "CREATE INDEX IF NOT EXISTS derived_entries_feature ON derived_entries (feature_id, kind)",
    "CREATE INDEX IF NOT EXISTS derived_entries_connection ON derived_entries (connection_id, kind)",
    "CREATE INDEX IF NOT EXISTS derived_entries_user ON derived_entries (user_id, kind)",
    f"CREATE VIRTUAL TABLE IF NOT EXISTS derived_text USING fts5({', '.join(KINDS)}, content='', "
    "tokenize='unicode61 remove_diacritics 2', columnsize=0)",
    # Keyed by ten minutes first, so that a roll-up reads each ten minutes' rows grouped as it sums them
    f"CREATE TABLE IF NOT EXISTS {MINUTES} (ten TEXT NOT NULL, bucket TEXT NOT NULL, {_COUNT_COLUMNS}, "
    f"PRIMARY KEY (ten, {', '.join(KEY_COLUMNS)}, bucket)) WITHOUT ROWID",
    f"CREATE TABLE IF NOT EXISTS {COUNTS} (span TEXT NOT NULL, bucket TEXT NOT NULL, {_COUNT_COLUMNS}, "
    f"PRIMARY KEY (span, bucket, {', '.join(KEY_COLUMNS)})) WITHOUT ROWID",
    f"CREATE INDEX IF NOT EXISTS derived_counts_feature ON {COUNTS} (feature_id, span, bucket)",
    f"CREATE INDEX IF NOT EXISTS derived_counts_connection ON {COUNTS} (connection_id, span, bucket)",
    "CREATE TABLE IF NOT EXISTS derived_rollups (span TEXT PRIMARY KEY, bucket TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS derived_minutes (bucket TEXT PRIMARY KEY, first_seq INTEGER NOT NULL, "
    "last_seq INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS derived_activity (bucket TEXT NOT NULL, connection_id TEXT NOT NULL, "
    "calls INTEGER NOT NULL, errors INTEGER NOT NULL, script_runs INTEGER NOT NULL, "
    "script_failures INTEGER NOT NULL, PRIMARY KEY (bucket, connection_id)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS derived_bad (seq INTEGER PRIMARY KEY, fields TEXT NOT NULL)",
)

def derived_path(cache_path: Path | str) -> Path:
    cache_path = Path(cache_path)
    return cache_path.with_name(cache_path.name + SUFFIX)


def attach(log: EventLog) -> sqlite3.Connection:
    """The connection of ``log`` (a cache) with its derived file attached as ``derived``, once there is
    one: the derived tables can then be named as if they were the cache's own."""
    conn = log.conn
    if not _attached(conn) and derived_path(log.path).exists():
        conn.execute("ATTACH DATABASE ? AS derived", (str(derived_path(log.path)),))
    return conn


def _attached(conn: sqlite3.Connection) -> bool:
    return any(row[1] == "derived" for row in conn.execute("PRAGMA database_list"))


def present(conn: sqlite3.Connection) -> bool:
    """Whether ``conn`` (from ``attach``) sees derived tables: the indexer has run on this cache."""
    return _attached(conn) and conn.execute(  # the newest of its tables: a file of an older version has none
        "SELECT 1 FROM derived.sqlite_master WHERE name = 'derived_rollups'").fetchone() is not None


def bad_records(conn: sqlite3.Connection) -> int:
    """How many records of the wrong shape the indexer has met among those the cache holds (``attach``)."""
    if not present(conn):
        return 0
    if conn.execute("SELECT 1 FROM derived.sqlite_master WHERE name = 'derived_bad'").fetchone() is None:
        return 0  # a derived file of an older version, about to be built afresh
    return conn.execute("SELECT COUNT(*) FROM derived_bad").fetchone()[0]


def derived_cursor(conn: sqlite3.Connection, name: str = CURSOR) -> int:
    """The last seq the indexer has counted (0 before it first ran); with ``ENTRIES_CURSOR``, the last one
    it has entered."""
    row = conn.execute("SELECT seq FROM derived_cursors WHERE name = ?", (name,)).fetchone()
    return row[0] if row else 0


# -- the indexer --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counted:
    """A chunk of records counted and not yet written: the cursor it starts at and the one it moves to,
    how many records it held (from seq ``first`` to ``last``) and their count."""

    after: int
    through: int
    records: int
    first: int
    last: int
    count: Count


class Indexer:
    """Brings a cache's derived data up to date with its records, on a connection of its own to the
    derived file, with the cache attached read-only (so that its transactions never lock the cache)."""

    def __init__(self, cache_path: Path | str) -> None:
        """A damaged derived file is deleted and built again (it is derived data); damage to the cache
        itself is raised (``store.file_damage.is_damage`` tells)."""
        self.cache_path = Path(cache_path)
        try:
            self._open()
        except sqlite3.DatabaseError as exc:  # raised past sqlite3.connect, which opens nothing yet
            self.close()
            if not is_damage(exc) or damage_of(derived_path(cache_path)) is None:
                raise
            remove(derived_path(cache_path))
            self._open()

    def _open(self) -> None:
        private_database(derived_path(self.cache_path))
        self._conn = sqlite3.connect(derived_path(self.cache_path), isolation_level=None, check_same_thread=False,
                                     uri=True)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        self._conn.execute("ATTACH DATABASE ? AS cache", (f"{self.cache_path.resolve().as_uri()}?mode=ro",))
        self._start_afresh_for_another_cache()

    def close(self) -> None:
        self._conn.close()

    def cursor(self, name: str = CURSOR) -> int:
        return derived_cursor(self._conn, name)

    def _start_afresh_for_another_cache(self) -> None:
        """Build from nothing when this file was built from another cache (one set aside, say, with a
        new one started under its name) or by another version: the cache's id, kept in its ``meta``,
        and ``SCHEMA_VERSION`` tell."""
        cache_id = f"{_cache_id(self.cache_path)}/{SCHEMA_VERSION}"
        with write_transaction(self._conn):
            self._conn.execute(_SCHEMA[0])
            row = self._conn.execute("SELECT value FROM derived_meta WHERE key = 'cache_id'").fetchone()
            if row is None or row[0] != cache_id:
                for table in ("derived_cursors", *TABLES):
                    self._conn.execute(f"DROP TABLE IF EXISTS main.{table}")
                self._conn.execute("INSERT OR REPLACE INTO derived_meta (key, value) VALUES ('cache_id', ?)",
                                   (cache_id,))
            for statement in _SCHEMA:
                self._conn.execute(statement)

    def step(self, chunk: int = CHUNK, counted: Counted | None = None) -> int:
        """Count the records of the next chunk of seqs past the cursor (``(k·chunk, (k+1)·chunk]``); how
        many there were (0: caught up). They are entered behind, by ``step_entries``. ``counted``: that
        chunk as a helper counted it (``count_ahead``), written as it is if it still starts at the cursor."""
        after = self.cursor()
        if counted is not None and counted.after == after:
            return self._write(counted)
        chunk_index = self._chunk_after(after, chunk)
        if chunk_index is None:  # nothing to count; retention's leftovers, though
            with write_transaction(self._conn):
                self._forget_trimmed()
            return 0
        return self._write(self._counted(after, chunk_index, chunk))

    def count_ahead(self, after: int, chunk: int = CHUNK, share: tuple[int, int] = (0, 1)) -> Counted | None:
        """The next chunk of seqs past ``after`` of this helper's ``share`` (``(i, n)``: the chunks whose
        index is ``i`` modulo ``n``), counted but not written: a helper's work, done while the indexer
        writes the chunks before (``step``); None unless the cache holds that chunk whole (the newest
        records are the indexer's own to count as they come). It is counted from the end of the chunk
        before it, which is where the indexer's cursor is once it has written that one."""
        chunk_index = self._chunk_after(after, chunk)
        while chunk_index is not None and chunk_index % share[1] != share[0]:
            after = (chunk_index + 1) * chunk
            chunk_index = self._chunk_after(after, chunk)
        if chunk_index is None or not self._held_whole(chunk_index, chunk):
            return None
        return self._counted(after, chunk_index, chunk)

    def next_chunk(self, chunk: int = CHUNK) -> tuple[int, bool] | None:
        """The index of the next chunk to count, and whether the cache holds it whole (so a helper may be
        counting it); None when there is none."""
        chunk_index = self._chunk_after(self.cursor(), chunk)
        return None if chunk_index is None else (chunk_index, self._held_whole(chunk_index, chunk))

    def backlog(self) -> int:
        """How many seqs the cache holds past the counts' cursor (its records, but for gaps)."""
        return max(0, self._head() - self.cursor())

    def _head(self) -> int:
        """The cache's newest seq (0 when it holds none)."""
        [(head,)] = self._conn.execute("SELECT MAX(seq) FROM cache.records").fetchall()
        return head or 0

    def _chunk_after(self, after: int, chunk: int) -> int | None:
        """The index of the chunk that holds the first record past ``after``; None when there is none."""
        [(first,)] = self._conn.execute("SELECT MIN(seq) FROM cache.records WHERE seq > ?", (after,)).fetchall()
        return None if first is None else (first - 1) // chunk

    def _held_whole(self, chunk_index: int, chunk: int) -> bool:
        """Whether the cache holds every record it ever will of chunk ``chunk_index``: it holds one at or
        past the chunk's end (records come in seq order)."""
        return self._head() >= (chunk_index + 1) * chunk

    def _counted(self, after: int, chunk_index: int, chunk: int) -> Counted:
        """The records of chunk ``chunk_index`` past ``after``, counted (no transaction: this is the work a
        helper can do meanwhile). The cursor moves to the chunk's end once they are written if the cache
        holds the whole chunk (``_held_whole``), else to the last of them."""
        end = (chunk_index + 1) * chunk
        whole = self._held_whole(chunk_index, chunk)  # asked first: a record may come in meanwhile
        rows = self._rows(after, end, chunk)
        count = count_texts(rows) or count_of(entries_of(rows, whole=False)[0])
        through = end if whole else (rows[-1][0] if rows else after)
        return Counted(after, through, len(rows), rows[0][0] if rows else 0, rows[-1][0] if rows else 0, count)

    def _write(self, counted: Counted) -> int:
        """Add a chunk's count to the aggregates and move the cursor past it, in one transaction, if the
        cursor is still where the chunk starts; how many records it holds."""
        with write_transaction(self._conn):
            if self.cursor() != counted.after:  # another indexer of this cache got there first
                return counted.records
            self._forget_trimmed()
            if not counted.records:
                return 0
            count = counted.count
            kept = self._still_held(counted.first, counted.last, counted.records)
            if kept is not None:  # retention was quicker: count those it left
                rows = self._rows(counted.after, counted.last, counted.records)
                count = count_of([entry for entry in entries_of(rows, whole=False)[0] if entry[0] in kept])
            add(self._conn, count)
            _set_cursor(self._conn, CURSOR, counted.through)
        return counted.records

    def roll_up(self) -> bool:
        """Roll up an hour of the ten minutes the counts have moved past (``derived_counts.roll_up``);
        whether there was one to. Asked for when there is nothing to count, before entering, and while
        waiting for a helper's chunk."""
        with write_transaction(self._conn):
            return roll_up(self._conn)

    def step_entries(self, chunk: int = CHUNK) -> int:
        """Enter the next ``chunk`` records the counts have reached: their ``derived_entries`` rows, their
        search text and which of them are bad; how many there were (0: the entries have caught up)."""
        after = self.cursor(ENTRIES_CURSOR)
        rows = self._rows(after, self.cursor(), chunk)
        entries, bad = entries_of(rows)
        texts = [(seq, kind, searchable_text(record_of(body))) for seq, kind, body in rows if kind in KINDS]
        with write_transaction(self._conn):
            if self.cursor(ENTRIES_CURSOR) != after:
                return len(rows)
            if not rows:
                return 0
            held = self._still_held(rows[0][0], rows[-1][0], len(rows))
            kept = range(rows[0][0], rows[-1][0] + 1) if held is None else held
            self._conn.executemany("INSERT OR REPLACE INTO derived_bad VALUES (?, ?)",
                                   [(seq, fields) for seq, fields in bad if seq in kept])
            self._conn.executemany(f"INSERT INTO derived_entries VALUES ({', '.join('?' for _ in ENTRY_COLUMNS)})",
                                   [entry for entry in entries if entry[0] in kept])
            for kind in KINDS:
                self._conn.executemany(f"INSERT INTO derived_text (rowid, {kind}) VALUES (?, ?)",
                                       [(seq, text) for seq, of, text in texts if of == kind and seq in kept])
            _set_cursor(self._conn, ENTRIES_CURSOR, rows[-1][0])
        return len(rows)

    def _rows(self, after: int, through: int | None, chunk: int) -> list[tuple[int, str, str]]:
        """The next ``chunk`` records past ``after`` (up to ``through``) as seq, kind and text: only the
        stored columns, as the others would be read out of the text (``store.eventlog``), parsed here anyway."""
        return self._conn.execute(
            "SELECT seq, kind, body FROM cache.records WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
            (after, (1 << 63) - 1 if through is None else through, chunk)).fetchall()

    def _still_held(self, first: int, last: int, records: int) -> set[int] | None:
        """None when the cache still holds all ``records`` read from ``first`` to ``last``; else the seqs of
        those it holds (retention may have dropped some since they were read: it drops only records
        entered, but may have begun before there was a derived file)."""
        [(held,)] = self._conn.execute("SELECT COUNT(*) FROM cache.records WHERE seq BETWEEN ? AND ?", (first, last))
        if held == records:
            return None
        return {seq for (seq,) in self._conn.execute("SELECT seq FROM cache.records WHERE seq BETWEEN ? AND ?",
                                                     (first, last))}

    def _forget_trimmed(self) -> None:
        """Entries of records retention dropped without taking them out here (it was stopped in between)."""
        [(oldest_entry,)] = self._conn.execute("SELECT MIN(seq) FROM derived_entries").fetchall()
        oldest = self._conn.execute("SELECT seq, ts FROM cache.records ORDER BY seq LIMIT 1").fetchone()
        if oldest_entry is not None and (oldest is None or oldest_entry < oldest[0]):
            below = self._conn.execute("SELECT seq FROM derived_entries WHERE seq < ?",
                                       (oldest[0] if oldest else self.cursor() + 1,)).fetchall()
            forget(self._conn, [(seq, None) for (seq,) in below], oldest)

    def catch_up(self, stop: Callable[[], bool] = lambda: False, chunk: int = CHUNK) -> int:
        """Count until no records are left past the cursor, then enter them (or until ``stop()``); how
        many were counted."""
        done = 0
        while not stop() and (went := self.step(chunk)):
            done += went
        while not stop() and self.roll_up():
            pass
        while not stop() and self.step_entries(chunk):
            pass
        return done


def _cache_id(cache_path: Path) -> str:
    """The id of this cache file for its derived data, made the first time it is asked for."""
    conn = sqlite3.connect(cache_path, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=5000")
        found = conn.execute("SELECT value FROM meta WHERE key = 'derived_id'").fetchone()
        if found is None:  # the one write to the cache, once in its life
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('derived_id', ?)", (uuid.uuid4().hex,))
            found = conn.execute("SELECT value FROM meta WHERE key = 'derived_id'").fetchone()
        return found[0]
    finally:
        conn.close()


def _set_cursor(conn: sqlite3.Connection, name: str, seq: int) -> None:
    conn.execute("INSERT INTO derived_cursors (name, seq) VALUES (?, ?) "
                 "ON CONFLICT(name) DO UPDATE SET seq = excluded.seq",
                 (name, seq))


def entries_of(rows: Sequence[tuple[int, str, str]], whole: bool = True
               ) -> tuple[list[Entry], list[tuple[int, str]]]:
    """The entries of records given as (seq, kind, text), and the (seq, names of bad fields) of those of
    the wrong shape. Each is decoded for its entry alone (``entry_fields``); one the decoder refuses is
    parsed whole and ``shaped`` (a hub is untrusted input: a field of the wrong type is counted and left out).
    Without ``whole``, only the fields of an entry are checked: the bad records found are only some of them."""
    entries: list[Entry] = []
    bad: list[tuple[int, str]] = []
    for (seq, kind, body), entry in zip(rows, entries_from_texts(rows, whole), strict=True):
        if entry is None:
            record = record_of(body)
            kept = shaped(record)
            if kept is not record:
                bad.append((seq, ",".join(kept[BAD])))
            entry = entry_of(seq, kind, kept)
        entries.append(entry)
    return entries, bad


def entry_of(seq: int, kind: str, record: dict[str, Any]) -> Entry:
    """A record's ``derived_entries`` row, from its seq, its kind and its parsed text made ``shaped`` (so
    without the fields of the wrong type); a record without a usable ``ts`` gets ''."""
    ts, direction, connection_id, feature_id, user_id, op_id, status_code, skipped, latency = map(
        column_value, map(record.get, _RECORD_FIELDS))
    if latency is None and kind == SCRIPT_RUN:
        latency = record.get("duration_ms")
    if type(latency) not in (int, float):  # not a number (text, say): no latency to count in a histogram
        latency = None
    outcome = record.get(OUTCOME_FIELD.get(kind, ""))
    op = record.get("op")
    return (seq, ts or "", kind, direction, connection_id, feature_id, user_id, op_id, status_code,
            1 if skipped else 0, latency, outcome if isinstance(outcome, str) else None,
            op if isinstance(op, str) else None)


def column_value(value: Any) -> Any:
    """A record's field as a cache's ``records`` view reads it (SQLite's ``json_extract``): true and false as
    1 and 0, an integer past 64 bits as a real, an object or an array as its JSON text (a string with a NUL in
    it is the one difference: SQLite 3.40's ``json_extract`` ends it there)."""
    kind = type(value)
    if kind is str or kind is float or value is None:
        return value
    if kind is bool:
        return int(value)
    if kind is int:
        return value if -(1 << 63) <= value < 1 << 63 else float(value)
    return orjson.dumps(value).decode()


def searchable_text(record: dict[str, Any]) -> str:
    """The text free-text search finds a record by: every string in its body but ``ts`` and ``kind``."""
    parts: list[str] = []
    _strings(record, parts, top=True)
    return "\n".join(parts)


def _strings(value: Any, into: list[str], top: bool = False) -> None:
    if isinstance(value, str):
        into.append(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not (top and key in ("ts", "kind")):
                _strings(item, into)
    elif isinstance(value, list):
        for item in value:
            _strings(item, into)


def forget_dropped(cache_path: Path, dropped: Sequence[tuple[int, str]], oldest: tuple[int, str] | None) -> None:
    """Take records retention has just dropped from a cache, as (seq, body), out of its derived data
    (when it has any). ``oldest`` is the (seq, ts) of the oldest record that stays, if any."""
    path = derived_path(cache_path)
    if not dropped or not path.exists():
        return
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=5000")
        if not _of_this_version(conn):
            return  # none yet, or of another layout: the indexer builds it afresh
        with write_transaction(conn):
            forget(conn, dropped, oldest)
    finally:
        conn.close()


def entered_through(cache_path: Path) -> int:
    """The last seq of a cache the indexer has entered: 0 when it has none, or its derived file is of
    another layout (about to be built afresh). On a connection of its own: the cache's own connection,
    with the derived file attached, would lock it too in every write transaction."""
    path = derived_path(cache_path)
    if not path.exists():
        return 0
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=5000")
        return derived_cursor(conn, ENTRIES_CURSOR) if _of_this_version(conn) else 0
    finally:
        conn.close()


def _of_this_version(conn: sqlite3.Connection) -> bool:
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'derived_meta'").fetchone() is None:
        return False
    row = conn.execute("SELECT value FROM derived_meta WHERE key = 'cache_id'").fetchone()
    return row is not None and row[0].endswith(f"/{SCHEMA_VERSION}")


def forget(conn: sqlite3.Connection, dropped: Sequence[tuple[int, str | None]], oldest: tuple[int, str] | None
           ) -> None:
    """Take dropped records, as (seq, body), out of the derived data, in the caller's transaction; without
    its body a record's search text stays (unseen). ``oldest`` is the (seq, ts) of the oldest record that
    stays, if any."""
    if not dropped:
        return
    low, high = min(seq for seq, _ in dropped), max(seq for seq, _ in dropped)
    wanted = {seq for seq, _ in dropped}
    entries = [e for e in conn.execute("SELECT * FROM derived_entries WHERE seq BETWEEN ? AND ?", (low, high))
               if e[0] in wanted]
    kinds = {e[0]: e[2] for e in entries}
    indexed = kinds.keys()
    for kind in KINDS:
        conn.executemany(f"INSERT INTO derived_text (derived_text, rowid, {kind}) VALUES ('delete', ?, ?)",
                         [(seq, searchable_text(record_of(body))) for seq, body in dropped
                          if kinds.get(seq) == kind and body is not None])
    conn.executemany("DELETE FROM derived_entries WHERE seq = ?", [(seq,) for seq in indexed])
    conn.executemany("DELETE FROM derived_bad WHERE seq = ?", [(seq,) for seq in indexed])
    take_out(conn, entries)
    if oldest is None:
        conn.execute("DELETE FROM derived_minutes")
        return
    seq, ts = oldest
    conn.execute("DELETE FROM derived_minutes WHERE last_seq < ?", (seq,))
    conn.execute("UPDATE derived_minutes SET first_seq = ? WHERE first_seq < ?", (seq, seq))
    # what was seen first in the oldest buckets has gone
    conn.execute(f"UPDATE {MINUTES} SET first_ts = ? WHERE ten <= ? AND bucket <= ? AND first_ts < ?",
                 (ts, ts[:WIDTH['t']], ts[:WIDTH['m']], ts))
    for span in ("t", "h"):
        conn.execute(f"UPDATE {COUNTS} SET first_ts = ? WHERE span = ? AND bucket <= ? AND first_ts < ?",
                     (ts, span, ts[:WIDTH[span]], ts))
