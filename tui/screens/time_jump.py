"""Asks for a moment to jump a list of records to (``t``): a time of day (``13:05``, today in the zone
times are shown in, or yesterday if that is still to come), a date and time (``2026-11-26T13:05``, in
that zone unless it names its own), or a duration ago (``15m``, ``2h``): what the filter's ``since:``
reads. Dismissed with the moment as a record timestamp, or None (``escape``); a mistake is shown under
the line and the question stays open."""

from datetime import UTC, tzinfo

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from switchroom.store.filters import FilterError, parse_since
from switchroom.tui.actions import bindings
from switchroom.tui.text import printable
from switchroom.tui.time_zones import zone_label


class TimeJump(ModalScreen[str | None]):
    BINDINGS = bindings("TimeJump")  # keys from tui/actions.py
    DEFAULT_CSS = """
    TimeJump { align: center bottom; }
    TimeJump > Vertical { width: 100%; height: auto; background: $panel; }
    TimeJump Input, TimeJump Input:focus { border: none; height: 1; padding: 0 1; }
    TimeJump #time-jump-error { height: auto; padding: 0 1; color: $error; }
    """

    def __init__(self, zone: tzinfo = UTC) -> None:
        """``zone``: the one times are shown in, which the times typed are read in."""
        super().__init__()
        self.zone = zone

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Input(placeholder=f"jump to: 13:05 ({zone_label(self.zone)}, today), 2026-11-26T13:05, or 15m "
                                    "ago; escape: stay", id="time-jump-input")
            yield Static(id="time-jump-error")

    @on(Input.Submitted, "#time-jump-input")
    def _submitted(self, event: Input.Submitted) -> None:
        try:
            moment = parse_since(event.value, zone=self.zone)
        except FilterError as exc:
            self.query_one("#time-jump-error", Static).update(Text(printable(str(exc))))
            return
        self.dismiss(moment)

    def action_dismiss_jump(self) -> None:
        self.dismiss(None)
