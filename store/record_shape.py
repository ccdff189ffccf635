"""What the dashboard reads of a record, and of which type each field must be.

A hub is untrusted input (DESIGN §8): a record whose fields have other types than its kind's struct
declares (``protocol.records``) is *bad*. It is kept as the hub sent it, counted (the indexer keeps the
count), and read without its bad fields (``shaped``), which it carries aside under ``BAD`` so that a detail
view can show them as they came. Every reader of a hub's records in the dashboard — the indexer, the panes'
lists and detail views — reads records through ``shaped``, so that none of them meets a value of a type
it does not expect: a status code of ``"abc"``, a ``ts`` of ``12345``, a latency that is a list.

A record of a kind the dashboard does not know is bad too (field ``kind``): it is counted, not shown.
"""

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
import math
import re

import msgspec.inspect as mi

from switchroom.protocol.kinds import KINDS, RECORD_TYPE

BAD = "_bad"
"""The key under which ``shaped`` keeps a record's bad fields, as the hub sent them."""
_TS = re.compile(r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?Z")
_TS_LINES = re.compile(rf"(?:{_TS.pattern}\n)*{_TS.pattern}")
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


def all_timestamps(values: Sequence[str]) -> bool:
    """Whether every one of ``values`` (strings) ``is_timestamp``: one pattern over them all, a line each
    (a value with a line break in it is more than one line, so is refused by the count)."""
    if not values:
        return True
    lines = "\n".join(values)
    return lines.count("\n") == len(values) - 1 and _TS_LINES.fullmatch(lines) is not None


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


def is_flag(value: Any) -> bool:
    return type(value) is bool


_PLAIN: dict[type[mi.Type], tuple[type, Check]] = {
    mi.StrType: (str, is_text), mi.LiteralType: (str, is_text), mi.IntType: (int, is_integer),
    mi.BoolType: (bool, is_flag), mi.DictType: (dict, lambda value: type(value) is dict),
}
"""What a field declared with each msgspec type must hold; a number (``FloatType``) is more than a type
(see ``is_number``), and a field declared ``Any`` (bodies) may hold anything."""


def _declared(field_type: mi.Type) -> mi.Type:
    """A field's type without the None it may be (None, like absence, is always right)."""
    if isinstance(field_type, mi.UnionType):
        kept = [t for t in field_type.types if not isinstance(t, mi.NoneType)]
        return kept[0] if len(kept) == 1 else field_type
    return field_type


def _check(field_type: mi.Type) -> Check | None:
    """How a value of a nested object's field is checked; None: it is not."""
    if isinstance(field_type, mi.FloatType):
        return is_number
    if isinstance(field_type, mi.StructType):
        return object_of(_nested_shape(field_type))
    if isinstance(field_type, mi.ListType) and isinstance(field_type.item_type, mi.StructType):
        return objects_of(_nested_shape(field_type.item_type))
    plain = _PLAIN.get(type(field_type))
    return plain[1] if plain else None


def _nested_shape(struct: mi.StructType) -> dict[str, Check]:
    fields = ((f.encode_name, _check(_declared(f.type))) for f in struct.fields)
    return {name: check for name, check in fields if check is not None}


def _record_fields() -> dict[str, mi.Type]:
    """Every top-level field of every record kind, with its type: one name, one type across kinds (else the
    dashboard could not check a field without its kind), which this refuses at import when it is not so."""
    declared: dict[str, mi.Type] = {}
    for record_type in RECORD_TYPE.values():
        for field in mi.type_info(record_type).fields:
            field_type = _declared(field.type)
            if isinstance(field_type, mi.LiteralType):
                field_type = mi.StrType()  # a value the protocol does not name is shown as it came
            if declared.setdefault(field.encode_name, field_type) != field_type:
                raise TypeError(f"record field {field.encode_name!r} has two types: "
                                f"{declared[field.encode_name]} and {field_type}")
    return declared


_FIELDS = _record_fields()
_NONE = type(None)
TYPES: dict[str, frozenset[type]] = {
    name: frozenset({_PLAIN[type(t)][0], _NONE}) for name, t in _FIELDS.items() if type(t) in _PLAIN and name != "ts"
}
"""The fields whose type alone says whether they are right (None, like absence, always is): one set look-up
each, since the indexer checks every record (see ``bad_fields``)."""

SHAPE: dict[str, Check] = {
    **{name: check for name, t in _FIELDS.items() if name not in TYPES and (check := _check(t)) is not None},
    "ts": is_timestamp, "kind": _kind, BAD: _never,
}
"""The fields the dashboard reads whose check is more than a type (with ``TYPES``: every field it reads),
and what each value must be when it is there (None, like absence, is fine but for the ``REQUIRED``
fields). Both are read off the record structs (``protocol.records``); fields they declare ``Any`` are shown
as they are (bodies, as JSON) and read by nothing else."""
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
