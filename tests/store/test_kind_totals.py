"""A kind's total, remembered in the cache between runs, and never used once retention has deleted records."""

from pathlib import Path

import pytest

from switchroom.store import EventLog
from switchroom.store.analytics.kind_totals import kind_total, remember_total
from switchroom.store.analytics.retention import trim
from tests.support.dashboard import wait_until
from tests.support.offline_cache import GONE_HUB, offline_app
from switchroom.tui import known_hubs
from switchroom.tui.cache import Cache
from switchroom.tui.widgets import record_list
from switchroom.tui.widgets.log_view import LogView

HUB_ID = "totals-hub"


def calls(first: int, last: int) -> list[dict[str, object]]:
    return [{"seq": n, "ts": f"2026-11-27T03:{n // 60 % 60:02d}:{n % 60:02d}Z", "kind": "api_call" if n % 4 else "script_run",
             "status_code": 204} for n in range(first, last + 1)]


def test_a_remembered_total_counts_only_what_came_after_it(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "cache.sqlite", replica=True)
    log.replicate(calls(1, 400), 400)
    first = kind_total(log, "api_call")
    assert (first.count, first.through_seq, first.counted) == (300, 399, 300)
    remember_total(log, "api_call", first)
    log.replicate(calls(401, 480), 480)
    later = kind_total(log, "api_call")
    assert (later.count, later.through_seq, later.counted) == (360, 479, 60)  # 480 is a script run
    assert kind_total(log, "script_run").counted == 120  # each kind remembers its own


def test_retention_voids_remembered_totals_even_one_read_before_it(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "cache.sqlite", replica=True)
    log.replicate(calls(1, 400), 400)
    remember_total(log, "api_call", kind_total(log, "api_call"))
    read_before_the_trim = kind_total(log, "api_call")
    assert trim(log, max_bytes=1, chunk=100, max_chunks=1) == 100
    assert kind_total(log, "api_call") == (225, 399, "1", 225)  # counted again, all of it
    remember_total(log, "api_call", read_before_the_trim)  # too late: retention came in between
    assert kind_total(log, "api_call").counted == 225
    assert log.integrity_ok()


async def test_the_api_log_starts_from_the_total_an_earlier_run_left(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(record_list, "REMEMBER_FROM", 100)
    cache_dir = tmp_path / "cache"
    cache = Cache(cache_dir, HUB_ID)
    cache.close()
    known_hubs.remember_hub(cache_dir, known_hubs.hub_key(GONE_HUB), HUB_ID)
    log = EventLog(Cache.path_of(cache_dir, HUB_ID), replica=True)
    log.replicate(calls(1, 400), 400)

    for last, total in ((400, 300), (480, 360)):
        log.replicate(calls(401, last), last)
        app = offline_app(cache_dir)
        async with app.run_test(size=(80, 24)) as pilot:
            view = app.query_one(LogView)
            await wait_until(pilot, lambda: view.total == total)  # counted while its pane is hidden
            app.action_show_pane("logs")  # as the key does, with no pause before the pane reads its rows
            await wait_until(pilot, lambda: bool(view.visible_rows()))
            newest = max(seq for seq in range(1, last + 1) if seq % 4)
            assert view.visible_rows()[-1]["seq"] == newest  # following: the newest row is on screen
            assert view.follow
            await wait_until(pilot, lambda: log.meta("count:api_call") is not None)
        assert log.meta("count:api_call") == '[null, 399, 300]'  # from the first run; the second counted 60
    log.close()
