"""The zone the dashboard shows times in, and reads the times typed into it in: the machine's own by
default, UTC, or one named; ``z`` switches between that zone and UTC.

Records keep their times in UTC (``2026-11-26T11:45:00.000Z``, ``store.iso_timestamp``); only what is
shown and typed is in the zone. A record's time is turned into the zone's time at that moment, so a row
from before a change of daylight-saving time shows the offset it had then.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOCAL = "local"
UTC_NAME = "utc"


class LocalZone(tzinfo):
    """The machine's zone as its C library has it, as ``date`` shows it: ``TZ`` when set (an IANA name
    such as ``Asia/Kolkata``, or a POSIX rule such as ``EST5EDT``), else the system's (``/etc/localtime``),
    with its daylight-saving rules. Python's conversions of local (naive) times do the work, the second
    of a repeated hour told by ``fold``."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return _as_local(dt).utcoffset()

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None  # the C library tells the offset, not which part of it is daylight saving

    def tzname(self, dt: datetime | None) -> str | None:
        return _as_local(dt).tzname()

    def fromutc(self, dt: datetime) -> datetime:
        local = dt.replace(tzinfo=UTC).astimezone()
        wall = local.replace(tzinfo=None)
        repeated = wall.astimezone(UTC) != local  # the first of the two same wall times is another moment
        return wall.replace(tzinfo=self, fold=int(repeated))

    def __repr__(self) -> str:
        return "LocalZone()"


def _as_local(dt: datetime | None) -> datetime:
    """The wall time ``dt`` (now, when None) in the machine's zone, with the offset it has there."""
    wall = datetime.now() if dt is None else dt.replace(tzinfo=None)
    return wall.astimezone()


def zone_named(setting: str) -> tzinfo:
    """The zone a ``time_zone`` setting names: ``local``, ``utc``, or an IANA name (``Europe/Paris``);
    ``ValueError`` saying what is accepted when it names none."""
    if setting.strip().lower() == LOCAL:
        return LocalZone()
    if setting.strip().lower() == UTC_NAME:
        return UTC
    try:
        return ZoneInfo(setting.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"no time zone is named {setting!r}; give \"local\" (the machine's), \"utc\", or an "
                         "IANA name such as \"Europe/Paris\"") from None


@dataclass(frozen=True)
class Zones:
    """The zone times are shown in, and the one the switch goes to: UTC, or from UTC the machine's."""

    shown: tzinfo
    other: tzinfo

    @classmethod
    def of_setting(cls, setting: str) -> "Zones":
        zone = zone_named(setting)
        return cls(zone, LocalZone() if zone is UTC else UTC)

    def switched(self) -> "Zones":
        return Zones(self.other, self.shown)


UTC_ZONES = Zones(UTC, UTC)


def moment(ts: object, zone: tzinfo) -> datetime | None:
    """A record's time (an ISO text, UTC unless it says) in ``zone``; None when it is no time."""
    if not isinstance(ts, str):
        return None
    try:
        parsed = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(zone)


def _millis(at: datetime) -> str:
    return f"{at:%H:%M:%S}.{at.microsecond // 1000:03d}"


def time_of_day(ts: object, zone: tzinfo) -> str:
    """``13:05:09.123`` in ``zone``; what the record has, cut the same way, when it is no time."""
    at = moment(ts, zone)
    return str(ts or "")[11:23] if at is None else _millis(at)


def clock_time(ts: object, zone: tzinfo) -> str:
    """``13:05:09`` in ``zone``."""
    at = moment(ts, zone)
    return str(ts or "")[11:19] if at is None else f"{at:%H:%M:%S}"


def day_and_minute(ts: object, zone: tzinfo, year: bool = False) -> str:
    """``11-26 13:05`` (``2026-11-26 13:05`` with ``year``) in ``zone``."""
    at = moment(ts, zone)
    if at is None:
        return str(ts or "")[0 if year else 5:16].replace("T", " ")
    return f"{at:%Y-%m-%d %H:%M}" if year else f"{at:%m-%d %H:%M}"


def full_time(ts: object, zone: tzinfo) -> str:
    """``2026-11-26 13:05:09.123 CET +01:00``: a record's whole time in ``zone``, with the zone."""
    at = moment(ts, zone)
    return str(ts or "") if at is None else f"{at:%Y-%m-%d} {_millis(at)} {_label(at)}"


def zone_label(zone: tzinfo, at: datetime | None = None) -> str:
    """How the zone is named on screen at ``at`` (now): ``UTC``, ``CET +01:00``, ``CEST +02:00``, or the
    offset alone where the zone has no name for it (``+05:45``)."""
    return _label((at or datetime.now(UTC)).astimezone(zone))


def _label(at: datetime) -> str:
    offset = at.utcoffset() or timedelta(0)
    name = at.tzname() or ""
    if not name.isalpha():
        return "UTC" if not offset else _offset(offset)
    return name if not offset else f"{name} {_offset(offset)}"


def _offset(offset: timedelta) -> str:
    minutes = round(offset.total_seconds() / 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
