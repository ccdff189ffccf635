"""The Reruns pane's list: the audit trail of reruns — each request, each call rerun with its outcome,
and a bulk's progress — with who asked and why."""

from typing import Any

from switchroom.protocol.kinds import RERUN
from switchroom.tui.text import printable
from switchroom.tui.widgets.record_list import TIME, Column, RecordList, status_class


class RerunList(RecordList):
    KIND = RERUN
    NOUN = "rerun records"
    COLUMNS = (
        TIME,
        Column("what", "phase", 9),
        Column("original", "original", 8, right=True),
        Column("outcome", "outcome", 16),
        Column("code", "status_code", 4, right=True),
        Column("new call", "api_call_id", 8, right=True),
        Column("by", "actor", 7),
        Column("reason", "reason", 6, flexible=True),
        Column("connection", "connection_id", 14, optional=True),
        Column("op", "op_id", 20, optional=True),
        Column("user", "user_id", 10, optional=True),
    )
    highlighted_key = "outcome"

    def column_text(self, record: dict[str, Any], key: str) -> str | None:
        if key == "phase":
            return "replay" if record.get("replay") else str(record.get("phase", ""))
        if key == "outcome" and record.get("phase") == "bulk":
            return f"{record.get('state', '')} {record.get('done', 0)}/{record.get('total', 0)}"
        if key == "original" and record.get("phase") == "requested" and record.get("filter"):
            return printable(record["filter"])
        return None

    def row_class(self, record: dict[str, Any]) -> str | None:
        outcome = record.get("outcome")
        if outcome == "ok":
            return status_class(200)
        if outcome in ("failed", "refused"):
            return status_class(record.get("status_code"))
        return None
