"""Batch frames: the hub's own layout, written (``batch_frame``) and cut apart again (``cut_batch``,
``batch_rows``) in this one place, without pydantic: the part of the wire contract the dashboard needs on its
hot path (and at its start, where importing pydantic would cost a quarter second)."""

from collections.abc import Iterable, Sequence
from typing import Annotated, Any
import re

import msgspec
import orjson

KeyedText = tuple[int, str, str]
"""A record as a replica stores it: its seq, its kind and its whole JSON text."""


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


# The layout in which the hub writes every batch frame (``batch_frame``): stored record bodies spliced
# between these, each body starting with its seq. ``cut_batch`` relies on it and on nothing else.
_BATCH_HEAD = '{"type":"batch","records":['
_RECORD_HEAD = '{"seq":'
_RECORD_JOIN = ',' + _RECORD_HEAD
_BATCH_TAIL = re.compile(r'\],"through_seq":(0|[1-9][0-9]{0,18})\}\Z')
_TAIL_SEARCH = 40  # characters from the end within which the tail must start


def batch_frame(bodies: Sequence[str], through_seq: int) -> str:
    """A batch frame of records already JSON (as the log stores them), spliced in without encoding again;
    each body must start with its seq, as the hub's stored records do."""
    return f'{_BATCH_HEAD}{",".join(bodies)}],"through_seq":{through_seq}}}'


def cut_batch(data: bytes | str) -> tuple[list[str], int] | None:
    """A batch frame in the hub's own layout, cut into each record's JSON text, without decoding any.

    Records are cut apart at ``,{"seq":``, so that each record's exact text can be stored as is rather
    than encoded again. Outside a JSON string that sequence only ever starts an object whose first key
    is ``seq``; inside a string it cannot occur at all, since a string's quotes are escaped. A cut can
    still fall inside a record, where a nested array holds such an object; the piece before it then
    leaves an array open, is no JSON text on its own, and fails to decode. So **when every piece decodes
    on its own to a JSON object, the pieces are exactly the frame's records** — the caller must check
    that (``split_batch`` does, and so does ``keyed_texts``).

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


class _Key(msgspec.Struct, gc=False):
    """All that a replica decodes of a record (``keyed_texts``): its other fields are skipped by the
    decoder (checked to be JSON, never made into Python objects)."""

    seq: Annotated[int, msgspec.Meta(ge=0, le=(1 << 63) - 1)]  # as is_seq
    kind: str


_decode_key = msgspec.json.Decoder(_Key).decode


def keyed_texts(texts: Sequence[str]) -> list[KeyedText] | None:
    """Records given as their JSON text, each with its seq and kind read out and its text kept as is.

    None unless every text is one JSON object with an integer ``seq`` and a string ``kind`` — which is
    also what tells ``cut_batch``'s pieces are exactly a frame's records.
    """
    rows: list[KeyedText] = []
    append, decode = rows.append, _decode_key
    try:
        for text in texts:
            key = decode(text)
            append((key.seq, key.kind, text))
    except (msgspec.DecodeError, UnicodeError, RecursionError):  # RecursionError: nested past msgspec's depth
        return None
    return rows


def keyed_records(records: Iterable[dict[str, Any]]) -> list[KeyedText]:
    """``keyed_texts`` for decoded records (each encoded again for its text)."""
    return [(r["seq"], r["kind"], orjson.dumps(r).decode()) for r in records]


def batch_rows(data: bytes | str) -> tuple[list[KeyedText], int]:
    """A batch frame's records, keyed (``KeyedText``), and the seq it covers through; ``MalformedFrame``
    if it is none. A frame in the hub's own layout has only each record's seq and kind decoded; any other
    is decoded whole."""
    cut = cut_batch(data)
    rows = keyed_texts(cut[0]) if cut is not None else None
    if cut is not None and rows is not None:
        return rows, cut[1]
    records, through_seq = parse_batch(data)
    return keyed_records(records), through_seq
