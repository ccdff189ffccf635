"""Which records to show: a filter over the event log's indexed columns, turned into SQL.

The dashboard's filter language and the CLI's options both come down to a ``RecordFilter``.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import re

from store.eventlog import EventLog, iso_timestamp

_DURATION = re.compile(r"^(\d{1,7})([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_STATUS = re.compile(r"^(?:([1-5])xx|([1-5]\d\d)|(skipped))$")


class FilterError(ValueError):
    """A filter value that means nothing; the message says what would."""


@dataclass(frozen=True)
class StatusMatch:
    """A status class (``5xx``), one code (``503``), or ``skipped``."""

    low: int = 0
    high: int = 0
    skipped: bool = False

    def sql(self) -> str:
        if self.skipped:
            return "skipped = 1"
        return f"(status_code BETWEEN {self.low} AND {self.high} AND skipped IS NOT 1)"


def parse_status(text: str) -> StatusMatch:
    match = _STATUS.match(text.strip().lower())
    if match is None:
        raise FilterError(f"'{text}' is not a status: use a class like 5xx, a code like 503, or skipped")
    if match[1]:
        return StatusMatch(int(match[1]) * 100, int(match[1]) * 100 + 99)
    if match[2]:
        return StatusMatch(int(match[2]), int(match[2]))
    return StatusMatch(skipped=True)


def parse_since(text: str, now: datetime | None = None) -> str:
    """``90s``, ``15m``, ``1h``, ``2d``, ``1w`` ago, as a record timestamp."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise FilterError(f"'{text}' is not a duration: use a number and s, m, h, d or w, like 15m or 1h")
    delta = timedelta(**{_UNITS[match[2]]: int(match[1])})
    return iso_timestamp((now or datetime.now(UTC)) - delta)


@dataclass(frozen=True)
class RecordFilter:
    kinds: tuple[str, ...] = ("api_call",)
    since_ts: str | None = None
    statuses: tuple[StatusMatch, ...] = ()
    connection_id: str | None = None
    feature_id: str | None = None
    user_id: str | None = None
    op_id: str | None = None
    direction: str | None = None
    limit: int | None = None
    """The newest ``limit`` matches (still given oldest first); all when None."""

    def where(self) -> tuple[str, list[object]]:
        clauses = [f"kind IN ({', '.join('?' for _ in self.kinds)})"]
        params: list[object] = list(self.kinds)
        if self.since_ts:
            clauses.append("ts >= ?")
            params.append(self.since_ts)
        if self.statuses:
            clauses.append("(" + " OR ".join(s.sql() for s in self.statuses) + ")")
        for column in ("connection_id", "feature_id", "user_id", "op_id", "direction"):
            value = getattr(self, column)
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        return " AND ".join(clauses), params


def matching_records(log: EventLog, record_filter: RecordFilter) -> Iterator[str]:
    """The JSON of every record the filter matches, oldest first."""
    where, params = record_filter.where()
    if record_filter.limit is None:
        rows = log.execute(f"SELECT body FROM records WHERE {where} ORDER BY seq", params)
    else:
        rows = log.execute(f"SELECT body FROM records WHERE {where} ORDER BY seq DESC LIMIT ?",
                           [*params, record_filter.limit])[::-1]
    return (row[0] for row in rows)
