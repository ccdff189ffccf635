"""Windows over filtered records, for the virtual log view: how many match, and the rows at a position.

Records the indexer has entered are found through ``derived_entries`` and its indexes (free text through
its FTS index; a filter of kinds and free text alone, through the FTS index only); those past its entries'
cursor, through ``records`` itself (free text as ``LIKE``). The indexer's counts answer a count instead
once the entries have caught up with them (they are built first, the entries behind).
Both parts are split at the ``through_seq`` of the count, so a count and the windows read against it
agree however far the indexer has gone meanwhile. A window nearer the newest end is read backwards
from there, and the skipping walks an index only, never the records' bodies: reading a window at
either end of a million matches touches a window's worth of rows; in the middle, a window is read
from an ``Anchor`` (a match of the window before) when there is one.
"""

from dataclasses import dataclass
from typing import Any
import sqlite3


from switchroom.store.analytics import derived
from switchroom.store.transactions import read_snapshot
from switchroom.store.analytics.aggregates import window_sums
from switchroom.store.analytics.derived_counts import COUNTED_KINDS
from switchroom.store.eventlog import EventLog, record_of
from switchroom.store.filters import RecordFilter


@dataclass(frozen=True)
class Matches:
    """How many records a filter matches: ``indexed`` up to ``through_seq``, ``tail`` past it."""

    indexed: int
    tail: int
    through_seq: int
    limit: int | None = None

    @property
    def total(self) -> int:
        found = self.indexed + self.tail
        return found if self.limit is None else min(found, self.limit)

    @property
    def skipped(self) -> int:
        """Older matches left out by the filter's ``limit`` (newest N)."""
        return self.indexed + self.tail - self.total


def count_matches(log: EventLog, record_filter: RecordFilter) -> Matches:
    with read_snapshot(derived.attach(log)) as conn:
        return _count_matches(conn, record_filter)


def _count_matches(conn: sqlite3.Connection, record_filter: RecordFilter) -> Matches:
    through = derived.derived_cursor(conn, derived.ENTRIES_CURSOR) if derived.present(conn) else 0
    indexed = 0
    if through:
        counted = _counted(conn, record_filter) if through == derived.derived_cursor(conn) else None
        if counted is not None:
            indexed = counted
        else:
            where, params = _indexed_where(conn, record_filter, through)
            [(indexed,)] = conn.execute(f"SELECT COUNT(*) FROM {_entries(record_filter)} WHERE {where}",
                                        params).fetchall()
    where, params = record_filter.where()
    [(tail,)] = conn.execute(f"SELECT COUNT(*) FROM records WHERE seq > ? AND {where}", [through, *params]).fetchall()
    return Matches(indexed, tail, through, record_filter.limit)


def _counted(conn: sqlite3.Connection, record_filter: RecordFilter) -> int | None:
    """The indexed matches from the indexer's counts (in the caller's snapshot, with the entries caught up
    with them: up to the same seq), for a filter they can answer: api_calls and
    script runs by connection, feature, op, direction, status, outcome and time. A few hundred rows
    instead of every matching entry; None for filters by user or text, or of other kinds."""
    if record_filter.user_id is not None or record_filter.text or not set(record_filter.kinds) <= set(COUNTED_KINDS):
        return None
    where = {column: value for column in ("connection_id", "feature_id", "op_id", "direction")
             if (value := getattr(record_filter, column)) is not None}
    sums = window_sums(conn, record_filter.since_ts, ("kind", "status_code", "skipped", "outcome"), where, latency=False)
    total = 0
    for (kind, status, skipped, outcome), tally in sums.groups.items():
        answers = record_filter.statuses or record_filter.outcomes
        if kind in record_filter.kinds and (not answers or outcome in record_filter.outcomes or any(
                match.matches(status or None, bool(skipped)) for match in record_filter.statuses)):
            total += tally.count
    return total


@dataclass(frozen=True)
class Anchor:
    """A match already read: its position (as ``window`` counts them) and its seq. A window near it is
    read from it, so that scrolling in the middle of a million matches costs what it does at the ends."""

    offset: int
    seq: int


def window(log: EventLog, record_filter: RecordFilter, matches: Matches, offset: int, limit: int,
           anchor: Anchor | None = None) -> list[dict[str, Any]]:
    """The records at positions ``offset`` … ``offset + limit - 1`` (0 = the oldest match), oldest first.
    ``anchor``: a record of an earlier window read against the same ``matches``."""
    with read_snapshot(derived.attach(log)) as conn:
        return _window(conn, record_filter, matches, offset, limit, anchor)


def _window(conn: sqlite3.Connection, record_filter: RecordFilter, matches: Matches, offset: int, limit: int,
            anchor: Anchor | None) -> list[dict[str, Any]]:
    start = max(0, min(offset, matches.total)) + matches.skipped
    end = min(start + max(0, limit), matches.indexed + matches.tail)
    seqs: list[int] = []
    if start < matches.indexed:
        if anchor is not None and anchor.seq <= matches.through_seq:
            anchor = Anchor(anchor.offset + matches.skipped, anchor.seq)
        else:
            anchor = None
        seqs = _indexed_seqs(conn, record_filter, matches, start, min(end, matches.indexed), anchor)
    bodies = [body for (body,) in conn.execute(
        f"SELECT body FROM records WHERE seq IN ({', '.join('?' for _ in seqs)}) ORDER BY seq", seqs)] if seqs else []
    if end > matches.indexed:
        where, params = record_filter.where()
        first = max(start, matches.indexed) - matches.indexed
        bodies += [body for (body,) in conn.execute(
            f"SELECT body FROM records WHERE seq > ? AND {where} ORDER BY seq LIMIT ? OFFSET ?",
            [matches.through_seq, *params, end - matches.indexed - first, first])]
    return [record_of(body) for body in bodies]


def _indexed_seqs(conn: sqlite3.Connection, record_filter: RecordFilter, matches: Matches, start: int,
                  end: int, anchor: Anchor | None) -> list[int]:
    """The seqs of the indexed matches at positions ``start`` … ``end - 1``, counted from the nearest
    of the oldest match, the newest and the anchor (the index is walked over as many entries)."""
    where, params = _indexed_where(conn, record_filter, matches.through_seq)
    entries = _entries(record_filter)
    from_end = matches.indexed - end
    if anchor is not None and _in_seq_order(record_filter) and abs(start - anchor.offset) < min(start, from_end):
        if start >= anchor.offset:
            sql = f"SELECT rowid FROM {entries} WHERE {where} AND rowid >= ? ORDER BY rowid LIMIT 1 OFFSET ?"
            found = conn.execute(sql, [*params, anchor.seq, start - anchor.offset]).fetchone()
        else:
            sql = f"SELECT rowid FROM {entries} WHERE {where} AND rowid < ? ORDER BY rowid DESC LIMIT 1 OFFSET ?"
            found = conn.execute(sql, [*params, anchor.seq, anchor.offset - start - 1]).fetchone()
        if found is not None:
            rows = conn.execute(f"SELECT rowid FROM {entries} WHERE {where} AND rowid >= ? ORDER BY rowid LIMIT ?",
                                [*params, found[0], end - start]).fetchall()
            return [seq for (seq,) in rows]
    if start >= from_end:  # nearer the newest end: read backwards from there
        rows = conn.execute(f"SELECT rowid FROM {entries} WHERE {where} ORDER BY rowid DESC LIMIT ? OFFSET ?",
                            [*params, end - start, from_end]).fetchall()
        rows.reverse()
    else:
        rows = conn.execute(f"SELECT rowid FROM {entries} WHERE {where} ORDER BY rowid LIMIT ? OFFSET ?",
                            [*params, end - start, start]).fetchall()
    return [seq for (seq,) in rows]


def _indexed_where(conn: sqlite3.Connection, record_filter: RecordFilter, through: int) -> tuple[str, list[object]]:
    """The filter over ``derived_entries`` up to ``through``; a ``since`` also bounds the seqs, from the
    indexer's per-minute seq ranges, so that the older entries are never looked at. Over ``derived_text``
    for kinds and free text alone, from the oldest entry on: the text of records retention dropped while
    the indexer was stopped may linger there (``store.analytics.derived``)."""
    if _text_alone(record_filter):
        [(oldest,)] = conn.execute("SELECT MIN(seq) FROM derived_entries").fetchall()
        return "derived_text MATCH ? AND rowid BETWEEN ? AND ?", [record_filter.text_query(), oldest or 0, through]
    where, params = record_filter.where(indexed=True)
    if not record_filter.since_ts:
        return f"+seq <= ? AND {where}", [through, *params]  # (+: not a reason to walk the rowids)
    [(low,)] = conn.execute("SELECT MIN(first_seq) FROM derived_minutes WHERE bucket >= ?",
                            (record_filter.since_ts[:16],)).fetchall()
    return f"seq >= ? AND +seq <= ? AND {where}", [through + 1 if low is None else low, through, *params]


def _in_seq_order(record_filter: RecordFilter) -> bool:
    """Whether the index ``_entries`` names holds the filter's matches in seq order (one kind, found by
    equality), so that a window can be read on from an anchor; the status index (a range of codes)
    and free text joined with other filters would sort every match first."""
    if _text_alone(record_filter):
        return True
    return len(record_filter.kinds) == 1 and not record_filter.text and "status" not in _entries(record_filter)


def _text_alone(record_filter: RecordFilter) -> bool:
    """Whether the filter is free text within kinds and nothing else: the FTS index answers it alone, its
    matches in seq order, the kinds being its columns."""
    return bool(record_filter.text) and not (
        record_filter.since_ts or record_filter.statuses or record_filter.outcomes or any(
            getattr(record_filter, column) is not None
            for column in ("connection_id", "feature_id", "user_id", "op_id", "direction")))


def _entries(record_filter: RecordFilter) -> str:
    """``derived_entries`` with the index that finds a filter's matches among the fewest entries: the
    user's, the feature's, the connection's, the status's, or the kind's. Named rather than left to
    the planner, which without statistics (gathering them takes seconds on a large cache) takes the
    kind's for most filters and walks every entry of that kind. Free text alone is left to the planner:
    it looks the FTS matches up by seq; free text alone is the FTS index's (``_text_alone``)."""
    if _text_alone(record_filter):
        return "derived_text"
    if record_filter.user_id is not None:
        return "derived_entries INDEXED BY derived_entries_user"
    if record_filter.feature_id is not None:
        return "derived_entries INDEXED BY derived_entries_feature"
    if record_filter.connection_id is not None:
        return "derived_entries INDEXED BY derived_entries_connection"
    if record_filter.statuses and not record_filter.outcomes and not any(s.skipped for s in record_filter.statuses):
        return "derived_entries INDEXED BY derived_entries_status"
    if record_filter.text:
        return "derived_entries"
    return "derived_entries INDEXED BY derived_entries_kind"
