"""Times as the reader lives them: rows, headers and details in the machine's zone (or the one set), ``z``
to UTC and back, and times typed (``t``, ``since:``) read in the zone shown — through the real app on a
cache, with the machine's zone set as a user sets it (``TZ``)."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import Input, Static

from switchroom.store import iso_timestamp
from switchroom.tui.app import SwitchroomApp
from switchroom.tui.config import Config, ConfigError, load_config
from switchroom.tui.screens.bulk_rerun import BulkRerun
from switchroom.tui.screens.record_detail import RecordDetail
from switchroom.tui.screens.time_jump import TimeJump
from switchroom.tui.time_zones import LocalZone, zone_label
from switchroom.tui.widgets.failure_table import FailureTable
from switchroom.tui.widgets.log_view import LogView
from tests.support.dashboard import wait_until
from tests.support.machine_zone import machine_zone
from tests.support.offline_cache import offline_app, records, write_offline_cache

IST = timedelta(hours=5, minutes=30)
"""India's offset all year (no daylight saving): the zone with a half-hour offset these tests read in."""


@pytest.fixture
def in_india() -> Iterator[None]:
    with machine_zone("Asia/Kolkata"):
        yield


def call(at: datetime, n: int, status: int = 204) -> dict[str, Any]:
    return {"kind": "api_call", "ts": iso_timestamp(at), "direction": "inbound", "connection_id": "evening-glow",
            "feature_id": "glow", "user_id": "user-001", "op": "action", "op_id": "lights.change_color",
            "method": "POST", "path": "/v2/connections/evening-glow/actions/lights.change_color/run",
            "status_code": status, "latency_ms": 10.0, "source": "api", "request_id": f"r{n}"}


def title(app: SwitchroomApp) -> str:
    return str(app.title_line.render())


def row_times(view: LogView) -> list[tuple[str, str]]:
    """(record ts, the time its row shows) for the rows on screen."""
    return [(record["ts"], view.render_line(y).text[:12]) for y, record in enumerate(view.visible_rows())]


def shifted(ts: str, offset: timedelta) -> datetime:
    """A record's UTC time moved by a fixed offset: the wall time of a zone that has that offset."""
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).replace(tzinfo=None) + offset


def clock(at: datetime) -> str:
    return f"{at:%H:%M:%S}.{at.microsecond // 1000:03d}"


async def logs_shown(pilot: Pilot[None], app: SwitchroomApp, total: int) -> LogView:
    await pilot.press("2")
    view = app.query_one(LogView)
    await wait_until(pilot, lambda: view.total == total and bool(view.visible_rows()) and view.window_in_view)
    return view


async def jump(pilot: Pilot[None], app: SwitchroomApp, text: str) -> None:
    await pilot.press("t")
    assert isinstance(app.screen, TimeJump)
    app.screen.query_one(Input).value = text
    await pilot.press("enter")


def on_record(view: LogView, ts: str) -> Callable[[], bool]:
    return lambda: view.chosen_record is not None and view.chosen_record["ts"] == ts


# -- shown ------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("in_india")
async def test_rows_header_and_detail_show_the_machines_zone_and_z_switches_to_utc_and_back(tmp_path: Path) -> None:
    made = records()
    calls = [r for r in made if r["kind"] == "api_call"]
    write_offline_cache(tmp_path / "cache", made)
    app = offline_app(tmp_path / "cache")
    async with app.run_test(size=(100, 30)) as pilot:
        view = await logs_shown(pilot, app, len(calls))
        assert "times IST +05:30" in title(app)
        assert all(shown == clock(shifted(ts, IST)) for ts, shown in row_times(view))
        assert "window 1h to 2026-11-26 17:29 (cache)" in title(app)  # the newest record, 11:59:30 UTC

        await pilot.press("z")
        await wait_until(pilot, lambda: "times UTC" in title(app))
        assert all(shown == ts[11:23] for ts, shown in row_times(view))
        assert "window 1h to 2026-11-26 11:59 (cache)" in title(app)

        await pilot.press("z")
        await wait_until(pilot, lambda: "times IST +05:30" in title(app))
        assert all(shown == clock(shifted(ts, IST)) for ts, shown in row_times(view))

        view.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RecordDetail))
        record = app.screen.record
        local = shifted(record["ts"], IST)
        heading = app.screen.query_one("#detail-title", Static)
        assert f"{local:%Y-%m-%d} {clock(local)} IST +05:30" in str(heading.render())
        await pilot.press("z")  # the detail is shown again in UTC, over the list
        await wait_until(pilot, lambda: f"{record['ts'][:10]} {record['ts'][11:23]} UTC" in str(heading.render()))
        await pilot.press("escape", "z")

        await pilot.press("1")  # the failure groups: last seen, first seen
        table = app.query_one(FailureTable)
        await wait_until(pilot, lambda: table.row_count > 0)
        failed = [c for c in calls if c["status_code"] == 502]
        last, first = shifted(failed[-1]["ts"], IST), shifted(failed[0]["ts"], IST)
        line = next(strip.text for strip in table.render_lines(Region(0, 0, *table.size)) if " 502 " in strip.text)
        assert f" {last:%H:%M:%S} " in line and f" {first:%m-%d %H:%M}" in line


async def test_a_zone_set_by_name_or_utc_wins_over_the_machines(tmp_path: Path) -> None:
    at = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)  # St John's keeps daylight saving in July: -02:30
    write_offline_cache(tmp_path / "cache", [call(at, 1)])
    with machine_zone("Asia/Kolkata"):
        app = offline_app(tmp_path / "cache", Config(time_zone="America/St_Johns"))
        async with app.run_test(size=(100, 30)) as pilot:
            view = await logs_shown(pilot, app, 1)
            assert row_times(view) == [(iso_timestamp(at), "09:30:00.000")]
            assert "times NST -03:30" in title(app) or "times NDT -02:30" in title(app)  # the zone now
            await pilot.press("z")
            await wait_until(pilot, lambda: row_times(view) == [(iso_timestamp(at), "12:00:00.000")])

        app = offline_app(tmp_path / "cache", Config(time_zone="utc"))
        async with app.run_test(size=(100, 30)) as pilot:
            view = await logs_shown(pilot, app, 1)
            assert row_times(view) == [(iso_timestamp(at), "12:00:00.000")] and "times UTC" in title(app)
            await pilot.press("z")  # from UTC, the key goes to the machine's zone
            await wait_until(pilot, lambda: row_times(view) == [(iso_timestamp(at), "17:30:00.000")])
            assert "times IST +05:30" in title(app)


async def test_rows_on_both_sides_of_a_daylight_saving_change_show_the_offset_they_had(tmp_path: Path) -> None:
    # Berlin: clocks go 02:00 CET → 03:00 CEST on 2026-03-29 (01:00 UTC), 03:00 CEST → 02:00 CET on 2026-10-25
    # (01:00 UTC), so 02:30 happens twice that day.
    moments = ["2026-03-29T00:30:00.000Z", "2026-03-29T01:30:00.000Z", "2026-10-25T00:30:00.000Z",
               "2026-10-25T01:30:00.000Z"]
    shown = ["01:30:00.000", "03:30:00.000", "02:30:00.000", "02:30:00.000"]
    zones = ["CET +01:00", "CEST +02:00", "CEST +02:00", "CET +01:00"]
    write_offline_cache(tmp_path / "cache", [call(datetime.fromisoformat(ts), n) for n, ts in enumerate(moments)])
    with machine_zone("Europe/Berlin"):
        app = offline_app(tmp_path / "cache")
        async with app.run_test(size=(100, 30)) as pilot:
            view = await logs_shown(pilot, app, len(moments))
            assert row_times(view) == list(zip(moments, shown, strict=True))
            for n, zone in enumerate(zones):
                view.jump_to(n)
                await pilot.press("enter")
                await wait_until(pilot, lambda: isinstance(app.screen, RecordDetail))
                heading = str(app.screen.query_one("#detail-title", Static).render())
                assert f"{moments[n][:10]} {shown[n]} {zone}" in heading
                await pilot.press("escape")

            await jump(pilot, app, "2026-10-25T02:30")  # the first 02:30 of the two
            await wait_until(pilot, on_record(view, moments[2]))
            await jump(pilot, app, "2026-03-29T02:30")  # a time the clocks skipped: read at the offset before
            await wait_until(pilot, on_record(view, moments[1]))


# -- typed ------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("in_india")
async def test_t_and_since_read_times_in_the_zone_shown(tmp_path: Path) -> None:
    fixed = [call(datetime(2026, 11, 26, 7, 0, tzinfo=UTC) + timedelta(minutes=n), n) for n in range(60)]
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    recent = [call(now - timedelta(minutes=240 - n), 100 + n) for n in range(241)]
    write_offline_cache(tmp_path / "cache", fixed + recent)
    app = offline_app(tmp_path / "cache")
    async with app.run_test(size=(100, 30)) as pilot:
        view = await logs_shown(pilot, app, len(fixed) + len(recent))

        await jump(pilot, app, "2026-11-26T13:05")  # 13:05 in India is 07:35 UTC
        await wait_until(pilot, on_record(view, "2026-11-26T07:35:00.000Z"))
        assert view.render_line(view.cursor - round(view.scroll_y)).text.startswith("13:05:00.000")

        # A time of day: the last time India's clocks showed it. Three hours ago never crosses a date line
        # the way "today, or yesterday if still to come" could while the test runs.
        wanted = now - timedelta(hours=3)
        local = f"{(wanted + IST):%H:%M}"
        await jump(pilot, app, local)
        await wait_until(pilot, on_record(view, iso_timestamp(wanted)))

        await pilot.press("slash")
        app.filter_bar.query_one(Input).value = f"since:{local}"
        await pilot.press("enter")
        since = [r for r in recent if r["ts"] >= iso_timestamp(wanted)]
        await wait_until(pilot, lambda: view.record_filter is not None and view.total == len(since))
        await pilot.press("home")
        await wait_until(pilot, on_record(view, since[0]["ts"]))
        await pilot.press("R")  # a bulk rerun's filter goes to the hub, which reads UTC: the time is written so
        await wait_until(pilot, lambda: isinstance(app.screen, BulkRerun))
        assert app.screen.filter_text == f"since:{iso_timestamp(wanted)}"
        await wait_until(pilot, lambda: app.screen.state == "done")  # the gone hub does not answer the count
        await pilot.press("escape")

        await pilot.press("z")  # the filter means what it reads: since that clock time in UTC now, which is
        # 2½ hours ahead of now (three hours ago in India), so yesterday's
        since = [r for r in fixed + recent if r["ts"] >= iso_timestamp(wanted + IST - timedelta(days=1))]
        await wait_until(pilot, lambda: view.total == len(since), what=lambda: f"{view.total} rows, not {len(since)}")


# -- the parts -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"])
def test_the_machines_zone_converts_as_the_zone_database_does(name: str) -> None:
    """``local`` reads the C library's zone; the zone database is a second way to the same wall times and
    offsets, hour by hour over a year (both changes of daylight saving in it, Lord Howe's half hour too)."""
    zone = ZoneInfo(name)
    with machine_zone(name):
        local = LocalZone()
        for hours in range(0, 366 * 24, 1):
            instant = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=hours, minutes=15)
            ours, theirs = instant.astimezone(local), instant.astimezone(zone)
            assert ours.replace(tzinfo=None) == theirs.replace(tzinfo=None)
            assert (ours.utcoffset(), ours.tzname(), ours.fold) == (theirs.utcoffset(), theirs.tzname(), theirs.fold)
            assert ours.astimezone(UTC) == instant  # and back, the repeated hour told apart by fold


@pytest.mark.parametrize(("zone", "at", "label"), [
    ("UTC", "2026-07-01T12:00Z", "UTC"),
    ("Europe/Berlin", "2026-01-15T12:00Z", "CET +01:00"),
    ("Europe/Berlin", "2026-07-15T12:00Z", "CEST +02:00"),
    ("Europe/London", "2026-01-15T12:00Z", "GMT"),
    ("Asia/Kolkata", "2026-07-01T12:00Z", "IST +05:30"),
    ("Asia/Kathmandu", "2026-07-01T12:00Z", "+05:45"),  # no letters for it in the zone database
    ("America/St_Johns", "2026-01-15T12:00Z", "NST -03:30"),
])
def test_the_zone_is_named_with_its_offset(zone: str, at: str, label: str) -> None:
    assert zone_label(ZoneInfo(zone), datetime.fromisoformat(at)) == label


def test_a_time_zone_setting_that_names_no_zone_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("SWITCHROOM_CONFIG", str(path))
    for value, accepted in (('"local"', "local"), ('"UTC"', "UTC"), ('"Europe/Paris"', "Europe/Paris")):
        path.write_text(f"time_zone = {value}\n", encoding="utf-8")
        assert load_config().time_zone == accepted
    for value in ('"Mars/Olympus_Mons"', '"../../etc/passwd"', "5"):
        path.write_text(f"time_zone = {value}\n", encoding="utf-8")
        with pytest.raises(ConfigError, match=f"^{path}: time_zone: "):
            load_config()
