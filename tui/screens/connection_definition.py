"""How one connection is defined, over the Connections pane (``d`` on a connection): its description
and delivery, the connection-level configuration, each feature's triggers, queries and actions with
every field's visibility and its value (a developer field) or default (a user field), and its runtime
script. Read from the hub (``GET /v1/ops/connections/{id}``), or as last saved when the hub is gone.
Escape goes back."""

from typing import Any

import orjson
from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Static

from switchroom.tui.actions import bindings
from switchroom.tui.definitions import BadAnswer, Definitions
from switchroom.tui.record_text import ScriptSource, field_lines, json_block
from switchroom.tui.screens.reading_frame import ReadingFrame
from switchroom.tui.text import printable
from switchroom.tui.tones import MUTED
from switchroom.tui.widgets.toned_text import TonedText

Section = tuple[str, RenderableType]
NOT_KNOWN = ("The hub cannot be reached and has not described this connection before, so its definition "
             "is not known here yet.")


class ConnectionDefinition(ReadingFrame):
    BINDINGS = bindings("ConnectionDefinition")  # keys from tui/actions.py

    class Asked(Message):
        """Show how this connection is defined (the app opens this screen)."""

        def __init__(self, connection_id: str) -> None:
            super().__init__()
            self.connection_id = connection_id

    def __init__(self, connection_id: str, hub_id: str, definitions: Definitions) -> None:
        super().__init__()
        self.connection_id = connection_id
        self.hub_id = hub_id
        self.definitions = definitions

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(printable(f"{self.connection_id} · how it is defined")), id="definition-title",
                         classes="frame-title")
            yield VerticalScroll(id="definition-body", classes="frame-body")
            yield Static(Text("↑↓ pgup pgdn scroll · escape back"), id="definition-keys", classes="frame-keys")

    async def on_mount(self) -> None:
        definition = await self.definitions.get(self.hub_id, self.connection_id)
        body = self.query_one("#definition-body", VerticalScroll)
        for heading, text in sections(definition):
            await body.mount(Static(Text(heading), classes="frame-heading"), TonedText(text))
        body.focus()


def sections(definition: dict[str, Any] | BadAnswer | None) -> list[Section]:
    """What the screen shows, heading by heading; every value from the hub shown literally, and only
    read where it has the type a definition gives it (a hub is untrusted input)."""
    if definition is None:
        return [("Not known", Text(NOT_KNOWN))]
    if isinstance(definition, BadAnswer):
        return [("Not a definition", Text(f"The hub answered with {definition.what}, not a connection's "
                                          "definition, so there is nothing to show."))]
    found = [("Connection", field_lines([
        *((key, _value(definition[key])) for key in ("name", "description") if definition.get(key) is not None),
        ("delivery", _delivery(definition)),
    ])), ("Configuration", _configuration(definition.get("configuration")))]
    found += [(f"Feature {printable(str(feature.get('id', '')))} · {printable(str(feature.get('name', '')))}",
               _operations(_objects(feature.get("operations")))) for feature in _objects(definition.get("features"))]
    script = definition.get("runtime_script")
    if isinstance(script, str):
        found.append((f"Runtime script · version {printable(str(definition.get('script_version') or '?'))}",
                      ScriptSource(script, whole=True)))
    return found


def _delivery(definition: dict[str, Any]) -> str:
    delivery = str(definition.get("delivery") or "none")
    return {"script": "to its runtime script", "webhook": "to the developer's webhook",
            "none": "nowhere (no script, no webhook)"}.get(delivery, delivery)


def _configuration(configuration: Any) -> Text:
    if not configuration:
        return Text("none", style=MUTED)
    if not isinstance(configuration, dict):
        return json_block(configuration)
    return field_lines([(printable(str(key)), _value(value)) for key, value in configuration.items()])


def _operations(operations: list[dict[str, Any]]) -> Text:
    """Each operation, then its fields: id, type, required, who sets it, and its value or default."""
    text = Text()
    for operation in operations:
        if text:
            text.append("\n")
        text.append(printable(f"{operation.get('kind', '')} {operation.get('ref', '')}"), style="bold")
        text.append(printable(f"  {operation.get('label', '')} · {operation.get('id', '')}"), style=MUTED)
        for field in _objects(operation.get("fields")):
            text.append("\n  " + printable(f"{field.get('id', '')} ({field.get('type', '')}"
                                           f"{', required' if field.get('required') else ''})"))
            text.append(f"  {_setting(field)}", style=MUTED if field.get("value") is None else "")
        if not operation.get("fields"):
            text.append("\n  no fields", style=MUTED)
    return text or Text("no triggers, queries or actions", style=MUTED)


def _objects(value: Any) -> list[dict[str, Any]]:
    """The objects of a list in a definition; anything else there (the hub's mistake) is passed over."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _setting(field: dict[str, Any]) -> str:
    """Who sets a field, and what it is: a developer field's value, a user field's default."""
    value = field.get("value")
    if field.get("visibility") == "developer":
        return f"developer sets it: {_value(value)}" if value is not None else "developer sets it: (no value)"
    return f"user sets it, default {_value(value)}" if value is not None else "user sets it, no default"


def _value(value: Any) -> str:
    """A setting as the catalog gives it: text as it is, anything else as JSON."""
    if isinstance(value, str):
        return printable(value)
    try:
        return printable(orjson.dumps(value).decode())
    except TypeError:
        return printable(repr(value))
