"""The line of keys at the bottom of the screen, drawn once.

Textual's ``Footer`` composes itself again whenever focus moves, which made every pane switch tens of
milliseconds slower; the keys worth showing here hardly change, so they are one static line.
"""

from collections.abc import Iterable

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Static


class KeyHints(Static):
    DEFAULT_CSS = """
    KeyHints { height: 1; padding: 0 1; background: $panel; color: $text-muted; }
    """

    def __init__(self, bindings: Iterable[Binding], *, id: str | None = None) -> None:
        text = Text()
        for binding in bindings:
            if binding.show:
                text.append(binding.key_display or binding.key.split(",")[0], style="bold")
                text.append(f" {binding.description}  ")
        text.append("^p", style="bold")
        text.append(" palette")
        super().__init__(text, id=id)
