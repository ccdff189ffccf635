"""Sums of the indexer's per-minute and per-hour counts over a window that starts at any ``ts``.

A window ``[since, …)`` is read in parts: the records of its first minute from ``since`` on when
``since`` falls inside a minute (from ``derived_entries``, over that minute's seq range), then from
``derived_counts`` the minutes up to the next whole ten minutes, the ten-minutes up to the next whole
hour, and the hours from there: at most 9 + 5 rows, plus one an hour, per combination counted. Every record counted by the
indexer is counted exactly once, so the sums equal a count over the records themselves
(``seq <= through_seq``). Records past the indexer's cursor are not in them yet; ``through_seq`` says
how far they go.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
import sqlite3

from store.derived import derived_cursor, present, read_snapshot
from store.derived_counts import COUNTED_KINDS, KEY_COLUMNS, tally
from store.latency import COLUMNS as HIST


@dataclass
class Tally:
    """Records counted together: how many, the first and last seen, and their latency histogram."""

    count: int
    first_ts: str
    last_ts: str
    last_seq: int
    histogram: list[int] = field(default_factory=list)
    """Counts per ``store.latency`` bin; empty when latency was not asked for."""

    def add(self, other: "Tally") -> None:
        self.count += other.count
        self.first_ts, self.last_ts = min(self.first_ts, other.first_ts), max(self.last_ts, other.last_ts)
        self.last_seq = max(self.last_seq, other.last_seq)
        if other.histogram:
            self.histogram = [a + b for a, b in zip(self.histogram, other.histogram)] if self.histogram \
                else list(other.histogram)


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
    groups: dict[tuple[Any, ...], Tally] = {}
    if since_ts is None:
        parts: list[tuple[str, str, str | None]] = [("h", "", None)]
    else:
        minute = since_ts[:16]
        whole = set(since_ts[16:]) <= set(":0.Z")
        first_minute = minute if whole else _next(minute, minutes=1)
        first_ten = first_minute if first_minute.endswith("0") else _next(first_minute[:15] + "0", minutes=10)
        first_hour = first_ten if first_ten.endswith(":00") else _next(first_ten[:13] + ":00", hours=1)
        parts = [("m", first_minute, first_ten), ("t", first_ten[:15], first_hour[:15]), ("h", first_hour[:13], None)]
        if not whole:
            _merge(groups, _partial_minute(conn, since_ts, group, where))
    for span, low, high in parts:
        _merge(groups, _counted(conn, span, low, high, group, where, latency))
    return WindowSums(groups, through)


def _next(bucket: str, **step: int) -> str:
    """The minute ``YYYY-MM-DDTHH:MM`` that follows ``bucket`` by ``step``."""
    return (datetime.fromisoformat(bucket) + timedelta(**step)).strftime("%Y-%m-%dT%H:%M")


def _counted(conn: sqlite3.Connection, span: str, low: str, high: str | None, group: Sequence[str],
             where: dict[str, Any], latency: bool) -> Iterable[tuple[tuple[Any, ...], Tally]]:
    width = len(group)
    for row in conn.execute(*counts_query(span, low, high, group, where, latency)):
        if row[width] is None:  # no rows at all: the aggregate of nothing
            continue
        histogram = list(row[width + 4:]) if latency else []
        yield tuple(row[:width]), Tally(row[width], row[width + 1], row[width + 2], row[width + 3], histogram)


def counts_query(span: str, low: str, high: str | None, group: Sequence[str], where: dict[str, Any],
                 latency: bool = True) -> tuple[str, list[Any]]:
    """The SQL (and parameters) summing one span's rows with buckets in ``[low, high)``: the query
    whose plan the benchmark shows."""
    clauses = ["span = ?", "bucket >= ?", *(["bucket < ?"] if high else []), *(f"{c} = ?" for c in where)]
    params = [span, low, *([high] if high else []), *where.values()]
    sums = ", ".join(f"SUM({h})" for h in HIST) if latency else "0"
    grouped = ", ".join(group)
    return (f"SELECT {grouped + ',' if group else ''} SUM(count), MIN(first_ts), MAX(last_ts), MAX(last_seq), {sums} "
            f"FROM derived_counts {_index_for(where)} WHERE {' AND '.join(clauses)} "
            f"{'GROUP BY ' + grouped if group else ''}", params)


def _index_for(where: dict[str, Any]) -> str:
    """The index a window's rows are found by: the feature's or the connection's rows of each span
    when one is named, else the span's rows in bucket order (the primary key). Named, because without
    statistics SQLite takes the connection's rows for a feature of that connection, twice as many."""
    if "feature_id" in where:
        return "INDEXED BY derived_counts_feature"
    if "connection_id" in where:
        return "INDEXED BY derived_counts_connection"
    return ""


def _partial_minute(conn: sqlite3.Connection, since_ts: str, group: Sequence[str], where: dict[str, Any]
                    ) -> Iterable[tuple[tuple[Any, ...], Tally]]:
    """The counted records of ``since_ts``'s own minute from ``since_ts`` on, read from the entries over
    that minute's seqs (``NOT INDEXED``: by seq, never through an index of every entry of a kind)."""
    minute = since_ts[:16]
    span = conn.execute("SELECT first_seq, last_seq FROM derived_minutes WHERE bucket = ?", (minute,)).fetchone()
    if span is None:
        return []
    matches = "".join(f" AND IFNULL({column}, '') = ?" for column in where)
    entries = conn.execute(
        f"SELECT * FROM derived_entries NOT INDEXED WHERE seq BETWEEN ? AND ? AND ts >= ? AND substr(ts, 1, 16) = ? "
        f"AND kind IN ({', '.join('?' for _ in COUNTED_KINDS)}){matches}",
        (*span, since_ts, minute, *COUNTED_KINDS, *where.values()))
    positions = [KEY_COLUMNS.index(c) for c in group]
    found: dict[tuple[Any, ...], Tally] = {}
    for key, value in tally(entries, lambda ts: [("", "")]).items():
        _merge(found, [(tuple(key[2 + i] for i in positions), Tally(*value[:4], list(value[4:])))])
    return found.items()


def _merge(into: dict[tuple[Any, ...], Tally], items: Iterable[tuple[tuple[Any, ...], Tally]]) -> None:
    for key, value in items:
        if key in into:
            into[key].add(value)
        else:
            into[key] = value
