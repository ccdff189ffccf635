"""The Connections pane's table: per connection over the time window — the Connect API calls it answered
("in"), their rate a minute, error share and p95 latency; the calls the hub made for it that failed, of
all it made ("out ✗": to services, trigger polls included, and webhooks); script failures; its features
and enabled users (from the hub); sparklines of inbound calls and errors; and the last error of any kind.
Every connection the hub has is a row, those idle in the window too. Enter focuses every pane on the
connection under the cursor; ``d`` shows how it is defined. Narrow terminals leave out the optional
columns (facts and sparklines) first."""

from datetime import tzinfo

from textual.message import Message

from switchroom.store.analytics.connection_summaries import ConnectionSummary
from switchroom.tui.definitions import ConnectionFacts
from switchroom.tui.actions import bindings
from switchroom.tui.screens.connection_definition import ConnectionDefinition
from switchroom.tui.time_zones import clock_time
from switchroom.tui.view_state import zone_of
from switchroom.tui.widgets.record_list import Column
from switchroom.tui.widgets.row_table import Cell, Row, RowTable
from switchroom.tui.widgets.sparkline import sparkline

SPARK_POINTS = 6


class ConnectionsTable(RowTable):
    BINDINGS = bindings("ConnectionsTable")
    COLUMNS = (Column("connection", "connection", 16), Column("in", "calls", 6, right=True),
               Column("in/min", "per_minute", 6, right=True), Column("in err", "errors", 6, right=True),
               Column("p95 ms", "p95", 6, right=True), Column("out ✗", "out", 11, right=True),
               Column("scripts ✗", "scripts", 9, right=True),
               Column("feat", "features", 4, right=True, optional=True),
               Column("users", "enabled_users", 5, right=True, optional=True),
               Column("in", "calls_series", SPARK_POINTS, optional=True),
               Column("errors", "errors_series", SPARK_POINTS, optional=True),
               Column("last error", "last_error", 10, flexible=True))

    class Focused(Message):
        def __init__(self, connection_id: str) -> None:
            super().__init__()
            self.connection_id = connection_id

    DefinitionAsked = ConnectionDefinition.Asked

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._summaries: list[ConnectionSummary] = []
        self._facts: dict[str, ConnectionFacts] = {}

    def show(self, summaries: list[ConnectionSummary]) -> None:
        self._summaries = summaries
        self._show()

    def show_facts(self, facts: dict[str, ConnectionFacts]) -> None:
        self._facts = facts
        self._show()

    def _show(self) -> None:
        active = {summary.connection_id for summary in self._summaries}
        zone = zone_of(self.app)
        rows = [_row(summary, self._facts.get(summary.connection_id), zone) for summary in self._summaries]
        rows += [_idle_row(connection_id, facts) for connection_id, facts in self._facts.items()
                 if connection_id not in active]
        self.set_rows(sorted(rows, key=lambda row: row.key))

    def action_focus_connection(self) -> None:
        if self.cursor_key is not None:
            self.post_message(self.Focused(self.cursor_key))

    def action_show_definition(self) -> None:
        if self.cursor_key is not None:
            self.post_message(self.DefinitionAsked(self.cursor_key))


def _row(row: ConnectionSummary, facts: ConnectionFacts | None, zone: tzinfo) -> Row:
    failing = "error" if row.errors else ""
    return Row(row.connection_id, (
        Cell.of(row.connection_id),
        Cell(f"{row.calls:,}"),
        Cell(f"{row.calls_per_minute:,.1f}"),
        Cell(f"{row.error_share:.1%}" if row.calls else "", failing),
        Cell("" if row.p95_ms is None else f"{row.p95_ms:,.0f}"),
        Cell(f"{row.out_errors:,}/{row.out_calls:,}" if row.out_calls else "", "error" if row.out_errors else ""),
        Cell(f"{row.script_failures:,}/{row.script_runs:,}" if row.script_runs else "",
             "error" if row.script_failures else ""),
        *_fact_cells(facts),
        Cell(sparkline(row.calls_series[-SPARK_POINTS:]), "ok"),
        Cell(sparkline(row.errors_series[-SPARK_POINTS:]), "error"),
        Cell.of(_last_error(row, zone), "error" if row.last_error else ""),
    ), (row.connection_id, row.calls, row.calls_per_minute, row.error_share if row.calls else None, row.p95_ms,
        row.out_errors if row.out_calls else None, row.script_failures if row.script_runs else None,
        *_fact_values(facts), None, None, row.last_error.last_seen if row.last_error else None))


def _idle_row(connection_id: str, facts: ConnectionFacts) -> Row:
    """A connection with no calls and no script runs in the window."""
    return Row(connection_id, (Cell.of(connection_id, "muted"), Cell("0", "muted"), Cell("0.0", "muted"),
                               Cell(""), Cell(""), Cell(""), Cell(""), *_fact_cells(facts), Cell(""), Cell(""),
                               Cell("")),
               (connection_id, 0, 0.0, None, None, None, None, *_fact_values(facts), None, None, None))


def _fact_cells(facts: ConnectionFacts | None) -> tuple[Cell, Cell]:
    """Features and enabled users; blank while the hub has not told them."""
    if facts is None:
        return Cell(""), Cell("")
    return Cell(f"{facts.features:,}"), Cell(f"{facts.enabled_users:,}")


def _fact_values(facts: ConnectionFacts | None) -> tuple[int | None, int | None]:
    return (None, None) if facts is None else (facts.features, facts.enabled_users)


def _last_error(row: ConnectionSummary, zone: tzinfo) -> str:
    group = row.last_error
    if group is None:
        return ""
    return f"{clock_time(group.last_seen, zone)} {group.feature_id} {group.answer}"
