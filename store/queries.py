"""Read queries over an event log that the dashboard (and the hub's ops API) need."""

from dataclasses import dataclass
import math
from typing import Any


from switchroom.protocol.kinds import API_CALL, SCRIPT_RUN
from switchroom.store.eventlog import EventLog, record_of

# A call "failed" when it got no answer or an error status; skipped calls are not failures.
FAILED = "((status_code IS NULL OR status_code >= 400) AND skipped IS NOT 1)"


@dataclass(frozen=True)
class ConnectionStats:
    """Inbound calls of one connection and how many failed; p95 latency where it was asked for; and the
    calls the hub made for it (to services, trigger polls among them, and webhooks) and how many failed."""

    connection_id: str
    calls: int
    errors: int
    p95_latency_ms: float | None = None
    out_calls: int = 0
    out_errors: int = 0

    @property
    def error_share(self) -> float:
        return self.errors / self.calls if self.calls else 0.0


def connection_counts(log: EventLog) -> list[ConnectionStats]:
    """Inbound Connect API calls and failed ones, per connection."""
    rows = log.execute(
        f"""
        SELECT connection_id, COUNT(*), SUM(CASE WHEN {FAILED} THEN 1 ELSE 0 END)
        FROM records
        WHERE kind = ? AND direction = 'inbound' AND connection_id IS NOT NULL
        GROUP BY connection_id ORDER BY connection_id
        """,
        (API_CALL,),
    )
    return [ConnectionStats(cid, calls, errors or 0) for cid, calls, errors in rows]


def connection_stats(log: EventLog, since_ts: str) -> dict[str, ConnectionStats]:
    """Inbound calls, failures and p95 latency per connection, and the calls the hub made for it and their
    failures, for calls at or after ``since_ts``."""
    out = {cid: (calls, errors or 0) for cid, calls, errors in log.execute(
        f"""
        SELECT connection_id, COUNT(*), SUM(CASE WHEN {FAILED} THEN 1 ELSE 0 END)
        FROM records
        WHERE kind = ? AND ts >= ? AND direction IN ('outbound', 'webhook') AND connection_id IS NOT NULL
        GROUP BY connection_id
        """,
        (API_CALL, since_ts),
    )}
    rows = log.execute(
        f"""
        SELECT connection_id, COUNT(*), SUM(CASE WHEN {FAILED} THEN 1 ELSE 0 END)
        FROM records
        WHERE kind = ? AND ts >= ? AND direction = 'inbound' AND connection_id IS NOT NULL
        GROUP BY connection_id
        """,
        (API_CALL, since_ts),
    )
    stats = {cid: ConnectionStats(cid, calls, errors or 0, _p95(log, cid, since_ts, calls), *out.get(cid, (0, 0)))
             for cid, calls, errors in rows}
    return stats | {cid: ConnectionStats(cid, 0, 0, None, *counts) for cid, counts in out.items() if cid not in stats}


def _p95(log: EventLog, connection_id: str, since_ts: str, count: int) -> float | None:
    rows = log.execute(
        """
        SELECT latency_ms FROM records
        WHERE kind = ? AND ts >= ? AND direction = 'inbound' AND connection_id = ?
        ORDER BY latency_ms LIMIT 1 OFFSET ?
        """,
        (API_CALL, since_ts, connection_id, max(0, math.ceil(0.95 * count) - 1)),  # nearest-rank p95
    )
    return rows[0][0] if rows else None


def kind_count(log: EventLog, kind: str = API_CALL) -> int:
    return log.execute("SELECT COUNT(*) FROM records WHERE kind = ?", (kind,))[0][0]


def records_after(log: EventLog, seq: int, kind: str = API_CALL) -> tuple[int, int]:
    """How many records of ``kind`` lie past ``seq``, and the highest seq among them (``seq`` when none):
    a count kept up to date without counting the whole log again."""
    count, highest = log.execute("SELECT COUNT(*), MAX(seq) FROM records WHERE kind = ? AND seq > ?", (kind, seq))[0]
    return count, highest or seq


def records_window(log: EventLog, offset: int, limit: int, total: int | None = None,
                   kind: str = API_CALL, through_seq: int | None = None) -> list[dict[str, Any]]:
    """``limit`` records of ``kind`` starting at position ``offset`` (0 = oldest), oldest first, among the
    ``total`` counted up to ``through_seq`` (records stored since are not in the window: read from the
    tail, it would be moved on by them, and a paused view would jump).

    Windows in the newer half are read backwards from the tail, so following the live end stays
    cheap however long the log is.
    """
    if limit <= 0:
        return []
    total = kind_count(log, kind) if total is None else total
    last = (1 << 63) - 1 if through_seq is None else through_seq
    offset = max(0, min(offset, total))
    limit = min(limit, total - offset)
    if limit <= 0:
        return []
    if offset >= total // 2:
        from_end = total - offset - limit
        rows = log.execute("SELECT body FROM records WHERE kind = ? AND seq <= ? ORDER BY seq DESC LIMIT ? OFFSET ?",
                           (kind, last, limit, from_end))
        rows.reverse()
    else:
        rows = log.execute("SELECT body FROM records WHERE kind = ? ORDER BY seq LIMIT ? OFFSET ?", (kind, limit, offset))
    return [record_of(body) for (body,) in rows]


DURATION_SHARES = (0.1, 0.25, 0.5, 0.75, 1.0)
"""Upper edges of the duration histogram's buckets, as shares of the run's time limit; a last bucket
holds the runs stopped at the limit."""


@dataclass(frozen=True)
class ScriptStats:
    """Runs of one connection's script for one feature: how each ended, and how long they took."""

    connection_id: str
    feature_id: str
    outcomes: dict[str, int]
    """ok / error / timeout / oom → runs."""
    durations: tuple[int, ...]
    """Runs per bucket of ``DURATION_SHARES`` of the time limit, then the runs that reached the limit."""

    @property
    def runs(self) -> int:
        return sum(self.outcomes.values())

    @property
    def failures(self) -> int:
        return self.runs - self.outcomes.get("ok", 0)


def script_summary(log: EventLog, since_ts: str | None = None, connection_id: str | None = None) -> list[ScriptStats]:
    """Script runs per connection and feature (since ``since_ts``, of ``connection_id``, when given), with
    a duration histogram."""
    buckets = " ".join(f"WHEN duration < {share} * time_limit THEN {n}" for n, share in enumerate(DURATION_SHARES))
    rows = log.execute(
        f"""
        SELECT connection_id, feature_id, status, bucket, COUNT(*) FROM (
            SELECT connection_id, feature_id, json_extract(body, '$.status') AS status,
                   CASE {buckets} ELSE {len(DURATION_SHARES)} END AS bucket
            FROM (SELECT connection_id, feature_id, body, json_extract(body, '$.duration_ms') AS duration,
                         json_extract(body, '$.time_limit_ms') AS time_limit
                  FROM records WHERE kind = ? AND (? IS NULL OR ts >= ?)
                                        AND (? IS NULL OR connection_id = ?)))
        GROUP BY connection_id, feature_id, status, bucket
        """,
        (SCRIPT_RUN, since_ts, since_ts, connection_id, connection_id),
    )
    found: dict[tuple[str, str], tuple[dict[str, int], list[int]]] = {}
    for connection_id, feature_id, status, bucket, count in rows:
        # read straight from the records, which a hub may send with fields of any type or none
        # (``store.record_shape``): ids that are not text are read as '', and so is such a status
        connection_id, feature_id, status = (v if isinstance(v, str) else "" for v in (connection_id, feature_id, status))
        outcomes, durations = found.setdefault((connection_id, feature_id), ({}, [0] * (len(DURATION_SHARES) + 1)))
        outcomes[status] = outcomes.get(status, 0) + count
        durations[bucket] += count
    return [ScriptStats(c, f, outcomes, tuple(durations)) for (c, f), (outcomes, durations) in sorted(found.items())]
