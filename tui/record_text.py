"""Records drawn as text for their detail views: pretty JSON, labelled fields, a script's source with
its failing line marked. Everything from a record is untrusted and drawn literally (``tui.text``);
colours are tones (``tui.tones``), drawn in the theme's colours by the widget that shows them."""

from dataclasses import dataclass
from typing import Any

import orjson
from rich.cells import cell_len, chop_cells
from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from switchroom.tui.text import printable
from switchroom.tui.tones import ERROR, MUTED, WARNING

SOURCE_CONTEXT = 6
"""Lines of a script shown either side of the failing line."""


def json_block(value: Any) -> Text:
    """``value`` as indented JSON, one literal line per line."""
    if value is None:
        return Text("(none)", style=MUTED)
    try:
        dumped = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        dumped = repr(value)
    return Text("\n".join(printable(line) for line in dumped.splitlines()))


def field_lines(pairs: list[tuple[str, Any]]) -> Text:
    """``label  value`` lines for the values that are set, labels aligned."""
    shown = [(label, value) for label, value in pairs if value not in (None, "", [])]
    width = max((len(label) for label, _ in shown), default=0)
    text = Text()
    for n, (label, value) in enumerate(shown):
        if n:
            text.append("\n")
        text.append(label.ljust(width + 2), style="bold")
        text.append(printable(value))
    return text


@dataclass(frozen=True)
class ScriptSource:
    """A script's lines, numbered, with the failing ``line`` marked (``▶`` and reversed) and a caret under
    its ``column``; only the lines around it unless ``whole``. Long lines wrap here, at the width the
    source is drawn in, so the caret goes under the row where the column lands, never on another row."""

    source: str
    line: int | None = None
    column: int | None = None
    whole: bool = False

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = self.source.splitlines() or [""]
        first, last = 1, len(lines)
        if self.line is not None and not self.whole:
            first, last = max(1, self.line - SOURCE_CONTEXT), min(len(lines), self.line + SOURCE_CONTEXT)
        number_width = len(str(last))
        gutter = number_width + 5  # "▶ 12 │ "
        width = max(1, options.max_width - gutter)
        for number in range(first, last + 1):
            failing = number == self.line
            original = lines[number - 1]
            caret = (cell_len(printable(original[:self.column - 1]))
                     if failing and self.column and self.column >= 1 else None)
            start = 0
            for n, row in enumerate(chop_cells(printable(original), width) or [""]):
                head = f"{'▶' if failing else ' '} {number:>{number_width}} │ " if n == 0 else " " * gutter
                yield Text.assemble((head, ERROR if failing else MUTED), (row, "reverse" if failing else ""),
                                    no_wrap=True)
                if caret is not None and start <= caret < start + cell_len(row):
                    yield Text(" " * (gutter + caret - start) + "^", style=ERROR, no_wrap=True)
                    caret = None
                start += cell_len(row)
            if caret is not None:  # the column is past the line's end: the caret follows its last row
                yield Text(" " * (gutter + min(caret - start + cell_len(row), width)) + "^", style=ERROR,
                           no_wrap=True)


def console_lines(console: list[dict[str, Any]], dropped: int = 0) -> Text:
    if not console:
        return Text("(nothing logged)", style=MUTED)
    styles = {"warn": WARNING, "error": ERROR}
    text = Text()
    for n, entry in enumerate(console):
        if n:
            text.append("\n")
        level = str(entry.get("level", "log"))
        text.append(f"{level:<5} ", style=styles.get(level, MUTED))
        text.append(printable(entry.get("text", "")))
    if dropped:
        text.append(f"\n… {dropped} more lines were dropped (console output is bounded)", style=MUTED)
    return text
