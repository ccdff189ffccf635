"""The line of keys at the bottom of the screen, drawn once.

Textual's ``Footer`` composes itself again whenever focus moves, which made every pane switch tens of
milliseconds slower; the keys worth showing here hardly change, so they are one static line, made from
the action registry (the actions with a ``hint``) and showing the keys as the user has bound them.
"""

from rich.text import Text
from textual.widgets import Static

from tui.actions import ACTIONS
from tui.keymap import KeyMap


def hints_text(keymap: KeyMap) -> Text:
    text = Text()
    for action in ACTIONS:
        if action.hint is not None:
            if text:
                text.append("  ")
            text.append(keymap.label(action.id), style="bold")
            text.append(f" {action.hint}")
    return text


class KeyHints(Static):
    DEFAULT_CSS = """
    KeyHints { height: 1; padding: 0 1; background: $panel; color: $text-muted; }
    """

    def __init__(self, keymap: KeyMap, *, id: str | None = None) -> None:
        super().__init__(hints_text(keymap), id=id)
