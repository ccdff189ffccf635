"""The Connections pane's table: each connection with its calls and failures."""

from rich.text import Text
from textual.widgets import DataTable

from store import ConnectionStats
from tui.text import printable


class ConnectionsTable(DataTable[Text]):
    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.add_column("connection", key="connection", width=24)
        self.add_column("calls", key="calls", width=9)
        self.add_column("errors", key="errors", width=8)
        self.add_column("error %", key="share", width=8)

    def show(self, counts: list[ConnectionStats]) -> None:
        added = False
        for row in counts:
            cells = {
                "connection": Text(printable(row.connection_id)),
                "calls": Text(f"{row.calls:,}", justify="right"),
                "errors": Text(f"{row.errors:,}", justify="right", style="bold red" if row.errors else ""),
                "share": Text(f"{row.error_share:.1%}", justify="right"),
            }
            if row.connection_id in self.rows:
                for column, value in cells.items():
                    self.update_cell(row.connection_id, column, value)
            else:
                self.add_row(*cells.values(), key=row.connection_id)
                added = True
        if added:
            self.sort("connection", key=lambda cell: cell.plain)
