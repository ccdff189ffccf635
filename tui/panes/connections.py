"""The Connections pane (key 1): each connection's health over the time window, and under it the
failures grouped into issues. Enter on a connection focuses every pane on it and shows its API log;
Enter on a failure group shows its records, ``r`` reruns it."""

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Static

from switchroom.protocol.kinds import SCRIPT_RUN
from switchroom.store import EventLog
from switchroom.store.analytics.connection_summaries import ConnectionSummary, connection_summaries
from switchroom.store.analytics.failures import FailureGroup, failure_groups
from switchroom.tui.pane_summaries import PaneSummaries, Window
from switchroom.tui.panes.view import PaneView
from switchroom.tui.screens.bulk_rerun import BulkRerun
from switchroom.tui.widgets.connections_table import ConnectionsTable
from switchroom.tui.widgets.failure_table import FailureTable, group_filter, why_not_rerun


@dataclass(frozen=True)
class Health:
    connections: list[ConnectionSummary]
    failures: list[FailureGroup]


class ConnectionsPane(PaneView):
    COUNTED_BY_INDEXER = True
    ACTS_ON = "logs"  # the filter, a bulk rerun and an export are the API log's

    def __init__(self, pane_id: str) -> None:
        super().__init__(pane_id)
        self.connections_table = ConnectionsTable(id="connections-table")
        self.failure_table = FailureTable(id="failure-table")

    def compose(self) -> ComposeResult:
        yield self.connections_table
        yield Static(Text("Failures, grouped · tab here · enter: show them · r: rerun an in group"),
                     classes="list-header")
        yield self.failure_table

    @staticmethod
    def read_summaries(log: EventLog, window: Window) -> Health:
        if not window.indexed:
            return Health([], [])
        return Health(connection_summaries(log, window.since, window.until),
                      failure_groups(log, window.since, window.focus))

    def watch_summaries(self, summaries: PaneSummaries) -> None:
        self.connections_table.show(summaries.shown.connections)
        self.failure_table.show(summaries.shown.failures)

    @property
    def main_widget(self) -> Widget:
        return self.connections_table

    def counted(self) -> str:
        return f"{self.connections_table.row_count:,} connections"

    async def read_hub(self) -> None:
        """Each connection's features and enabled users, from the hub (as last saved while it is away)."""
        cache = self.dashboard.cache
        if cache is not None:
            self.connections_table.show_facts(await self.dashboard.definitions.facts(cache.hub_id))

    def on_connections_table_focused(self, message: ConnectionsTable.Focused) -> None:
        self.dashboard.view.focus(message.connection_id)
        self.dashboard.apply_filters()
        self.dashboard.action_show_pane("logs")

    def on_failure_table_chosen(self, message: FailureTable.Chosen) -> None:
        text = group_filter(message.group)
        if message.rerun and self.dashboard.refuses_changes("Rerun"):
            return
        if message.rerun and (why := why_not_rerun(message.group)):
            self.app.notify(f"Not rerun: {why}.", severity="warning")
            return
        if message.rerun:
            self.app.push_screen(BulkRerun(text, self.dashboard.ops))
            return
        pane = "scripts" if message.group.kind == SCRIPT_RUN else "logs"
        self.dashboard.view.filters[pane] = text
        self.dashboard.apply_filters()
        self.dashboard.action_show_pane(pane)
