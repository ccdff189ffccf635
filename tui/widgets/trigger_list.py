"""The Triggers pane's list: every trigger event as it is found, and where it was delivered."""

from typing import Any

import orjson

from switchroom.protocol.kinds import TRIGGER_EVENT
from switchroom.tui.text import printable
from switchroom.tui.widgets.record_list import TIME, Column, RecordList


class TriggerList(RecordList):
    KIND = TRIGGER_EVENT
    NOUN = "trigger events"
    COLUMNS = (
        TIME,
        Column("connection", "connection_id", 12, flexible=True),
        Column("trigger", "trigger_id", 14, flexible=True),
        Column("user", "user_id", 8),
        Column("by", "source", 6),
        Column("to", "delivered_to", 7),
        Column("ingredients", "ingredients", 10, flexible=True),
    )
    highlighted_key = "delivered_to"

    def column_text(self, record: dict[str, Any], key: str) -> str | None:
        if key == "ingredients":
            return printable(orjson.dumps(record.get("ingredients") or {}).decode())
        return None

    def row_class(self, record: dict[str, Any]) -> str | None:
        return "record-list--muted" if record.get("delivered_to") == "none" else "record-list--ok"
