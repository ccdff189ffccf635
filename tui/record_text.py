"""Records drawn as text for their detail views: pretty JSON, labelled fields, a script's source with
its failing line marked. Everything from a record is untrusted and drawn literally (``tui.text``)."""

from typing import Any

import orjson
from rich.text import Text

from tui.text import printable

SOURCE_CONTEXT = 6
"""Lines of a script shown either side of the failing line."""


def json_block(value: Any) -> Text:
    """``value`` as indented JSON, one literal line per line."""
    if value is None:
        return Text("(none)", style="dim")
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


def script_source(source: str, line: int | None, column: int | None = None, whole: bool = False) -> Text:
    """The script's lines, numbered, with the failing ``line`` marked (``▶`` and reversed) and a caret
    under its ``column``; only the lines around it unless ``whole``."""
    lines = source.splitlines() or [""]
    first, last = 1, len(lines)
    if line is not None and not whole:
        first, last = max(1, line - SOURCE_CONTEXT), min(len(lines), line + SOURCE_CONTEXT)
    number_width = len(str(last))
    text = Text()
    for number in range(first, last + 1):
        failing = number == line
        if number > first:
            text.append("\n")
        text.append(f"{'▶' if failing else ' '} {number:>{number_width}} │ ", style="bold red" if failing else "dim")
        text.append(printable(lines[number - 1]), style="reverse" if failing else "")
        if failing and column:
            text.append("\n" + " " * (number_width + 5 + column - 1) + "^", style="bold red")
    return text


def console_lines(console: list[dict[str, Any]], dropped: int = 0) -> Text:
    if not console:
        return Text("(nothing logged)", style="dim")
    styles = {"warn": "yellow", "error": "bold red"}
    text = Text()
    for n, entry in enumerate(console):
        if n:
            text.append("\n")
        level = str(entry.get("level", "log"))
        text.append(f"{level:<5} ", style=styles.get(level, "dim"))
        text.append(printable(entry.get("text", "")))
    if dropped:
        text.append(f"\n… {dropped} more lines were dropped (console output is bounded)", style="dim")
    return text
