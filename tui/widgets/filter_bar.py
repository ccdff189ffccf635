"""The ``/`` filter: one line to type the filter language into, with what is wrong shown under it as
you type (the column of the word in question marked), applied with Enter, left with Escape. ↑ and ↓ go
through the filters applied before (the console keeps them across runs); the word being typed is
completed from what the cache knows (→ takes it: ``tui.filter_completion``)."""

from datetime import UTC, tzinfo

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from switchroom.store.filters import FilterError, RecordFilter, parse_filter
from switchroom.tui.actions import bindings
from switchroom.tui.filter_completion import FilterSuggester
from switchroom.tui.text import printable

PLACEHOLDER = "status:5xx code:503 feature:… conn:… user:… op:… since:1h  free text"


class FilterBar(Vertical):
    DEFAULT_CSS = """
    FilterBar { height: auto; display: none; background: $panel; }
    FilterBar.-open { display: block; }
    FilterBar Input, FilterBar Input:focus { border: none; height: 1; padding: 0 1; }
    FilterBar #filter-error { height: auto; padding: 0 1; color: $error; }
    """
    BINDINGS = bindings("FilterBar")

    class Applied(Message):
        def __init__(self, pane: str, text: str, record_filter: RecordFilter) -> None:
            super().__init__()
            self.pane, self.text, self.record_filter = pane, text, record_filter

    def __init__(self, history: list[str] | None = None, *, id: str | None = None) -> None:
        """``history``: the filters applied before, oldest first; the app adds to it."""
        super().__init__(id=id)
        self.pane = ""
        self.base = RecordFilter()
        self.history = history if history is not None else []
        self.suggester = FilterSuggester()
        self._back = 0
        """How many filters back in the history the line shows (0: what was typed)."""
        self._typed = ""
        self.zone: tzinfo = UTC
        """The zone ``since:`` times are read in: the one the dashboard shows."""

    def compose(self) -> ComposeResult:
        yield Input(placeholder=PLACEHOLDER, id="filter-input", suggester=self.suggester)
        yield Static(id="filter-error")

    def action_older(self) -> None:
        self._show_from_history(min(self._back + 1, len(self.history)))

    def action_newer(self) -> None:
        self._show_from_history(max(self._back - 1, 0))

    def _show_from_history(self, back: int) -> None:
        field = self.query_one(Input)
        if self._back == 0:
            self._typed = field.value
        self._back = back
        field.value = self.history[-back] if back else self._typed
        field.cursor_position = len(field.value)

    def open(self, pane: str, text: str, base: RecordFilter, zone: tzinfo = UTC) -> None:
        """Edit the filter of ``pane`` (starting from ``text``); ``base`` is the pane's own kinds and focus,
        ``zone`` the one times are shown in."""
        self.pane, self.base, self.zone = pane, base, zone
        self._back = 0
        field = self.query_one(Input)
        field.value = text
        self.add_class("-open")
        self._check(text)
        field.focus()

    async def action_apply(self) -> None:
        await self.query_one(Input).action_submit()

    def action_close(self) -> None:
        self.remove_class("-open")
        self.post_message(self.Closed())

    class Closed(Message):
        """Left without applying."""

    @on(Input.Changed, "#filter-input")
    def _changed(self, event: Input.Changed) -> None:
        self._check(event.value)

    @on(Input.Submitted, "#filter-input")
    def _submitted(self, event: Input.Submitted) -> None:
        record_filter = self._check(event.value)
        if record_filter is not None:
            self.remove_class("-open")
            self.post_message(self.Applied(self.pane, event.value.strip(), record_filter))

    def _check(self, text: str) -> RecordFilter | None:
        """The filter ``text`` says, or None with the problem shown under it."""
        error = self.query_one("#filter-error", Static)
        try:
            record_filter = parse_filter(text, self.base, zone=self.zone)
        except FilterError as exc:
            error.update(self._pointer(exc))
            return None
        error.update("")
        return record_filter

    def _pointer(self, exc: FilterError) -> Text:
        """The problem, under the column it points at when that column is on the line; past its end (a
        pasted filter far over the bound) the column is said in words instead of a marker off the screen."""
        if not exc.column:
            return Text(printable(exc.reason))
        if exc.column + 2 > self.size.width:
            return Text(f"column {exc.column}: {printable(exc.reason)}")
        return Text(" " * (exc.column - 1) + "^ " + printable(exc.reason))
