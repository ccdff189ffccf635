"""How many records of a kind a cache holds, remembered between runs.

Counting the 800,000 api_calls of a big cache takes SQLite a tenth of a second or more, and a list
needs the count before it can show a row. So once counted, a kind's total is kept in the cache's
``meta`` table as of a seq (``count:<kind>`` = ``[trims, through_seq, count]``); later runs count only
the records past that seq.

Retention is what could make a remembered total wrong: each of its deletions adds one to ``trims``
(``count_trim``, in the deletion's transaction), and a total remembered under another ``trims`` is not
used. A total read before a deletion and written after it carries the old ``trims``, so it is never
used either.
"""

from typing import NamedTuple
import json

from switchroom.store.transactions import read_snapshot
from switchroom.store.eventlog import EventLog

TRIMS = "trims"
REMEMBER_FROM = 50_000
"""Totals worth remembering: smaller ones are counted again in a few milliseconds."""


class KindTotal(NamedTuple):
    count: int
    """Records of the kind in the cache, through ``through_seq``."""
    through_seq: int
    """The highest seq counted (0 when none)."""
    trims: str | None
    """Retention's deletions so far, as the total was read (``remember_total`` writes it beside it)."""
    counted: int
    """How many of them were counted now (the others were remembered): worth remembering when many."""


def kind_total(log: EventLog, kind: str) -> KindTotal:
    """The records of ``kind``: a remembered total plus the records past it, else all of them counted."""
    with read_snapshot(log.conn) as conn:
        rows = dict(conn.execute("SELECT key, value FROM meta WHERE key IN (?, ?)", (TRIMS, _key(kind))))
        trims = rows.get(TRIMS)
        memo = json.loads(rows[_key(kind)]) if _key(kind) in rows else None
        base, after = (memo[2], memo[1]) if memo and memo[0] == trims else (0, 0)
        count, highest = conn.execute(
            "SELECT COUNT(*), MAX(seq) FROM records WHERE kind = ? AND seq > ?", (kind, after)).fetchone()
    return KindTotal(base + count, highest or after, trims, count)


def remember_total(log: EventLog, kind: str, total: KindTotal) -> None:
    """Keep ``total`` for later runs, unless retention has deleted records since it was read."""
    log.conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) SELECT ?, ? "
        "WHERE (SELECT value FROM meta WHERE key = ?) IS ?",
        (_key(kind), json.dumps([total.trims, total.through_seq, total.count]), TRIMS, total.trims))


def count_trim(log: EventLog) -> None:
    """Note a deletion of records, in its transaction: every remembered total before it is void."""
    log.conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, '1') "
        "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1", (TRIMS,))


def _key(kind: str) -> str:
    return f"count:{kind}"
