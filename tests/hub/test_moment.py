"""Meta.currentUserTime, the moment.js subset runtime scripts get (DESIGN §6), through the real engine and
real V8, on a fixed clock. Expected values come from moment's documentation (momentjs.com/docs, the
examples quoted) or are computed here with zoneinfo and datetime."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo
import asyncio
import calendar
import json

import pytest

from switchroom.hub.scripts import Limits, ScriptEngine, ScriptJob, ScriptResult
from switchroom.hub.scripts.clock import PERIOD_DAYS, WINDOW_DAYS, zone_name, zone_names, zone_period, zone_tables

LIMITS = Limits(wall_time_s=5.0, console_bytes=1 << 20)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MS = timedelta(milliseconds=1)


@pytest.fixture
async def engine() -> AsyncIterator[ScriptEngine]:
    engine = ScriptEngine(LIMITS)
    yield engine
    await engine.aclose()


async def answer(kind: str, op_id: str, body: dict[str, Any]) -> tuple[int, Any]:
    return 204, None


async def run(engine: ScriptEngine, source: str, zone: str, now: datetime) -> ScriptResult:
    return await engine.run(ScriptJob(source=source, trigger_id="clock.tick", timezone=zone, now=now), answer)


async def logged(engine: ScriptEngine, source: str, zone: str, now: datetime) -> Any:
    """What the script logged (as JSON), on a clock stopped at ``now`` in ``zone``."""
    result = await run(engine, f"console.log(JSON.stringify((() => {{ {source} }})()))", zone, now)
    assert result.status == "ok", result.error
    return json.loads(result.console[-1].text)


def at(zone: str, *wall: int) -> datetime:
    """The instant of a wall-clock time in ``zone``; a time that occurs twice is the earlier, one in a DST
    gap moves forward by the gap (what Python's fold=0 gives, and moment-timezone's rule)."""
    return datetime(*wall, tzinfo=ZoneInfo(zone)).astimezone(UTC)  # type: ignore[misc]


def epoch_ms(instant: datetime) -> int:
    return (instant - EPOCH) // MS


FULL = "YYYY-MM-DDTHH:mm:ss.SSSZ"
NOW = datetime(2024, 1, 10, 12, tzinfo=UTC)
"""The clock of tests that do not need their own: theirs all fall in the same period of time zone tables
(clock.py), which take a few tenths of a second to work out."""


def on(*fields: int) -> str:
    """JavaScript for a moment at a wall-clock time in the run's zone, made from Meta.currentUserTime, for
    examples from moment's docs whose clock would otherwise need tables of its own: ``moment([2010, 9, 20])``
    is ``on(2010, 9, 20)``."""
    names = ["year", "month", "date", "hour", "minute", "second", "millisecond"]
    parts = dict(zip(names, fields))
    return f"Meta.currentUserTime.clone().startOf('year').set({json.dumps(parts)})"


# --- What IFTTT filter code does -------------------------------------------------------------------------

async def test_the_filters_from_the_issue_work(engine: ScriptEngine) -> None:
    """`.startOf("day")` and `.isBefore()` threw a TypeError; a working-hours filter uses both."""
    source = """
const now = Meta.currentUserTime;
const opens = now.clone().startOf("day").hour(9);
const closes = now.clone().startOf("day").hour(17).minute(30);
return {
  today: now.clone().startOf("day").format(), opens: opens.format(), closes: closes.format(),
  open: now.isBetween(opens, closes) && now.isoWeekday() <= 5, early: now.isBefore(opens),
  weekend: [0, 6].includes(now.day()), hour: now.hour(), unchanged: now.format(),
};
"""
    now = at("America/New_York", 2024, 1, 17, 8, 15)  # a Wednesday, before opening time
    assert await logged(engine, source, "America/New_York", now) == {
        "today": "2024-01-17T00:00:00-05:00", "opens": "2024-01-17T09:00:00-05:00",
        "closes": "2024-01-17T17:30:00-05:00", "open": False, "early": True, "weekend": False, "hour": 8,
        "unchanged": "2024-01-17T08:15:00-05:00",
    }


async def test_a_cooldown_with_diff_in_minutes(engine: ScriptEngine) -> None:
    """IFTTT's help centre: `Meta.triggerTime.diff(Meta.previousTriggerTime, 'minutes') < 15`."""
    source = """
const now = Meta.currentUserTime;
const previous = now.clone().subtract(14, "minutes").subtract(59, "seconds");
return [now.diff(previous, "minutes"), now.diff(previous, "minutes", true), previous.diff(now, "minutes")];
"""
    minutes, exact, back = await logged(engine, source, "Europe/London", NOW)
    assert (minutes, back) == (14, -14)
    assert exact == pytest.approx(14 + 59 / 60)


# --- format ----------------------------------------------------------------------------------------------

async def test_format_examples_from_moments_docs(engine: ScriptEngine) -> None:
    source = f"""
const t = {on(2010, 1, 14, 15, 25, 50)};
return [t.format("dddd, MMMM Do YYYY, h:mm:ss a"), t.format("ddd, hA"), t.format("[Today is] dddd")];
"""
    assert await logged(engine, source, "UTC", NOW) == [
        "Sunday, February 14th 2010, 3:25:50 pm", "Sun, 3PM", "Today is Sunday",
    ]
    default = 'return Meta.currentUserTime.format();'
    assert await logged(engine, default, "America/Chicago", at("America/Chicago", 2014, 9, 8, 8, 2, 17)) == (
        "2014-09-08T08:02:17-05:00"
    )


async def test_localized_formats_from_moments_docs(engine: ScriptEngine) -> None:
    tokens = ["LT", "LTS", "L", "l", "LL", "ll", "LLL", "lll", "LLLL", "llll"]
    source = f"return {json.dumps(tokens)}.map((token) => {on(1986, 8, 4, 20, 30, 25)}.format(token));"
    assert await logged(engine, source, "UTC", NOW) == [
        "8:30 PM", "8:30:25 PM", "09/04/1986", "9/4/1986", "September 4, 1986", "Sep 4, 1986",
        "September 4, 1986 8:30 PM", "Sep 4, 1986 8:30 PM", "Thursday, September 4, 1986 8:30 PM",
        "Thu, Sep 4, 1986 8:30 PM",
    ]


async def test_escaping_and_the_default_format_in_utc(engine: ScriptEngine) -> None:
    source = r"""
const t = Meta.currentUserTime;
return [t.format("[YYYY] \\Y \\MM YYYY [it's] h [o'clock]"), t.format(), t.clone().tz("Asia/Tokyo").format(),
  t.toString(), t.toISOString(), t.toISOString(true), JSON.stringify({ t })];
"""
    now = datetime(2024, 1, 15, 10, 0, 5, 250000, tzinfo=UTC)  # London is on GMT in January: offset 0
    assert await logged(engine, source, "Europe/London", now) == [
        "YYYY Y MM 2024 it's 10 o'clock", "2024-01-15T10:00:05Z", "2024-01-15T19:00:05+09:00",
        "Mon Jan 15 2024 10:00:05 GMT+0000", "2024-01-15T10:00:05.250Z", "2024-01-15T10:00:05.250+00:00",
        '{"t":"2024-01-15T10:00:05.250Z"}',
    ]


TOKENS = ("YYYY YY Y Q Qo M Mo MM MMM MMMM D Do DD DDD DDDo DDDD d do dd ddd dddd e E w wo ww W Wo WW gggg gg "
          "GGGG GG H HH h hh k kk m mm s ss S SS SSS SSSS A a Z ZZ z X x").split()


def ordinal(n: int) -> str:
    return f"{n}{'th' if 11 <= n % 100 <= 13 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def us_week(day: date) -> tuple[int, int]:
    """moment's English weeks: they start on Sunday, and week 1 is the one holding January 1st."""
    for year in (day.year + 1, day.year, day.year - 1):
        jan1 = date(year, 1, 1)
        start = jan1 - timedelta(days=jan1.isoweekday() % 7)
        if day >= start:
            return (day - start).days // 7 + 1, year
    raise AssertionError(day)


def tokens(t: datetime) -> dict[str, str]:
    """What moment's format tokens show for the aware datetime ``t`` (English locale)."""
    iso_year, iso_week, iso_day = t.isocalendar()
    week, week_year = us_week(t.date())
    ms = t.microsecond // 1000
    offset = t.strftime("%z")
    yday = t.timetuple().tm_yday
    quarter = (t.month - 1) // 3 + 1
    values = {
        "YYYY": f"{t.year:04d}", "YY": f"{t.year % 100:02d}", "Y": f"{t.year:04d}", "Q": str(quarter),
        "Qo": ordinal(quarter), "M": str(t.month), "Mo": ordinal(t.month), "MM": f"{t.month:02d}",
        "MMM": t.strftime("%b"), "MMMM": t.strftime("%B"), "D": str(t.day), "Do": ordinal(t.day),
        "DD": f"{t.day:02d}", "DDD": str(yday), "DDDo": ordinal(yday), "DDDD": f"{yday:03d}",
        "d": str(iso_day % 7), "do": ordinal(iso_day % 7), "dd": t.strftime("%a")[:2], "ddd": t.strftime("%a"),
        "dddd": t.strftime("%A"), "e": str(iso_day % 7), "E": str(iso_day), "w": str(week), "wo": ordinal(week),
        "ww": f"{week:02d}", "W": str(iso_week), "Wo": ordinal(iso_week), "WW": f"{iso_week:02d}",
        "gggg": str(week_year), "gg": f"{week_year % 100:02d}", "GGGG": str(iso_year), "GG": f"{iso_year % 100:02d}",
        "H": str(t.hour), "HH": f"{t.hour:02d}", "h": str(t.hour % 12 or 12), "hh": f"{t.hour % 12 or 12:02d}",
        "k": str(t.hour or 24), "kk": f"{t.hour or 24:02d}", "m": str(t.minute), "mm": f"{t.minute:02d}",
        "s": str(t.second), "ss": f"{t.second:02d}", "S": str(ms // 100), "SS": f"{ms // 10:02d}",
        "SSS": f"{ms:03d}", "SSSS": f"{ms:03d}0", "A": "AM" if t.hour < 12 else "PM",
        "a": "am" if t.hour < 12 else "pm", "Z": f"{offset[:3]}:{offset[3:]}", "ZZ": offset, "z": t.tzname(),
        "X": str(epoch_ms(t) // 1000), "x": str(epoch_ms(t)),
    }
    return {name: values[name] for name in TOKENS}


SCAN_ZONES = ["America/New_York", "Europe/London", "Asia/Kolkata", "Australia/Sydney", "America/Santiago", "UTC"]


@pytest.mark.parametrize("zone", SCAN_ZONES)
async def test_every_format_token_every_day_of_a_year(engine: ScriptEngine, zone: str) -> None:
    """From 2024-01-01 12:34:56.789 local, day by day for 400 days (so across DST changes, a leap day,
    ISO week 1 of 2025 starting in 2024 and English week 1 of 2025 holding December 29th), each token
    against datetime's own reading of that local time."""
    source = f"""
const start = Meta.currentUserTime;
return Array.from({{ length: 400 }}, (_, k) => start.clone().add(k, "days").format({json.dumps("|".join(TOKENS))}));
"""
    lines = await logged(engine, source, zone, at(zone, 2024, 1, 1, 12, 34, 56, 789000))
    for k, line in enumerate(lines):
        day = at(zone, *(date(2024, 1, 1) + timedelta(days=k)).timetuple()[:3], 12, 34, 56, 789000)
        assert dict(zip(TOKENS, line.split("|"))) == tokens(day.astimezone(ZoneInfo(zone))), (zone, k)


# --- startOf / endOf ---------------------------------------------------------------------------------------

def starts(zone: str, t: datetime) -> dict[str, int]:
    """Epoch ms of startOf(unit) and endOf(unit) for the moment ``t``, worked out on the calendar."""
    local = t.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    quarter = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    month = day.replace(day=1)
    week = day - timedelta(days=day.isoweekday() % 7)
    iso_week = day - timedelta(days=day.isoweekday() - 1)
    hour = local.replace(minute=0, second=0, microsecond=0)
    minute = local.replace(second=0, microsecond=0)
    spans = {
        "year": (day.replace(month=1, day=1), day.replace(year=day.year + 1, month=1, day=1)),
        "quarter": (quarter, (quarter + timedelta(days=100)).replace(day=1)),
        "month": (month, (month + timedelta(days=32)).replace(day=1)),
        "week": (week, week + timedelta(days=7)), "isoWeek": (iso_week, iso_week + timedelta(days=7)),
        "day": (day, day + timedelta(days=1)), "hour": (hour, hour + timedelta(hours=1)),
        "minute": (minute, minute + timedelta(minutes=1)),
    }
    out = {}
    for unit, (first, following) in spans.items():
        out[f"start {unit}"] = epoch_ms(at(zone, *first.timetuple()[:6]))
        out[f"end {unit}"] = epoch_ms(at(zone, *(following - MS).timetuple()[:6], (following - MS).microsecond))
    return out


UNITS = ["year", "quarter", "month", "week", "isoWeek", "day", "hour", "minute"]


@pytest.mark.parametrize("zone", SCAN_ZONES)
async def test_start_and_end_of_every_unit_every_day_of_a_year(engine: ScriptEngine, zone: str) -> None:
    """Each day of 2024. Santiago's clocks skip midnight (2024-09-08 starts at 01:00) and repeat 23:00 on
    2024-04-06: a day there may start at 01:00, and end in the first of the two 23:59:59.999."""
    source = f"""
const start = Meta.currentUserTime;
const units = {json.dumps(UNITS)};
return Array.from({{ length: 366 }}, (_, k) => {{
  const t = start.clone().add(k, "days");
  const row = {{}};
  for (const unit of units) {{
    row[`start ${{unit}}`] = t.clone().startOf(unit).valueOf();
    row[`end ${{unit}}`] = t.clone().endOf(unit).valueOf();
  }}
  return row;
}});
"""
    rows = await logged(engine, source, zone, at(zone, 2024, 1, 1, 12, 34, 56, 789000))
    for k, row in enumerate(rows):
        day = at(zone, *(date(2024, 1, 1) + timedelta(days=k)).timetuple()[:3], 12, 34, 56, 789000)
        assert row == starts(zone, day), (zone, k)


async def test_start_of_week_is_sunday_and_iso_week_monday(engine: ScriptEngine) -> None:
    source = """
const t = Meta.currentUserTime;
const f = "ddd YYYY-MM-DD HH:mm:ss.SSS Z";
return [t.clone().startOf("week").format(f), t.clone().endOf("week").format(f),
  t.clone().startOf("isoWeek").format(f), t.clone().endOf("isoWeek").format(f),
  t.clone().startOf("w").format(f), t.clone().startOf("W").format(f), t.clone().startOf("date").format(f),
  t.clone().endOf("y").format(f), t.clone().startOf("Q").format(f), t.clone().startOf("second").format(f)];
"""
    now = at("America/New_York", 2024, 3, 10, 12, 0, 30, 500000)  # the Sunday clocks went forward
    assert await logged(engine, source, "America/New_York", now) == [
        "Sun 2024-03-10 00:00:00.000 -05:00", "Sat 2024-03-16 23:59:59.999 -04:00",
        "Mon 2024-03-04 00:00:00.000 -05:00", "Sun 2024-03-10 23:59:59.999 -04:00",
        "Sun 2024-03-10 00:00:00.000 -05:00", "Mon 2024-03-04 00:00:00.000 -05:00",
        "Sun 2024-03-10 00:00:00.000 -05:00", "Tue 2024-12-31 23:59:59.999 -05:00",
        "Mon 2024-01-01 00:00:00.000 -05:00", "Sun 2024-03-10 12:00:30.000 -04:00",
    ]


async def test_start_of_hour_keeps_the_offset_in_a_repeated_hour(engine: ScriptEngine) -> None:
    """01:30 EST on 2024-11-03 is the second 01:30 in New York: its hour starts at 01:00 EST, not at the
    first 01:00 (EDT), as moment-timezone keeps a moment's offset when it still fits."""
    source = f"""
const t = Meta.currentUserTime;
return [t.format("{FULL}"), t.clone().startOf("hour").format("{FULL}"), t.clone().endOf("hour").format("{FULL}"),
  t.clone().subtract(1, "hour").format("{FULL}"), t.clone().startOf("day").format("{FULL}")];
"""
    now = datetime(2024, 11, 3, 6, 30, tzinfo=UTC)
    assert await logged(engine, source, "America/New_York", now) == [
        "2024-11-03T01:30:00.000-05:00", "2024-11-03T01:00:00.000-05:00", "2024-11-03T01:59:59.999-05:00",
        "2024-11-03T01:30:00.000-04:00", "2024-11-03T00:00:00.000-04:00",
    ]


# --- Comparing ---------------------------------------------------------------------------------------------

async def test_is_before_is_same_is_after_examples_from_moments_docs(engine: ScriptEngine) -> None:
    source = f"""
const t = {on(2010, 9, 20)};  // moment('2010-10-20')
return [
  t.isBefore('2010-10-21'), t.isBefore('2010-12-31', 'year'), t.isBefore('2011-01-01', 'year'),
  t.isSame('2010-10-20'), t.isSame('2009-12-31', 'year'), t.isSame('2010-01-01', 'year'),
  t.isSame('2010-12-31', 'year'), t.isSame('2011-01-01', 'year'),
  t.isAfter('2010-10-19'), t.isAfter('2010-01-01', 'year'), t.isAfter('2009-12-31', 'year'),
  t.isSameOrBefore('2010-10-20'), t.isSameOrAfter('2010-10-21'), t.isSameOrAfter('2010-10-21', 'month'),
  t.isAfter(t.clone().subtract(1, 'ms')), t.isBefore(t.clone().add(1, 'ms')),
];
"""
    assert await logged(engine, source, "America/Los_Angeles", NOW) == [
        True, False, True, True, False, True, True, False, True, False, True, True, False, True, True, True,
    ]
    months = f"const t = {on(2010)}; return [t.isSame('2011-01-01', 'month'), t.isSame('2010-02-01', 'day')];"
    assert await logged(engine, months, "UTC", NOW) == [False, False]
    now = "const t = Meta.currentUserTime; return [t.isBefore(), t.isSame(), t.isAfter(), t.isSameOrAfter()];"
    assert await logged(engine, now, "UTC", NOW) == [False, True, False, True]


async def test_is_between_examples_from_moments_docs(engine: ScriptEngine) -> None:
    source = f"""
const t = {on(2010, 9, 20)};  // moment('2010-10-20')
return [t.isBetween('2010-10-19', '2010-10-25'), t.isBetween('2010-10-19', undefined),
  t.isBetween('2010-10-25', '2010-10-19'), t.isBetween('2010-01-01', '2012-01-01', 'year'),
  t.isBetween('2009-12-31', '2012-01-01', 'year')];
"""
    assert await logged(engine, source, "UTC", NOW) == [True, True, False, False, True]
    inclusive = f"""
const t = {on(2016, 9, 30)};  // moment('2016-10-30')
return [t.isBetween('2016-10-30', '2016-12-30', undefined, '()'), t.isBetween('2016-10-30', '2016-12-30', undefined, '[)'),
  t.isBetween('2016-01-01', '2016-10-30', undefined, '()'), t.isBetween('2016-01-01', '2016-10-30', undefined, '(]'),
  t.isBetween('2016-10-30', '2016-10-30', undefined, '[]'), t.isBetween('2016-10-30', '2016-10-30', undefined, '(]')];
"""
    assert await logged(engine, inclusive, "UTC", NOW) == [
        False, True, False, True, True, False,
    ]


async def test_is_same_uses_the_first_moments_zone(engine: ScriptEngine) -> None:
    """moment's docs: Sydney 2018-11-09T10:00 and UTC 2018-11-08T12:00 are the same day only seen from UTC."""
    source = """
const sydney = Meta.currentUserTime;
const utc = sydney.clone().tz("UTC").subtract(11, "hours");
return [sydney.format(), utc.format(), sydney.isSame(utc, "day"), utc.isSame(sydney, "day")];
"""
    now = at("Australia/Sydney", 2018, 11, 9, 10)
    assert await logged(engine, source, "Australia/Sydney", now) == [
        "2018-11-09T10:00:00+11:00", "2018-11-08T12:00:00Z", False, True,
    ]


async def test_what_a_moment_compares_with(engine: ScriptEngine) -> None:
    """Moments, Dates, epoch milliseconds, ISO 8601 text (with an offset, or read in the moment's zone),
    arrays of fields; anything else is an invalid moment, never equal, before or after."""
    source = """
const t = Meta.currentUserTime;  // 2024-03-09T12:00:00-05:00
const ms = t.valueOf();
return [
  t.isSame(t.clone()), t.isSame(new Date(ms)), t.isSame(ms), t.isSame("2024-03-09T17:00:00Z"),
  t.isSame("2024-03-09T12:00:00"), t.isSame("2024-03-09 12:00"), t.isSame("20240309T120000"),
  t.isSame("2024-03-09T18:00:00+01:00"), t.isSame("2024-03-09T12:00:00.000-0500"), t.isSame([2024, 2, 9, 12]),
  t.isSame("2024-03-09", "day"), t.isSame("2024-03", "month"), t.isSame("2024", "year"),
  t.diff("2024-03-10T02:30", "hours", true),
  [null, "", "yesterday", "2024-02-30", "2024-13-01", "2024-03-09T25:00", [2024, 12, 1], {}, true, NaN, "9".repeat(100000)]
    .map((x) => [t.isSame(x), t.isBefore(x), t.isAfter(x), Number.isNaN(t.diff(x))]),
];
"""
    result = await logged(engine, source, "America/New_York", at("America/New_York", 2024, 3, 9, 12))
    assert result[:13] == [True] * 13
    assert result[13] == -14.5  # 02:30 does not exist on 2024-03-10: it is 03:30 EDT
    assert result[14] == [[False, False, False, True]] * 11


# --- add / subtract ------------------------------------------------------------------------------------------

def add_months(day: date, months: int) -> date:
    """The same day of the month ``months`` later, or the month's last day when it is shorter."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@pytest.mark.parametrize("start, months", [
    (date(2010, 1, 31), 1), (date(2024, 1, 31), 1), (date(2024, 3, 31), -1), (date(2023, 3, 31), -1),
    (date(2024, 1, 31), 3), (date(2024, 8, 31), 1), (date(2024, 2, 29), 12), (date(2024, 2, 29), 48),
    (date(2024, 12, 31), 2), (date(2024, 5, 31), -15),
])
async def test_months_clamp_to_the_last_day(engine: ScriptEngine, start: date, months: int) -> None:
    """moment's docs: moment([2010, 0, 31]).add(1, 'months') is February 28."""
    source = f"""
const t = {on(start.year, start.month - 1, start.day, 9, 15)};
return [t.clone().add({months}, "months").format("YYYY-MM-DD HH:mm"), t.clone().subtract({-months}, "M").format("YYYY-MM-DD HH:mm")];
"""
    expected = f"{add_months(start, months).isoformat()} 09:15"
    assert await logged(engine, source, "UTC", NOW) == [expected, expected]


async def test_add_and_subtract_like_moment(engine: ScriptEngine) -> None:
    source = """
const t = Meta.currentUserTime;  // 2024-03-09T12:00:00-05:00, the day before DST in New York
const f = (m) => m.format("YYYY-MM-DD HH:mm:ss.SSS Z");
return [
  f(t.clone().add(1, "days")), f(t.clone().add(24, "hours")), f(t.clone().add(7, "d").add(1, "M")),
  f(t.clone().add({ days: 7, months: 1 })), f(t.clone().add(1000000, "milliseconds")), f(t.clone().add(360, "days")),
  f(t.clone().add(1.5, "months")), f(t.clone().add(0.7, "years")), f(t.clone().add(1.5, "days")),
  f(t.clone().add(1.5, "hours")), f(t.clone().add(1, "week")), f(t.clone().add(1, "Q")), f(t.clone().add(1, "y")),
  f(t.clone().add("seconds", 1)), f(t.clone().add("2", "minutes")), f(t.clone().add(1500)),
  f(t.clone().subtract({ hours: 1, minutes: 30 })), f(t.clone().add(-1, "W")), f(t.clone().add(1, "Hours")),
  t.add(1, "h") === t, f(t),
];
"""
    assert await logged(engine, source, "America/New_York", at("America/New_York", 2024, 3, 9, 12)) == [
        "2024-03-10 12:00:00.000 -04:00", "2024-03-10 13:00:00.000 -04:00", "2024-04-16 12:00:00.000 -04:00",
        "2024-04-16 12:00:00.000 -04:00", "2024-03-09 12:16:40.000 -05:00", "2025-03-04 12:00:00.000 -05:00",
        "2024-05-09 12:00:00.000 -04:00", "2024-11-09 12:00:00.000 -05:00", "2024-03-11 12:00:00.000 -04:00",
        "2024-03-09 13:30:00.000 -05:00", "2024-03-16 12:00:00.000 -04:00", "2024-06-09 12:00:00.000 -04:00",
        "2025-03-09 12:00:00.000 -04:00", "2024-03-09 12:00:01.000 -05:00", "2024-03-09 12:02:00.000 -05:00",
        "2024-03-09 12:00:01.500 -05:00", "2024-03-09 10:30:00.000 -05:00", "2024-03-02 12:00:00.000 -05:00",
        "2024-03-09 13:00:00.000 -05:00", True, "2024-03-09 13:00:00.000 -05:00",
    ]


@pytest.mark.parametrize("zone, wall, days", [
    ("America/New_York", (2024, 3, 9, 2, 30), 1),  # into the gap: 02:30 on 03-10 does not exist
    ("America/New_York", (2024, 11, 2, 1, 30), 1),  # into the repeated hour, from EDT: the first 01:30
    ("Europe/London", (2024, 3, 30, 1, 30), 1),  # into the gap
    ("Europe/London", (2024, 10, 26, 1, 30), 1),  # into the repeated hour
    ("Europe/London", (2024, 10, 28, 12, 0), -2),  # back across the change
    ("Australia/Sydney", (2024, 4, 6, 2, 30), 1),  # into the repeated hour (02:00-03:00 on 04-07)
    ("Australia/Sydney", (2024, 10, 5, 2, 30), 1),  # into the gap
])
async def test_days_keep_the_wall_clock_across_dst(engine: ScriptEngine, zone: str, wall: tuple[int, ...],
                                                    days: int) -> None:
    source = f"""
const t = Meta.currentUserTime;
return [t.clone().add({days}, "days").valueOf(), t.clone().add({days * 24}, "hours").valueOf(),
  t.clone().add({days}, "days").diff(t, "days"), t.clone().add({days * 24}, "hours").diff(t, "hours")];
"""
    now = at(zone, *wall)
    later = at(zone, *(datetime(*wall) + timedelta(days=days)).timetuple()[:6])  # type: ignore[misc]
    assert await logged(engine, source, zone, now) == [
        epoch_ms(later), epoch_ms(now + timedelta(days=days)), days, days * 24,
    ]


# --- diff ----------------------------------------------------------------------------------------------------

async def test_diff_examples_from_moments_docs(engine: ScriptEngine) -> None:
    source = f"""
const a = {on(2007, 0, 29)};  // moment([2007, 0, 29])
return [a.diff([2007, 0, 28]), a.diff([2007, 0, 28], "days"), a.diff(a.clone().add(1, "seconds")),
  a.clone().add(1, "seconds").diff(a)];
"""
    assert await logged(engine, source, "UTC", NOW) == [86400000, 1, -1000, 1000]
    years = f'const a = {on(2008, 9)}; return [a.diff([2007, 0], "years"), a.diff([2007, 0], "years", true)];'
    assert await logged(engine, years, "UTC", NOW) == [1, 1.75]


async def test_months_with_the_same_date_are_whole_numbers_apart(engine: ScriptEngine) -> None:
    """moment's docs: Jan 15 to Feb 15 is exactly 1 month, Feb 28 to Mar 28 too, Feb 28 2011 to Feb 28 2012
    exactly 1 year."""
    source = """
const t = Meta.currentUserTime;
const on = (y, m, d) => t.clone().year(y).month(m).date(d);
return [on(2024, 1, 15).diff(on(2024, 0, 15), "months", true), on(2011, 2, 28).diff(on(2011, 1, 28), "months", true),
  on(2012, 1, 28).diff(on(2011, 1, 28), "years", true), on(2024, 0, 15).diff(on(2024, 1, 15), "months", true),
  on(2024, 6, 15).diff(on(2024, 0, 15), "quarters", true)];
"""
    assert await logged(engine, source, "UTC", datetime(2024, 1, 5, 8, tzinfo=UTC)) == [1, 1, 1, -1, 2]


@pytest.mark.parametrize("earlier, later", [
    (date(2024, 1, 31), date(2024, 2, 29)), (date(2024, 1, 31), date(2024, 3, 1)), (date(2024, 1, 31), date(2024, 3, 30)),
    (date(2024, 1, 31), date(2024, 3, 31)), (date(2023, 2, 28), date(2023, 3, 31)), (date(2024, 2, 29), date(2024, 3, 28)),
    (date(2024, 2, 29), date(2025, 2, 28)), (date(2023, 12, 31), date(2024, 6, 30)), (date(2024, 3, 31), date(2024, 4, 30)),
    (date(2024, 5, 31), date(2024, 6, 1)),
])
async def test_diff_in_months_across_month_ends(engine: ScriptEngine, earlier: date, later: date) -> None:
    """Whole months between two dates: how many can be added to the earlier (the day clamped to the month's
    end) without passing the later; negative the other way round."""
    whole = max(n for n in range(0, 30) if add_months(earlier, n) <= later)
    source = f"""
const t = Meta.currentUserTime;
const on = (d) => t.clone().year(d[0]).month(d[1] - 1).date(d[2]);
const [a, b] = [on({list(earlier.timetuple()[:3])}), on({list(later.timetuple()[:3])})];
return [b.diff(a, "months"), a.diff(b, "months"), b.diff(a, "years"), b.diff(a, "quarters")];
"""
    assert await logged(engine, source, "America/New_York", at("America/New_York", 2024, 1, 1, 10)) == [
        whole, -whole, whole // 12, whole // 3,
    ]


async def test_diff_in_days_ignores_dst_and_truncates(engine: ScriptEngine) -> None:
    source = """
const t = Meta.currentUserTime;  // 2024-03-09 18:00 in New York
const next = t.clone().add(1, "day");
return [next.diff(t, "days"), next.diff(t, "hours"), next.diff(t, "days", true), next.diff(t, "weeks", true) * 7,
  t.clone().add(36, "hours").diff(t, "days"), t.diff(t.clone().add(36, "hours"), "days"),
  t.clone().add(10, "days").diff(t, "weeks"), t.clone().add(5, "minutes").diff(t, "seconds"),
  t.clone().add(90, "seconds").diff(t, "minutes", true)];
"""
    now = at("America/New_York", 2024, 3, 9, 18)
    assert await logged(engine, source, "America/New_York", now) == [1, 23, 1, 1, 1, -1, 1, 300, 1.5]


# --- Getters and setters -------------------------------------------------------------------------------------

async def test_getters_and_setters(engine: ScriptEngine) -> None:
    source = """
const t = Meta.currentUserTime;  // Wednesday 2024-02-14 16:20:30.400 in Tokyo
const f = (m) => m.format("ddd YYYY-MM-DD HH:mm:ss.SSS");
return [
  [t.year(), t.month(), t.date(), t.day(), t.weekday(), t.isoWeekday(), t.hour(), t.minute(), t.second(),
   t.millisecond(), t.dayOfYear(), t.quarter(), t.week(), t.isoWeek(), t.daysInMonth(), t.isLeapYear(),
   t.get("month"), t.get("D"), t.unix(), t.utcOffset(), t.zoneAbbr(), t.isDST(), t.isValid()],
  t.toArray(), t.toObject(),
  f(t.clone().hour(25)), f(t.clone().minute(-1)), f(t.clone().date(30)), f(t.clone().month(13)),
  f(t.clone().month("Sep")), f(t.clone().month("december")), f(t.clone().day(7)), f(t.clone().day(-7)),
  f(t.clone().day("Friday")), f(t.clone().isoWeekday(7)), f(t.clone().isoWeekday("mon")), f(t.clone().weekday(0)),
  f(t.clone().dayOfYear(1)), f(t.clone().quarter(4)), f(t.clone().isoWeek(1)), f(t.clone().week(53)),
  f(t.clone().year(2023)), f(t.clone().date(29).year(2025)), f(t.clone().set("hour", 3)),
  f(t.clone().set({ minute: 5, year: 2020, month: 1, date: 29 })), f(t.clone().millisecond(1999)),
  f(t.clone().hour("x")), f(t.clone().month("Smarch")), f(t.clone().hours(1).minutes(2).seconds(3).milliseconds(4)),
];
"""
    now = at("Asia/Tokyo", 2024, 2, 14, 16, 20, 30, 400000)
    assert await logged(engine, source, "Asia/Tokyo", now) == [
        [2024, 1, 14, 3, 3, 3, 16, 20, 30, 400, 45, 1, 7, 7, 29, True, 1, 14, epoch_ms(now) // 1000, 540, "JST",
         False, True],
        [2024, 1, 14, 16, 20, 30, 400],
        {"years": 2024, "months": 1, "date": 14, "hours": 16, "minutes": 20, "seconds": 30, "milliseconds": 400},
        "Thu 2024-02-15 01:20:30.400", "Wed 2024-02-14 15:59:30.400", "Fri 2024-03-01 16:20:30.400",
        "Fri 2025-02-14 16:20:30.400", "Sat 2024-09-14 16:20:30.400", "Sat 2024-12-14 16:20:30.400",
        "Sun 2024-02-18 16:20:30.400", "Sun 2024-02-04 16:20:30.400", "Fri 2024-02-16 16:20:30.400",
        "Sun 2024-02-18 16:20:30.400", "Mon 2024-02-12 16:20:30.400", "Sun 2024-02-11 16:20:30.400",
        "Mon 2024-01-01 16:20:30.400", "Thu 2024-11-14 16:20:30.400", "Wed 2024-01-03 16:20:30.400",
        "Wed 2025-01-01 16:20:30.400", "Tue 2023-02-14 16:20:30.400", "Fri 2025-02-28 16:20:30.400",
        "Wed 2024-02-14 03:20:30.400", "Sat 2020-02-29 16:05:30.400", "Wed 2024-02-14 16:20:31.999",
        "Wed 2024-02-14 16:20:30.400", "Wed 2024-02-14 16:20:30.400", "Wed 2024-02-14 01:02:03.004",
    ]


# --- Time zones -----------------------------------------------------------------------------------------------

ZONES = ["Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Chatham", "America/St_Johns", "Pacific/Kiritimati",
         "Etc/GMT+12", "Africa/Casablanca", "America/Sao_Paulo", "Europe/Dublin", "Antarctica/Troll"]


async def test_tz_shows_the_moment_in_any_zone(engine: ScriptEngine) -> None:
    """A zone named at run time, every 3 days for a year, against zoneinfo (the odd ones: 45-minute
    offsets, a 30-minute DST, +14:00, Morocco's Ramadan change, Dublin's negative DST, Troll's 2 hours)."""
    source = f"""
const start = Meta.currentUserTime;
return {json.dumps(ZONES)}.map((zone) => Array.from({{ length: 122 }},
  (_, k) => start.clone().add(k * 3, "days").tz(zone).format("YYYY-MM-DDTHH:mm:ss.SSSZ z")));
"""
    now = datetime(2024, 1, 10, 5, 6, 7, 890000, tzinfo=UTC)
    shown_by_script = await logged(engine, source, "America/New_York", now)
    for zone, lines in zip(ZONES, shown_by_script):
        for k, line in enumerate(lines):
            instant = at("America/New_York", *(datetime(2024, 1, 10, 0, 6, 7, 890000) + timedelta(days=3 * k)).timetuple()[:6],
                         890000)
            local = instant.astimezone(ZoneInfo(zone))
            assert line == f"{local.isoformat(timespec='milliseconds')} {local.tzname()}", (zone, k)


async def test_tz_mutates_keeps_local_time_on_request_and_names_zones_loosely(engine: ScriptEngine) -> None:
    source = """
const t = Meta.currentUserTime;  // 2024-07-01T09:00:00-04:00
const london = t.clone();
return [london.tz("Europe/London") === london, london.format(), london.tz(), t.tz(),
  t.clone().tz("asia/tokyo").tz(), t.clone().tz("America_Los_Angeles").format(), t.clone().tz("utc").format(),
  t.clone().tz("Europe/Paris", true).format(), t.clone().utcOffset(330).format(), t.clone().utcOffset("-08:00").format(),
  t.clone().utcOffset(-3).utcOffset(), t.clone().utc().format(), t.clone().utcOffset(120).tz(), t.clone().tz("Asia/Kolkata").zoneAbbr()];
"""
    now = at("America/New_York", 2024, 7, 1, 9)
    assert await logged(engine, source, "America/New_York", now) == [
        True, "2024-07-01T14:00:00+01:00", "Europe/London", "America/New_York", "Asia/Tokyo",
        "2024-07-01T06:00:00-07:00", "2024-07-01T13:00:00Z", "2024-07-01T09:00:00+02:00", "2024-07-01T18:30:00+05:30",
        "2024-07-01T05:00:00-08:00", -180, "2024-07-01T13:00:00Z", None, "IST",
    ]


async def test_an_unknown_zone_is_utc_for_the_user_and_an_error_for_tz(engine: ScriptEngine) -> None:
    assert zone_name("Mars/Olympus_Mons") == "UTC" and zone_name("../../etc/passwd") == "UTC"
    assert zone_name("America/New_York") == "America/New_York"
    own = "return [Meta.currentUserTime.tz(), Meta.currentUserTime.format()];"
    assert await logged(engine, own, "Mars/Olympus_Mons", datetime(2024, 1, 1, tzinfo=UTC)) == [
        "UTC", "2024-01-01T00:00:00Z",
    ]
    for call, error in [('tz("Mars/Olympus_Mons")', "RangeError: tz: unknown time zone 'Mars/Olympus_Mons'"),
                        ("tz(42)", "TypeError: tz: a time zone name must be a string"),
                        ('tz("x".repeat(1e6))', f"RangeError: tz: unknown time zone '{'x' * 60}…'"),
                        ('tz("constructor")', "RangeError: tz: unknown time zone 'constructor'"),
                        ("utcOffset(100000)", "RangeError: utcOffset: an offset must be within 24 hours")]:
        result = await run(engine, f"Meta.currentUserTime.{call};", "UTC", datetime(2024, 1, 1, tzinfo=UTC))
        assert result.status == "error" and result.error is not None
        assert result.error.message == error


async def test_a_context_gets_the_zone_tables_of_its_runs_clock(engine: ScriptEngine) -> None:
    """The tables cover WINDOW_DAYS around a run's clock: a context that served a run in January 2024 and
    then one in the summer of 2026 has 2026's DST dates, not the last offset of the old window."""
    reused = ScriptEngine(LIMITS, max_concurrent=1)
    source = 'console.log(Meta.currentUserTime.clone().tz("Europe/London").format("YYYY-MM-DD Z z"));'
    try:
        first = await run(reused, source, "UTC", datetime(2024, 1, 15, tzinfo=UTC))
        later = datetime(2024, 1, 15, tzinfo=UTC) + timedelta(days=WINDOW_DAYS * 2 + 100)
        second = await run(reused, source, "UTC", later)
    finally:
        await reused.aclose()
    assert [r.console[-1].text for r in (first, second)] == ["2024-01-15 +00:00 GMT", "2026-07-03 +01:00 BST"]
    assert second.context_run == first.context_run + 1


def test_the_zone_tables_agree_with_zoneinfo_for_every_zone() -> None:
    """Every zone's offsets, every 50 hours through the window and either side of each change."""
    period = zone_period(NOW)
    data = json.loads(asyncio.run(zone_tables(period)))
    assert set(data["zones"]) == zone_names()
    start = EPOCH + timedelta(days=period * PERIOD_DAYS - WINDOW_DAYS)
    for name, index in data["zones"].items():
        rows = data["tables"][index]
        changes = [(rows[i], rows[i + 1]) for i in range(0, len(rows), 3)]
        zone = ZoneInfo(name)

        def offset_at(instant: datetime) -> int:
            return next(offset for since, offset in reversed(changes) if since <= epoch_ms(instant))

        def actual(instant: datetime) -> int:
            return int(instant.astimezone(zone).utcoffset().total_seconds() // 60)  # type: ignore[union-attr]

        for since, offset in changes[1:]:
            change = EPOCH + timedelta(milliseconds=since)
            assert (actual(change), actual(change - timedelta(seconds=1))) == (offset, offset_at(change - MS)), name
        for step in range(0, (2 * WINDOW_DAYS + PERIOD_DAYS) * 24, 50):
            instant = start + timedelta(hours=step)
            assert offset_at(instant) == actual(instant), (name, instant)


# --- Garbage in, moment's behaviour or a clear error out --------------------------------------------------------

async def test_invalid_moments_behave_like_moments(engine: ScriptEngine) -> None:
    source = """
const t = Meta.currentUserTime;
const bad = t.clone().add(1e300, "years");
return [bad.isValid(), bad.format(), bad.format("YYYY"), bad.toISOString(), JSON.stringify({ bad }), bad.toString(),
  Number.isNaN(bad.valueOf()), Number.isNaN(bad.year()), Number.isNaN(bad.diff(t)), Number.isNaN(t.diff(bad)),
  bad.isBefore(t), t.isAfter(bad), bad.isSame(bad), bad.clone().add(1, "d").isValid(), bad.startOf("day").isValid(),
  t.clone().hour(1e20).isValid(), t.clone().add(Number.MAX_VALUE, "ms").isValid(),
  t.clone().subtract(Infinity, "d").isValid(), Number.isNaN(bad.utcOffset()), bad.zoneAbbr()];
"""
    assert await logged(engine, source, "Europe/London", datetime(2024, 1, 1, tzinfo=UTC)) == [
        False, "Invalid date", "Invalid date", None, '{"bad":null}', "Invalid date", True, True, True, True,
        False, False, False, False, False, False, False, False, True, "",
    ]


async def test_nothing_and_not_a_number_change_nothing(engine: ScriptEngine) -> None:
    source = """
const t = Meta.currentUserTime;
const f = (m) => m.format("YYYY-MM-DD HH:mm:ss.SSS");
return [f(t.clone().add(NaN, "days")), f(t.clone().add(null)), f(t.clone().add(undefined, "d")),
  f(t.clone().add({ days: NaN, hours: "x" })), f(t.clone().startOf()), f(t.clone().endOf(null)),
  f(t.clone().hour(NaN)), f(t.clone().date("soon")), f(t.clone().utcOffset("no offset here")), t.format(null),
  t.isBefore(t, undefined), t.diff(t.clone().add(2, "s"))];
"""
    now = datetime(2024, 1, 6, 7, 8, 9, 10000, tzinfo=UTC)
    same = "2024-01-06 07:08:09.010"
    assert await logged(engine, source, "UTC", now) == [same] * 9 + ["2024-01-06T07:08:09Z", False, -2000]


@pytest.mark.parametrize("call, error", [
    ('add(1, "fortnight")', "RangeError: add: unsupported unit 'fortnight'"),
    ('add(1, "D")', "RangeError: add: unsupported unit 'D'"),
    ('subtract({ eons: 1 })', "RangeError: subtract: unsupported unit 'eons'"),
    ('add("soon", "days")', "TypeError: add: the amount must be a number or an object of units"),
    ('add([1], "days")', "TypeError: add: the amount must be a number or an object of units"),
    ('add(1, 42)', "TypeError: add: a unit must be a string"),
    ('startOf("decade")', "RangeError: startOf: unsupported unit 'decade'"),
    ('endOf("day".repeat(1e6))', f"RangeError: endOf: unsupported unit '{'day' * 20}…'"),
    ('isBefore(0, "weekday")', "RangeError: isBefore: unsupported unit 'weekday'"),
    ('isBetween(0, 1, "day", "[[")', "RangeError: isBetween: inclusivity must be '()', '[)', '(]' or '[]'"),
    ('diff(0, "isoWeek")', "RangeError: diff: unsupported unit 'isoWeek'"),
    ('get("eon")', "RangeError: get: unsupported unit 'eon'"),
    ('set("weekYear", 2020)', "RangeError: set: unsupported unit 'weekYear'"),
    ("format(42)", "TypeError: format: a pattern must be a string"),
    ("constructor(0)", "TypeError: Class constructor Moment cannot be invoked without 'new'"),
    ("constructor.call(null)", "TypeError: Class constructor Moment cannot be invoked without 'new'"),
])
async def test_what_moment_would_ignore_is_a_clear_error(engine: ScriptEngine, call: str, error: str) -> None:
    result = await run(engine, f"Meta.currentUserTime.{call};", "UTC", datetime(2024, 1, 1, tzinfo=UTC))
    assert result.status == "error" and result.error is not None
    assert result.error.message == error


async def test_a_script_cannot_make_or_reach_into_moments(engine: ScriptEngine) -> None:
    source = """
const t = Meta.currentUserTime;
const Moment = Object.getPrototypeOf(t).constructor;
let made;
try { new Moment({}, 0, { name: "Fake", rows: [0, 600, "FAKE"] }); } catch (e) { made = `${e.name}: ${e.message}`; }
return [made, Object.keys(t), Object.getOwnPropertyNames(t), Object.isFrozen(Object.getPrototypeOf(t)),
  JSON.stringify(t), t.format.call({ valueOf: () => 0 }) ?? "no"];
"""
    result = await run(engine, source, "UTC", datetime(2024, 1, 1, tzinfo=UTC))
    assert result.status == "error" and result.error is not None
    assert result.error.message.startswith("TypeError: ")
    probe = source.replace(', t.format.call({ valueOf: () => 0 }) ?? "no"', "")
    assert await logged(engine, probe, "UTC", datetime(2024, 1, 1, tzinfo=UTC)) == [
        "TypeError: Illegal constructor", [], [], True, '"2024-01-01T00:00:00.000Z"',
    ]


async def test_one_runs_moment_does_not_reach_the_next(engine: ScriptEngine) -> None:
    """Meta.currentUserTime is made afresh for each run, and the zones it was moved to are not shared."""
    reused = ScriptEngine(LIMITS, max_concurrent=1)
    spoil = 'const t = Meta.currentUserTime; t.tz("Asia/Tokyo").add(5, "years").utcOffset(-600); t.extra = 1;'
    look = 'console.log(JSON.stringify([Meta.currentUserTime.format(), Meta.currentUserTime.extra, Meta.currentUserTime.tz()]));'
    try:
        first = await run(reused, spoil, "Europe/Berlin", datetime(2024, 1, 15, 12, tzinfo=UTC))
        second = await run(reused, look, "Europe/Berlin", datetime(2024, 1, 15, 12, tzinfo=UTC))
    finally:
        await reused.aclose()
    assert first.status == "ok" and second.context_run == first.context_run + 1
    assert json.loads(second.console[-1].text) == ["2024-01-15T13:00:00+01:00", None, "Europe/Berlin"]
