"""``t`` in a list of records: jump to the first record at or after a time, with or without a filter (the
machine's zone UTC here; tests/dashboard/test_time_zones.py jumps in other zones)."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from tests.support.dashboard import wait_until
from tests.support.machine_zone import machine_zone
from tests.support.offline_cache import offline_app, records, write_offline_cache
from switchroom.tui.app import SwitchroomApp
from switchroom.tui.screens.time_jump import TimeJump
from switchroom.store.filters import FilterError, parse_since
from switchroom.tui.widgets.log_view import LogView

MOMENT = "2026-11-26T11:45"


async def jump(app: SwitchroomApp, pilot: object, text: str) -> None:
    await pilot.press("t")  # type: ignore[attr-defined]
    assert isinstance(app.screen, TimeJump)
    app.screen.query_one(Input).value = text
    await pilot.press("enter")  # type: ignore[attr-defined]


@pytest.fixture
def utc_machine() -> Iterator[None]:
    with machine_zone("UTC"):
        yield


@pytest.mark.usefixtures("utc_machine")
async def test_t_moves_the_cursor_to_the_first_record_from_a_time(tmp_path: Path) -> None:
    calls = [r for r in records() if r["kind"] == "api_call"]
    write_offline_cache(tmp_path / "cache", records())
    app = offline_app(tmp_path / "cache")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        view = app.query_one(LogView)
        await wait_until(pilot, lambda: view.total == len(calls) and bool(view.visible_rows()))

        await jump(app, pilot, "half past eleven")
        assert isinstance(app.screen, TimeJump)  # still asking, with the mistake under the line
        assert "not a duration or a time" in str(app.screen.query_one("#time-jump-error", Static).render())
        app.screen.query_one(Input).value = MOMENT
        await pilot.press("enter")
        first = next(n for n, call in enumerate(calls) if call["ts"] >= MOMENT)
        await wait_until(pilot, lambda: view.chosen_record is not None and view.cursor == first)
        assert view.chosen_record is not None and view.chosen_record["request_id"] == calls[first]["request_id"]
        assert not view.follow

        await pilot.press("slash")
        app.filter_bar.query_one(Input).value = "status:5xx"
        await pilot.press("enter")
        await wait_until(pilot, lambda: view.record_filter is not None and view.total == 10)
        await jump(app, pilot, MOMENT)
        failed = [call for call in calls if call["status_code"] >= 500]
        first = next(n for n, call in enumerate(failed) if call["ts"] >= MOMENT)
        await wait_until(pilot, lambda: view.chosen_record is not None and view.cursor == first and not view.follow)
        assert view.chosen_record["request_id"] == failed[first]["request_id"]


def test_the_moments_a_jump_takes() -> None:
    """A jump reads what the filter's ``since:`` reads; here in UTC."""
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert parse_since("11:45", now) == "2026-11-26T11:45:00.000Z"
    assert parse_since("13:05", now) == "2026-11-25T13:05:00.000Z"  # still to come today: yesterday's
    assert parse_since("15m", now) == "2026-11-26T11:45:00.000Z"
    assert parse_since("2026-11-20T08:00", now) == "2026-11-20T08:00:00.000Z"
    for wrong in ("25:00", "noon", "11:61"):
        with pytest.raises(FilterError):
            parse_since(wrong, now)
