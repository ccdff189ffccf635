"""A yes/no question before doing something that cannot be taken back (a bulk rerun, say).

``app.push_screen(ConfirmScreen("Rerun 12 failed calls?", "12 calls of evening-glow since 1h"), callback)``
calls ``callback(True)`` on yes and ``callback(False)`` on no; in a worker, ``await
app.push_screen_wait(...)`` gives the answer. The keys are the registry's ``confirm`` and ``cancel``.
The question and detail are shown literally (no markup, no terminal controls), so they may quote
untrusted text.
"""

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from switchroom.tui.actions import bindings
from switchroom.tui.keymap import keymap_of
from switchroom.tui.text import printable


def _literal(text: str) -> str:
    """``text`` as it reads, line by line, with terminal controls taken out."""
    return "\n".join(printable(line) for line in text.splitlines())


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = bindings("ConfirmScreen")
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 60; max-width: 100%; height: auto; max-height: 100%;
        border: round $warning; background: $surface; padding: 0 1;
    }
    ConfirmScreen #confirm-question { text-style: bold; }
    ConfirmScreen #confirm-detail { color: $text-muted; }
    ConfirmScreen #confirm-keys { margin-top: 1; }
    """

    def __init__(self, question: str, detail: str = "", *, yes: str = "go ahead", no: str = "cancel") -> None:
        """``yes`` and ``no`` name what each answer does, e.g. ``rerun 12 calls``."""
        super().__init__()
        self.question, self.detail, self.yes, self.no = question, detail, yes, no

    def compose(self) -> ComposeResult:
        keymap = keymap_of(self.app)
        with Vertical():
            yield Static(Text(_literal(self.question)), id="confirm-question")
            if self.detail:
                yield Static(Text(_literal(self.detail)), id="confirm-detail")
            keys = Text()
            keys.append(keymap.label("confirm"), style="bold")
            keys.append(f" {self.yes}   ")
            keys.append(keymap.label("cancel"), style="bold")
            keys.append(f" {self.no}")
            yield Static(keys, id="confirm-keys")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
