"""Sums of the indexer's per-minute, ten-minute and hour counts over a window that starts at any ``ts``.

A window ``[since, …)`` is read in parts: the records of its first minute from ``since`` on when
``since`` falls inside a minute (from ``derived_entries`` over that minute's seq range, or from the
records themselves while the indexer has counted them but not yet entered them), then the minutes up to
the next whole ten minutes, the ten minutes up to the next whole hour, and the hours from there, of
which the newest ten minutes and hour, not yet rolled up, are read as their minutes
(``window_spans``): at most 9 + 5 rows, plus one an hour, plus the minutes since the last roll-up, per
combination counted, all summed by one statement (``window_query``). Every record counted by the
indexer is counted exactly once, so the sums equal a count over the records themselves (``seq <=
through_seq``). Records past the indexer's cursor are not in them yet; ``through_seq`` says how far they go.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
import sqlite3

import orjson

from switchroom.store.analytics.derived import ENTRIES_CURSOR, derived_cursor, entries_of, present
from switchroom.store.transactions import read_snapshot
from switchroom.store.analytics.derived_counts import (
    COUNTED_KINDS, COUNTS, KEY_COLUMNS, MINUTES, WIDTH, rolled_up, tally_minutes)
from switchroom.store.analytics.latency import BIN_SQL, BINS, COLUMNS as HIST


@dataclass
class Tally:
    """Records counted together: how many, the first and last seen, and their latency histogram."""

    count: int
    first_ts: str
    last_ts: str
    last_seq: int
    histogram: list[int] = field(default_factory=list)
    """Counts per ``store.analytics.latency`` bin; empty when latency was not asked for."""


@dataclass(frozen=True)
class WindowSums:
    groups: dict[tuple[Any, ...], Tally]
    """Group values (in the order of ``group``) → their tally."""
    through_seq: int
    """The indexer's cursor when read: the sums cover records up to this seq."""


def window_sums(conn: sqlite3.Connection, since_ts: str | None, group: Sequence[str],
                where: dict[str, Any] | None = None, latency: bool = True) -> WindowSums:
    """Counted api_calls and script runs at or after ``since_ts`` (all when None), grouped by ``group``
    (columns of ``KEY_COLUMNS``) and restricted to ``where`` (column → value, among ``KEY_COLUMNS``;
    values as stored: '' for none). Without ``latency`` the histograms are left empty (cheaper)."""
    if not present(conn):
        return WindowSums({}, 0)
    with read_snapshot(conn):
        return _window_sums(conn, since_ts, group, where or {}, latency)


def _window_sums(conn: sqlite3.Connection, since_ts: str | None, group: Sequence[str], where: dict[str, Any],
                 latency: bool) -> WindowSums:
    through = derived_cursor(conn)
    width = len(group)
    groups: dict[tuple[Any, ...], Tally] = {}
    for row in conn.execute(*window_query(conn, since_ts, group, where, latency)):
        if row[width] is None:  # no rows at all: the aggregate of nothing
            continue
        histogram = list(row[width + 4:]) if latency else []
        groups[tuple(row[:width])] = Tally(row[width], row[width + 1], row[width + 2], row[width + 3], histogram)
    return WindowSums(groups, through)


def window_query(conn: sqlite3.Connection, since_ts: str | None, group: Sequence[str], where: dict[str, Any],
                 latency: bool = True) -> tuple[str, list[Any]]:
    """The one statement that sums a window's parts (its first minute's records, then its rows of each
    span: ``window_spans``), grouped: SQLite adds them up, so Python sees one row a group. (Added up in
    Python, row by row, they took a summary's thread most of its time, and the first screen waits for it.)"""
    parts = [counts_query(span, low, high, group, where, latency)
             for span, low, high in window_spans(since_ts, *rolled_up(conn))]
    if since_ts is not None and not set(since_ts[16:]) <= set(":0.Z"):
        partial = _partial_minute(conn, since_ts, group, where, latency)
        parts += [partial] if partial is not None else []
    grouped = ", ".join(group)
    sums = "".join(f", SUM({h})" for h in HIST) if latency else ""
    sql = (f"SELECT {grouped + ',' if group else ''} SUM(count), MIN(first_ts), MAX(last_ts), MAX(last_seq){sums} "
           f"FROM ({' UNION ALL '.join(sql for sql, _ in parts)}) {'GROUP BY ' + grouped if group else ''}")
    return sql, [value for _, params in parts for value in params]


def window_spans(since_ts: str | None, ten: str, hour: str) -> list[tuple[str, str, str | None]]:
    """The rows a window from ``since_ts`` on is summed from, as (span, lowest bucket, bucket past the
    last or None), each bucket read once: the minutes up to its first whole ten minutes, the ten minutes up
    to its first whole hour, its whole hours; of these, only what is rolled up (before ``ten`` and
    ``hour``, ``derived_counts.rolled_up``) in ten minutes and hours, the rest in minutes. The first,
    partial minute is not among them (``_partial_minute``)."""
    if since_ts is None:
        return [("h", "", hour), ("t", hour, ten), ("m", ten, None)]
    minute = since_ts[:16]
    first_minute = minute if set(since_ts[16:]) <= set(":0.Z") else _next(minute, minutes=1)
    first_ten = first_minute if first_minute.endswith("0") else _next(first_minute[:15] + "0", minutes=10)
    first_hour = first_ten if first_ten.endswith(":00") else _next(first_ten[:13] + ":00", hours=1)
    tens, hours = first_ten[:WIDTH["t"]], first_hour[:WIDTH["h"]]
    if ten <= tens:  # nothing of the window rolled up yet
        return [("m", first_minute, None)]
    spans = [("m", first_minute, first_ten), ("m", ten, None)]
    if hour > hours:
        return [*spans, ("t", tens, first_hour[:WIDTH["t"]]), ("h", hours, hour), ("t", hour, ten)]
    return [*spans, ("t", tens, ten)]


def _next(bucket: str, **step: int) -> str:
    """The minute ``YYYY-MM-DDTHH:MM`` that follows ``bucket`` by ``step``."""
    return (datetime.fromisoformat(bucket) + timedelta(**step)).strftime("%Y-%m-%dT%H:%M")


def counts_query(span: str, low: str, high: str | None, group: Sequence[str], where: dict[str, Any],
                 latency: bool = True) -> tuple[str, list[Any]]:
    """The SQL (and parameters) of one span's rows with buckets in ``[low, high)``: the part of a
    window's query whose plan the benchmark shows."""
    clauses = [*(["span = ?"] if span != "m" else ["ten >= ?", *(["ten <= ?"] if high is not None else [])]),
               "bucket >= ?", *(["bucket < ?"] if high is not None else []), *(f"{c} = ?" for c in where)]
    tens = [low[:WIDTH["t"]], *([high[:WIDTH["t"]]] if high is not None else [])]  # a minute row's key begins so
    params = [*([span] if span != "m" else tens), low, *([high] if high is not None else []), *where.values()]
    columns = [*group, "count", "first_ts", "last_ts", "last_seq", *(HIST if latency else ())]
    table = MINUTES if span == "m" else f"{COUNTS} {_index_for(where)}"
    return f"SELECT {', '.join(columns)} FROM {table} WHERE {' AND '.join(clauses)}", params


def _index_for(where: dict[str, Any]) -> str:
    """The index a window's rows are found by: the feature's or the connection's rows of each span
    when one is named, else the span's rows in bucket order (the primary key). Named, because without
    statistics SQLite takes the connection's rows for a feature of that connection, twice as many."""
    if "feature_id" in where:
        return "INDEXED BY derived_counts_feature"
    if "connection_id" in where:
        return "INDEXED BY derived_counts_connection"
    return ""


_KEY_SQL = {"kind": "kind", "status_code": "IFNULL(status_code, 0)", "skipped": "skipped",
            **{column: f"IFNULL({column}, '')" for column in KEY_COLUMNS if column not in ("kind", "status_code", "skipped")}}
"""Each of ``KEY_COLUMNS`` as ``derived_counts`` stores it (``derived_counts.tally_minutes``), from an entry."""


def _partial_minute(conn: sqlite3.Connection, since_ts: str, group: Sequence[str], where: dict[str, Any],
                    latency: bool) -> tuple[str, list[Any]] | None:
    """The SQL of the counted records of ``since_ts``'s own minute from ``since_ts`` on, one row each,
    shaped as ``counts_query``'s rows; read from the entries over that minute's seqs (``NOT INDEXED``:
    by seq, never through an index of every entry of a kind). None when the minute has no records."""
    minute = since_ts[:16]
    span = conn.execute("SELECT first_seq, last_seq FROM derived_minutes WHERE bucket = ?", (minute,)).fetchone()
    if span is None:
        return None
    if derived_cursor(conn, ENTRIES_CURSOR) < span[1]:
        return _partial_minute_of_records(conn, span, since_ts, group, where, latency)
    matches = "".join(f" AND IFNULL({column}, '') = ?" for column in where)
    keys = "".join(f"{_KEY_SQL[column]}, " for column in group)
    bins = "".join(f", bin = {n}" for n in range(BINS)) if latency else ""
    # LIMIT keeps the inner query whole, so that each entry's bin is found once, not once a column
    return (f"SELECT {keys}1, ts, ts, seq{bins} FROM (SELECT *, {BIN_SQL} AS bin FROM derived_entries NOT INDEXED "
            f"WHERE seq BETWEEN ? AND ? AND ts >= ? AND substr(ts, 1, 16) = ? "
            f"AND kind IN ({', '.join('?' for _ in COUNTED_KINDS)}){matches} LIMIT -1)",
            [*span, since_ts, minute, *COUNTED_KINDS, *where.values()])


def _partial_minute_of_records(conn: sqlite3.Connection, span: tuple[int, int], since_ts: str, group: Sequence[str],
                               where: dict[str, Any], latency: bool) -> tuple[str, list[Any]]:
    """``_partial_minute`` for a minute the indexer has counted but not yet entered: its records (a
    minute's worth) are read from the cache and tallied here, and handed to SQL as one JSON array of
    rows shaped as ``counts_query``'s."""
    minute = since_ts[:16]
    entries, _ = entries_of(conn.execute("SELECT seq, kind, body FROM records WHERE seq BETWEEN ? AND ?", span)
                            .fetchall(), whole=False)
    wanted = [entry for entry in entries if entry[1][:16] == minute and entry[1] >= since_ts]
    rows = []
    for (_, *key), (count, first_ts, last_ts, last_seq, *histogram) in tally_minutes(wanted).items():
        values = dict(zip(KEY_COLUMNS, key, strict=True))
        if all(values[column] == value for column, value in where.items()):
            rows.append([*(values[column] for column in group), count, first_ts, last_ts, last_seq,
                         *(histogram if latency else ())])
    width = len(group) + 4 + (BINS if latency else 0)
    columns = ", ".join(f"json_extract(value, '$[{n}]')" for n in range(width))
    return f"SELECT {columns} FROM json_each(?)", [orjson.dumps(rows).decode()]
