"""A script trial as it runs (the hub's ``POST /v1/ops/script-trials``): its progress, then every event
tried, broken first, and under the list the original run beside the candidate's for the event under the
cursor — their outcome, calls with resolved fields, and console. Enter opens both runs whole; escape
leaves (a trial still running stops)."""

from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Static

from switchroom.protocol.ops_answers import TrialFailed, TrialItem, TrialRun, TrialStarted, TrialSummary
from switchroom.tui.actions import bindings
from switchroom.tui.http import HubUnreachable
from switchroom.tui.screens.reading_frame import ReadingFrame
from switchroom.tui.text import printable
from switchroom.tui.trial_client import TrialRefused, trial_lines
from switchroom.tui.trial_text import VERDICT_ORDER, call_text, run_text, summary_text
from switchroom.tui.widgets.record_list import Column
from switchroom.tui.widgets.row_table import Cell, Row, RowTable

TONES = {"broken": "error", "fixed": "ok", "changed": "warning", "still_failing": "error", "no_original": "muted"}


class TrialTable(RowTable):
    BINDINGS = bindings("TrialTable")  # keys from tui/actions.py
    COLUMNS = (Column("verdict", "verdict", 13), Column("event", "event", 8, right=True),
               Column("user", "user", 10), Column("was", "was", 14, flexible=True),
               Column("now", "now", 14, flexible=True), Column("calls", "calls", 11, optional=True))

    class Highlighted(Message):
        def __init__(self, key: str | None, opened: bool = False) -> None:
            super().__init__()
            self.key, self.opened = key, opened

    def _move_cursor_to(self, position: int) -> None:
        super()._move_cursor_to(position)
        self.post_message(self.Highlighted(self.cursor_key))

    def action_open_runs(self) -> None:
        self.post_message(self.Highlighted(self.cursor_key, opened=True))


def item_row(item: TrialItem) -> Row:
    before = len(item.original.calls) if item.original else 0
    return Row(str(item.trigger_event_id), (
        Cell(item.verdict.replace("_", " "), TONES.get(item.verdict, "")), Cell(f"#{item.trigger_event_id}"),
        Cell.of(item.user_id or ""), Cell.of(run_text(item.original)), Cell.of(run_text(item.candidate)),
        Cell(f"{before} → {len(item.candidate.calls)}"),
    ), (VERDICT_ORDER.index(item.verdict), item.trigger_event_id, item.user_id, run_text(item.original),
        run_text(item.candidate), len(item.candidate.calls)))


def run_panel(heading: str, run: TrialRun | None) -> RenderableType:
    """One side of an event: the run's outcome, its calls with their resolved fields, its console."""
    parts: list[RenderableType] = [Text(heading, style="bold")]
    if run is None:
        return Group(*parts, Text("no run of this event to compare with"))
    parts.append(Text(printable(run_text(run)), style="bold" if run.status != "ok" else ""))
    parts.append(Text("calls:" if run.calls else "calls: none"))
    parts += [Text(printable("  " + call_text(call))) for call in run.calls]
    parts.append(Text("console:" if run.console else "console: none"))
    parts += [Text(printable(f"  {line.level}: {line.text}")) for line in run.console]
    return Group(*parts)


class ScriptTrialScreen(ReadingFrame):
    BINDINGS = bindings("ScriptTrialScreen")  # keys from tui/actions.py
    DEFAULT_CSS = """
    ScriptTrialScreen TrialTable { height: 1fr; }
    ScriptTrialScreen #trial-sides { height: 1fr; border-top: solid $accent; }
    ScriptTrialScreen .trial-side { width: 1fr; padding: 0 1; }
    """

    def __init__(self, hub_url: str, token: str, body: dict[str, Any]) -> None:
        super().__init__()
        self.hub_url, self.token, self.body = hub_url, token, body
        self.started: TrialStarted | None = None
        self.summary: TrialSummary | None = None
        self.items: dict[str, TrialItem] = {}
        self.problem = ""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(printable(f"Trying a candidate script on {self.body['connection_id']}…")),
                         id="trial-title", classes="frame-title")
            yield TrialTable(id="trial-table")
            with Horizontal(id="trial-sides"):
                yield VerticalScroll(Static(id="trial-was"), classes="trial-side")
                yield VerticalScroll(Static(id="trial-now"), classes="trial-side")
            yield Static(Text("↑↓ events (broken first) · enter both runs whole · escape back"),
                         classes="frame-keys")

    def on_mount(self) -> None:
        self.query_one(TrialTable).focus()
        self._run()

    @work(exclusive=True)
    async def _run(self) -> None:
        try:
            async for line in trial_lines(self.hub_url, self.token, self.body):
                if isinstance(line, TrialStarted):
                    self.started = line
                elif isinstance(line, TrialItem):
                    self.items[str(line.trigger_event_id)] = line
                    if len(self.items) % 50 == 1 or len(self.items) == (self.started.events if self.started else 0):
                        self._show_items()
                elif isinstance(line, TrialSummary):
                    self.summary = line
                elif isinstance(line, TrialFailed):
                    self.problem = f"{line.code}: {line.message}"
                self._show_title()
        except (HubUnreachable, TrialRefused) as exc:
            self.problem = str(exc)
        self._show_items()
        self.query_one(TrialTable).action_cursor_home()  # done: the worst first
        self._show_title()

    def _show_items(self) -> None:
        table = self.query_one(TrialTable)
        table.set_rows(sorted((item_row(item) for item in self.items.values()), key=lambda row: row.values[:2]))
        self._show_sides(table.cursor_key)

    def _show_title(self) -> None:
        if self.problem:
            text = f"Trial of {self.body['connection_id']} stopped: {self.problem}"
        elif self.summary is not None and self.started is not None:
            text = summary_text(self.started, self.summary)
        elif self.started is not None:
            text = f"{self.started.connection_id}: tried {len(self.items):,} of {self.started.events:,} events (still running)"
        else:
            text = f"Trying a candidate script on {self.body['connection_id']}…"
        self.query_one("#trial-title", Static).update(Text(printable(text)))

    def on_trial_table_highlighted(self, message: TrialTable.Highlighted) -> None:
        if message.opened and message.key in self.items:
            self.app.push_screen(TrialRuns(self.items[message.key]))
        else:
            self._show_sides(message.key)

    def _show_sides(self, key: str | None) -> None:
        item = self.items.get(key) if key is not None else None
        self.query_one("#trial-was", Static).update(run_panel("was (the run that happened)", item.original)
                                                    if item else "")
        self.query_one("#trial-now", Static).update(run_panel("now (the candidate)", item.candidate) if item else "")

    def action_dismiss_trial(self) -> None:
        self.workers.cancel_all()
        self.dismiss(None)


class TrialRuns(ReadingFrame):
    """Both runs of one event, whole: the original (its seq, to open with ``:``) and the candidate's."""

    BINDINGS = bindings("TrialRuns")  # keys from tui/actions.py
    DEFAULT_CSS = """
    TrialRuns .trial-side { width: 1fr; padding: 0 1; }
    """

    def __init__(self, item: TrialItem) -> None:
        super().__init__()
        self.item = item

    def compose(self) -> ComposeResult:
        item = self.item
        original = item.original
        seq = f" · the run that happened is #{original.seq}" if original and original.seq else ""
        with Vertical():
            yield Static(Text(printable(f"event #{item.trigger_event_id} · {item.verdict}{seq}")),
                         classes="frame-title")
            with Horizontal(classes="frame-body"):
                yield VerticalScroll(Static(run_panel("was", original)), classes="trial-side")
                yield VerticalScroll(Static(run_panel("now (the candidate)", item.candidate)), classes="trial-side")
            yield Static(Text("↑↓ scroll · tab the other side · escape back"), classes="frame-keys")

    def action_dismiss_runs(self) -> None:
        self.dismiss(None)
