"""Batch frames in the hub's own layout, cut apart without pydantic: the part of the wire contract the
dashboard needs on its hot path (and at its start, where importing pydantic would cost a quarter second)."""

from typing import Any
import re

import orjson


class MalformedFrame(ValueError):
    """A frame that is not JSON, or not one of the frames of this protocol version."""


def is_seq(value: object) -> bool:
    """A record's seq: an integer that SQLite can hold as a key."""
    return type(value) is int and 0 <= value < 1 << 63


def parse_batch(data: bytes | str) -> tuple[list[dict[str, Any]], int]:
    """A batch frame in any layout, decoded whole: its records and ``through_seq``; ``MalformedFrame`` if
    it is not JSON or not a batch."""
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise MalformedFrame(f"not JSON: {exc}") from None
    if not isinstance(raw, dict) or raw.get("type") != "batch":
        raise MalformedFrame("expected a batch frame")
    return batch_contents(raw)


def batch_contents(raw: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """A decoded batch frame's records and ``through_seq``, checked by hand (each record an object with an
    integer ``seq`` and a ``kind``) rather than through pydantic: validating every record's every field
    cost more than the rest of replication put together."""
    records, through = raw.get("records"), raw.get("through_seq")
    if not isinstance(records, list) or not isinstance(through, int) or isinstance(through, bool):
        raise MalformedFrame("a batch needs a records list and an integer through_seq")
    for record in records:
        if not (isinstance(record, dict) and is_seq(record.get("seq")) and isinstance(record.get("kind"), str)):
            raise MalformedFrame("every record needs an integer seq and a kind")
    return records, through


# The layout in which the hub writes every batch frame: stored record bodies spliced between these, each
# body starting with its seq (hub/streams.py). ``cut_batch`` relies on it and on nothing else.
_BATCH_HEAD = '{"type":"batch","records":['
_RECORD_HEAD = '{"seq":'
_RECORD_JOIN = ',' + _RECORD_HEAD
_BATCH_TAIL = re.compile(r'\],"through_seq":(0|[1-9][0-9]{0,18})\}\Z')
_TAIL_SEARCH = 40  # characters from the end within which the tail must start


def cut_batch(data: bytes | str) -> tuple[list[str], int] | None:
    """A batch frame in the hub's own layout, cut into each record's JSON text, without decoding any.

    Records are cut apart at ``,{"seq":``, so that each record's exact text can be stored as is rather
    than encoded again. Outside a JSON string that sequence only ever starts an object whose first key
    is ``seq``; inside a string it cannot occur at all, since a string's quotes are escaped. A cut can
    still fall inside a record, where a nested array holds such an object; the piece before it then
    leaves an array open, is no JSON text on its own, and fails to decode. So **when every piece decodes
    on its own to a JSON object, the pieces are exactly the frame's records** — the caller must check
    that (``split_batch`` does, and so does ``store.eventlog.record_rows``).

    Returns ``(texts, through_seq)``, or None for any other layout (and for bytes that are not UTF-8).
    """
    if isinstance(data, bytes):
        try:
            data = data.decode()
        except UnicodeDecodeError:
            return None
    if not data.startswith(_BATCH_HEAD):
        return None
    tail = _BATCH_TAIL.search(data, max(len(_BATCH_HEAD), len(data) - _TAIL_SEARCH))
    if tail is None:
        return None
    through = int(tail.group(1))
    inner = data[len(_BATCH_HEAD):tail.start()]
    if not inner:
        return [], through
    if not inner.startswith(_RECORD_HEAD):
        return None
    texts = inner.split(_RECORD_JOIN)
    texts[1:] = [_RECORD_HEAD + piece for piece in texts[1:]]
    return texts, through


def split_batch(data: bytes | str) -> tuple[list[tuple[str, dict[str, Any]]], int] | None:
    """A batch frame in the hub's own layout, split into each record's JSON text and its decoded value.

    Returns ``(records, through_seq)``, or None for anything else — another layout, a piece that does not
    decode (see ``cut_batch``), a record without an integer ``seq`` or a string ``kind`` — which
    ``parse_server_frame`` then decodes in full (and rejects, if it is malformed).
    """
    cut = cut_batch(data)
    if cut is None:
        return None
    texts, through = cut
    records: list[tuple[str, dict[str, Any]]] = []
    loads, append = orjson.loads, records.append
    try:
        for text in texts:
            record = loads(text)
            if type(record) is not dict or not is_seq(record.get("seq")) or type(record.get("kind")) is not str:
                return None
            append((text, record))
    except orjson.JSONDecodeError:
        return None
    return records, through
