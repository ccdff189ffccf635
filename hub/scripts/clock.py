"""The user's time zone as a script sees it: a table of UTC offsets for the moment subset (moment.js).

The offsets come from the hub's zoneinfo, not V8's own ICU data, so a script and the hub agree on the
time. The table covers WINDOW_DAYS either side of the run; past it the last offset holds.
"""

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WINDOW_DAYS = 400
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_BEFORE_ALL = -8_640_000_000_000_000  # the earliest time a JS Date can hold
_DAY = 86_400


def zone_name(name: str) -> str:
    """The zone to use for ``name``: itself if zoneinfo knows it, else UTC."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name


@lru_cache(maxsize=256)
def offset_table(name: str, day: date) -> tuple[tuple[int, int], ...]:
    """``(from_epoch_ms, offset_minutes)`` rows for zone ``name`` within WINDOW_DAYS of ``day``.

    Cached per zone and day: a run only looks the table up.
    """
    zone = ZoneInfo(name)
    start = int((datetime(day.year, day.month, day.day, tzinfo=UTC) - _EPOCH).total_seconds()) - WINDOW_DAYS * _DAY
    rows = [(_BEFORE_ALL, _offset(zone, start))]
    for lo in range(start, start + 2 * WINDOW_DAYS * _DAY, _DAY):
        if _offset(zone, lo) != _offset(zone, lo + _DAY):
            change = _first_change(zone, lo, lo + _DAY)
            rows.append((change * 1000, _offset(zone, change)))
    return tuple(rows)


def _first_change(zone: ZoneInfo, lo: int, hi: int) -> int:
    """The first second in (lo, hi] whose offset differs from lo's (zones change on whole seconds)."""
    before = _offset(zone, lo)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset(zone, mid) == before:
            lo = mid
        else:
            hi = mid
    return hi


def _offset(zone: ZoneInfo, epoch_s: int) -> int:
    offset = datetime.fromtimestamp(epoch_s, zone).utcoffset()
    assert offset is not None
    return int(offset.total_seconds() // 60)


def epoch_ms(instant: datetime) -> int:
    """Milliseconds since the epoch of an aware datetime."""
    return round((instant - _EPOCH).total_seconds() * 1000)
