"""The Scripts pane (key 3): how script runs ended and how long they took, per connection and feature
over the time window, and under it every run."""

from switchroom.store import EventLog
from switchroom.store.queries import ScriptStats, script_summary
from switchroom.tui.pane_summaries import PaneSummaries, Window
from switchroom.tui.panes.view import PaneView
from switchroom.tui.widgets.script_list import ScriptRunList
from switchroom.tui.widgets.script_summary import ScriptSummary


class ScriptsPane(PaneView):
    """Its summary is read from the records, not from the indexer's counts: it reaches every record."""

    def __init__(self, pane_id: str) -> None:
        script_summary = ScriptSummary(id="script-summary")
        super().__init__(pane_id, ScriptRunList(id="script-list"), script_summary)
        self.script_summary = script_summary

    @staticmethod
    def read_summaries(log: EventLog, window: Window) -> list[ScriptStats]:
        return script_summary(log, window.since, window.focus)

    def watch_summaries(self, summaries: PaneSummaries) -> None:
        self.script_summary.show(summaries.shown)
