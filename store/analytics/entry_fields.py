"""A record's ``derived_entries`` row decoded straight from its text, its shape checked on the way.

The indexer reads every record a cache holds. Parsing each into Python objects, checking it field by
field (``store.record_shape.shaped``) and picking it apart was most of what counting it cost (figures:
``docs/performance.md``); msgspec decodes the text into a Struct of only the fields the dashboard reads,
each typed as ``record_shape`` wants it, so the check is done by the decoder in C and every other field
is skipped unparsed.

``entry_from_text`` answers None whenever the decoder refuses a record (a field of another type, a
number past 64 bits, a kind the dashboard does not know): such a record is read the slow way
(``store.analytics.derived.entry_of``), which also says which of its fields are bad. So the fast path only has to be right about the records it accepts: for those it
gives exactly the entry the slow way gives (``tests/store/test_indexer_paths.py`` holds both to that).
"""

from collections.abc import Callable, Sequence
from types import NoneType
from typing import Annotated, Any, Literal
import sys

import msgspec

from switchroom.protocol.kinds import KINDS, OUTCOME_FIELD, SCRIPT_RUN
from switchroom.store.analytics.derived_counts import COUNTED_KINDS, Count, Entry, Tallies, counted, tally_one
from switchroom.store.log_layouts import INDEXED
from switchroom.store.record_shape import BAD, SHAPE, TYPES, all_timestamps, is_number, is_timestamp

_Integer = Annotated[int, msgspec.Meta(ge=-(1 << 63), le=(1 << 63) - 1)]
"""An integer SQLite holds; a larger one is read the slow way (orjson reads it as a real)."""
_Number = Annotated[float, msgspec.Meta(ge=-sys.float_info.max, le=sys.float_info.max)]
"""A finite number (``record_shape.is_number``); msgspec reads an integer as a real, as SQLite's REAL
column stores it anyway."""
_DECODED = {str: str, int: _Integer, bool: bool, dict: dict[str, msgspec.Raw]}
"""The type each of ``record_shape.TYPES``'s types is decoded as (an object's values are left as text)."""


class _ErrorFields(msgspec.Struct, gc=False):
    """``record_shape.SHAPE['error']``."""

    message: str | None = None
    stack: str | None = None
    line: _Integer | None = None
    column: _Integer | None = None


class _ConsoleLine(msgspec.Struct, gc=False):
    """An item of ``record_shape.SHAPE['console']``."""

    level: str | None = None
    text: str | None = None


class _Call(msgspec.Struct, gc=False):
    """An item of ``record_shape.SHAPE['calls']``."""

    kind: str | None = None
    op_id: str | None = None
    request_id: str | None = None
    status_code: _Integer | None = None
    api_call_id: _Integer | None = None


class _TrialItem(msgspec.Struct, gc=False):
    """An item of ``record_shape.SHAPE['items']`` (a script trial's notable events)."""

    trigger_event_id: _Integer | None = None
    verdict: str | None = None


_CHECKED: list[tuple[str, Any, Any]] = [
    ("ts", str, msgspec.NODEFAULT),  # required; its pattern is checked after decoding (``is_timestamp``)
    ("kind", Literal[KINDS], msgspec.NODEFAULT),
    ("bad", NoneType, msgspec.field(default=None, name=BAD)),
    ("error", _ErrorFields | None, None),
    ("console", list[_ConsoleLine] | None, None),
    ("calls", list[_Call] | None, None),
    ("items", list[_TrialItem] | None, None),
    *((name, _Number | None, None) for name, check in SHAPE.items() if check is is_number),
    *((name, _DECODED[next(t for t in types if t is not NoneType)] | None, None) for name, types in TYPES.items()),
]
_Fields = msgspec.defstruct("_Fields", _CHECKED, gc=False)
assert {BAD if name == "bad" else name for name, _, _ in _CHECKED} == set(SHAPE) | set(TYPES), \
    "every field record_shape checks is decoded, so that a record the decoder accepts is well formed"
_decode = msgspec.json.Decoder(_Fields).decode

_ENTRY_FIELDS = {"ts", "kind", *INDEXED, "duration_ms", *OUTCOME_FIELD.values(), "op"}
_EntryFields = msgspec.defstruct("_EntryFields", [field for field in _CHECKED if field[0] in _ENTRY_FIELDS], gc=False)
_decode_entry = msgspec.json.Decoder(_EntryFields).decode
"""The fields of an entry alone, for counting: a record these have the right types in is counted as it
will be entered, whatever its other fields hold (which are checked when it is entered)."""


def entries_from_texts(rows: Sequence[tuple[int, str, str]], whole: bool = True) -> list[Entry | None]:
    """``entry_from_text`` of each of ``rows`` (seq, kind, text). Their ``ts`` are checked together, by
    one pattern over them all (``record_shape.all_timestamps``): one match a record was a third of what
    decoding it cost."""
    decode = _decode if whole else _decode_entry
    entries = [_entry(seq, kind, text, decode) for seq, kind, text in rows]
    if not all_timestamps([entry[1] for entry in entries if entry is not None]):
        entries = [entry if entry is None or is_timestamp(entry[1]) else None for entry in entries]
    return entries


def count_texts(rows: Sequence[tuple[int, str, str]]) -> Count | None:
    """``count_of(entries_of(rows, whole=False))`` straight from each record's decoded fields, without
    making its entry (which was a third of the time counting took); None when any record is refused by
    the decoder or has a ``ts`` of another shape: the caller then counts ``rows`` the slow way."""
    decoded: list[tuple[int, Any]] = []
    for seq, kind, text in rows:
        if (fields := _fields(kind, text, _decode_entry)) is None:
            return None
        decoded.append((seq, fields))
    if not all_timestamps([fields.ts for _, fields in decoded]):
        return None
    tallies: Tallies = {}
    minute_seqs: dict[str, list[int]] = {}
    for seq, fields in decoded:
        ts, kind = fields.ts, fields.kind
        minute = ts[:16]
        minute_seqs.setdefault(minute, [seq, 0])[1] = seq
        if kind not in COUNTED_KINDS:
            continue
        outcome = getattr(fields, OUTCOME_FIELD[kind])
        key = (minute, kind, fields.connection_id or "", fields.feature_id or "", fields.op_id or "",
               fields.direction or "", fields.status_code or 0, 1 if fields.skipped else 0, outcome or "", fields.op or "")
        tally_one(tallies, key, seq, ts, _latency(kind, fields))
    return counted(tallies, minute_seqs)


def entry_from_text(seq: int, kind: str, text: str, whole: bool = True) -> Entry | None:
    """``derived.entry_of(seq, kind, shaped(record_of(text)))`` for a well-formed record; None for any
    record the decoder refuses, which the caller reads the slow way. Without ``whole`` only the entry's
    own fields are checked (and decoded): the record may be bad in others."""
    return entries_from_texts([(seq, kind, text)], whole)[0]


def _fields(kind: str, text: str, decode: Callable[[str], Any]) -> Any | None:
    """A record's fields as ``decode`` reads them; None when it refuses the record, or the record's kind is
    not the one the cache stored it under."""
    try:
        fields = decode(text)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    return fields if fields.kind == kind else None


def _entry(seq: int, kind: str, text: str, decode: Callable[[str], Any]) -> Entry | None:
    """The entry of a record, its ``ts`` not yet checked; None when the decoder refuses the record."""
    if (fields := _fields(kind, text, decode)) is None:
        return None
    return (seq, fields.ts, kind, fields.direction, fields.connection_id, fields.feature_id, fields.user_id,
            fields.op_id, fields.status_code, 1 if fields.skipped else 0, _latency(kind, fields),
            getattr(fields, OUTCOME_FIELD[kind]), fields.op)


def _latency(kind: str, fields: Any) -> float | None:
    """A record's latency: a script run without ``latency_ms`` is timed by its ``duration_ms``."""
    latency = fields.latency_ms
    return fields.duration_ms if latency is None and kind == SCRIPT_RUN else latency
