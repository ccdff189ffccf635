"""The API logs pane (key 2): the status-code breakdown of the inbound calls per feature over the time
window, and under it the live log of every call. Choosing a code in the breakdown filters the log to it."""

from switchroom.store import EventLog
from switchroom.store.analytics.breakdowns import Breakdown, breakdowns
from switchroom.tui.pane_summaries import PaneSummaries, Window
from switchroom.tui.panes.view import PaneView
from switchroom.tui.widgets.breakdown_view import BreakdownView
from switchroom.tui.widgets.log_view import LogView


class LogsPane(PaneView):
    COUNTED_BY_INDEXER = True

    def __init__(self, pane_id: str) -> None:
        log_view, breakdown_view = LogView(id="log-view"), BreakdownView(id="breakdown")
        super().__init__(pane_id, log_view, breakdown_view)
        self.log_view, self.breakdown_view = log_view, breakdown_view

    @staticmethod
    def read_summaries(log: EventLog, window: Window) -> list[Breakdown]:
        if not window.indexed:
            return []
        return breakdowns(log, window.since, connection_id=window.focus, direction="inbound")

    def watch_summaries(self, summaries: PaneSummaries) -> None:
        self.breakdown_view.show(summaries.shown, summaries.counting.sign())

    def on_breakdown_view_code_chosen(self, message: BreakdownView.CodeChosen) -> None:
        self.dashboard.view.filters[str(self.id)] = message.choice.filter_text()
        self.dashboard.apply_filters()
        self.log_view.focus()
