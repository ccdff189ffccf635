"""The dashboard's breakdown, filter, focus, export and alert, headless against a real hub and its
sample services, checked against SQL over the same cache."""

from collections import Counter
from pathlib import Path
import json
import uuid

import httpx
import pytest
from textual.geometry import Region
from textual.widgets import Static

from switchroom.store import EventLog
from tests.support.offline_cache import GONE_HUB, offline_app
from tests.support.hubproc import RunningHub, start_hub
from tests.support.waiting import eventually_sync
from tests.support.dashboard import make_app, run_action, wait_until
from switchroom.tui import known_hubs
from switchroom.tui.app import SwitchroomApp
from switchroom.tui.config import AlertSettings, Config, ExportSettings
from switchroom.tui.screens.connection_definition import ConnectionDefinition
from switchroom.tui.widgets.breakdown_view import BreakdownView
from switchroom.tui.screens.bulk_rerun import BulkRerun
from switchroom.tui.widgets.connections_table import ConnectionsTable
from switchroom.tui.widgets.failure_table import FailureTable, group_filter
from switchroom.tui.widgets.log_view import LogView
from switchroom.tui.widgets.record_list import Column, laid_out
from switchroom.tui.widgets.rerun_list import RerunList


async def make_calls(hub: RunningHub, failing: int, ok: int) -> int:
    """Runs of evening-glow: ``failing`` while the lights are down, then ``ok``; how many got a 502."""
    hub.set_lights_faults(outage=True)
    failed = [(await run_action(hub, f"user-{n + 1:03d}", uuid.uuid4().hex)).status_code for n in range(failing)]
    hub.set_lights_faults()
    for n in range(ok):
        await run_action(hub, f"user-{n + 1:03d}", uuid.uuid4().hex)
    return failed.count(502)


def sql(app: SwitchroomApp, query: str, params: tuple = ()) -> list[tuple]:
    assert app.cache is not None
    log = EventLog(app.cache.path)
    try:
        return log.execute(query, params)
    finally:
        log.close()


async def test_the_breakdown_counts_what_the_callers_were_answered_and_a_code_filters_the_log(
        tmp_path: Path) -> None:
    """On a hub of its own, the glow feature's breakdown equals a count kept by the caller: the status of every
    answer it got (the 422s of users without the connection belong to no feature)."""
    hub = start_hub(tmp_path / "hub")
    answered: Counter[int] = Counter()
    hub.set_lights_faults(outage=True)
    for n in range(12):
        answered[(await run_action(hub, f"user-{n + 1:03d}", uuid.uuid4().hex)).status_code] += 1
    hub.set_lights_faults()
    for n in range(20):
        answered[(await run_action(hub, f"user-{n + 1:03d}", uuid.uuid4().hex)).status_code] += 1
    expected = {code: count for code, count in answered.items() if code != 422}
    assert set(expected) == {204, 502}
    app = make_app(hub, tmp_path)
    try:
        async with app.run_test(size=(120, 50)) as pilot:
            await pilot.press("2")
            view = app.query_one(BreakdownView)

            def glow() -> dict[int, int]:
                shown = next((b for b in view._shown if b.feature_id == "glow"), None)
                return {int(c.key): c.count for c in shown.codes} if shown else {}

            await wait_until(pilot, lambda: glow() == expected,
                             what=lambda: f"glow's breakdown {glow()} to be {expected}")
            breakdown = next(b for b in view._shown if b.feature_id == "glow")
            assert breakdown.total == sum(expected.values())

            index = next(i for i, choice in enumerate(view._choices)
                         if choice is not None and choice.feature_id == "glow" and choice.key == "502")
            view.focus()
            view.highlight(index)
            await pilot.press("enter")
            log_view = app.query_one(LogView)
            await wait_until(pilot, lambda: log_view.record_filter is not None and log_view.total == expected[502]
                             and len(log_view.visible_rows()) > 0)
            rows = log_view.visible_rows()
            assert rows and all(r["status_code"] == 502 and r["feature_id"] == "glow" for r in rows)
            assert "status:502" in str(app.title_line.render())

            # Each failed run made two records, its 502 and the hub's call to the lights that failed: one row.
            await pilot.press("backspace", "1")
            table = app.query_one(FailureTable)

            def glow_groups() -> list[tuple[str, str, int, int]]:
                return [(g.side, g.answer[:4], g.count, sum(c.count for c in g.causes))
                        for g in table.groups.values() if g.feature_id == "glow"]

            one_row = [("in←out", "502←", expected[502], expected[502])]
            await wait_until(pilot, lambda: glow_groups() == one_row,
                             what=lambda: f"glow's failure groups {glow_groups()} to be {one_row}")
    finally:
        hub.stop()


async def test_the_filter_line_shows_mistakes_inline_and_applies_good_filters(hub: RunningHub, tmp_path: Path) -> None:
    await make_calls(hub, failing=3, ok=3)
    app = make_app(hub, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "slash")
        await pilot.press(*"status:9xx", "enter")
        error = str(app.query_one("#filter-error", Static).render())
        assert "'9xx' is not a status" in error and error.lstrip().startswith("^")
        assert app.query_one(LogView).record_filter is None  # not applied
        await pilot.press("ctrl+a", "ctrl+k", *"status:5xx user:user-001", "enter")
        log_view = app.query_one(LogView)
        await wait_until(pilot, lambda: log_view.record_filter is not None and len(log_view.visible_rows()) > 0)
        assert all(r["user_id"] == "user-001" and r["status_code"] >= 500 for r in log_view.visible_rows())


async def test_a_connection_whose_only_failures_are_trigger_polls_shows_them(hub: RunningHub, tmp_path: Path) -> None:
    hub.set_lights_faults(outage=True)
    try:
        notified = httpx.post(f"{hub.url}/v1/notifications", json={"data": [{"user_id": "user-001"}]},
                              headers={"IFTTT-Service-Key": hub.service_key})
        assert notified.status_code == 200
        eventually_sync(lambda: any(r.get("connection_id") == "light-log" and r.get("status_code") == 503
                                    for r in EventLog(hub.db).read_after(0, 1_000_000)))
    finally:
        hub.set_lights_faults()
    logged = [r for r in EventLog(hub.db).read_after(0, 1_000_000)
              if r.get("connection_id") == "light-log" and r["kind"] == "api_call"]
    assert not [r for r in logged if r["direction"] == "inbound"]  # nobody called its Connect API
    out = [r for r in logged if r["direction"] in ("outbound", "webhook")]
    failed = [r for r in out if r["status_code"] is None or r["status_code"] >= 400]
    app = make_app(hub, tmp_path)
    async with app.run_test(size=(160, 50), notifications=True) as pilot:
        table = app.query_one(ConnectionsTable)

        def shown() -> str:
            row = table.row_of("light-log")
            return row.cells[5].text if row is not None else ""
        await wait_until(pilot, lambda: shown() == f"{len(failed)}/{len(out)}", what=lambda: f"out ✗ shows {shown()!r}")
        row = table.row_of("light-log")
        assert row is not None and row.cells[3].text == ""  # no inbound calls: no inbound error share to show
        assert "out ✗" in table.render_line(0).text  # the column says what it counts

        groups = app.query_one(FailureTable)
        await wait_until(pilot, lambda: any(g.connection_id == "light-log" for g in groups.groups.values()))
        polls = next(g for g in groups.groups.values() if g.connection_id == "light-log")
        assert polls.side == "poll" and groups.row_of(group_filter(polls)).cells[1].text == "poll"
        groups.focus()
        groups.select(group_filter(polls))
        await pilot.press("r")
        await pilot.pause()
        assert not isinstance(app.screen, BulkRerun)  # nothing is counted or offered
        [said] = [str(n.message) for n in app._notifications]
        assert said.startswith("Not rerun: trigger polls are not rerun: the hub polls again")


async def test_focusing_a_connection_focuses_every_pane(hub: RunningHub, tmp_path: Path) -> None:
    await make_calls(hub, failing=2, ok=2)
    app = make_app(hub, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(ConnectionsTable)
        await wait_until(pilot, lambda: table.row_of("evening-glow") is not None)
        table.focus()
        table.select("evening-glow")
        await pilot.press("enter")
        assert app.current_pane == "logs" and app.view.connection_id == "evening-glow"
        assert all(records.record_filter is not None and records.record_filter.connection_id == "evening-glow"
                   for records in app.lists.values())
        assert "Switchroom › evening-glow" in str(app.title_line.render())
        log_view = app.query_one(LogView)
        await wait_until(pilot, lambda: log_view.total > 0 and len(log_view.visible_rows()) > 0)
        assert {r["connection_id"] for r in log_view.visible_rows()} == {"evening-glow"}
        await pilot.press("backspace")
        assert app.view.connection_id is None and log_view.record_filter is None


async def test_focusing_a_connection_replaces_the_connection_a_filter_named(hub: RunningHub, tmp_path: Path) -> None:
    await make_calls(hub, failing=2, ok=2)
    app = make_app(hub, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2", "slash", *"conn:porch-welcome dir:inbound", "enter")
        await pilot.press("1")
        table = app.query_one(ConnectionsTable)
        await wait_until(pilot, lambda: table.row_of("evening-glow") is not None)
        table.focus()
        table.select("evening-glow")
        await pilot.press("enter")
        assert app.view.filters["logs"] == "dir:inbound"
        title = str(app.title_line.render())
        assert "evening-glow" in title and "porch-welcome" not in title
        log_view = app.query_one(LogView)
        await wait_until(pilot, lambda: log_view.total > 0 and len(log_view.visible_rows()) > 0)
        assert {(r["connection_id"], r["direction"]) for r in log_view.visible_rows()} == {("evening-glow", "inbound")}


async def test_exports_go_where_the_settings_say_and_never_overwrite_each_other(hub: RunningHub, tmp_path: Path) -> None:
    await make_calls(hub, failing=2, ok=2)
    exports = tmp_path / "exports"
    exports.mkdir()
    app = make_app(hub, tmp_path, Config(export=ExportSettings(dir=str(exports))))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.press("2")
        log_view = app.query_one(LogView)
        await wait_until(pilot, lambda: log_view.total >= 4)
        await pilot.press("e", "e", "e")  # within one second: three files, none written over
        await wait_until(pilot, lambda: len(list(exports.glob("switchroom-logs-*.jsonl"))) == 3)
        await pilot.pause()
        shown = " ".join(str(n.message) for n in app._notifications)
    files = sorted(exports.glob("switchroom-logs-*.jsonl"))
    assert all(len(f.read_text().splitlines()) >= 4 for f in files)  # each whole: the runs above
    assert all(str(f) in shown for f in files)  # each toast says where its file went
    assert not list(exports.glob("*.partial"))


async def test_export_writes_exactly_the_filtered_rows(hub: RunningHub, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    await make_calls(hub, failing=4, ok=4)
    monkeypatch.chdir(tmp_path)
    app = make_app(hub, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2", "slash", *"status:502 dir:inbound", "enter")
        log_view = app.query_one(LogView)
        await wait_until(pilot, lambda: log_view.record_filter is not None and log_view.total >= 4)
        await pilot.press("e", "E")
        await wait_until(pilot, lambda: len(list(tmp_path.glob("switchroom-logs-*.jsonl"))) == 1
                         and len(list(tmp_path.glob("switchroom-logs-*.csv"))) == 1)
        expected = [seq for (seq,) in sql(app, "SELECT seq FROM records WHERE kind = 'api_call' AND status_code = 502 "
                                               "AND skipped IS NOT 1 AND direction = 'inbound' ORDER BY seq")]
    [jsonl] = tmp_path.glob("switchroom-logs-*.jsonl")
    assert [json.loads(line)["seq"] for line in jsonl.read_text().splitlines()] == expected
    [csv_file] = tmp_path.glob("switchroom-logs-*.csv")
    lines = csv_file.read_text().splitlines()
    assert lines[0].startswith("seq,ts,kind") and [int(line.split(",")[0]) for line in lines[1:]] == expected


async def test_an_error_rate_alert_shows_a_banner_and_rings_once(hub: RunningHub, tmp_path: Path) -> None:
    await make_calls(hub, failing=10, ok=2)
    config = Config(alert=AlertSettings(error_rate=0.5, window_minutes=60, min_calls=5))
    app = make_app(hub, tmp_path, config)
    bells: list[int] = []
    app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.alert_banner.display, timeout=30)
        assert "evening-glow/glow" in str(app.alert_banner.render())
        await app._check_alert()
        await app._check_alert()
        assert bells == [1]


def definition_text(app: SwitchroomApp) -> str:
    screen = app.screen
    assert isinstance(screen, ConnectionDefinition)
    return "\n".join(str(static.render()) for static in screen.query("#definition-body Static").results(Static))


async def test_a_connections_definition_shows_fields_script_and_stays_known_offline(hub: RunningHub,
                                                                                      tmp_path: Path) -> None:
    await make_calls(hub, failing=0, ok=1)
    cache_dir = tmp_path / "cache"
    app = make_app(hub, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(ConnectionsTable)
        await wait_until(pilot, lambda: table.row_of("evening-glow") is not None)
        table.focus()
        table.select("evening-glow")
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectionDefinition) and "Glow at dusk" in definition_text(app))
        shown = definition_text(app)
        assert "lights.change_color" in shown and "nowhere (no script, no webhook)" in shown
        assert "light (select, required)  developer sets it: living_room" in shown
        assert "color (select, required)  user sets it, default warm_white" in shown
        await pilot.press("escape")
        assert not isinstance(app.screen, ConnectionDefinition)
        app.post_message(ConnectionsTable.DefinitionAsked("porch-welcome"))
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectionDefinition) and "Runtime script" in definition_text(app))
        shown = definition_text(app)
        assert "to its runtime script" in shown and "phone (text, required)  user sets it, no default" in shown
        assert "// Porch welcome: when a light comes on" in shown  # the script's first line, numbered
        hub_id = app.cache.hub_id if app.cache else ""

    known_hubs.remember_hub(cache_dir, known_hubs.hub_key(GONE_HUB), hub_id)
    offline = offline_app(cache_dir)
    async with offline.run_test(size=(80, 24)) as pilot:
        offline.post_message(ConnectionsTable.DefinitionAsked("porch-welcome"))
        await wait_until(pilot, lambda: isinstance(offline.screen, ConnectionDefinition)
                         and "Runtime script" in definition_text(offline))
        await pilot.press("escape")
        offline.post_message(ConnectionsTable.DefinitionAsked("never-fetched"))
        await wait_until(pilot, lambda: isinstance(offline.screen, ConnectionDefinition)
                         and "not known here yet" in definition_text(offline))


def test_the_reruns_list_names_connection_op_and_user_where_there_is_room() -> None:
    wide = {column.key: width for _, column, width in laid_out(RerunList.COLUMNS, 156)}
    assert wide["connection_id"] >= 14 and wide["op_id"] >= 20 and wide["user_id"] >= 10
    narrow = laid_out(RerunList.COLUMNS, 78)
    assert {column.key for _, column, _ in narrow}.isdisjoint({"connection_id", "op_id", "user_id"})
    assert sum(width for _, _, width in narrow) + len(narrow) - 1 <= 78
    outcome = {column.key: width for _, column, width in narrow}["outcome"]
    assert len("finished 380/380") <= outcome  # a bulk's state is not cut


async def test_a_re_sort_keeps_the_selected_row_selected_and_in_view() -> None:
    """New figures sort the row under the cursor elsewhere (a failure group seen again jumps to the top of
    the newest-first list): the cursor goes with it, and the view follows it."""
    from textual.app import App, ComposeResult
    from switchroom.tui.widgets.row_table import Cell, Row, RowTable

    class Table(RowTable):
        COLUMNS = (Column("name", "name", 10),)

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield Table()

    def rows(order: list[int]) -> list[Row]:
        return [Row(f"g{n}", (Cell(f"group {n}"),)) for n in order]

    async with Host().run_test(size=(40, 8)) as pilot:
        table = pilot.app.query_one(Table)
        table.set_rows(rows(list(range(30))))
        table.focus()
        await pilot.press("down", "down")
        assert table.cursor_key == "g2"
        table.set_rows(rows([n for n in range(30) if n != 2] + [2]))  # g2 sorted to the end
        await pilot.pause()
        assert table.cursor_key == "g2" and table.cursor == 29
        top = round(table.scroll_y)
        assert top <= 29 < top + table.size.height - table.HEADER_LINES  # on screen


@pytest.mark.parametrize("width", [78, 118, 156])
def test_every_table_fits_its_rows_in_the_view(width: int) -> None:
    """At 80 and 160 columns (less a scrollbar) no row runs past the view's edge, where it would be cut
    without a sign: optional columns leave first, then flexible ones give up cells."""
    from switchroom.tui.widgets.script_list import ScriptRunList
    from switchroom.tui.widgets.trigger_list import TriggerList

    for table in (ConnectionsTable, FailureTable, LogView, RerunList, ScriptRunList, TriggerList):
        shown = laid_out(table.COLUMNS, width)
        assert sum(w for _, _, w in shown) + len(shown) - 1 <= width, (table.__name__, shown)


async def test_a_short_breakdown_shows_every_feature_and_opens_the_one_under_the_cursor() -> None:
    """Six features' classes and codes take 30 lines; in 10 each feature is one line, worst first, with the
    worst open; moving down opens the next and closes the last; with room, every feature is open."""
    from textual.app import App, ComposeResult
    from switchroom.store.analytics.breakdowns import Breakdown, StatusShare

    def breakdown(feature: str, failed: int) -> Breakdown:
        ok, bad = StatusShare("2xx", 100 - failed, (100 - failed) / 100, 5.0, 9.0, ""), StatusShare(
            "5xx", failed, failed / 100, 5.0, 9.0, "")
        codes = (StatusShare("204", 100 - failed, (100 - failed) / 100, 5.0, 9.0, "ran"),
                 StatusShare("502", failed, failed / 100, 5.0, 9.0, "service_error"))
        return Breakdown("conn", feature, 100, 5.0, 9.0, (ok, bad), codes, 1)

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield BreakdownView()

    features = [breakdown(f"f{n}", n + 1) for n in range(6)]  # f5 fails most
    async with Host().run_test(size=(80, 50)) as pilot:
        view = pilot.app.query_one(BreakdownView)
        view.styles.height = 11  # 10 lines and the border
        await pilot.pause()
        view.show(features)
        await pilot.pause()
        lines = [strip.text.rstrip() for strip in view.render_lines(Region(0, 0, *view.size))][:view.row_count]
        heads = [line for line in lines if line.startswith(("▸", "▾"))]
        assert [head.split()[1] for head in heads] == ["conn", "conn", "conn", "conn", "conn", "conn"]
        assert [head.split(" / ")[1].split()[0] for head in heads] == ["f5", "f4", "f3", "f2", "f1", "f0"]
        assert heads[0].startswith("▾") and "5xx 5.0%" in heads[1]  # the worst open, the next its share
        assert view.row_count == 6 + 4
        view.focus()
        await pilot.press("down", "down", "down", "down", "down")  # past f5's four lines, onto f4
        chosen = view._choices[view.cursor]
        assert chosen is not None and (chosen.feature_id, chosen.key) == ("f4", "")
        opened = [view._lines[n].plain for n in range(view.row_count) if view._lines[n].plain.startswith("▾")]
        assert len(opened) == 1 and "f4" in opened[0]
        assert view.row_count == 10
        view.styles.height = view.styles.max_height = 40
        await pilot.pause()
        assert view.row_count == 6 * 5  # room for all: every feature open
        assert not any(view._lines[n].plain.startswith(("▸", "▾")) for n in range(view.row_count))


@pytest.mark.parametrize("width", [78, 156])
def test_a_tables_columns_follow_what_its_rows_hold(width: int) -> None:
    """At 160 columns the failure groups' op column had 38 cells for ids of 24 while the code was cut at
    17 (`422 invalid_para…`): a flexible column lends what its cells do not need to the cut ones."""
    from switchroom.tui.widgets.record_list import fitted_widths

    columns = FailureTable.COLUMNS
    natural = tuple({"code": 22, "op": 24, "meaning": 70}.get(c.key, c.width) for c in columns)
    widths = dict(zip((c.key for c in columns), fitted_widths(columns, width, natural)))
    shown = [w for w in widths.values() if w]
    assert sum(shown) + len(shown) - 1 <= width
    if width == 156:
        assert widths["code"] == 22 and widths["op"] == 24  # whole, and no wider than the widest op
        assert sum(shown) + len(shown) - 1 == width  # the rest goes to what it means
    else:
        assert widths["code"] >= 17  # it keeps its own width when nothing spares more
