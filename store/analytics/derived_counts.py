"""The indexer's counts: records tallied per minute, ten minutes and hour, added as records are
indexed and taken out as retention drops them (``store.analytics.derived`` keeps the tables, ``store.analytics.aggregates``
reads them)."""

from collections.abc import Callable, Iterable, Sequence
from typing import Any
import sqlite3

from switchroom.protocol.kinds import API_CALL, SCRIPT_RUN
from switchroom.store.analytics.latency import BINS, COLUMNS as HIST, bin_of
from switchroom.store.status_codes import is_failure

COUNTED_KINDS = (API_CALL, SCRIPT_RUN)
KEY_COLUMNS = ("kind", "connection_id", "feature_id", "op_id", "direction", "status_code", "skipped", "outcome", "op")
"""The columns a ``derived_counts`` row is counted by, besides its span and bucket. Missing values are
stored as '' (text) and 0 (status: no answer; skipped: no), so that they can be part of the key."""
Entry = tuple[Any, ...]
"""A row of ``derived_entries``: seq, ts, kind, direction, connection_id, feature_id, user_id, op_id,
status_code, skipped, latency_ms, outcome, op (``store.derived.ENTRY_COLUMNS``)."""

_COUNT_COLUMNS = ("span", "bucket", *KEY_COLUMNS, "count", "first_ts", "last_ts", "last_seq", *HIST)
_ADD_COUNTS = (
    f"INSERT INTO derived_counts ({', '.join(_COUNT_COLUMNS)}) VALUES ({', '.join('?' for _ in _COUNT_COLUMNS)}) "
    "ON CONFLICT DO UPDATE SET count = count + excluded.count, first_ts = MIN(first_ts, excluded.first_ts), "
    "last_ts = MAX(last_ts, excluded.last_ts), last_seq = MAX(last_seq, excluded.last_seq), "
    + ", ".join(f"{h} = {h} + excluded.{h}" for h in HIST)
)
_KEY_MATCH = " AND ".join(f"{c} = ?" for c in ("span", "bucket", *KEY_COLUMNS))
_SUBTRACT_COUNTS = (
    "UPDATE derived_counts SET count = count - ?, " + ", ".join(f"{h} = {h} - ?" for h in HIST)
    + f" WHERE {_KEY_MATCH}"
)
_ADD_ACTIVITY = (
    "INSERT INTO derived_activity (bucket, connection_id, calls, errors, script_runs, script_failures) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET calls = calls + excluded.calls, "
    "errors = errors + excluded.errors, script_runs = script_runs + excluded.script_runs, "
    "script_failures = script_failures + excluded.script_failures"
)


def count_key(entry: Entry) -> tuple[Any, ...]:
    """An entry's ``KEY_COLUMNS`` values as ``derived_counts`` stores them (no NULLs)."""
    _, _, kind, direction, connection_id, feature_id, _, op_id, status_code, skipped, _, outcome, op = entry
    return (kind, connection_id or "", feature_id or "", op_id or "", direction or "", status_code or 0,
            skipped, outcome or "", op or "")


def tally(entries: Iterable[Entry], buckets: Callable[[str], Iterable[tuple[str, str]]]
          ) -> dict[tuple[Any, ...], list[Any]]:
    """Entries counted by (span, bucket, *key): [count, first ts, last ts, last seq, *histogram]."""
    tallies: dict[tuple[Any, ...], list[Any]] = {}
    empty = [0] * BINS
    for entry in entries:
        if entry[2] not in COUNTED_KINDS:
            continue
        seq, ts = entry[0], entry[1]
        key = count_key(entry)
        slot = 4 + bin_of(entry[10])
        for bucket in buckets(ts):
            found = tallies.get((*bucket, *key))
            if found is None:
                found = tallies[(*bucket, *key)] = [0, ts, ts, seq, *empty]
            found[0] += 1
            if ts < found[1]:
                found[1] = ts
            if ts > found[2]:
                found[2] = ts
            if seq > found[3]:
                found[3] = seq
            found[slot] += 1
    return tallies


def spans_of(ts: str) -> tuple[tuple[str, str], ...]:
    """The buckets a record is counted in: its minute, its ten minutes and its hour (``ts`` prefixes)."""
    return ("m", ts[:16]), ("t", ts[:15]), ("h", ts[:13])


def apply(conn: sqlite3.Connection, entries: Sequence[Entry], sign: int) -> None:
    """Add entries to the aggregates (``sign`` +1), or take them out (-1), inside the caller's transaction.
    An entry without a ``ts`` (its record had none, or a bad one) belongs to no minute: it is left out."""
    entries = [entry for entry in entries if entry[1]]
    tallies = tally(entries, spans_of)
    if sign > 0:
        conn.executemany(_ADD_COUNTS, [(*key, *value) for key, value in tallies.items()])
    else:
        conn.executemany(_SUBTRACT_COUNTS, [(value[0], *value[4:], *key) for key, value in tallies.items()])
        conn.executemany(f"DELETE FROM derived_counts WHERE {_KEY_MATCH} AND count <= 0", list(tallies))
    activity = _activity(entries)
    conn.executemany(_ADD_ACTIVITY, [(*key, *(sign * n for n in value)) for key, value in activity.items()])
    if sign < 0:
        conn.executemany("DELETE FROM derived_activity WHERE bucket = ? AND connection_id = ? AND calls <= 0 "
                         "AND script_runs <= 0", list(activity))
    seqs = _minute_seqs(entries)
    if sign > 0:
        conn.executemany(
            "INSERT INTO derived_minutes (bucket, first_seq, last_seq) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET "
            "first_seq = MIN(first_seq, excluded.first_seq), last_seq = MAX(last_seq, excluded.last_seq)",
            [(bucket, low, high) for bucket, (low, high) in seqs.items()])


def _activity(entries: Iterable[Entry]) -> dict[tuple[str, str], list[int]]:
    """(minute, connection) → [inbound calls, inbound failures, script runs, script failures]."""
    activity: dict[tuple[str, str], list[int]] = {}
    for entry in entries:
        kind, direction = entry[2], entry[3]
        if not (kind == SCRIPT_RUN or (kind == API_CALL and direction == "inbound")):
            continue
        counts = activity.setdefault((entry[1][:16], entry[4] or ""), [0, 0, 0, 0])
        column = 0 if kind == API_CALL else 2
        counts[column] += 1
        counts[column + 1] += is_failure(kind, entry[8], entry[9], entry[11])
    return activity


def _minute_seqs(entries: Iterable[Entry]) -> dict[str, list[int]]:
    """Each minute's first and last seq among ``entries``, which are in seq order (as the indexer reads them)."""
    seqs: dict[str, list[int]] = {}
    for entry in entries:
        seqs.setdefault(entry[1][:16], [entry[0], 0])[1] = entry[0]
    return seqs
