"""The Connections pane's tables sort by any column, by key and by a click on the column's title, and
say so in the header; the cursor keeps its row, and Enter still acts on the row under it."""

from pathlib import Path
import uuid

import httpx

from switchroom.tui.widgets.connections_table import ConnectionsTable
from switchroom.tui.widgets.failure_table import FailureTable
from switchroom.tui.widgets.record_list import laid_out
from tests.support.dashboard import make_app, run_action, wait_until
from tests.support.hubproc import RunningHub, start_hub


def header(table) -> str:
    return table.render_line(0).text


def column(table, title: str) -> list[str]:
    index = next(n for n, c in enumerate(table.COLUMNS) if c.title == title)
    return [row.cells[index].text for row in table.rows]


def as_number(text: str) -> float:
    return float(text.replace(",", "").rstrip("%")) if text else float("-inf")


async def test_connections_sort_by_key_and_by_clicking_a_title(tmp_path: Path) -> None:
    hub = start_hub(tmp_path / "hub")
    try:
        for n in range(6):  # evening-glow: 6 calls; video-search: 2 queries
            await run_action(hub, f"user-{n % 3 + 1:03d}", uuid.uuid4().hex)
        for _ in range(2):
            httpx.post(f"{hub.url}/v2/connections/video-search/queries/videos.search/perform",
                       json={"user_id": "user-001", "fields": {"query": "cats"}},
                       headers={"IFTTT-Service-Key": hub.service_key})
        app = make_app(hub, tmp_path)
        async with app.run_test(size=(160, 50)) as pilot:
            table = app.query_one(ConnectionsTable)
            await wait_until(pilot, lambda: column(table, "in")[:1] and sum(as_number(t) for t in column(table, "in")) >= 8)
            given = [row.key for row in table.rows]
            assert given == sorted(given)  # by name, as given
            table.focus()
            await pilot.press("s")  # connection ▲
            assert "connection ▲" in header(table)
            await pilot.press("s")  # in ▼: the busiest first
            assert "in ▼" in header(table)
            calls = [as_number(t) for t in column(table, "in")]
            assert calls == sorted(calls, reverse=True) and [row.key for row in table.rows][:2] == [
                "evening-glow", "video-search"]
            await pilot.press("S")
            assert "in ▲" in header(table)
            assert [as_number(t) for t in column(table, "in")] == sorted(calls)

            # A click on the "p95 ms" title sorts by it; a second click turns it round.
            x = header(table).index("p95 ms") + 1
            await pilot.click(ConnectionsTable, offset=(x, 0))
            assert "p95 ms ▼" in header(table)
            p95 = [as_number(t) for t in column(table, "p95 ms") if t]
            assert p95 == sorted(p95, reverse=True)
            await pilot.click(ConnectionsTable, offset=(header(table).index("p95 ms") + 1, 0))
            assert "p95 ms ▲" in header(table)

            # The cursor's row is the one Enter acts on, wherever the sort put it.
            table.select("video-search")
            await pilot.press("enter")
            assert app.view.connection_id == "video-search"
    finally:
        hub.stop()


async def test_failure_groups_sort_and_enter_opens_the_group_under_the_cursor(tmp_path: Path) -> None:
    hub = start_hub(tmp_path / "hub")
    try:
        hub.set_lights_faults(error_rate=1.0, error_status=503)
        for n in range(3):
            await run_action(hub, f"user-{n + 1:03d}", uuid.uuid4().hex)
        hub.set_lights_faults()
        await run_action(hub, "user-004", uuid.uuid4().hex)  # has not enabled evening-glow: a 422
        app = make_app(hub, tmp_path)
        async with app.run_test(size=(160, 50)) as pilot:
            table = app.query_one(FailureTable)
            await wait_until(pilot, lambda: len(table.rows) >= 2, what=lambda: f"two groups in {table.rows}")
            table.focus()
            await pilot.press("s")
            assert header(table).lstrip().startswith("count ▼")
            counts = [as_number(t) for t in column(table, "count")]
            assert counts == sorted(counts, reverse=True)
            await pilot.press("S")
            assert header(table).lstrip().startswith("count ▲")
            smallest = table.rows[0].key
            table.cursor = 0
            await pilot.press("enter")
            assert table.groups[smallest].count == min(counts)
            await wait_until(pilot, lambda: app.view.filters.get("logs") == smallest,
                             what=lambda: f"{app.view.filters} {app.focused} {smallest}")
    finally:
        hub.stop()


async def test_at_80_columns_the_sorted_column_still_shows_its_arrow(hub: RunningHub, tmp_path: Path) -> None:
    app = make_app(hub, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(ConnectionsTable)
        await wait_until(pilot, lambda: len(table.rows) > 0)
        table.focus()
        for n, column in enumerate(table.COLUMNS):
            table.sort_by(n)
            await pilot.pause()
            line = header(table)
            drawn = {index for index, _, _ in laid_out(table.COLUMNS, table.scrollable_content_region.width,
                                                       table._natural)}
            if n in drawn:  # a column left out at this width cannot show it
                assert line.count("▼") + line.count("▲") == 1, (column.title, line)
