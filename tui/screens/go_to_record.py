"""Asks which record to open (``:``, as k9s's ``:`` jumps to a resource): its seq (``1234`` or
``#1234``: the id an api_call, a trigger event or a rerun's original is named by), a script run's id, or a
call's request id (the Connect API call that carries it, else the first call). The answer is looked up in the
cache; a record it does not hold is said under the line, and the question stays open. An id is found
by reading every record's body (no index holds them): about a second on a million records, on the
summaries' thread, so that the screen never waits for it."""

from typing import Any
import re

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from switchroom.protocol.kinds import SCRIPT_RUN
from switchroom.store import EventLog
from switchroom.store.eventlog import record_of
from switchroom.tui.actions import bindings
from switchroom.tui.cache import Cache, CacheClosed
from switchroom.tui.text import printable

_SEQ = re.compile(r"^#?(\d{1,18})$")
MAX_ID_CHARS = 200


def find_record(log: EventLog, wanted: str) -> dict[str, Any] | str:
    """The record ``wanted`` names, or what to say when there is none."""
    wanted = wanted.strip()
    seq = _SEQ.match(wanted)
    if seq is not None:
        rows = log.execute("SELECT body FROM records WHERE seq = ?", [int(seq[1])])
    elif wanted and len(wanted) <= MAX_ID_CHARS:
        rows = log.execute("SELECT body FROM records WHERE json_extract(body, '$.script_run_id') = ? "
                           "AND kind = ? LIMIT 1", [wanted, SCRIPT_RUN]) or log.execute(
            "SELECT body FROM records WHERE json_extract(body, '$.request_id') = ? "
            "ORDER BY json_extract(body, '$.direction') IS NOT 'inbound', seq LIMIT 1", [wanted])
    else:
        return f"give a record's seq (like 1234), a script run's id or a request id (at most {MAX_ID_CHARS} characters)"
    if rows:
        return record_of(rows[0][0])
    [(first, last)] = log.execute("SELECT MIN(seq), MAX(seq) FROM records")
    holds = f"it holds #{first}–#{last}" if first is not None else "it holds no records yet"
    return f"no record {'#' + seq[1] if seq else repr(wanted)} in the cache ({holds})"


class GoToRecord(ModalScreen[dict[str, Any] | None]):
    BINDINGS = bindings("GoToRecord")  # keys from tui/actions.py
    DEFAULT_CSS = """
    GoToRecord { align: center bottom; }
    GoToRecord > Vertical { width: 100%; height: auto; background: $panel; }
    GoToRecord Input, GoToRecord Input:focus { border: none; height: 1; padding: 0 1; }
    GoToRecord #go-to-error { height: auto; padding: 0 1; color: $error; }
    """

    def __init__(self, cache: Cache) -> None:
        super().__init__()
        self.cache = cache

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Input(placeholder="open record: its seq (1234), a script run's id or a request id; escape: stay",
                        id="go-to-input")
            yield Static(id="go-to-error")

    @on(Input.Submitted, "#go-to-input")
    def _submitted(self, event: Input.Submitted) -> None:
        self._look_up(event.value)

    @work(exclusive=True)
    async def _look_up(self, wanted: str) -> None:
        try:
            found = await self.cache.summarise(lambda log: find_record(log, wanted))
        except CacheClosed:
            found = "the cache was replaced: try again"
        if isinstance(found, str):
            self.query_one("#go-to-error", Static).update(Text(printable(found)))
        else:
            self.dismiss(found)

    def action_dismiss_go_to(self) -> None:
        self.dismiss(None)
