"""Asks what to try (``T`` on the Scripts pane): the candidate script's file (``~`` expands) and which
recorded trigger events — ``last 100``, or a filter in the filter language (the pane's, to start with).
Dismissed with the trial's request body, or None (``escape``); a mistake is shown under the lines and
the question stays open."""

from pathlib import Path
from typing import Any
import re

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from switchroom.protocol.ops import MAX_TRIAL_EVENTS, MAX_TRIAL_SOURCE_CHARS
from switchroom.store.filters import FilterError, parse_filter
from switchroom.tui.actions import bindings
from switchroom.tui.text import printable

_LAST = re.compile(r"^last\s+(\d{1,6})$")


def trial_body(connection_id: str, path_text: str, events_text: str) -> dict[str, Any]:
    """The trial request the two answers make; ``ValueError`` saying what is wrong."""
    path = Path(path_text.strip()).expanduser()
    if not path_text.strip():
        raise ValueError("give the candidate script's file")
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: {getattr(exc, 'strerror', None) or exc}") from None
    if len(source) > MAX_TRIAL_SOURCE_CHARS:
        raise ValueError(f"{path}: a script is at most {MAX_TRIAL_SOURCE_CHARS // 1024} KiB")
    body: dict[str, Any] = {"connection_id": connection_id, "source": source, "reason": "tried from the console"}
    events = events_text.strip()
    last = _LAST.match(events)
    if last is not None:
        if not 1 <= int(last[1]) <= MAX_TRIAL_EVENTS:
            raise ValueError(f"last N: N is 1 to {MAX_TRIAL_EVENTS:,}")
        body["last"] = int(last[1])
    elif events:
        try:
            parse_filter(events)
        except FilterError as exc:
            raise ValueError(f"events: {exc}") from None
        body["filter"] = events
    return body


class TrialAsk(ModalScreen[dict[str, Any] | None]):
    BINDINGS = bindings("TrialAsk")  # keys from tui/actions.py
    DEFAULT_CSS = """
    TrialAsk { align: center bottom; }
    TrialAsk > Vertical { width: 100%; height: auto; background: $panel; }
    TrialAsk .trial-ask-title { padding: 0 1; text-style: bold; }
    TrialAsk Input, TrialAsk Input:focus { border: none; height: 1; padding: 0 1; }
    TrialAsk #trial-ask-error { height: auto; padding: 0 1; color: $error; }
    """

    def __init__(self, connection_id: str, events: str) -> None:
        super().__init__()
        self.connection_id = connection_id
        self.events = events

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(printable(f"Try a candidate script on {self.connection_id}'s recorded events "
                                        "(nothing reaches a service) · enter: try · escape: stay")),
                         classes="trial-ask-title")
            yield Input(placeholder="the candidate script's file, e.g. ~/work/rain_alert.js", id="trial-file")
            yield Input(value=self.events, placeholder="which events: last 100, or a filter such as since:24h",
                        id="trial-events")
            yield Static(id="trial-ask-error")

    @on(Input.Submitted)
    def _submitted(self) -> None:
        try:
            body = trial_body(self.connection_id, self.query_one("#trial-file", Input).value,
                              self.query_one("#trial-events", Input).value)
        except ValueError as exc:
            self.query_one("#trial-ask-error", Static).update(Text(printable(str(exc))))
            return
        self.dismiss(body)

    def action_dismiss_ask(self) -> None:
        self.dismiss(None)
