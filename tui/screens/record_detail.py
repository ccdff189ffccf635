"""One record in full, over the pane it was chosen in: its fields, bodies as pretty JSON, and the
records linked to it (a script run's trigger event and calls, a call's script run …), each of which
opens in turn with Enter. Escape goes back."""

from datetime import tzinfo
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from switchroom.protocol.kinds import API_CALL, RERUN, SCRIPT_RUN, TRIGGER_EVENT
from switchroom.store.record_shape import BAD, shaped
from switchroom.store.related import Related, related_records
from switchroom.tui.actions import bindings
from switchroom.tui.cache import Cache, CacheClosed
from switchroom.tui.definitions import Definitions
from switchroom.tui.record_text import ScriptSource, console_lines, field_lines, json_block
from switchroom.tui.screens.reading_frame import ReadingFrame
from switchroom.tui.text import printable
from switchroom.tui.time_zones import full_time
from switchroom.tui.tones import MUTED, WARNING
from switchroom.tui.view_state import zone_of
from switchroom.tui.widgets.toned_text import TonedText

Section = tuple[str, RenderableType]


class RecordDetail(ReadingFrame):
    DEFAULT_CSS = """
    RecordDetail #detail-related { height: auto; max-height: 8; border-top: solid $accent; }
    """
    BINDINGS = bindings("RecordDetail")  # keys from tui/actions.py

    def __init__(self, record: dict[str, Any], cache: Cache, definitions: Definitions | None = None) -> None:
        super().__init__()
        self.record = shaped(record)
        self.cache = cache
        self.definitions = definitions
        self.related: list[Related] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(title(self.record, zone_of(self.app))), id="detail-title", classes="frame-title")
            yield VerticalScroll(id="detail-body", classes="frame-body")
            yield OptionList(id="detail-related")
            yield Static(Text("↑↓ scroll · tab to the linked records (↑↓ choose, enter opens) · escape back"),
                         id="detail-keys", classes="frame-keys")

    async def on_mount(self) -> None:
        try:
            self.related = await self.cache.read(
                lambda log: [Related(r.label, shaped(r.record)) for r in related_records(log, self.record)])
        except CacheClosed:
            self.related = []
        source = await self._script_source()
        body = self.query_one("#detail-body", VerticalScroll)
        for heading, text in sections(self.record, self.related, source):
            await body.mount(Static(Text(heading), classes="frame-heading"), TonedText(text))
        links = self.query_one("#detail-related", OptionList)
        self._show_links()
        links.display = bool(self.related)
        if self.related:
            links.highlighted = 0  # tab, then enter, opens the first link
        body.focus()

    def _show_links(self) -> None:
        zone = zone_of(self.app)
        links = self.query_one("#detail-related", OptionList)
        highlighted = links.highlighted
        links.clear_options()
        links.add_options([Option(Text(printable(f"{r.label}: {title(r.record, zone)}"))) for r in self.related])
        links.highlighted = highlighted

    def show_times(self) -> None:
        """Show the record's time, and its links', again: in the zone times are now shown in."""
        self.query_one("#detail-title", Static).update(Text(title(self.record, zone_of(self.app))))
        self._show_links()

    async def _script_source(self) -> dict[str, Any] | None:
        if self.record.get("kind") != SCRIPT_RUN or self.definitions is None:
            return None
        definition = await self.definitions.get(self.cache.hub_id, str(self.record.get("connection_id")))
        return definition if isinstance(definition, dict) else None

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.app.push_screen(RecordDetail(self.related[event.option_index].record, self.cache, self.definitions))


def title(record: dict[str, Any], zone: tzinfo) -> str:
    """What the record is, in a line: its kind and seq, its whole time in ``zone`` (with the zone), and the
    gist of what happened."""
    kind = record.get("kind", "record")
    what = {
        API_CALL: lambda: f"{record.get('direction', '')} {record.get('op_id') or record.get('op', '')} → "
                            f"{'skipped' if record.get('skipped') else record.get('status_code', 'no answer')}",
        SCRIPT_RUN: lambda: f"{record.get('connection_id', '')} script {record.get('status', '')}",
        TRIGGER_EVENT: lambda: f"{record.get('trigger_id', '')} for {record.get('user_id', '')}",
        RERUN: lambda: _rerun_what(record),
    }.get(str(kind), lambda: "")()
    parts = (f"{kind} #{record.get('seq', '?')}", full_time(record.get("ts"), zone), what.strip())
    return printable(" · ".join(part for part in parts if part))


def _rerun_what(rerun: dict[str, Any]) -> str:
    phase, name = rerun.get("phase"), "replay" if rerun.get("replay") else "rerun"
    if phase == "bulk":
        return f"bulk {rerun.get('state', '')} {rerun.get('done', 0)}/{rerun.get('total', 0)}"
    if phase == "requested":
        return f"requested: {rerun.get('filter') or '#' + str(rerun.get('original', '?'))}"
    return (f"{name} of #{rerun.get('original', '?')} → {rerun.get('outcome', '')} "
            f"{rerun.get('status_code', '')}")


def sections(record: dict[str, Any], related: list[Related], definition: dict[str, Any] | None) -> list[Section]:
    """What the view shows of a ``shaped`` record: first, when the hub sent some of its fields with the
    wrong type, those fields as they came; then the rest, read as its kind's."""
    bad = [("Bad fields (the hub sent them with the wrong type; read as absent)", json_block(record[BAD]))
           ] if BAD in record else []
    kind = record.get("kind")
    if kind == API_CALL:
        return bad + _call_sections(record)
    if kind == SCRIPT_RUN:
        return bad + _script_run_sections(record, related, definition)
    if kind == TRIGGER_EVENT:
        return bad + _trigger_sections(record, related)
    if kind == RERUN:
        return bad + _rerun_sections(record)
    return [("Record", json_block(record))]


def _rerun_sections(rerun: dict[str, Any]) -> list[Section]:
    """Who reran what, why, and what came of it; the links below lead to the original and the new call."""
    found = [("Rerun", field_lines([
        ("what", _rerun_what(rerun)), ("by", rerun.get("actor")), ("reason", rerun.get("reason")),
        ("error", " ".join(str(rerun.get(k) or "") for k in ("error_code", "message")).strip()),
        ("original", f"#{rerun['original']}" if rerun.get("original") is not None else None),
        ("new call", f"#{rerun['api_call_id']}" if rerun.get("api_call_id") is not None else None),
        ("connection", rerun.get("connection_id")), ("feature", rerun.get("feature_id")),
        ("user", rerun.get("user_id")), ("operation", rerun.get("op_id")), ("filter", rerun.get("filter")),
        ("forced", "yes" if rerun.get("force") else None), ("bulk", rerun.get("bulk_id")),
        ("idempotency key", rerun.get("idempotency_key")),
    ]))]
    if rerun.get("fields"):
        found.append(("Fields sent instead of the original's", json_block(rerun["fields"])))
    found.append(("Record", json_block(rerun)))
    return found


def _call_sections(call: dict[str, Any]) -> list[Section]:
    status = "skipped" if call.get("skipped") else call.get("status_code", "no answer")
    found = [("Call", field_lines([
        ("request", f"{call.get('method', '')} {call.get('path', '')}"), ("direction", call.get("direction")),
        ("status", status), ("latency", f"{float(call.get('latency_ms') or 0):.1f} ms"),
        ("error", " ".join(str(p) for p in (call.get("error_code"), call.get("error_message")) if p)),
        ("operation", f"{call.get('op', '')} {call.get('op_id') or ''}"), ("connection", call.get("connection_id")),
        ("feature", call.get("feature_id")), ("user", call.get("user_id")),
        ("user feature", call.get("user_feature_id")), ("source", call.get("source")),
        ("request id", call.get("request_id")), ("script run", call.get("script_run_id")),
        ("rerun of", call.get("rerun_of")), ("trigger event", call.get("trigger_event_id")),
    ])), ("Headers", _headers(call))]
    found.append(("Request body", json_block(call.get("request_body"))))
    found.append(("Response body", json_block(call.get("response_body"))))
    if call.get("resolved_fields") is not None:
        found.append(("Resolved fields (what a rerun sends)", json_block(call["resolved_fields"])))
    return found


def _headers(call: dict[str, Any]) -> Text:
    """The headers such a call carries; keys and tokens are never recorded, so they show as redacted."""
    sent = [("X-Request-ID", call.get("request_id"))]
    if call.get("direction") in ("outbound", "inbound") and call.get("source") != "script":
        sent.insert(0, ("IFTTT-Service-Key", "[redacted]"))
    return field_lines(sent)


def _script_run_sections(run: dict[str, Any], related: list[Related],
                         definition: dict[str, Any] | None) -> list[Section]:
    error = run.get("error") or {}
    found = [("Run", field_lines([
        ("status", run.get("status")),
        ("duration", f"{float(run.get('duration_ms') or 0):.1f} ms of {float(run.get('time_limit_ms') or 0):.0f} ms"),
        ("queued", f"{float(run.get('queued_ms') or 0):.1f} ms"), ("connection", run.get("connection_id")),
        ("feature", run.get("feature_id")), ("user", run.get("user_id")), ("trigger", run.get("op_id")),
        ("script version", run.get("script_version")), ("run id", run.get("script_run_id")),
    ]))]
    if error:
        where = f"line {error['line']}, column {error.get('column') or '?'}" if error.get("line") else ""
        found.append(("Error", field_lines([("message", error.get("message")), ("where", where)])))
        if error.get("stack"):
            found.append(("Stack", Text("\n".join(printable(line) for line in str(error["stack"]).splitlines()))))
    found.append(("Script", _source(run, error, definition)))
    found.append(("Console", console_lines(run.get("console") or [], int(run.get("console_dropped") or 0))))
    event = next((r.record for r in related if r.record.get("kind") == TRIGGER_EVENT), None)
    found.append(("Trigger ingredients", json_block(event.get("ingredients")) if event
                  else Text("(the trigger event is not in the cache)", style=MUTED)))
    found.append(("Calls made", _calls(run.get("calls") or [])))
    return found


def _source(run: dict[str, Any], error: dict[str, Any], definition: dict[str, Any] | None) -> RenderableType:
    if definition is None or not isinstance(definition.get("runtime_script"), str):
        return Text("(the script's source is not available: the hub did not answer and it was never fetched)",
                    style=MUTED)
    source = ScriptSource(definition["runtime_script"], error.get("line"), error.get("column"))
    if definition.get("script_version") == run.get("script_version"):
        return source
    return Group(source, Text(printable(f"Note: this is version {definition.get('script_version')}; the run ran "
                                        f"version {run.get('script_version')}, so lines may have moved."),
                              style=WARNING))


def _calls(calls: list[dict[str, Any]]) -> Text:
    if not calls:
        return Text("(none)", style=MUTED)
    return Text("\n".join(
        printable(f"{n}. {c.get('kind', '')} {c.get('op_id', '')} → {c.get('status_code', 'no answer')}"
                  f"   api_call #{c.get('api_call_id', '?')}")
        for n, c in enumerate(calls, start=1)))


def _trigger_sections(event: dict[str, Any], related: list[Related]) -> list[Section]:
    deliveries = [r.record for r in related if r.label.startswith("delivery")]
    outcome = ", ".join(
        f"script run {d.get('status')}" if d.get("kind") == SCRIPT_RUN else f"webhook → {d.get('status_code', 'no answer')}"
        for d in deliveries) or ("not found in the cache yet" if event.get("delivered_to") != "none" else "not delivered")
    return [
        ("Event", field_lines([
            ("trigger", event.get("trigger_id")), ("connection", event.get("connection_id")),
            ("feature", event.get("feature_id")), ("user", event.get("user_id")),
            ("user feature", event.get("user_feature_id")), ("identity", event.get("trigger_identity")),
            ("item id", event.get("meta_id")), ("found by", event.get("source")),
            ("delivered to", event.get("delivered_to")), ("outcome", outcome),
        ])),
        ("Ingredients", json_block(event.get("ingredients"))),
    ]
