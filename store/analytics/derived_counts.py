"""The indexer's counts: records tallied per minute as they are counted, rolled up into ten minutes and
hours in SQL once those are over, and taken out as retention drops records (``store.analytics.derived``
keeps the tables, ``store.analytics.aggregates`` reads them).

Python tallies each record once, into its minute (``tally_minutes``), and writes a chunk's minutes to
``derived_minute_counts``, a table with no index but its key, which minute rows arrive at in order.
Ten minutes are summed from their minutes by one ``INSERT … SELECT … GROUP BY`` once the counted records
have moved past them, and hours from their ten-minutes likewise (``roll_up``), an hour at a time when
the indexer has a moment (``tui.indexing``): a backlog is counted first, so that the counts are whole
sooner (they are whole without the roll-up; a window over minutes not yet rolled up reads more rows).
``derived_rollups`` keeps the first ten minutes and the first hour not yet rolled up. A record counted
late, into a minute whose ten minutes (or hour) is already rolled up, is added to those rows too
(``add``). So a bucket of each span is either whole or absent, and a window reads the minutes past the
last rolled-up ten minutes (``rolled_up``, ``store.analytics.aggregates``). Counting each record once instead of three times, and
writing no ten-minute or hour row twice, is what lets counting keep pace with copying (figures:
``docs/performance.md``).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
import sqlite3

from switchroom.protocol.kinds import API_CALL, SCRIPT_RUN
from switchroom.store.analytics.latency import BINS, COLUMNS as HIST, bin_of
from switchroom.store.status_codes import is_failure

COUNTED_KINDS = (API_CALL, SCRIPT_RUN)
KEY_COLUMNS = ("kind", "connection_id", "feature_id", "op_id", "direction", "status_code", "skipped", "outcome", "op")
"""The columns a count row is counted by, besides its bucket. Missing values are stored as '' (text) and
0 (status: no answer; skipped: no), so that they can be part of the key."""
Entry = tuple[Any, ...]
"""A row of ``derived_entries``: seq, ts, kind, direction, connection_id, feature_id, user_id, op_id,
status_code, skipped, latency_ms, outcome, op (``store.derived.ENTRY_COLUMNS``)."""
Tallies = dict[tuple[Any, ...], list[Any]]
"""(bucket, *key) → [count, first ts, last ts, last seq, *histogram]."""

MINUTES, COUNTS = "derived_minute_counts", "derived_counts"
"""Minute rows, and ten-minute ('t') and hour ('h') rows (``span``)."""
WIDTH = {"m": 16, "t": 15, "h": 13}
"""The length of a bucket of each span: the ``ts`` prefix it is named by."""

_VALUES = ("count", "first_ts", "last_ts", "last_seq", *HIST)
_MERGE = (
    "ON CONFLICT DO UPDATE SET count = count + excluded.count, first_ts = MIN(first_ts, excluded.first_ts), "
    "last_ts = MAX(last_ts, excluded.last_ts), last_seq = MAX(last_seq, excluded.last_seq), "
    + ", ".join(f"{h} = {h} + excluded.{h}" for h in HIST)
)
_ADD_MINUTES = (f"INSERT INTO {MINUTES} (ten, bucket, {', '.join(KEY_COLUMNS + _VALUES)}) "
                f"VALUES ({', '.join('?' for _ in range(2 + len(KEY_COLUMNS) + len(_VALUES)))}) {_MERGE}")
_ADD_COUNTS = (f"INSERT INTO {COUNTS} (span, bucket, {', '.join(KEY_COLUMNS + _VALUES)}) "
               f"VALUES ({', '.join('?' for _ in range(2 + len(KEY_COLUMNS) + len(_VALUES)))}) {_MERGE}")
_SUMS = ("SUM(count), MIN(first_ts), MAX(last_ts), MAX(last_seq), " + ", ".join(f"SUM({h})" for h in HIST))
_ROLL_UP = {
    "t": (f"INSERT INTO {COUNTS} (span, bucket, {', '.join(KEY_COLUMNS + _VALUES)}) "
          f"SELECT 't', ten, {', '.join(KEY_COLUMNS)}, {_SUMS} FROM {MINUTES} "
          f"WHERE ten >= ? AND ten < ? GROUP BY ten, {', '.join(KEY_COLUMNS)} {_MERGE}"),
    "h": (f"INSERT INTO {COUNTS} (span, bucket, {', '.join(KEY_COLUMNS + _VALUES)}) "
          f"SELECT 'h', substr(bucket, 1, {WIDTH['h']}), {', '.join(KEY_COLUMNS)}, {_SUMS} FROM {COUNTS} "
          f"WHERE span = 't' AND bucket >= ? AND bucket < ? GROUP BY 2, {', '.join(KEY_COLUMNS)} {_MERGE}"),
}
_KEY_MATCH = " AND ".join(f"{c} = ?" for c in ("bucket", *KEY_COLUMNS))
"""A row of a span by its bucket and key (for a minute row, after ``ten = ?``)."""
_SUBTRACT = f"SET count = count - ?, {', '.join(f'{h} = {h} - ?' for h in HIST)}"
_ADD_ACTIVITY = (
    "INSERT INTO derived_activity (bucket, connection_id, calls, errors, script_runs, script_failures) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET calls = calls + excluded.calls, "
    "errors = errors + excluded.errors, script_runs = script_runs + excluded.script_runs, "
    "script_failures = script_failures + excluded.script_failures"
)
_ADD_MINUTE_SEQS = (
    "INSERT INTO derived_minutes (bucket, first_seq, last_seq) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET "
    "first_seq = MIN(first_seq, excluded.first_seq), last_seq = MAX(last_seq, excluded.last_seq)"
)


def tally_minutes(entries: Iterable[Entry]) -> Tallies:
    """The api_calls and script runs among ``entries`` counted by (minute, *key), the key's values as the
    count tables store them (no NULLs). An entry without a ``ts`` (its record had none, or a bad one)
    belongs to no minute: it is left out."""
    tallies: Tallies = {}
    for seq, ts, kind, direction, connection_id, feature_id, _, op_id, status_code, skipped, latency, outcome, op \
            in entries:
        if ts and kind in COUNTED_KINDS:
            key = (ts[:16], kind, connection_id or "", feature_id or "", op_id or "", direction or "",
                   status_code or 0, skipped, outcome or "", op or "")
            tally_one(tallies, key, seq, ts, latency)
    return tallies


_EMPTY = [0] * BINS


def tally_one(tallies: Tallies, key: tuple[Any, ...], seq: int, ts: str, latency: float | None) -> None:
    """Count a record into ``tallies`` under ``key`` (its minute and ``KEY_COLUMNS``)."""
    found = tallies.get(key)
    if found is None:
        found = tallies[key] = [0, ts, ts, seq, *_EMPTY]
    elif ts < found[1]:
        found[1] = ts
    elif ts > found[2]:
        found[2] = ts
    if seq > found[3]:
        found[3] = seq
    found[0] += 1
    found[4 + bin_of(latency)] += 1


def rolled_up(conn: sqlite3.Connection) -> tuple[str, str]:
    """The first ten minutes and the first hour not yet rolled up ('' before any): every bucket before
    them is in ``derived_counts``, whole; none from them on is."""
    found = dict(conn.execute("SELECT span, bucket FROM derived_rollups").fetchall())
    return found.get("t", ""), found.get("h", "")


@dataclass(frozen=True)
class Count:
    """Entries counted, before they are added (``add``): all the work of counting them that needs no
    transaction, so that a helper process can do it (``store.analytics.derived``)."""

    rows: list[tuple[Any, ...]]
    """Their minutes' rows as ``derived_minute_counts`` takes them: (ten, minute, *key, *tally)."""
    activity: dict[tuple[str, str], list[int]]
    """Their ``derived_activity`` sums (``activity_of``)."""
    minute_seqs: dict[str, list[int]]
    """Each minute's first and last seq among them."""


def count_of(entries: Sequence[Entry]) -> Count:
    """Count entries (in seq order)."""
    return counted(tally_minutes(entries), _minute_seqs(entries))


def counted(tallies: Tallies, minute_seqs: dict[str, list[int]]) -> Count:
    """The ``Count`` of entries from their minute tallies and minute seqs."""
    return Count([(key[0][:WIDTH["t"]], *key, *value) for key, value in tallies.items()], activity_of(tallies),
                 minute_seqs)


def add(conn: sqlite3.Connection, count: Count) -> None:
    """Add counted entries to the aggregates, inside the caller's transaction (into their minutes, and
    into their ten minutes and hours where those are rolled up already)."""
    conn.executemany(_ADD_MINUTES, count.rows)
    ten, _ = rolled_up(conn)
    if count.rows and min(row[0] for row in count.rows) < ten:  # else none of them is in a rolled-up hour either
        late = _late(conn, _tallies_of(count.rows))
        conn.executemany(_ADD_COUNTS, [(span, *key, *value) for (span, key), value in late.items()])
    _add_activity(conn, count.activity, +1)
    conn.executemany(_ADD_MINUTE_SEQS, [(bucket, low, high) for bucket, (low, high) in count.minute_seqs.items()])


def _tallies_of(rows: list[tuple[Any, ...]]) -> Tallies:
    """The tallies ``Count.rows`` were made from (``counted``)."""
    key_end = 2 + len(KEY_COLUMNS)
    return {row[1:key_end]: list(row[key_end:]) for row in rows}


def roll_up(conn: sqlite3.Connection) -> bool:
    """Roll up, inside the caller's transaction, the ten minutes the counted records have moved past (those
    before the newest record's) that are not yet, and then the hours before the first of them left;
    an hour of ten minutes at a time, so that a day's backlog is many short transactions. Whether any
    ten minutes were left to roll up."""
    ten, hour = rolled_up(conn)
    [(newest,)] = conn.execute("SELECT MAX(bucket) FROM derived_minutes").fetchall()
    [(first,)] = conn.execute(f"SELECT MIN(ten) FROM {MINUTES} WHERE ten >= ?", (ten,)).fetchall()
    if newest is None or first is None or first >= newest[:WIDTH["t"]]:
        return False
    open_ten = min(newest[:WIDTH["t"]], _next_hour(first))
    conn.execute(_ROLL_UP["t"], (ten, open_ten))
    open_hour = open_ten[:WIDTH["h"]]
    if open_hour > hour:
        conn.execute(_ROLL_UP["h"], (hour, open_hour))
    conn.executemany("INSERT OR REPLACE INTO derived_rollups (span, bucket) VALUES (?, ?)",
                     [("t", open_ten), ("h", max(open_hour, hour))])
    return True


def _next_hour(ten: str) -> str:
    """A bucket past every ten minutes of ``ten``'s hour and before the next hour's: ``HH:6``."""
    return ten[:WIDTH["h"]] + ":6"


def take_out(conn: sqlite3.Connection, entries: Sequence[Entry]) -> None:
    """Take counted entries out of the aggregates (retention dropped their records), inside the caller's
    transaction: out of their minutes, and of their ten minutes and hours where those are rolled up."""
    tallies = tally_minutes(entries)
    _subtract(conn, MINUTES, "ten = ? AND ", [((key[0][:WIDTH["t"]], *key), value) for key, value in tallies.items()])
    late = _late(conn, tallies)
    for span in ("t", "h"):
        _subtract(conn, COUNTS, f"span = '{span}' AND ", [(key, value) for (of, key), value in late.items() if of == span])
    activity = activity_of(tallies)
    _add_activity(conn, activity, -1)
    conn.executemany("DELETE FROM derived_activity WHERE bucket = ? AND connection_id = ? AND calls <= 0 "
                     "AND script_runs <= 0", list(activity))


def _subtract(conn: sqlite3.Connection, table: str, match: str, tallies: list[tuple[tuple[Any, ...], list[Any]]]
              ) -> None:
    """Take ``tallies`` ((*``match``'s values, bucket, *key) → value) out of ``table``'s rows, and drop the
    rows left with nothing counted."""
    conn.executemany(f"UPDATE {table} {_SUBTRACT} WHERE {match}{_KEY_MATCH}",
                     [(value[0], *value[4:], *key) for key, value in tallies])
    conn.executemany(f"DELETE FROM {table} WHERE {match}{_KEY_MATCH} AND count <= 0", [key for key, _ in tallies])


def _late(conn: sqlite3.Connection, tallies: Tallies) -> dict[tuple[str, tuple[Any, ...]], list[Any]]:
    """The part of minute tallies that falls in ten minutes and hours already rolled up, summed per
    (span, (bucket, *key)) of those spans."""
    ten, hour = rolled_up(conn)
    late: dict[tuple[str, tuple[Any, ...]], list[Any]] = {}
    for (minute, *key), value in tallies.items():
        for span, closed in (("t", ten), ("h", hour)):
            bucket = minute[:WIDTH[span]]
            if bucket < closed:
                _merge(late, (span, (bucket, *key)), value)
    return late


def _merge(into: dict[Any, list[Any]], key: Any, value: list[Any]) -> None:
    found = into.get(key)
    if found is None:
        into[key] = list(value)
        return
    found[0] += value[0]
    found[1], found[2], found[3] = min(found[1], value[1]), max(found[2], value[2]), max(found[3], value[3])
    found[4:] = [a + b for a, b in zip(found[4:], value[4:])]


def activity_of(tallies: Tallies) -> dict[tuple[str, str], list[int]]:
    """The tallies' inbound calls, inbound failures, script runs and script failures per (minute, connection)."""
    activity: dict[tuple[str, str], list[int]] = {}
    for (minute, kind, connection_id, _, _, direction, status_code, skipped, outcome, _), value in tallies.items():
        if not (kind == SCRIPT_RUN or (kind == API_CALL and direction == "inbound")):
            continue
        counts = activity.setdefault((minute, connection_id), [0, 0, 0, 0])
        column = 0 if kind == API_CALL else 2
        counts[column] += value[0]
        counts[column + 1] += value[0] if is_failure(kind, status_code, skipped, outcome) else 0
    return activity


def _add_activity(conn: sqlite3.Connection, activity: dict[tuple[str, str], list[int]], sign: int) -> None:
    """Add (``sign`` +1) or take out (-1) ``activity`` (``activity_of``)."""
    conn.executemany(_ADD_ACTIVITY, [(*key, *(sign * n for n in value)) for key, value in activity.items()])


def _minute_seqs(entries: Iterable[Entry]) -> dict[str, list[int]]:
    """Each minute's first and last seq among ``entries``, which are in seq order (as the indexer reads them)."""
    seqs: dict[str, list[int]] = {}
    for entry in entries:
        if entry[1]:
            seqs.setdefault(entry[1][:16], [entry[0], 0])[1] = entry[0]
    return seqs
