"""The ``?`` help screen: every action of the registry, by group, with the keys that run it now."""

from collections.abc import Mapping

from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from switchroom.tui.actions import groups
from switchroom.tui.config import SavedFilter
from switchroom.tui.keymap import KeyMap, key_label
from switchroom.tui.text import printable
from switchroom.tui.tones import MUTED
from switchroom.tui.widgets.toned_text import TonedText


def help_table(keymap: KeyMap, saved: Mapping[str, SavedFilter] | None = None) -> Table:
    """One row per action under its group's heading: keys, what it does, the id to rebind it by; then the
    filters saved in the settings, with their keys."""
    table = Table.grid(padding=(0, 2))
    table.add_column("keys", style="bold", no_wrap=True)
    table.add_column("description")
    table.add_column("id", style=MUTED, no_wrap=True)
    for index, (group, actions) in enumerate(groups().items()):
        if index:
            table.add_row()
        table.add_row(Text(group, style="bold underline"))
        for action in actions:
            table.add_row(keymap.label(action.id), action.description, action.id)
    if saved:
        table.add_row()
        table.add_row(Text("Saved filters (also in the palette)", style="bold underline"))
        for name, filter_ in saved.items():
            table.add_row(key_label(filter_.key) if filter_.key else "", Text(printable(filter_.filter)),
                          f"filters.{name}")
    return table


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 80; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; border-subtitle-color: $text-muted; background: $surface; padding: 0 1;
    }
    HelpScreen #help-footer { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, keymap: KeyMap, config_file: str, saved: Mapping[str, SavedFilter] | None = None) -> None:
        super().__init__()
        self.keymap = keymap
        self.saved = saved or {}
        self.config_file = config_file
        self._close_keys = {"escape", *keymap.keys("help"), *keymap.keys("quit")}

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "Keys"
            closers = f"esc {self.keymap.label('help')} {self.keymap.label('quit')}"
            scroll.border_subtitle = f"{closers} close · ↑↓ pgup pgdn scroll"
            yield TonedText(help_table(self.keymap, self.saved), id="help-table")
            yield Static(Text(f"To rebind a key, name its action's id in the [keys] table of {self.config_file}, "
                              'e.g. help = "f1".'), id="help-footer")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def on_key(self, event: events.Key) -> None:
        if event.key in self._close_keys:
            event.stop()
            self.dismiss()
