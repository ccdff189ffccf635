"""Per-feature status-code breakdowns of api_calls over a window: by class and by code, with shares and
p50/p95 latency, for the API logs pane.

Read from the indexer's aggregates (``store.analytics.aggregates``; why aggregates and not an index: see
``store.analytics.derived``), so one feature over a day of a 1M-record cache sums a few hundred rows. Counts are
exact (they equal a count over the records up to ``through_seq``); percentiles come from latency
histograms and are within 9 % (``store.analytics.latency``).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from switchroom.protocol.kinds import API_CALL
from switchroom.store.analytics.aggregates import Tally, window_sums
from switchroom.store.analytics.derived import attach
from switchroom.store.eventlog import EventLog
from switchroom.store.analytics.latency import BINS, percentile
from switchroom.store.status_codes import CLASSES, class_meaning, code_meaning, status_class, status_key

_GROUP = ("connection_id", "feature_id", "status_code", "skipped")


@dataclass(frozen=True)
class StatusShare:
    """One bar: a status class (``5xx``) or key (``503``, ``skipped``, ``none``) and its calls."""

    key: str
    count: int
    share: float
    p50_ms: float | None
    p95_ms: float | None
    meaning: str


@dataclass(frozen=True)
class Breakdown:
    connection_id: str
    """'' for calls of no connection; also '' in a breakdown over every connection of a feature."""
    feature_id: str
    total: int
    p50_ms: float | None
    p95_ms: float | None
    classes: tuple[StatusShare, ...]
    """Every class that has calls, in ``CLASSES`` order."""
    codes: tuple[StatusShare, ...]
    """Every status key that has calls, by code (``skipped`` and ``none`` last)."""
    through_seq: int


def feature_breakdown(log: EventLog, feature_id: str, since_ts: str | None = None,
                      connection_id: str | None = None, direction: str | None = None) -> Breakdown:
    """The breakdown of one feature's api_calls (of one connection's feature when ``connection_id`` is
    given; in one ``direction`` when given) at or after ``since_ts``."""
    where = {"kind": API_CALL, "feature_id": feature_id,
             **({"connection_id": connection_id} if connection_id is not None else {}),
             **({"direction": direction} if direction is not None else {})}
    sums = window_sums(attach(log), since_ts, ("status_code", "skipped"), where)
    return _breakdown(connection_id or "", feature_id, sums.groups.items(), sums.through_seq, direction)


def breakdowns(log: EventLog, since_ts: str | None = None, connection_id: str | None = None,
               direction: str | None = None) -> list[Breakdown]:
    """A breakdown per (connection, feature) that had api_calls at or after ``since_ts``, in id order."""
    where = {"kind": API_CALL, **({"connection_id": connection_id} if connection_id is not None else {}),
             **({"direction": direction} if direction is not None else {})}
    sums = window_sums(attach(log), since_ts, _GROUP, where)
    per_feature: dict[tuple[str, str], list[tuple[tuple[int, int], Tally]]] = {}
    for (conn_id, feature, code, skipped), value in sums.groups.items():
        per_feature.setdefault((conn_id, feature), []).append(((code, skipped), value))
    return [_breakdown(conn_id, feature, items, sums.through_seq, direction)
            for (conn_id, feature), items in sorted(per_feature.items())]


def _breakdown(connection_id: str, feature_id: str, items: Iterable[tuple[tuple[int, int], Tally]],
               through_seq: int, direction: str | None) -> Breakdown:
    by_code: dict[str, list[int]] = {}
    for (code, skipped), value in items:
        key = status_key(code, bool(skipped))
        by_code[key] = _added(by_code.get(key), value.histogram)
    by_class: dict[str, list[int]] = {}
    for key, histogram in by_code.items():
        by_class[status_class(key)] = _added(by_class.get(status_class(key)), histogram)
    everything = [0] * BINS
    for histogram in by_class.values():
        everything = _added(everything, histogram)
    total = sum(everything)
    codes = sorted(by_code, key=lambda key: (not key.isdigit(), key))
    return Breakdown(
        connection_id, feature_id, total, percentile(everything, 0.5), percentile(everything, 0.95),
        tuple(_share(key, by_class[key], total, class_meaning(key)) for key in CLASSES if key in by_class),
        tuple(_share(key, by_code[key], total, code_meaning(key, direction)) for key in codes),
        through_seq,
    )


def _added(histogram: list[int] | None, other: list[int]) -> list[int]:
    return list(other) if histogram is None else [a + b for a, b in zip(histogram, other)]


def _share(key: str, histogram: list[int], total: int, meaning: str) -> StatusShare:
    count = sum(histogram)
    return StatusShare(key, count, count / total if total else 0.0, percentile(histogram, 0.5),
                       percentile(histogram, 0.95), meaning)
