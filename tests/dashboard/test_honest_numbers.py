"""DESIGN §8: a summary that covers fewer records than the cache holds says so with its progress, and the
status line says when the cache is still catching up with its hub. Sampled at every refresh of a real
app: a partial figure never shows without its sign, and the sign goes once the figure is whole."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
import random

import pytest

from switchroom.store import EventLog, iso_timestamp
from switchroom.store.analytics.derived import Indexer
from switchroom.tui.app import SwitchroomApp
from switchroom.tui.pane_summaries import pane_summaries
from switchroom.tui.panes import PANES
from switchroom.tui.view_state import ViewState
from switchroom.tui.replication import CATCHING_UP_SLACK
from switchroom.tui.widgets.breakdown_view import BreakdownView
from tests.support.hubproc import start_hub
from tests.support.offline_cache import offline_app, write_offline_cache
from tests.support.proxies import LinkProxy
from tests.support.waiting import eventually

HUB_ID = "counting-hub"
RECORDS = 120_000
END = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)


def calls(count: int) -> list[dict[str, object]]:
    """Inbound calls of three features over the last half hour before ``END``."""
    rng = random.Random(5)
    return [{"kind": "api_call", "ts": iso_timestamp(END - timedelta(seconds=1800 * (count - n) / count)),
             "direction": "inbound", "connection_id": "evening-glow", "feature_id": rng.choice(("glow", "dim", "fade")),
             "op_id": "lights.change_color", "status_code": rng.choice((204, 204, 502, 422)), "latency_ms": 9.0}
            for n in range(count)]


def truth(made: list[dict[str, object]]) -> dict[str, dict[str, int]]:
    """Each feature's calls by status, counted here from the records themselves."""
    counts: dict[str, dict[str, int]] = {}
    for record in made:
        by_code = counts.setdefault(str(record["feature_id"]), {})
        by_code[str(record["status_code"])] = by_code.get(str(record["status_code"]), 0) + 1
    return counts


@pytest.fixture
def offline_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[dict[str, object]]]:
    """A cache of ``RECORDS`` calls that no indexer has counted yet, of a hub that is gone."""
    monkeypatch.setattr("switchroom.tui.replication.BACKOFF_BASE", 3600.0)
    cache_dir = tmp_path / "cache"
    made = calls(RECORDS)
    write_offline_cache(cache_dir, made, HUB_ID)
    return cache_dir, made


async def test_a_partial_breakdown_never_shows_without_its_sign(offline_cache: tuple[Path, list]) -> None:
    cache_dir, made = offline_cache
    expected = truth(made)
    app = offline_app(cache_dir)
    samples = {"partial, signed": 0, "whole": 0}
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        view = app.query_one(BreakdownView)

        def sampled() -> bool:
            shown = {b.feature_id: {c.key: c.count for c in b.codes} for b in view._shown}
            title = str(app.title_line.render())
            if shown == expected:
                assert not view.counting and "counting" not in title, "a whole breakdown still says counting"
                samples["whole"] += 1
            else:
                assert view.counting.startswith("counting ") and view.counting in title, (
                    f"a partial breakdown {shown} shown without the sign")
                assert view._lines[0].plain.startswith(view.counting)  # the first line says so
                samples["partial, signed"] += 1
            return samples["whole"] >= 3

        await eventually(sampled, lambda: f"the breakdown to be whole ({samples})", pause=pilot.pause, every=0.02)
    assert samples["partial, signed"] > 0  # the indexer was seen counting: the check above was not idle


async def test_the_status_line_says_catching_up_until_the_cache_has_the_hubs_log(tmp_path: Path) -> None:
    """A 60,000-record backlog through a link paced to 4 MiB/s (about three seconds of copying)."""
    db = tmp_path / "hub.sqlite"
    log = EventLog(db)
    log.ensure_hub_id()
    log.append(calls(60_000))
    log.close()
    hub = start_hub(tmp_path / "hub", db=db)
    proxy = LinkProxy(int(hub.url.rsplit(":", 1)[1]), bytes_per_second=4 << 20)
    await proxy.start()
    seen = {"catching up": 0, "live": 0}
    try:
        app = SwitchroomApp(proxy.url, hub.token, tmp_path / "cache")
        async with app.run_test(size=(120, 30)) as pilot:
            def sampled() -> bool:
                app._show_status()  # drawn from the replicator's state as it is now (one event loop: no race)
                replicator, state = app.replicator, str(app.status_line.render())
                if replicator is None or app.link.name != "live" or not replicator.hub_head:
                    return False
                behind = replicator.hub_head - replicator._log_through
                if behind > CATCHING_UP_SLACK:
                    assert state.startswith("catching up ") and "%" in state, f"{behind:,} behind, and it says {state!r}"
                    seen["catching up"] += 1
                elif state.startswith("live"):
                    seen["live"] += 1
                return seen["live"] >= 3

            await eventually(sampled, lambda: f"the cache to catch up ({seen})", pause=pilot.pause, every=0.02)
    finally:
        await proxy.stop()
        hub.stop()
    assert seen["catching up"] > 0


def test_a_count_of_bad_records_says_so_far_until_every_record_is_checked(tmp_path: Path) -> None:
    """Records are checked for their shape as they are entered, behind the counts: until the last is, the
    status line's count of bad records is one so far."""
    made = [{"seq": n + 1, **record} for n, record in enumerate(calls(3_000))]
    made[3]["status_code"], made[2_900]["console"] = "teapot", "not a list of lines"
    log = EventLog(tmp_path / "cache.sqlite", replica=True)
    log.replicate(made, len(made))
    indexer = Indexer(log.path)
    try:
        while indexer.step():
            pass
        indexer.step_entries(1_000)
        first = pane_summaries(log, ViewState(), PANES[0].load(), live=False, focus=None)
        while indexer.step_entries():
            pass
        last = pane_summaries(log, ViewState(), PANES[0].load(), live=False, focus=None)
    finally:
        indexer.close()
        log.close()
    assert (first.bad_records, first.bad_records_so_far) == (1, True)
    assert (last.bad_records, last.bad_records_so_far) == (2, False)
