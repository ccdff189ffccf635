"""The Connections pane's figures per connection over a window: the Connect API calls it answered
(``direction = inbound``) with their rate, error share and p95 latency; the calls the hub made for it —
to services (actions, queries, trigger polls) and webhooks to the developer's backend — and how many of
those failed; script runs and failures; the last error of any of them; and sparkline series of the
inbound calls and their errors.

Totals come from the indexer's aggregates (exact, like ``store.analytics.breakdowns``); the sparklines from its
per-minute activity, so their buckets are whole minutes. A rate is per minute of the part of the window
the cache holds: a cache that began ten minutes ago divides by ten, not by the window's sixty.
"""

from dataclasses import dataclass
from datetime import datetime
import math

from switchroom.protocol.kinds import API_CALL, SCRIPT_RUN
from switchroom.store.analytics.aggregates import window_sums
from switchroom.store.analytics.derived import attach, present
from switchroom.store.analytics.derived_counts import KEY_COLUMNS
from switchroom.store.eventlog import EventLog
from switchroom.store.analytics.failures import FailureGroup, groups_of
from switchroom.store.analytics.latency import percentile
from switchroom.store.record_shape import TS_GLOB, moment
from switchroom.store.status_codes import is_failure


@dataclass(frozen=True)
class ConnectionSummary:
    connection_id: str
    calls: int
    errors: int
    calls_per_minute: float
    p95_ms: float | None
    script_runs: int
    script_failures: int
    out_calls: int
    """Calls the hub made for the connection: to its services (trigger polls too) and webhooks."""
    out_errors: int
    last_error: FailureGroup | None
    """The group of the most recent failure (api_call or script run), with its latest seq."""
    calls_series: tuple[int, ...]
    errors_series: tuple[int, ...]
    """Inbound calls and failed ones per bucket of the window, oldest first."""

    @property
    def error_share(self) -> float:
        return self.errors / self.calls if self.calls else 0.0


def connection_summaries(log: EventLog, since_ts: str, now_ts: str, points: int = 30) -> list[ConnectionSummary]:
    """Every connection with calls or script runs in ``[since_ts, now_ts]``, in id order; series of
    ``points`` buckets of whole minutes (fewer when the window has fewer minutes)."""
    conn = attach(log)
    if not present(conn):
        return []
    sums = window_sums(conn, since_ts, KEY_COLUMNS, latency=False)
    latencies = window_sums(conn, since_ts, ("connection_id",), {"kind": API_CALL, "direction": "inbound"}).groups
    minutes = _minutes_held(log, since_ts, now_ts)
    totals: dict[str, list[int]] = {}
    columns = {"inbound": 0, SCRIPT_RUN: 2, "outbound": 4, "webhook": 4}
    for (kind, conn_id, _, _, direction, status, skipped, outcome, _), tally in sums.groups.items():
        column = columns.get(SCRIPT_RUN if kind == SCRIPT_RUN else direction if kind == API_CALL else "")
        if not conn_id or column is None:
            continue
        counts = totals.setdefault(conn_id, [0] * 6)  # in calls, errors; script runs, failures; out calls, errors
        counts[column] += tally.count
        counts[column + 1] += tally.count if is_failure(kind, status, skipped, outcome) else 0
    last_errors: dict[str, FailureGroup] = {}
    for group in groups_of(sums):  # newest first
        last_errors.setdefault(group.connection_id, group)
    series = _series(log, since_ts, now_ts, points)
    return [
        ConnectionSummary(conn_id, calls, errors, calls / minutes,
                          percentile(latencies[(conn_id,)].histogram, 0.95) if (conn_id,) in latencies else None,
                          runs, failures, out_calls, out_errors, last_errors.get(conn_id),
                          *series.get(conn_id, ((), ())))
        for conn_id, (calls, errors, runs, failures, out_calls, out_errors) in sorted(totals.items())
    ]


def _minutes_held(log: EventLog, since_ts: str, now_ts: str) -> float:
    """Minutes of ``[since_ts, now_ts]`` that the log holds records for (from its oldest record on), at
    least one."""
    oldest = log.execute("SELECT ts FROM records WHERE ts GLOB ? ORDER BY seq LIMIT 1", (TS_GLOB,))
    start = max(since_ts, oldest[0][0]) if oldest and moment(oldest[0][0]) else since_ts
    return max(1.0, (_moment(now_ts) - _moment(start)).total_seconds() / 60)


def _moment(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def _series(log: EventLog, since_ts: str, now_ts: str, points: int
            ) -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
    """connection → (calls, errors) per bucket, from the per-minute activity."""
    start = _moment(since_ts[:16] + ":00Z")
    minutes = int((_moment(now_ts) - start).total_seconds() // 60) + 1
    width = max(1, math.ceil(minutes / max(1, points)))
    buckets = math.ceil(minutes / width)
    series: dict[str, tuple[list[int], list[int]]] = {}
    positions: dict[str, int] = {}  # minute → its bucket, worked out once for every connection
    rows = log.execute("SELECT bucket, connection_id, calls, errors FROM derived_activity "
                       "WHERE bucket >= ? AND bucket <= ?", (since_ts[:16], now_ts[:16]))
    for bucket, conn_id, calls, errors in rows:
        index = positions.get(bucket)
        if index is None:
            minute = int((_moment(bucket + ":00Z") - start).total_seconds() // 60)
            index = positions[bucket] = min(buckets - 1, minute // width)
        calls_list, errors_list = series.setdefault(conn_id, ([0] * buckets, [0] * buckets))
        calls_list[index] += calls
        errors_list[index] += errors
    return {conn_id: (tuple(c), tuple(e)) for conn_id, (c, e) in series.items()}
