"""The Connections pane's table: per connection over the time window — calls, calls a minute, error
share, p95 latency, script failures, sparklines of calls and of errors, and the last error. Enter
focuses every pane on the connection under the cursor; ``d`` shows how it is defined."""

from textual.message import Message

from store.connection_summaries import ConnectionSummary
from tui.actions import bindings
from tui.widgets.record_list import Column
from tui.widgets.row_table import Cell, Row, RowTable
from tui.widgets.sparkline import sparkline

SPARK_POINTS = 8


class ConnectionsTable(RowTable):
    BINDINGS = bindings("ConnectionsTable")
    COLUMNS = (Column("connection", "connection", 16), Column("calls", "calls", 6, right=True),
               Column("/min", "per_minute", 6, right=True), Column("err %", "errors", 6, right=True),
               Column("p95 ms", "p95", 6, right=True), Column("scripts ✗", "scripts", 9, right=True),
               Column("calls", "calls_series", SPARK_POINTS), Column("errors", "errors_series", SPARK_POINTS),
               Column("last error", "last_error", 10, flexible=True))

    class Focused(Message):
        def __init__(self, connection_id: str) -> None:
            super().__init__()
            self.connection_id = connection_id

    class DefinitionAsked(Message):
        def __init__(self, connection_id: str) -> None:
            super().__init__()
            self.connection_id = connection_id

    def show(self, summaries: list[ConnectionSummary]) -> None:
        self.set_rows(sorted((_row(summary) for summary in summaries), key=lambda row: row.key))

    def action_focus_connection(self) -> None:
        if self.cursor_key is not None:
            self.post_message(self.Focused(self.cursor_key))

    def action_show_definition(self) -> None:
        if self.cursor_key is not None:
            self.post_message(self.DefinitionAsked(self.cursor_key))


def _row(row: ConnectionSummary) -> Row:
    failing = "error" if row.errors else ""
    return Row(row.connection_id, (
        Cell.of(row.connection_id),
        Cell(f"{row.calls:,}"),
        Cell(f"{row.calls_per_minute:,.1f}"),
        Cell(f"{row.error_share:.1%}", failing),
        Cell("" if row.p95_ms is None else f"{row.p95_ms:,.0f}"),
        Cell(f"{row.script_failures:,}/{row.script_runs:,}" if row.script_runs else "",
             "error" if row.script_failures else ""),
        Cell(sparkline(row.calls_series[-SPARK_POINTS:]), "ok"),
        Cell(sparkline(row.errors_series[-SPARK_POINTS:]), "error"),
        Cell.of(_last_error(row), "error" if row.last_error else ""),
    ))


def _last_error(row: ConnectionSummary) -> str:
    group = row.last_error
    if group is None:
        return ""
    what = group.code if group.kind == "script_run" else f"{group.code} {group.error_code}".strip()
    return f"{group.last_seen[11:19]} {group.feature_id} {what}"
