"""The API logs pane's status-code breakdown: per feature over the time window, each status class and
each code with its bar, share, count and p50/p95 latency, labelled with what the code means here.
Choosing a code (Enter) filters the log below to it."""

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from store.breakdowns import Breakdown, StatusShare
from tui.text import printable
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


class BreakdownView(OptionList):
    DEFAULT_CSS = """
    BreakdownView { height: 1fr; max-height: 14; border: none; border-bottom: solid $panel; padding: 0;
                    text-wrap: nowrap; text-overflow: ellipsis; }
    """

    class CodeChosen(Message):
        def __init__(self, choice: CodeChoice) -> None:
            super().__init__()
            self.choice = choice

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._choices: list[CodeChoice | None] = []
        self._shown: list[Breakdown] = []

    def show(self, breakdowns: list[Breakdown]) -> None:
        if breakdowns == self._shown:
            return
        self._shown = breakdowns
        highlighted = self.highlighted
        options: list[Option] = []
        self._choices = []
        if not breakdowns:
            options.append(Option(Text("no calls in the window yet", style="dim"), disabled=True))
            self._choices.append(None)
        for item in sorted(breakdowns, key=_worst_first):
            head = Text(printable(f"{item.connection_id or '(no connection)'} / {item.feature_id or '–'}"),
                        style="bold", no_wrap=True, overflow="ellipsis")
            head.append(f"  {item.total:,} calls  p50 {_ms(item.p50_ms)} p95 {_ms(item.p95_ms)} ms")
            options.append(Option(head))
            self._choices.append(None)
            for share in item.classes:
                options.append(Option(share_line(share, "  ")))
                self._choices.append(CodeChoice(item.connection_id, item.feature_id, share.key))
                for code in item.codes:
                    if code.key not in ("skipped", "none") and code.key[0] == share.key[0] and share.key.endswith("xx"):
                        options.append(Option(share_line(code, "    ")))
                        self._choices.append(CodeChoice(item.connection_id, item.feature_id, code.key))
        self.set_options(options)  # unlike clear + add, lays the screen out again only if the lines' count changed
        if highlighted is not None and options:
            self.highlighted = min(highlighted, len(options) - 1)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        choice = self._choices[event.option_index]
        if choice is not None:
            self.post_message(self.CodeChosen(choice))
