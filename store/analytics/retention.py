"""Retention of a cache: the oldest records go, by age and by size, a chunk per transaction.

The cursor is left alone: records dropped for age or size are not fetched again. Each chunk is its own
short transaction, and one call does at most ``max_chunks`` of them, so a writer thread that trims
between batches never holds up ingest for long; whatever is left is trimmed on the next call. Where the
indexer has built derived data (``store.analytics.derived``), only records it has entered go (their
entries say what to take out of its counts), and each chunk leaves the derived data right after, so
counts, search and the filtered log do not show records the cache no longer holds.
"""

import math

from switchroom.store.analytics import derived
from switchroom.store.eventlog import EventLog
from switchroom.store.transactions import write_transaction
from switchroom.store.analytics.kind_totals import count_trim

CHUNK = 10_000


def used_bytes(log: EventLog) -> int:
    """Bytes the database's pages hold, free pages not counted."""
    conn = log.conn
    pages, free, size = (conn.execute(f"PRAGMA {name}").fetchone()[0]
                         for name in ("page_count", "freelist_count", "page_size"))
    return (pages - free) * size


def trim(log: EventLog, older_than: str | None = None, max_bytes: int | None = None, *,
         chunk: int = CHUNK, max_chunks: int = 10) -> int:
    """Drop records with ``ts`` before ``older_than``, then the oldest while the cache holds more than
    ``max_bytes``; how many went. Records are in ``seq`` order and ``ts`` grows with ``seq``, so the
    oldest are always first."""
    dropped = 0
    for _ in range(max_chunks):
        went = _drop_oldest(log, chunk, older_than) if older_than else 0
        if not went and max_bytes is not None and (over := used_bytes(log) - max_bytes) > 0:
            went = _drop_oldest(log, min(chunk, _records_in(log, over)), None)
        if not went:
            break
        dropped += went
    if dropped:
        log.conn.execute("PRAGMA incremental_vacuum")  # gives pages back where the file allows it
    return dropped


def _records_in(log: EventLog, size: int) -> int:
    """About how many records take ``size`` bytes, at this cache's average (at least one)."""
    [(count,)] = log.execute("SELECT COUNT(*) FROM records")
    return max(1, math.ceil(count * size / max(1, used_bytes(log))))


def _drop_oldest(log: EventLog, count: int, before_ts: str | None) -> int:
    """Delete among the ``count`` oldest records those before ``before_ts`` (all of them when None), and
    their derived data."""
    conn, table = log.conn, log.stored_table
    oldest = "SELECT seq FROM records ORDER BY seq LIMIT ?"
    before, params = ("AND ts < ?", (count, before_ts)) if before_ts else ("", (count,))
    if not derived.derived_path(log.path).exists():
        with write_transaction(conn):
            went = conn.execute(f"DELETE FROM {table} WHERE seq IN ({oldest}) {before}", params).rowcount
            if went:
                count_trim(log)
        return went
    entered = derived.entered_through(log.path)  # read before the transaction: it only grows
    with write_transaction(conn):
        dropped = conn.execute(f"SELECT seq, body FROM records WHERE seq IN ({oldest}) {before} AND seq <= ?",
                               (*params, entered)).fetchall()
        conn.executemany(f"DELETE FROM {table} WHERE seq = ?", [(seq,) for seq, _ in dropped])
        if dropped:
            count_trim(log)
        remaining = conn.execute("SELECT seq, ts FROM records ORDER BY seq LIMIT 1").fetchone()
    derived.forget_dropped(log.path, dropped, remaining)
    return len(dropped)
