"""What a record may hold of what callers, scripts and services send (DESIGN §7): every such field is bounded
and marked when cut, so that no record can outgrow a stream frame.

Bodies are kept whole up to a size, then as a cut text; ids are cut to ``MAX_ID`` characters, messages and
other texts to ``MAX_TEXT``, stacks to ``MAX_STACK``. ``bounded`` is the last guard, applied to every record
on its way into the log and again to every record on its way out of a stream: a record whose JSON is
larger than ``MAX_RECORD_BYTES`` is cut further, never written or sent whole.
"""

from typing import Any

from switchroom.protocol import dumps, loads

MAX_RECORDED_BODY = 8192
MAX_ID = 200
"""Ids (operations, connections, features, users, user features, requests): a slug and then some."""
MAX_TEXT = 8192
"""Error names and messages, paths, a console line, any other text a record holds."""
MAX_STACK = 16384
MAX_RECORD_BYTES = 1 << 20
"""The most a record's JSON may take: a quarter of a stream batch (4 MiB), 1/64 of the dashboard's frames."""
CUT_MARK = "…[truncated]"
MAX_ITEMS = 100
"""Of a list in a record that is over ``MAX_RECORD_BYTES`` (console lines, calls, ...), the first kept."""


def capped(body: Any) -> Any:
    """``body`` itself when its JSON fits, else its JSON text cut at ``MAX_RECORDED_BODY`` characters.

    Bodies nested too deep to store inside a record (the JSON encoder stops at 254 levels) are kept as
    a note instead.
    """
    if body is None:
        return None
    if isinstance(body, str):
        text = body
    else:
        try:
            encoded = dumps([[[[body]]]])[4:-4]  # as deep as it will sit inside a record
        except (TypeError, ValueError):
            return "[body nested too deep or not JSON; not recorded]"
        if len(encoded) <= MAX_RECORDED_BODY:
            return body
        text = encoded.decode(errors="replace")
    return cut(text, MAX_RECORDED_BODY)


def cut(text: Any, limit: int = MAX_TEXT) -> str | None:
    """``text`` whole when it has at most ``limit`` characters, else its first ``limit`` and ``CUT_MARK``.
    Anything else than text (a service's error "message" may be a list) is cut as its ``str``."""
    if text is None:
        return None
    text = text if isinstance(text, str) else str(text)
    return text if len(text) <= limit else text[:limit] + CUT_MARK


def cut_id(value: str | None) -> str | None:
    return cut(value, MAX_ID)


def bounded(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` itself when its JSON takes at most ``MAX_RECORD_BYTES``; else a copy with every text cut to
    ``MAX_TEXT`` and every list to ``MAX_ITEMS``, and failing that only its short top-level fields, either
    way with ``truncated`` saying so. A record that is not JSON at all is left for the recorder's stand-in."""
    try:
        size = len(dumps(record))
    except (TypeError, ValueError):
        return record
    if size <= MAX_RECORD_BYTES:
        return record
    note = f"the record took {size:,} bytes; a record may take {MAX_RECORD_BYTES:,}"
    shrunk = {**_shrunk(record), "truncated": note}
    if len(dumps(shrunk)) <= MAX_RECORD_BYTES:
        return shrunk
    kept = {k: cut(v, MAX_ID) if isinstance(v, str) else v for k, v in record.items()
            if isinstance(v, str | int | float | bool) or v is None}
    return {**kept, "truncated": note}


def bounded_json(text: str) -> str:
    """A record's JSON as ``bounded`` would have it (the text itself when it fits)."""
    if len(text) <= MAX_RECORD_BYTES // 4:  # four bytes a character at most: it fits
        return text
    return dumps(bounded(loads(text))).decode()


def _shrunk(value: Any) -> Any:
    if isinstance(value, str):
        return cut(value)
    if isinstance(value, list):
        return [_shrunk(item) for item in value[:MAX_ITEMS]]
    if isinstance(value, dict):
        return {cut(str(k), MAX_ID): _shrunk(v) for k, v in list(value.items())[:MAX_ITEMS]}
    return value
