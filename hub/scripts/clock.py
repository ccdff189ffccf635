"""Time zones as a script sees them: UTC offset tables for the moment subset (moment.js).

The offsets come from the hub's zoneinfo, not V8's own ICU data, so a script and the hub agree on the
time. A context holds the tables of every zone zoneinfo knows, so a script can name any zone at run time
(`tz("Asia/Tokyo")`) without asking the host. The tables cover a window around a PERIOD_DAYS-long
period: WINDOW_DAYS before its first day to WINDOW_DAYS after its last; before and after the window the
first and the last offset hold. A run gets a context whose tables are for the period its clock falls in
(the engine hands the tables over again when they are not).

The tables of one period, as JSON: ``{"zones": {name: table index, ...}, "tables": [[from_epoch_ms,
offset_minutes, abbreviation, from_epoch_ms, ...], ...]}``, each table's first row from the earliest time
a JS Date can hold. Zones with the same offsets in the window share a table: about 100 tables for 600
zones, 20 KB. A context parses it and nothing more (JSON.parse is native); a zone is looked up when a run
names it.
"""

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones
import asyncio
import json
import threading

PERIOD_DAYS = 32
WINDOW_DAYS = 400
_STEP_DAYS = 4
"""Offsets are sampled this many days apart, and each change found between two samples is pinned to the
second. From 1980 to 2050 no zone in the tz database changes twice within a week (the closest changes,
in Brazil in 1999 and 2000 and in Gaza, are 7 days apart), so no change and its reversal can fall between
two samples."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_BEFORE_ALL = -8_640_000_000_000_000  # the earliest time a JS Date can hold
_DAY = 86_400
_KEPT_PERIODS = 8

_building = threading.Lock()
_kept = threading.Lock()  # held only for a moment: the event loop takes it too
_tables: dict[int, str] = {}


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    """The zones zoneinfo knows (IANA names), read once."""
    return frozenset(available_timezones())


def zone_name(name: str) -> str:
    """The zone to use for ``name``: itself if zoneinfo knows it, else UTC."""
    return name if name in zone_names() else "UTC"


def zone_period(instant: datetime) -> int:
    """The period ``instant`` falls in: PERIOD_DAYS-long periods counted from the epoch."""
    return int((instant - _EPOCH).total_seconds() // (PERIOD_DAYS * _DAY))


async def zone_tables(period: int) -> str:
    """Every zone's tables (JSON) for ``period``; worked out off the event loop when not yet cached."""
    cached = _kept_tables(period)
    return cached if cached is not None else await asyncio.to_thread(_zone_tables, period)


def _kept_tables(period: int) -> str | None:
    with _kept:
        cached = _tables.pop(period, None)
        if cached is not None:
            _tables[period] = cached  # the most recently used last
        return cached


def _zone_tables(period: int) -> str:
    """Kept for the periods most recently asked for; working one out takes a few tenths of a second."""
    with _building:
        cached = _kept_tables(period)
        if cached is not None:
            return cached
        built = _build(period)
        with _kept:
            if len(_tables) >= _KEPT_PERIODS:
                del _tables[next(iter(_tables))]
            _tables[period] = built
        return built


def _build(period: int) -> str:
    start = period * PERIOD_DAYS * _DAY - WINDOW_DAYS * _DAY
    end = (period + 1) * PERIOD_DAYS * _DAY + WINDOW_DAYS * _DAY
    tables: dict[tuple[object, ...], int] = {}
    zones = {}
    for name in sorted(zone_names()):
        table = tuple(_rows(ZoneInfo(name), start, end))
        zones[name] = tables.setdefault(table, len(tables))
    return json.dumps({"zones": zones, "tables": [list(table) for table in tables]}, separators=(",", ":"))


def _rows(zone: ZoneInfo, start: int, end: int) -> list[object]:
    """Flat rows (from_epoch_ms, offset_minutes, abbreviation) for ``zone`` between two epoch seconds."""
    state = _state(zone, start)
    rows: list[object] = [_BEFORE_ALL, *state]
    for lo in range(start, end, _STEP_DAYS * _DAY):
        hi = min(lo + _STEP_DAYS * _DAY, end)
        while state != _state(zone, hi):
            lo = _first_change(zone, lo, hi, state)
            state = _state(zone, lo)
            rows += [lo * 1000, *state]
    return rows


def _first_change(zone: ZoneInfo, lo: int, hi: int, before: tuple[int, str]) -> int:
    """The first second in (lo, hi] whose state differs from ``before`` (zones change on whole seconds)."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _state(zone, mid) == before:
            lo = mid
        else:
            hi = mid
    return hi


def _state(zone: ZoneInfo, epoch_s: int) -> tuple[int, str]:
    """The UTC offset (whole minutes) and abbreviation in effect at ``epoch_s``."""
    local = datetime.fromtimestamp(epoch_s, zone)
    offset = local.utcoffset()
    assert offset is not None
    return int(offset.total_seconds() // 60), local.tzname() or ""


def epoch_ms(instant: datetime) -> int:
    """Milliseconds since the epoch of an aware datetime."""
    return round((instant - _EPOCH).total_seconds() * 1000)
