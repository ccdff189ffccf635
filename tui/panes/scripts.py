"""The Scripts pane (key 3): how script runs ended and how long they took, per connection and feature
over the time window, and under it every run. ``T`` tries a candidate version of a connection's script
on its recorded trigger events (``tui.screens.script_trial``)."""

from textual import work

from switchroom.store import EventLog
from switchroom.store.filters import without_keys
from switchroom.tui.actions import bindings
from switchroom.store.queries import ScriptStats, script_summary
from switchroom.tui.pane_summaries import PaneSummaries, Window
from switchroom.tui.panes.view import PaneView
from switchroom.tui.widgets.script_list import ScriptRunList
from switchroom.tui.widgets.script_summary import ScriptSummary


class ScriptsPane(PaneView):
    """Its summary is read from the records, not from the indexer's counts: it reaches every record."""

    BINDINGS = bindings("ScriptsPane")  # keys from tui/actions.py

    def __init__(self, pane_id: str) -> None:
        script_summary = ScriptSummary(id="script-summary")
        super().__init__(pane_id, ScriptRunList(id="script-list"), script_summary)
        self.script_summary = script_summary

    @staticmethod
    def read_summaries(log: EventLog, window: Window) -> list[ScriptStats]:
        return script_summary(log, window.since, window.focus)

    def watch_summaries(self, summaries: PaneSummaries) -> None:
        self.script_summary.show(summaries.shown)

    @work(group="trial", exclusive=True)
    async def action_try_script(self) -> None:
        """Try a candidate of the focused connection's script (or the selected run's) on recorded events."""
        run = self.records.chosen_record if self.records is not None else None
        connection_id = self.dashboard.view.connection_id or (run or {}).get("connection_id")
        if not isinstance(connection_id, str) or not connection_id:
            self.app.notify("Focus a connection (enter on the Connections pane) or select one of its script "
                            "runs, then T tries a candidate of its script.", severity="warning")
            return
        # imported when first asked: they bring pydantic, which the first screen does without
        from switchroom.tui.screens.script_trial import ScriptTrialScreen
        from switchroom.tui.screens.trial_ask import TrialAsk

        events = without_keys(self.dashboard.view.filters.get(self.id or "", ""), {"status", "code", "kind"})
        body = await self.app.push_screen_wait(TrialAsk(connection_id, events or "last 100"))
        if body is not None:
            self.app.push_screen(ScriptTrialScreen(self.dashboard.hub_url, self.dashboard.token, body))
