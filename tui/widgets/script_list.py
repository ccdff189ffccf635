"""The Scripts pane's list: every runtime-script run, with its outcome, how long it took and the version of
the script it ran (where the view is wide enough)."""

from typing import Any

from switchroom.protocol.kinds import SCRIPT_RUN
from switchroom.tui.text import printable
from switchroom.tui.widgets.record_list import TIME, Column, RecordList

VERSION_CHARS = 8
_STATUS_CLASSES = {"ok": "record-list--ok", "error": "record-list--error", "timeout": "record-list--error",
                   "oom": "record-list--error"}


class ScriptRunList(RecordList):
    KIND = SCRIPT_RUN
    NOUN = "script runs"
    COLUMNS = (
        TIME,
        Column("connection", "connection_id", 14, flexible=True),
        Column("feature", "feature_id", 8, flexible=True),
        Column("status", "status", 7),
        Column("ms", "duration_ms", 6, right=True),
        # A cell more than the digits shown: a row with the column needs 81 cells, so at 80 columns it is
        # left out, scrollbar or not, and the error keeps its room
        Column("version", "script_version", VERSION_CHARS + 1, optional=True),
        Column("user", "user_id", 8),
        Column("error", "error", 10, flexible=True),
    )
    highlighted_key = "status"

    def column_text(self, record: dict[str, Any], key: str) -> str | None:
        if key == "duration_ms":
            return f"{float(record.get('duration_ms') or 0):.0f}"
        if key == "script_version":  # the start of the hub's 12 hex digits: enough to tell versions apart
            return printable(record.get("script_version") or "")[:VERSION_CHARS]
        if key == "error":
            error = record.get("error") or {}
            where = f"L{error['line']}: " if error.get("line") else ""
            return printable(f"{where}{error.get('message', '')}") if error else ""
        return None

    def row_class(self, record: dict[str, Any]) -> str | None:
        return _STATUS_CLASSES.get(str(record.get("status")))
