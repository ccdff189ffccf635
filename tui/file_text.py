"""Records written out as CSV cells and JSON lines (``switchroom logs``, export): safe to open in a
spreadsheet and to print to a terminal, whatever a hub's caller put in them.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, tab or CR is a formula to Excel, LibreOffice and
Google Sheets (OWASP's "CSV injection"); it is written with a ``'`` in front. A text that is a plain number
(``-5``, ``+3.25``) is left as it is: no spreadsheet runs it, and a number must stay a number. Numbers in a
record (JSON numbers: latencies, status codes) are written as they are.

Control characters (C0, DEL and C1: ESC, BEL, NUL, newline, tab, …) are written as ``\\xNN`` text in a
CSV cell, so no byte of a file or a pipe can move a terminal's cursor, retitle it or ring its bell.
JSON lines keep the record's text, with DEL and C1 characters (which JSON allows raw) written as
``\\u00NN`` escapes: the same JSON value, and every C0 character is escaped by the JSON encoder already.
"""

from typing import Any
import re

import orjson

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_RAW_IN_JSON = re.compile(r"[\x7f-\x9f]")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


CSV_COLUMNS = ("seq", "ts", "kind", "direction", "connection_id", "feature_id", "user_id", "user_feature_id", "op",
               "op_id", "status_code", "skipped", "latency_ms", "error_code", "error_message", "status",
               "duration_ms", "source", "request_id", "script_run_id", "rerun_of", "trigger_id", "delivered_to")
"""The one CSV layout of a record, for ``switchroom logs --csv`` and export alike: its flat fields."""


def csv_row(record: dict[str, Any]) -> list[Any]:
    """A record's ``CSV_COLUMNS`` as cells (a script run's error message from its ``error``)."""
    error = record.get("error")
    if isinstance(error, dict):
        record = {**record, "error_message": error.get("message")}
    return [csv_cell(record.get(column)) for column in CSV_COLUMNS]


def csv_cell(value: Any) -> Any:
    """``value`` as a CSV cell: numbers as they are, nothing for null, text neutralised (see above)."""
    if value is None:
        return ""
    if isinstance(value, bool):  # as JSON writes it, not Python's True / False
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        text = "'" + text
    return _CONTROLS.sub(_visible, text)


def json_line(body: str) -> str:
    """A record's JSON text, with the control characters JSON lets through raw escaped."""
    return _RAW_IN_JSON.sub(lambda found: f"\\u{ord(found.group()):04x}", body)


def _visible(found: re.Match[str]) -> str:
    return f"\\x{ord(found.group()):02x}"
