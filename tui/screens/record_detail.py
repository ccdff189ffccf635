"""One record in full, over the pane it was chosen in: its fields, bodies as pretty JSON, and the
records linked to it (a script run's trigger event and calls, a call's script run …), each of which
opens in turn with Enter. Escape goes back."""

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from store.related import Related, related_records
from tui.actions import bindings
from tui.cache import Cache, CacheClosed
from tui.definitions import Definitions
from tui.record_text import console_lines, field_lines, json_block, script_source
from tui.text import printable

Section = tuple[str, Text]


class RecordDetail(ModalScreen[None]):
    DEFAULT_CSS = """
    RecordDetail { align: center middle; }
    RecordDetail > Vertical { width: 100%; height: 100%; border: round $accent; background: $surface; }
    RecordDetail #detail-title { height: 1; text-style: bold; padding: 0 1; background: $boost; }
    RecordDetail #detail-body { height: 1fr; padding: 0 1; }
    RecordDetail .detail-heading { text-style: bold; color: $accent; margin-top: 1; }
    RecordDetail #detail-related { height: auto; max-height: 8; border-top: solid $accent; }
    RecordDetail #detail-keys { height: 1; color: $text-muted; padding: 0 1; }
    """
    BINDINGS = bindings("RecordDetail")  # keys from tui/actions.py
