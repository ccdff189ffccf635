"""The API logs pane's status-code breakdown: per feature over the time window, each status class and
each code with its bar, share, count and p50/p95 latency, labelled with what the code means here.
Choosing a code (Enter) filters the log below to it; choosing a feature's line, to the feature's calls.

When every feature's classes and codes do not fit the view (80×24 holds about one), each feature is one
line (its calls, the share of each class, p95) and only the feature under the cursor shows its classes
and codes, worst feature first: every feature stays in sight and the cursor opens the one to read.

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

from switchroom.store.analytics.breakdowns import Breakdown, StatusShare
from switchroom.tui.actions import bindings
from switchroom.tui.text import printable
from switchroom.tui.tones import ERROR, INFO, MUTED, OK, TONE_CLASSES, WARNING, tone_css, tone_styles, toned_text
from switchroom.tui.widgets.cursor_rows import CursorRows
from switchroom.tui.widgets.sparkline import bar

BAR_WIDTH = 10
_CLASS_STYLES = {"2xx": OK, "3xx": INFO, "4xx": WARNING, "5xx": ERROR, "skipped": MUTED, "none": ERROR}
"""The tone of each status class (``tui.tones``: the theme's colours), the same as the lists give them."""


@dataclass(frozen=True)
class CodeChoice:
    connection_id: str
    feature_id: str
    key: str
    """A status class (5xx), a code (503), skipped or none; '' for all the feature's calls."""

    def filter_text(self) -> str:
        words = [f"conn:{self.connection_id}"] if self.connection_id else []
        words.append(f"feature:{self.feature_id}")
        words.append("dir:inbound")
        if self.key == "none":
            words.append("code:service_timeout")
        elif self.key:
            words.append(f"status:{self.key}")
        return " ".join(words)


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def share_line(share: StatusShare, indent: str) -> Text:
    klass = share.key if share.key in _CLASS_STYLES else f"{share.key[0]}xx"
    line = Text(indent, no_wrap=True, overflow="ellipsis")
    line.append(f"{share.key:<8}", style=_CLASS_STYLES.get(klass, ""))
    line.append(bar(share.share, BAR_WIDTH), style=_CLASS_STYLES.get(klass, ""))
    line.append(f" {share.share:6.1%} {share.count:>7,}  p50 {_ms(share.p50_ms):>5} p95 {_ms(share.p95_ms):>5} ms  ")
    line.append(printable(share.meaning), style=MUTED)
    return line


def _feature_line(item: Breakdown, compact: bool, open_: bool) -> Text:
    """A feature's heading: with p50/p95 over its detail lines; when compact and closed (``▸``), one line
    with the share of each class but 2xx."""
    mark = ("▾ " if open_ else "▸ ") if compact else ""
    line = Text(mark + printable(f"{item.connection_id or '(no connection)'} / {item.feature_id or '–'}"),
                style="bold", no_wrap=True, overflow="ellipsis")
    line.append(f"  {item.total:,} calls  ")
    if compact and not open_:
        failing = [share for share in item.classes if share.key != "2xx"]
        for share in failing:
            klass = share.key if share.key in _CLASS_STYLES else f"{share.key[0]}xx"
            line.append(f"{share.key} {share.share:.1%}  ", style=_CLASS_STYLES.get(klass, ""))
        if not failing:
            line.append("all 2xx  ", style=OK)
        line.append(f"p95 {_ms(item.p95_ms)} ms")
    else:
        line.append(f"p50 {_ms(item.p50_ms)} p95 {_ms(item.p95_ms)} ms")
    return line


def _worst_first(item: Breakdown) -> tuple[bool, bool, float, str, str]:
    """Features of a connection before calls of none, the largest share of 5xx / no answer first."""
    failed = sum(share.share for share in item.classes if share.key in ("5xx", "none"))
    return not item.connection_id, not item.feature_id, -failed, item.connection_id, item.feature_id


def _detail(item: Breakdown) -> list[tuple[Text, str]]:
    """A feature's class lines, each followed by its codes' lines, with the key each line chooses."""
    lines = []
    for share in item.classes:
        lines.append((share_line(share, "  "), share.key))
        for code in item.codes:
            if code.key not in ("skipped", "none") and code.key[0] == share.key[0] and share.key.endswith("xx"):
                lines.append((share_line(code, "    "), code.key))
    return lines


class BreakdownView(CursorRows):
    BINDINGS = bindings("BreakdownView")
    COMPONENT_CLASSES = {"breakdown-view--cursor", *TONE_CLASSES}
    DEFAULT_CSS = tone_css("BreakdownView") + """
    BreakdownView { height: 1fr; min-height: 9; max-height: 14; border-bottom: solid $panel; overflow-x: hidden; }
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
        """Worst first."""
        self.counting = ""
        """The sign shown while the breakdowns are partial; '' once they count every record held."""
        self._compact = False
        """One line a feature, but for the open one's classes and codes (they do not all fit)."""
        self._open: tuple[str, str] | None = None
        """The (connection, feature) whose classes and codes show when compact."""

    @property
    def row_count(self) -> int:
        return len(self._lines)

    def show(self, breakdowns: list[Breakdown], counting: str = "") -> None:
        """Show ``breakdowns``; ``counting`` (``counting 412,000 / 1,000,000``) while they leave out records
        the cache holds, said on the first line."""
        ordered = sorted(breakdowns, key=_worst_first)
        if ordered != self._shown or counting != self.counting:
            self._shown, self.counting = ordered, counting
            self._lay_out()

    def on_resize(self) -> None:
        self._lay_out()

    def _lay_out(self) -> None:
        """Build the lines for the breakdowns and the view's height, keeping the cursor on its line."""
        at = self._choices[self.cursor] if 0 <= self.cursor < len(self._choices) else None
        self._lines, self._choices = [], []
        if self.counting:
            self._add(Text.assemble((f"{self.counting}: still counting, these figures are partial", WARNING),
                                    style="bold"), None)
        if not self._shown and not self.counting:
            self._add(Text("no calls in the window yet", style=MUTED), None)
        whole = sum(1 + len(_detail(item)) for item in self._shown) + bool(self.counting)
        compact = len(self._shown) > 1 and whole > self.scrollable_content_region.height
        self._compact = compact
        self.border_subtitle = ("tab here · ↑↓ opens a feature · enter filters the log" if compact
                                else "tab here · enter on a code filters the log")
        keys = [(item.connection_id, item.feature_id) for item in self._shown]
        if self._open not in keys:
            self._open = keys[0] if keys else None
        for item, key in zip(self._shown, keys, strict=True):
            is_open = not compact or key == self._open
            self._add(_feature_line(item, compact, is_open), CodeChoice(*key, ""))
            if is_open:
                for line, code in _detail(item):
                    self._add(line, CodeChoice(*key, code))
        self.cursor = self._choices.index(at) if at in self._choices else min(self.cursor, len(self._lines) - 1)
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._lines))
        self.refresh()

    def _move_cursor_to(self, position: int) -> None:
        """Move the cursor; when compact, the feature it reaches opens (and the one it left closes)."""
        super()._move_cursor_to(position)
        choice = self._choices[self.cursor] if 0 <= self.cursor < len(self._choices) else None
        if self._compact and choice is not None and (choice.connection_id, choice.feature_id) != self._open:
            self._open = (choice.connection_id, choice.feature_id)
            self._lay_out()
            super()._move_cursor_to(self.cursor)

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
        line = toned_text(self._lines[index], tone_styles(self))  # a copy, in the theme's colours now
        line.truncate(width, overflow="ellipsis")
        console = self.app.console
        segments = Segment.apply_style(line.render(console), self._line_style + console.get_style(line.style))
        if index == self.cursor:
            segments = Segment.apply_style(segments, post_style=self.get_component_rich_style("breakdown-view--cursor"))
        return Strip(segments).crop_extend(0, width, self._line_style)
