"""Asks for a moment to jump a list of records to (``t``): a time of day (``13:05``, today in UTC, or
yesterday if that is still to come), a time (``2026-11-26T13:05``), or a duration ago (``15m``, ``2h``).
Dismissed with the moment as a record timestamp, or None (``escape``); a mistake is shown under the
line and the question stays open."""

from datetime import UTC, datetime, timedelta
import re

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from switchroom.store import iso_timestamp
from switchroom.store.filters import FilterError, parse_since
from switchroom.tui.actions import bindings
from switchroom.tui.text import printable

_TIME_OF_DAY = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def moment_of(text: str, now: datetime | None = None) -> str:
    """The record timestamp ``text`` names; ``FilterError`` with what is accepted, if it names none."""
    now = now or datetime.now(UTC)
    match = _TIME_OF_DAY.match(text.strip())
    if match is None:
        return parse_since(text, now)
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise FilterError(f"'{text}' is not a time of day: use hours 0–23 and minutes 0–59, like 13:05")
    moment = now.replace(hour=hour, minute=minute, second=second, microsecond=0)
    return iso_timestamp(moment - timedelta(days=1) if moment > now else moment)


class TimeJump(ModalScreen[str | None]):
    BINDINGS = bindings("TimeJump")  # keys from tui/actions.py
    DEFAULT_CSS = """
    TimeJump { align: center bottom; }
    TimeJump > Vertical { width: 100%; height: auto; background: $panel; }
    TimeJump Input, TimeJump Input:focus { border: none; height: 1; padding: 0 1; }
    TimeJump #time-jump-error { height: auto; padding: 0 1; color: $error; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Input(placeholder="jump to: 13:05 (UTC today), 2026-11-26T13:05, or 15m ago; escape: stay",
                        id="time-jump-input")
            yield Static(id="time-jump-error")

    @on(Input.Submitted, "#time-jump-input")
    def _submitted(self, event: Input.Submitted) -> None:
        try:
            moment = moment_of(event.value)
        except FilterError as exc:
            self.query_one("#time-jump-error", Static).update(Text(printable(str(exc))))
            return
        self.dismiss(moment)

    def action_dismiss_jump(self) -> None:
        self.dismiss(None)
