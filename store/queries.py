"""Read queries over an event log that the dashboard (and the hub's ops API) need."""

from dataclasses import dataclass
import math
from typing import Any

import orjson

from store.eventlog import EventLog

# A call "failed" when it got no answer or an error status; skipped calls are not failures.
FAILED = "((status_code IS NULL OR status_code >= 400) AND skipped IS NOT 1)"


@dataclass(frozen=True)
class ConnectionStats:
    """Inbound calls of one connection and how many failed; p95 latency where it was asked for."""

    connection_id: str
    calls: int
    errors: int
    p95_latency_ms: float | None = None

    @property
    def error_share(self) -> float:
        return self.errors / self.calls if self.calls else 0.0


def connection_counts(log: EventLog) -> list[ConnectionStats]:
    """Inbound Connect API calls and failed ones, per connection."""
    rows = log.execute(
        f"""
        SELECT connection_id, COUNT(*), SUM(CASE WHEN {FAILED} THEN 1 ELSE 0 END)
        FROM records
        WHERE kind = 'api_call' AND direction = 'inbound' AND connection_id IS NOT NULL
        GROUP BY connection_id ORDER BY connection_id
        """
    )
    return [ConnectionStats(cid, calls, errors or 0) for cid, calls, errors in rows]


def connection_stats(log: EventLog, since_ts: str) -> dict[str, ConnectionStats]:
    """Inbound calls, failures and p95 latency per connection, for calls at or after ``since_ts``."""
    rows = log.execute(
        f"""
        SELECT connection_id, COUNT(*), SUM(CASE WHEN {FAILED} THEN 1 ELSE 0 END)
        FROM records
        WHERE kind = 'api_call' AND ts >= ? AND direction = 'inbound' AND connection_id IS NOT NULL
        GROUP BY connection_id
        """,
        (since_ts,),
    )
    return {cid: ConnectionStats(cid, calls, errors or 0, _p95(log, cid, since_ts, calls)) for cid, calls, errors in rows}


def _p95(log: EventLog, connection_id: str, since_ts: str, count: int) -> float | None:
    rows = log.execute(
        """
        SELECT latency_ms FROM records
        WHERE kind = 'api_call' AND ts >= ? AND direction = 'inbound' AND connection_id = ?
        ORDER BY latency_ms LIMIT 1 OFFSET ?
        """,
        (since_ts, connection_id, max(0, math.ceil(0.95 * count) - 1)),  # nearest-rank p95
    )
    return rows[0][0] if rows else None


def kind_count(log: EventLog, kind: str = "api_call") -> int:
    return log.execute("SELECT COUNT(*) FROM records WHERE kind = ?", (kind,))[0][0]


def records_after(log: EventLog, seq: int, kind: str = "api_call") -> tuple[int, int]:
    """How many records of ``kind`` lie past ``seq``, and the highest seq among them (``seq`` when none):
    a count kept up to date without counting the whole log again."""
    count, highest = log.execute("SELECT COUNT(*), MAX(seq) FROM records WHERE kind = ? AND seq > ?", (kind, seq))[0]
    return count, highest or seq


def records_window(log: EventLog, offset: int, limit: int, total: int | None = None,
                   kind: str = "api_call") -> list[dict[str, Any]]:
    """``limit`` records of ``kind`` starting at position ``offset`` (0 = oldest), oldest first.

    Windows in the newer half are read backwards from the tail, so following the live end stays
    cheap however long the log is.
    """
    if limit <= 0:
        return []
    total = kind_count(log, kind) if total is None else total
    offset = max(0, min(offset, total))
    limit = min(limit, total - offset)
    if limit <= 0:
        return []
    if offset >= total // 2:
        from_end = total - offset - limit
        rows = log.execute(
            "SELECT body FROM records WHERE kind = ? ORDER BY seq DESC LIMIT ? OFFSET ?", (kind, limit, from_end)
        )
        rows.reverse()
    else:
        rows = log.execute("SELECT body FROM records WHERE kind = ? ORDER BY seq LIMIT ? OFFSET ?", (kind, limit, offset))
    return [orjson.loads(body) for (body,) in rows]
