"""What the dashboard reads of a record, and of which type each field must be.

A hub is untrusted input (DESIGN §8): a record whose fields have other types than the protocol's
(``protocol.records``) is *bad*. It is kept as the hub sent it, counted (the indexer keeps the count),
and read without its bad fields (``shaped``), which it carries aside under ``BAD`` so that a detail view
can show them as they came. Every reader of a hub's records in the dashboard — the indexer, the panes'
lists and detail views — reads records through ``shaped``, so that none of them meets a value of a type
it does not expect: a status code of ``"abc"``, a ``ts`` of ``12345``, a latency that is a list.

A record of a kind the dashboard does not know is bad too (field ``kind``): it is counted, not shown.
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
import math
import re

from switchroom.protocol.kinds import KINDS

BAD = "_bad"
"""The key under which ``shaped`` keeps a record's bad fields, as the hub sent them."""
_TS = re.compile(r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?Z")
TS_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z"
"""SQLite's ``GLOB`` for what ``_TS`` matches, near enough to pass over a ``ts`` of another shape."""

Check = Callable[[Any], bool]


def is_text(value: Any) -> bool:
    return type(value) is str


def is_integer(value: Any) -> bool:
    return type(value) is int


def is_number(value: Any) -> bool:
    """An integer or a finite real (a hub may send ``1e400``: see ``store.eventlog.record_of``)."""
    return type(value) is int or (type(value) is float and math.isfinite(value))


def is_timestamp(value: Any) -> bool:
    """A UTC time as the hub writes them (``store.iso_timestamp``): records are bucketed by its prefix
    (minute, hour) and compared as text, so it must have that shape and end in ``Z``. (Its digits are in
    range; a day past its month's end passes, and is only ever a bucket's name: ``moment`` parses.)"""
    return type(value) is str and _TS.fullmatch(value) is not None


def moment(ts: str) -> datetime | None:
    """The moment ``ts`` names when it is a timestamp as the hub writes them; None if it is not."""
    if _TS.fullmatch(ts) is None:
        return None
    try:
        return datetime.fromisoformat(ts)
    except ValueError:  # 2026-02-30T10:00:00Z
        return None


def _kind(value: Any) -> bool:
    return value in KINDS


def _never(value: Any) -> bool:
    return False


def object_of(shape: Mapping[str, Check]) -> Check:
    return lambda value: type(value) is dict and not bad_fields(value, shape, required=())


def objects_of(shape: Mapping[str, Check]) -> Check:
    return lambda value: type(value) is list and all(
        type(v) is dict and not bad_fields(v, shape, required=()) for v in value)


_TEXT_FIELDS = (
    "direction", "method", "path", "op", "op_id", "connection_id", "feature_id", "user_id", "user_feature_id",
    "error_code", "error_message", "source", "script_run_id", "request_id", "status", "script_version",
    "trigger_id", "trigger_identity", "meta_id", "delivered_to", "phase", "outcome", "actor", "reason", "message",
    "filter", "bulk_id", "idempotency_key", "state",
)
_INTEGER_FIELDS = ("seq", "status_code", "trigger_event_id", "rerun_of", "original", "api_call_id", "done", "total",
                   "ok", "failed", "refused", "console_dropped")
_NUMBER_FIELDS = ("latency_ms", "duration_ms", "queued_ms", "time_limit_ms")
_FLAG_FIELDS = ("skipped", "replay", "force")
_OBJECT_FIELDS = ("ingredients", "resolved_fields", "fields")
_NONE = type(None)
TYPES: dict[str, frozenset[type]] = {
    **dict.fromkeys(_TEXT_FIELDS, frozenset({str, _NONE})), **dict.fromkeys(_INTEGER_FIELDS, frozenset({int, _NONE})),
    **dict.fromkeys(_FLAG_FIELDS, frozenset({bool, _NONE})), **dict.fromkeys(_OBJECT_FIELDS, frozenset({dict, _NONE})),
}
"""The fields whose type alone says whether they are right (None, like absence, always is): one set look-up
each, since the indexer checks every record (see ``bad_fields``)."""

SHAPE: dict[str, Check] = {
    "ts": is_timestamp, "kind": _kind, BAD: _never, **dict.fromkeys(_NUMBER_FIELDS, is_number),
    "error": object_of({"message": is_text, "stack": is_text, "line": is_integer, "column": is_integer}),
    "console": objects_of({"level": is_text, "text": is_text}),
    "calls": objects_of({"kind": is_text, "op_id": is_text, "request_id": is_text, "status_code": is_integer,
                         "api_call_id": is_integer}),
}
"""The fields the dashboard reads whose check is more than a type (with ``TYPES``: every field it reads),
and what each value must be when it is there (None, like absence, is fine but for the ``REQUIRED``
fields). Fields named in neither are shown as they are (bodies, as JSON) and read by nothing else."""
REQUIRED = ("ts",)
"""Fields every record has (``seq`` and ``kind`` too, which a cache checks as it stores a record)."""


def bad_fields(record: Mapping[str, Any], shape: Mapping[str, Check] = SHAPE,
               required: tuple[str, ...] = REQUIRED) -> list[str]:
    """The names of ``record``'s fields whose values ``shape`` refuses, in the record's order, after
    those of the ``required`` fields it lacks; with the default ``shape``, those ``TYPES`` refuses too.

    Run on every record the indexer reads: a well-formed record costs a set look-up a field and a
    timestamp match (about 5 µs for an api_call: ``docs/performance.md``)."""
    bad = [name for name in required if record.get(name) is None]
    types = TYPES if shape is SHAPE else {}
    for name, value in record.items():
        expected = types.get(name)
        if expected is not None:
            if type(value) not in expected:
                bad.append(name)
        elif value is not None and (check := shape.get(name)) is not None and not check(value):
            bad.append(name)
    return bad


def shaped(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` itself when it is well formed; else a copy without its bad fields, which it keeps
    under ``BAD`` as they came (name → value)."""
    bad = bad_fields(record)
    if not bad:
        return record
    kept = {name: value for name, value in record.items() if name not in bad}
    kept[BAD] = {name: record.get(name) for name in bad}
    return kept
