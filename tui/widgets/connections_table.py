"""The Connections pane's table: per connection over the time window — calls, calls a minute, error
share, p95 latency, script failures, the last error, and sparklines of calls and errors. Enter
focuses every pane on the connection under the cursor."""

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from store.connection_summaries import ConnectionSummary
from tui.actions import bindings
from tui.text import printable
from tui.widgets.sparkline import sparkline

COLUMNS = (("connection", 18), ("calls", 6), ("/min", 5), ("err %", 6), ("p95 ms", 6), ("scripts ✗", 9),
           ("calls · errors", 17), ("last error", 30))
SPARK_POINTS = 8


class ConnectionsTable(DataTable[Text]):
    BINDINGS = bindings("ConnectionsTable")

    class Focused(Message):
        def __init__(self, connection_id: str) -> None:
            super().__init__()
            self.connection_id = connection_id

    def on_mount(self) -> None:
        self.cursor_type = "row"
        for title, width in COLUMNS:
            self.add_column(title, key=title, width=width)

    def show(self, summaries: list[ConnectionSummary]) -> None:
        added = False
        for row in summaries:
            cells = {
                "connection": Text(printable(row.connection_id)),
                "calls": Text(f"{row.calls:,}", justify="right"),
                "/min": Text(f"{row.calls_per_minute:,.1f}", justify="right"),
                "err %": Text(f"{row.error_share:.1%}", justify="right", style="bold red" if row.errors else ""),
                "p95 ms": Text("" if row.p95_ms is None else f"{row.p95_ms:,.0f}", justify="right"),
                "scripts ✗": Text(f"{row.script_failures:,}/{row.script_runs:,}" if row.script_runs else "",
                                  justify="right", style="bold red" if row.script_failures else ""),
                "calls · errors": Text.assemble((sparkline(row.calls_series[-SPARK_POINTS:]), "green"), " ",
                                                (sparkline(row.errors_series[-SPARK_POINTS:]), "red")),
                "last error": Text(printable(_last_error(row)), style="red" if row.last_error else ""),
            }
            if row.connection_id in self.rows:
                for column, value in cells.items():
                    self.update_cell(row.connection_id, column, value)
            else:
                self.add_row(*cells.values(), key=row.connection_id)
                added = True
        if added:
            self.sort("connection", key=lambda cell: cell.plain)

    def action_focus_connection(self) -> None:
        if self.row_count:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
            if key is not None:
                self.post_message(self.Focused(key))


def _last_error(row: ConnectionSummary) -> str:
    group = row.last_error
    if group is None:
        return ""
    what = group.code if group.kind == "script_run" else f"{group.code} {group.error_code}".strip()
    return f"{group.last_seen[11:19]} {group.feature_id} {what}"
