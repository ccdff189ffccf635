"""The API logs pane's status-code breakdown: per feature over the time window, each status class and
each code with its bar, share, count and p50/p95 latency, labelled with what the code means here.
Choosing a code (Enter) filters the log below to it.

Its lines are made as Rich texts when the breakdowns change and drawn only while on screen (Textual's
``OptionList`` measured every line of it at each change: tens of milliseconds every two seconds while
records stream in, which a key press would wait behind).
"""

from dataclasses import dataclass

from rich.segment import Segment
from rich.text import Text
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip

from store.breakdowns import Breakdown, StatusShare
from tui.actions import bindings
from tui.text import printable
from tui.widgets.cursor_rows import CursorRows
from tui.widgets.sparkline import bar

BAR_WIDTH = 10
_CLASS_STYLES = {"2xx": "green", "3xx": "cyan", "4xx": "yellow", "5xx": "bold red", "skipped": "dim", "none": "bold red"}


@dataclass(frozen=True)
class CodeChoice:
    connection_id: str
    feature_id: str
    key: str
    """A status class (5xx), a code (503), skipped or none."""

    def filter_text(self) -> str:
        words = [f"conn:{self.connection_id}"] if self.connection_id else []
        words.append(f"feature:{self.feature_id}")
        words.append("dir:inbound")
        if self.key != "none":
            words.append(f"status:{self.key}")
        else:
            words.append("code:service_timeout")
        return " ".join(words)


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def share_line(share: StatusShare, indent: str) -> Text:
    klass = share.key if share.key in _CLASS_STYLES else f"{share.key[0]}xx"
    line = Text(indent, no_wrap=True, overflow="ellipsis")
    line.append(f"{share.key:<8}", style=_CLASS_STYLES.get(klass, ""))
    line.append(bar(share.share, BAR_WIDTH), style=_CLASS_STYLES.get(klass, ""))
    line.append(f" {share.share:6.1%} {share.count:>7,}  p50 {_ms(share.p50_ms):>5} p95 {_ms(share.p95_ms):>5} ms  ")
    line.append(printable(share.meaning), style="dim")
    return line


def _worst_first(item: Breakdown) -> tuple[bool, bool, float, str, str]:
    """Features of a connection before calls of none, the largest share of 5xx / no answer first."""
    failed = sum(share.share for share in item.classes if share.key in ("5xx", "none"))
    return not item.connection_id, not item.feature_id, -failed, item.connection_id, item.feature_id


class BreakdownView(CursorRows):
    BINDINGS = bindings("BreakdownView")
    COMPONENT_CLASSES = {"breakdown-view--cursor"}
    DEFAULT_CSS = """
    BreakdownView { height: 1fr; max-height: 14; border-bottom: solid $panel; overflow-x: hidden; }
    BreakdownView > .breakdown-view--cursor { background: $boost; text-style: bold; }
    BreakdownView:focus > .breakdown-view--cursor { background: $accent 40%; }
    BreakdownView:nocolor > .breakdown-view--cursor { text-style: reverse; }
    """

    class CodeChosen(Message):
        def __init__(self, choice: CodeChoice) -> None:
            super().__init__()
            self.choice = choice

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_subtitle = "tab here · enter on a code filters the log"
        self._lines: list[Text] = []
        self._choices: list[CodeChoice | None] = []
        """What choosing each line filters the log to (None: a heading)."""
        self._shown: list[Breakdown] = []

    @property
    def row_count(self) -> int:
        return len(self._lines)

    def show(self, breakdowns: list[Breakdown]) -> None:
        if breakdowns == self._shown:
            return
        self._shown = breakdowns
        self._lines, self._choices = [], []
        if not breakdowns:
            self._add(Text("no calls in the window yet", style="dim"), None)
        for item in sorted(breakdowns, key=_worst_first):
            head = Text(printable(f"{item.connection_id or '(no connection)'} / {item.feature_id or '–'}"),
                        style="bold")
            head.append(f"  {item.total:,} calls  p50 {_ms(item.p50_ms)} p95 {_ms(item.p95_ms)} ms")
            self._add(head, None)
            for share in item.classes:
                self._add(share_line(share, "  "), CodeChoice(item.connection_id, item.feature_id, share.key))
                for code in item.codes:
                    if code.key not in ("skipped", "none") and code.key[0] == share.key[0] and share.key.endswith("xx"):
                        self._add(share_line(code, "    "), CodeChoice(item.connection_id, item.feature_id, code.key))
        self.cursor = min(self.cursor, len(self._lines) - 1)
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._lines))
        self.refresh()

    def _add(self, line: Text, choice: CodeChoice | None) -> None:
        self._lines.append(line)
        self._choices.append(choice)

    def highlight(self, index: int) -> None:
        """Put the cursor on line ``index``."""
        self._move_cursor_to(index)

    def action_choose_code(self) -> None:
        choice = self._choices[self.cursor] if 0 <= self.cursor < len(self._choices) else None
        if choice is not None:
            self.post_message(self.CodeChosen(choice))

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = round(self.scroll_y) + y
        if not 0 <= index < len(self._lines):
            return Strip.blank(width, self._line_style)
        line = self._lines[index].copy()
        line.truncate(width, overflow="ellipsis")
        console = self.app.console
        segments = Segment.apply_style(line.render(console), self._line_style + console.get_style(line.style))
        if index == self.cursor:
            segments = Segment.apply_style(segments, post_style=self.get_component_rich_style("breakdown-view--cursor"))
        return Strip(segments).crop_extend(0, width, self._line_style)
