"""The live API log: every api_call record, newest at the bottom, one line each."""

from typing import Any

from switchroom.protocol.kinds import API_CALL
from switchroom.tui.text import printable
from switchroom.tui.widgets.record_list import TIME, Column, RecordList, status_class

_DIRECTIONS = {"inbound": "in", "outbound": "out", "webhook": "hook"}


class LogView(RecordList):
    KIND = API_CALL
    NOUN = "calls"
    COLUMNS = (
        TIME,
        Column("dir", "direction", 4),
        Column("connection", "connection_id", 12, flexible=True),
        Column("feature", "feature_id", 8, flexible=True),
        Column("op", "op_id", 16, flexible=True),
        Column("code", "status_code", 4, right=True),
        Column("ms", "latency_ms", 6, right=True),
        Column("user", "user_id", 9, flexible=True),
    )
    highlighted_key = "status_code"

    def column_text(self, record: dict[str, Any], key: str) -> str | None:
        value = record.get(key)
        if key == "direction":
            return _DIRECTIONS.get(str(value), printable(value or ""))
        if key == "op_id" and value is None:  # calls about no one operation: notifications, user connections
            return printable(record.get("op") or "")
        if key == "status_code":
            return "skip" if record.get("skipped") else ("---" if value is None else str(value))
        if key == "latency_ms":
            return "" if value is None else f"{float(value):.0f}"
        return None

    def row_class(self, record: dict[str, Any]) -> str:
        return status_class(record.get("status_code"), bool(record.get("skipped")))
