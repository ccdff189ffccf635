"""The console's script trial (T on the Scripts pane) against a real hub with real V8: the candidate's file
and events asked, the trial's progress, the events listed broken first with the two runs side by side,
and Enter opening both runs whole."""

from pathlib import Path
import io

from rich.console import Console

from textual.widgets import Input, Static

from switchroom.tui.screens.script_trial import ScriptTrialScreen, TrialRuns, TrialTable
from switchroom.tui.screens.trial_ask import TrialAsk
from tests.support.dashboard import make_app, wait_until
from tests.support.sample_services import SampleServices
from tests.support.script_trials import calls_received, rain_alert_runs, write_script
from tests.support.triggers import start

FIXES_ONE_BREAKS_ONE = """const rain = Trigger.ingredients;
if (rain.date === "2001-01-01") { console.log("skipped an old day"); return; }
await performQuery("weather.forecast", { fields: { location: rain.location }, limit: 2 });
throw new Error("a mistake in the new version");
"""


def shown(widget: Static) -> str:
    """What the widget shows, as text (its content may be a group of Rich renderables)."""
    console = Console(width=200, record=True, file=io.StringIO(), color_system=None)
    console.print(widget.content)
    return console.export_text()


async def test_a_trial_from_the_scripts_pane_lists_broken_first_and_opens_both_runs(
        services: SampleServices, tmp_path: Path) -> None:
    hub = start(services, tmp_path / "hub")
    try:
        failed, good = rain_alert_runs(hub, services)
        candidate = write_script(tmp_path, FIXES_ONE_BREAKS_ONE)
        asked = calls_received(services)
        app = make_app(hub, tmp_path)
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await pilot.press("3")
            runs = app.lists["scripts"]
            await wait_until(pilot, lambda: runs.chosen_record is not None
                             and runs.chosen_record.get("connection_id") == "rain-alert")
            await pilot.press("T")
            await wait_until(pilot, lambda: isinstance(app.screen, TrialAsk))
            ask = app.screen
            assert ask.query_one("#trial-events", Input).value == "last 100"
            ask.query_one("#trial-file", Input).value = "~/nowhere/candidate.js"
            await pilot.press("enter")
            await wait_until(pilot, lambda: "No such file" in shown(ask.query_one("#trial-ask-error", Static)))
            ask.query_one("#trial-file", Input).value = str(candidate)
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, ScriptTrialScreen))
            trial = app.screen
            await wait_until(pilot, lambda: trial.summary is not None)
            title = shown(trial.query_one("#trial-title", Static))
            assert "rain-alert: 2 events tried" in title and "1 broken" in title and "1 fixed" in title
            table = trial.query_one(TrialTable)
            assert [row.cells[0].text for row in table.rows] == ["broken", "fixed"]  # broken first
            assert [row.key for row in table.rows] == [str(good["trigger_event_id"]), str(failed["trigger_event_id"])]
            was, now = shown(trial.query_one("#trial-was", Static)), shown(trial.query_one("#trial-now", Static))
            assert "ok" in was and "action messages.send_text" in was
            assert "error (line 4): Error: a mistake in the new version" in now
            assert "query weather.forecast" in now and "← original" in now

            await pilot.press("down")
            assert "skipped an old day" in shown(trial.query_one("#trial-now", Static))
            assert "TypeError" in shown(trial.query_one("#trial-was", Static))
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, TrialRuns))
            assert f"the run that happened is #{failed['seq']}" in shown(app.screen.query(Static).first())
            await pilot.press("escape")
            await pilot.press("escape")
            assert not isinstance(app.screen, (TrialRuns, ScriptTrialScreen))
        assert calls_received(services) == asked
    finally:
        hub.stop()
