"""Snapshots of every pane at 80×24 and 160×50 (pytest-textual-snapshot), on a fixed cache of a hub that
cannot be reached, with the clock stopped: what a user sees, kept from changing unnoticed.

After a deliberate change of the look: ``.venv/bin/python -m pytest tests/dashboard/test_snapshots.py --snapshot-update``.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from switchroom.store import EventLog, iso_timestamp
from tests.support.waiting import eventually
from switchroom.tui import known_hubs
from switchroom.tui.app import REFRESH_SECONDS, SwitchroomApp

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
GONE_HUB = "http://127.0.0.1:9"
HUB_ID = "snapshot-hub"
PANES = {"connections": "1", "logs": "2", "scripts": "3", "triggers": "4", "reruns": "5"}
STILL_REFRESHES = 3  # a screen unchanged over this many of the app's refreshes is taken as settled


class FrozenDateTime(datetime):
    @classmethod
    def now(cls, tz: Any = None) -> "FrozenDateTime":
        return NOW  # type: ignore[return-value]


def records() -> list[dict[str, Any]]:
    """Half an hour of a small hub: calls that succeed and fail, script runs, trigger events, a rerun."""
    found: list[dict[str, Any]] = []
    at = NOW - timedelta(minutes=30)
    for n in range(60):
        at += timedelta(seconds=29)
        connection, feature, op = [("evening-glow", "glow", "lights.change_color"),
                                   ("rain-alert", "umbrella", "messages.send_text")][n % 2]
        status = [204, 204, 204, 502, 204, 422][n % 6]
        base = {"ts": iso_timestamp(at), "connection_id": connection, "feature_id": feature, "user_id": f"user-{n % 7:03d}",
                "user_feature_id": f"uf-{n % 7}", "op": "action", "op_id": op, "request_id": f"r{n}"}
        found.append({"kind": "api_call", **base, "direction": "inbound", "method": "POST",
                      "path": f"/v2/connections/{connection}/actions/{op}/run", "status_code": status,
                      "latency_ms": 10.0 + n % 9, "source": "api", "resolved_fields": {"color": "blue"},
                      **({"error_code": "service_error", "error_message": "the service failed"} if status == 502 else {})})
        if n % 5 == 0:
            found.append({"kind": "trigger_event", **base, "trigger_id": "weather.rain_tomorrow",
                          "trigger_identity": f"t{n}", "meta_id": f"m{n}", "delivered_to": "script", "source": "poll",
                          "ingredients": {"location": "[bold red]x[/]\x1b[2J", "rain_chance": 80}})
            found.append({"kind": "script_run", **base, "script_run_id": f"s{n}", "op_id": "weather.rain_tomorrow",
                          "status": ["ok", "error", "timeout"][n % 3], "duration_ms": [40.0, 12.0, 10000.0][n % 3],
                          "time_limit_ms": 10000.0, "script_version": "abc123",
                          **({"error": {"message": "TypeError: x is undefined", "line": 7, "column": 12}}
                             if n % 3 == 1 else {})})
    found.append({"kind": "rerun", "ts": iso_timestamp(NOW - timedelta(minutes=1)), "phase": "item", "original": 4,
                  "outcome": "ok", "status_code": 204, "api_call_id": 200, "actor": "default", "reason": "back up",
                  "connection_id": "evening-glow", "feature_id": "glow", "op_id": "lights.change_color"})
    return found


@pytest.fixture
def snapshot_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SwitchroomApp:
    monkeypatch.setattr("switchroom.tui.app.datetime", FrozenDateTime)
    monkeypatch.setattr("switchroom.tui.view_state.datetime", FrozenDateTime)
    monkeypatch.setattr("switchroom.tui.replication.BACKOFF_BASE", 3600.0)  # one failed attempt, then quiet
    return offline_app(tmp_path / "cache")


def offline_app(cache_dir: Path) -> SwitchroomApp:
    """The dashboard on a cache in ``cache_dir`` holding ``records()``, its hub gone."""
    log = EventLog(cache_dir / "hubs" / f"{HUB_ID}.sqlite", replica=True)
    log.set_meta("hub_id", HUB_ID)
    stored = log.append(records())
    log.replicate([], stored[-1]["seq"])
    log.close()
    known_hubs.remember_hub(cache_dir, known_hubs.hub_key(GONE_HUB), HUB_ID)
    return SwitchroomApp(GONE_HUB, "no-token", cache_dir)


def settled(app: SwitchroomApp, pane: str) -> Callable[[Pilot[None]], Any]:
    """Show ``pane``, wait until what it shows has been read and the link has given up once, then until
    the screen stays the same over a few of the app's refreshes. Either wait fails the test, saying what it
    waited for, rather than take a picture of a screen still changing."""
    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press(PANES[pane])
        shown = app.lists.get(pane)

        def missing() -> list[str]:
            waits = {"the link to give up once": app.link.name == "reconnecting",
                     "rows": (app.connections_table.row_count if shown is None else len(shown.visible_rows())) > 0,
                     "the focus on the pane's list": app.focused is (shown or app.connections_table)}
            if pane == "logs":
                waits["the breakdown"] = len(app.breakdown_view._shown) > 0
            if pane == "scripts":
                waits["the script summary"] = "rain-alert" in str(app.script_summary.render())
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
