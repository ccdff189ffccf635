"""Snapshots of every pane at 80×24 and 160×50 (pytest-textual-snapshot), on a fixed cache of a hub that
cannot be reached, with the clock stopped and the machine's zone UTC: what a user sees, kept from
changing unnoticed.

After a deliberate change of the look: ``.venv/bin/python -m pytest tests/dashboard/test_snapshots.py --snapshot-update``.
"""

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.support.machine_zone import machine_zone
from tests.support.offline_cache import NOW, offline_app, records, write_offline_cache
from tests.support.waiting import eventually
from switchroom.tui.app import REFRESH_SECONDS, SwitchroomApp
from switchroom.tui.widgets.breakdown_view import BreakdownView
from switchroom.tui.widgets.connections_table import ConnectionsTable
from switchroom.tui.widgets.script_summary import ScriptSummary

PANES = {"connections": "1", "logs": "2", "scripts": "3", "triggers": "4", "reruns": "5"}
STILL_REFRESHES = 3  # a screen unchanged over this many of the app's refreshes is taken as settled


class FrozenDateTime(datetime):
    @classmethod
    def now(cls, tz: Any = None) -> "FrozenDateTime":
        return NOW  # type: ignore[return-value]


@pytest.fixture
def snapshot_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SwitchroomApp]:
    monkeypatch.setattr("switchroom.tui.app.datetime", FrozenDateTime)
    monkeypatch.setattr("switchroom.tui.view_state.datetime", FrozenDateTime)
    monkeypatch.setattr("switchroom.tui.replication.BACKOFF_BASE", 3600.0)  # one failed attempt, then quiet
    write_offline_cache(tmp_path / "cache", records())
    with machine_zone("UTC"):  # times are shown in the machine's zone: the pictures' is UTC
        yield offline_app(tmp_path / "cache")


def settled(app: SwitchroomApp, pane: str) -> Callable[[Pilot[None]], Any]:
    """Show ``pane``, wait until what it shows has been read and the link has given up once, then until
    the screen stays the same over a few of the app's refreshes. Either wait fails the test, saying what it
    waited for, rather than take a picture of a screen still changing."""
    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press(PANES[pane])
        shown = app.lists.get(pane)

        def missing() -> list[str]:
            table = app.query_one(ConnectionsTable)
            waits = {"the link to give up once": app.link.name == "reconnecting",
                     "rows": (table.row_count if shown is None else len(shown.visible_rows())) > 0,
                     "the focus on the pane's list": app.focused is (shown or table)}
            if pane == "logs":
                waits["the breakdown"] = len(app.query_one(BreakdownView)._shown) > 0
            if pane == "scripts":
                waits["the script summary"] = "rain-alert" in str(app.query_one(ScriptSummary).render())
            return [name for name, done in waits.items() if not done]

        await eventually(lambda: not missing(), lambda: f"{pane}: {', '.join(missing())}", pause=pilot.pause)
        screens = [app.export_screenshot()]

        def unchanged() -> bool:
            screens.append(app.export_screenshot())
            return len(screens) > STILL_REFRESHES and len(set(screens[-STILL_REFRESHES - 1:])) == 1

        await eventually(unchanged, f"{pane}: the screen to stop changing", every=REFRESH_SECONDS,
                         pause=pilot.pause)
        await pilot.wait_for_scheduled_animations()
    return run_before


@pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=["80x24", "160x50"])
@pytest.mark.parametrize("pane", list(PANES))
def test_pane(pane: str, size: tuple[int, int], snapshot_app: SwitchroomApp, snap_compare: Any) -> None:
    assert snap_compare(snapshot_app, terminal_size=size, run_before=settled(snapshot_app, pane))
