"""The line of keys at the bottom of the screen.

Textual's ``Footer`` composes itself again whenever focus moves, which made every pane switch tens of
milliseconds slower. This line is one ``Static`` made from the action registry (the actions with a
``hint``), showing the keys as the user has bound them: the app's, and those of the focused widget,
rewritten in place when focus moves.
"""

from rich.text import Text
from textual.dom import DOMNode
from textual.widget import Widget
from textual.keys import key_to_character
from textual.widgets import Input, Static

from switchroom.tui.actions import ACTIONS, APP
from switchroom.tui.keymap import KeyMap


def scopes_of(focused: DOMNode | None) -> set[str]:
    """The scopes whose keys work with ``focused`` focused: the app's, and every class name of the
    focused widget and of its containers."""
    scopes = {APP}
    for node in focused.ancestors_with_self if focused is not None else ():
        scopes.update(cls.__name__ for cls in type(node).__mro__)
    return scopes


def typed(key: str) -> bool:
    """Whether pressing ``key`` in a text box types a character there rather than running an action."""
    character = key if len(key) == 1 else key_to_character(key)
    return (character is not None and character.isprintable()) or key in ("slash", "space")


def hints_text(keymap: KeyMap, scopes: set[str], typing: bool = False, read_only: bool = False) -> Text:
    """The hints of the actions whose keys work in ``scopes``; while ``typing`` in a text box, not those
    whose every key would type a character instead; in a ``read_only`` console, none that acts on the hub."""
    text = Text()
    for action in ACTIONS:
        if (typing and all(typed(key) for key in keymap.keys(action.id))) or (read_only and action.changes_hub):
            continue
        if action.hint is not None and action.scope in scopes:
            if text:
                text.append("  ")
            text.append(keymap.label(action.id), style="bold")
            text.append(f" {action.hint}")
    return text


class KeyHints(Static):
    DEFAULT_CSS = """
    KeyHints { height: 1; padding: 0 1; background: $panel; color: $text-muted; }
    """

    def __init__(self, keymap: KeyMap, read_only: bool = False, *, id: str | None = None) -> None:
        super().__init__(hints_text(keymap, {APP}, read_only=read_only), id=id)
        self.keymap, self.read_only = keymap, read_only

    def on_mount(self) -> None:
        self.watch(self.screen, "focused", self._show_for)

    def _show_for(self, focused: Widget | None) -> None:
        self.update(hints_text(self.keymap, scopes_of(focused), isinstance(focused, Input), self.read_only),
                    layout=False)
