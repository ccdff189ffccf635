"""The headless dashboard against a real hub process, over real websockets and a real cache file."""

from pathlib import Path
import uuid

import httpx

from switchroom.store import EventLog
from tests.support.hubproc import RunningHub
from tests.support.dashboard import make_app, run_action, screen_lines, shows_inbound, wait_until
from switchroom.tui.app import SwitchroomApp
from switchroom.tui.widgets.connections_table import ConnectionsTable
from switchroom.tui.widgets.log_view import LogView
from switchroom.tui.widgets.status_line import StatusLine

async def test_a_run_through_the_connect_api_reaches_cache_and_screen(hub: RunningHub, tmp_path: Path) -> None:
    hub.set_lights_faults()
    app = make_app(hub, tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2")
        await wait_until(pilot, lambda: app.link.name == "live")
        request_id = uuid.uuid4().hex
        assert (await run_action(hub, "user-007", request_id)).status_code == 204

        view = app.query_one(LogView)
        await wait_until(pilot, shows_inbound(view, request_id))
        assert app.cache is not None
        cache = EventLog(app.cache.path)
        stored = [r for r in cache.read_after(0, 100_000) if r.get("request_id") == request_id]
        assert {r["direction"] for r in stored} == {"inbound", "outbound"}
        assert next(r for r in stored if r["direction"] == "inbound")["status_code"] == 204

        lines = screen_lines(view)
        row = next(line for line in lines if "user-007" in line and " in " in line)
        assert "evening-glow" in row and "lights.change_color" in row and " 204 " in row
        status = str(app.query_one(StatusLine).render())
        assert hub.url in status and "live" in status

        await pilot.press("1")
        table = app.query_one(ConnectionsTable)
        listed = httpx.get(f"{hub.url}/v1/ops/connections", headers={"Authorization": f"Bearer {hub.token}"}).json()
        glow = next(c for c in listed["data"] if c["id"] == "evening-glow")
        facts = (f"{len(glow['features'])}", f"{glow['enabled_users']:,}")

        def glow_row_shown() -> bool:
            row = table.row_of("evening-glow")
            return row is not None and row.cells[1].text == "1" and (row.cells[7].text, row.cells[8].text) == facts
        await wait_until(pilot, glow_row_shown)  # its call, and its features and enabled users from the hub
        assert {row.key for row in table.rows} == {c["id"] for c in listed["data"]}  # idle connections too
        idle = table.row_of("porch-welcome")
        assert idle is not None and idle.cells[1].text == "0"


async def test_untrusted_text_is_shown_literally(hub: RunningHub, tmp_path: Path) -> None:
    app = make_app(hub, tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("2")
        await wait_until(pilot, lambda: app.link.name == "live")
        request_id = uuid.uuid4().hex
        response = await run_action(hub, "[bold red]x[/]\x1b[2J\x07", request_id)
        assert response.status_code == 422  # no such user: recorded all the same

        view = app.query_one(LogView)
        await wait_until(pilot, shows_inbound(view, request_id))
        row = next(line for line in screen_lines(view) if "422" in line and "[bold" in line)
        assert "[bold red]x[/]" in row
        assert "\x1b" not in row and "\x07" not in row


async def test_a_wrong_token_shows_offline_not_a_crash(hub: RunningHub, tmp_path: Path) -> None:
    app = SwitchroomApp(hub.url, "not-the-token", tmp_path / "cache")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.link.name == "offline")
        assert "offline" in str(app.query_one(StatusLine).render())


async def test_scrolling_up_pauses_the_tail_and_end_resumes_it(hub: RunningHub, tmp_path: Path) -> None:
    hub.set_lights_faults()
    app = make_app(hub, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await wait_until(pilot, lambda: app.link.name == "live")
        view = app.query_one(LogView)
        for n in range(15):  # 30 records: more than the view holds
            await run_action(hub, f"user-{n + 1:03d}", uuid.uuid4().hex)
        last = uuid.uuid4().hex
        await run_action(hub, "user-020", last)
        await wait_until(pilot, shows_inbound(view, last))

        await pilot.press("up", "up")
        assert not view.follow
        await wait_until(pilot, lambda: view.window_in_view)  # a scroll's rows are read after it
        top_before, total_before = view.visible_rows()[0]["seq"], view.total
        newest = uuid.uuid4().hex
        await run_action(hub, "user-001", newest)  # enabled everything: a 204 and an outbound call
        await wait_until(pilot, lambda: view.total >= total_before + 2)  # reloaded with the new run
        await pilot.pause()  # and every message that reload posted handled
        await wait_until(pilot, lambda: view.window_in_view)
        assert view.visible_rows()[0]["seq"] == top_before  # paused: the view stays put
        assert "paused" in str(app.query_one(StatusLine).render())

        await pilot.press("end")
        await wait_until(pilot, shows_inbound(view, newest))
        assert view.follow


async def test_a_hub_restart_is_survived_without_a_gap(tmp_path: Path) -> None:
    from tests.support.hubproc import start_hub

    first = start_hub(tmp_path / "hub")
    app = make_app(first, tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("2")
            await wait_until(pilot, lambda: app.link.name == "live")
            before = uuid.uuid4().hex
            await run_action(first, "user-001", before)
            view = app.query_one(LogView)
            await wait_until(pilot, shows_inbound(view, before))

            first.stop()
            await wait_until(pilot, lambda: app.link.name == "reconnecting")
            again = start_hub(tmp_path / "hub", db=first.db, token=first.token, service_key=first.service_key,
                              port=int(first.url.rsplit(":", 1)[1]))
            try:
                after = uuid.uuid4().hex
                await run_action(again, "user-001", after)
                await wait_until(pilot, shows_inbound(view, after), timeout=40)
                assert app.link.name == "live"
                assert app.cache is not None
                seqs = [r["seq"] for r in EventLog(app.cache.path).read_after(0, 100_000)]
                assert seqs == list(range(1, len(seqs) + 1))  # nothing missing, nothing twice
            finally:
                again.stop()
    finally:
        first.stop()


async def test_the_cache_of_a_hub_that_is_gone_can_be_browsed(tmp_path: Path) -> None:
    from tests.support.hubproc import start_hub

    hub = start_hub(tmp_path / "hub")
    try:
        app = make_app(hub, tmp_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("2")
            await wait_until(pilot, lambda: app.link.name == "live")
            request_id = uuid.uuid4().hex
            await run_action(hub, "user-001", request_id)
            await wait_until(pilot, shows_inbound(app.query_one(LogView), request_id))
    finally:
        hub.stop()

    app = make_app(hub, tmp_path)  # the hub is gone; its cache is not
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await wait_until(pilot, shows_inbound(app.query_one(LogView), request_id))
        await wait_until(pilot, lambda: app.link.name == "reconnecting")
        assert "reconnecting" in str(app.query_one(StatusLine).render())


async def test_retention_trims_the_cache_and_the_log_view_follows(hub: RunningHub, tmp_path: Path) -> None:
    from switchroom.store.analytics.retention import used_bytes
    from switchroom.tui.config import CacheLimits, Config

    app = make_app(hub, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await wait_until(pilot, lambda: app.link.name == "live")
        for n in range(60):
            await run_action(hub, "user-001", uuid.uuid4().hex)
        last = uuid.uuid4().hex
        await run_action(hub, "user-001", last)
        view = app.query_one(LogView)
        await wait_until(pilot, shows_inbound(view, last))
        assert app.cache is not None
        cache = EventLog(app.cache.path)
        [(before,)] = cache.execute("SELECT COUNT(*) FROM records")
        cursor = cache.cursor()
        full = used_bytes(cache)
        app.config = Config(cache=CacheLimits(max_age_days=0, max_size_mb=full * 0.9 / (1 << 20)))
        await app._apply_retention()
        [(after,)] = cache.execute("SELECT COUNT(*) FROM records WHERE kind = 'api_call'")
        assert after < before and cache.cursor() == cursor
        await wait_until(pilot, lambda: view.total == after)  # the view recounted what is left
        await wait_until(pilot, shows_inbound(view, last))  # and still shows the newest at the bottom


async def test_panes_switch_by_number_key_and_by_click(hub: RunningHub, tmp_path: Path) -> None:
    from textual.widgets import ContentSwitcher

    app = make_app(hub, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        switcher = app.query_one(ContentSwitcher)
        assert switcher.current == "connections"
        await pilot.press("2")
        assert switcher.current == "logs" and app.focused is app.query_one(LogView)
        await pilot.click("#pane-tabs", offset=(3, 0))  # on "1 Connections"
        assert switcher.current == "connections"
        await pilot.click("#pane-tabs", offset=(20, 0))  # on "2 API logs"
        assert switcher.current == "logs"
