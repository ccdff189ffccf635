"""Rerun one failed action call (``r``): shows exactly what will be sent, lets the operator change field
values and give a reason, sends it once, and shows what happened.

The dialog makes one idempotency key when it opens, so however often Enter is pressed, and even if a
press is repeated while the first is on its way, the hub runs the action at most once.
"""

from typing import Any

import orjson
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.content import Content
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Label, Static

from switchroom.protocol.kinds import API_CALL
from switchroom.store.record_shape import shaped
from switchroom.protocol.ops import MAX_REASON_CHARS
from switchroom.store.related import LOOK_AROUND, records_near
from switchroom.tui.actions import bindings
from switchroom.tui.cache import Cache, CacheClosed
from switchroom.tui.http import HubUnreachable
from switchroom.tui.ops_client import OpsClient, new_idempotency_key
from switchroom.tui.record_text import json_block
from switchroom.tui.screens.rerun_frame import RerunFrame
from switchroom.tui.text import printable
from switchroom.tui.tones import ERROR, MUTED, OK
from switchroom.tui.widgets.toned_text import TonedText


def rerun_body(api_call_id: int, overrides: dict[str, Any], reason: str, force: bool) -> dict[str, Any]:
    """The body of ``POST /v1/ops/reruns`` for one call."""
    body: dict[str, Any] = {"api_call_id": api_call_id}
    if overrides:
        body["fields"] = overrides
    if reason:
        body["reason"] = reason
    if force:
        body["force"] = True
    return body


def field_value(text: str, original: Any) -> Any:
    """What an edited field holds: text stays text where the original was text; else JSON if it parses."""
    if isinstance(original, str):
        return text
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def shown_value(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


class RerunDialog(RerunFrame):
    DEFAULT_CSS = """
    RerunDialog #rerun-title { text-style: bold; }
    RerunDialog #rerun-fields { height: auto; max-height: 12; }
    RerunDialog Input { height: 3; border: round $foreground 40%; }
    RerunDialog Input:focus { border: double $accent; }
    RerunDialog #rerun-preview { height: auto; color: $text-muted; }
    RerunDialog #rerun-result { height: auto; text-style: bold; }
    RerunDialog #rerun-keys { color: $text-muted; }
    """
    BINDINGS = bindings("RerunDialog")  # keys from tui/actions.py

    def __init__(self, record: dict[str, Any], cache: Cache, client: OpsClient) -> None:
        super().__init__()
        self.record, self.cache, self.client = record, cache, client
        self.idempotency_key = new_idempotency_key()
        self.original: dict[str, Any] | None = None
        self.sending = self.sent = False

    def compose(self) -> ComposeResult:
        record = self.record
        what = (f"Rerun {record.get('op_id') or record.get('op', '')} for {record.get('user_id', '?')} "
                f"(#{record.get('seq')}, {record.get('status_code', 'no answer')} {record.get('error_code') or ''})")
        with Vertical():
            yield Static(Text(printable(what)), id="rerun-title")
            yield Label("Fields it runs with (edit to override):")
            yield VerticalScroll(id="rerun-fields", can_focus=False)  # its boxes take the focus, not it
            yield Input(placeholder="reason (kept in the audit)", id="rerun-reason",
                        max_length=MAX_REASON_CHARS)
            yield TonedText(id="rerun-preview")
            yield TonedText(id="rerun-result")
            yield Static(Text("tab / shift+tab next or previous box · enter on the reason or ctrl+s send · "
                              "ctrl+f send with force · escape close"), id="rerun-keys")

    async def on_mount(self) -> None:
        try:
            self.original = await self.cache.read(lambda log: _shaped_or_none(_inbound_half(log, self.record)))
        except CacheClosed:
            self.original = None
        fields = (self.original or {}).get("resolved_fields")
        box = self.query_one("#rerun-fields", VerticalScroll)
        if not isinstance(fields, dict):
            await box.mount(TonedText(Text("(the fields it ran with are not in the cache; the hub sends them as "
                                           "they were resolved)", style=MUTED)))
        else:
            for name, value in fields.items():
                field_input = Input(shown_value(value), name=name)
                field_input.border_title = Content(printable(name))  # a str would be read as markup
                await box.mount(field_input)
        self._show_preview()
        self.query(Input).first().focus()  # the first field, top to bottom, the reason last

    @on(Input.Changed)
    def _changed(self) -> None:
        self._show_preview()

    def body(self, force: bool = False) -> dict[str, Any]:
        return rerun_body(int((self.original or self.record)["seq"]), self.overrides(),
                          self.query_one("#rerun-reason", Input).value.strip(), force)

    def overrides(self) -> dict[str, Any]:
        fields = (self.original or {}).get("resolved_fields") or {}
        changed = {}
        for field_input in self.query("#rerun-fields Input").results(Input):
            name = field_input.name or ""
            value = field_value(field_input.value, fields.get(name))
            if value != fields.get(name):
                changed[name] = value
        return changed

    def _show_preview(self) -> None:
        preview = Text("Sends POST /v1/ops/reruns\n", style="bold")
        preview.append_text(json_block(self.body()))
        self.query_one("#rerun-preview", TonedText).update(preview)

    def action_send(self) -> None:
        self._send(False)

    def action_force(self) -> None:
        self._send(True)

    @on(Input.Submitted, "#rerun-reason")
    def _submitted(self) -> None:
        self._send(False)

    @on(Input.Submitted, "#rerun-fields Input")
    def _next_box(self) -> None:
        self.focus_next()

    def _send(self, force: bool) -> None:
        if self.sending or self.sent:
            return  # one rerun per dialog: a second press sends nothing
        self.sending = True
        self._post(self.body(force))

    @work(exclusive=True, group="rerun")
    async def _post(self, body: dict[str, Any]) -> None:
        result = self.query_one("#rerun-result", TonedText)
        result.update(Text("sending…"))
        try:
            answer = await self.client.rerun(body, self.idempotency_key)
        except HubUnreachable as exc:
            result.update(Text(printable(str(exc)), style=ERROR))
            self.sending = False
            return
        self.sending = False
        if not answer.ok:
            result.update(Text(printable(f"Refused: {answer.message}"), style=ERROR))
            return
        self.sent = True
        outcome = answer.body
        style = OK if outcome.get("outcome") == "ok" else ERROR  # in bold, as the whole result line is
        result.update(Text(printable(
            f"Rerun {outcome.get('outcome')}: {outcome.get('status_code')} {outcome.get('error_code') or ''}"
            f" — new call #{outcome.get('api_call_id')}. Escape closes."), style=style))


def _shaped_or_none(record: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if record is None else shaped(record)


def _inbound_half(log: Any, record: dict[str, Any]) -> dict[str, Any] | None:
    """The inbound action call a rerun repeats: the record itself, or for an outbound call its inbound half."""
    if record.get("direction") != "outbound":
        return record
    seq = int(record["seq"])
    found = records_near(log, API_CALL, "request_id", record.get("request_id"), seq - LOOK_AROUND, seq, skip=seq)
    return next((r for r in found if r.get("direction") == "inbound"), None)
