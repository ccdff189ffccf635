"""The store's read queries, written once in SQLite's SQL, run on PostgreSQL.

The queries in ``store.queries``, ``store.filters`` and ``store.related`` (and the hub's own few) use a
small part of SQLite's dialect that PostgreSQL spells otherwise. ``translate`` rewrites exactly that part,
outside string literals:

- ``?`` parameters become ``$1``, ``$2``, … (psycopg's raw cursor passes them to the server as they are);
- ``json_extract(body, '$.name')`` becomes ``(body::json ->> 'name')``: the field as text. A parameter it is
  compared with (``= ?``) is turned into that text too (``json_text_parameters``), so ``5`` matches ``5``;
- ``IFNULL(`` becomes ``COALESCE(``; ``IS NOT <value>`` becomes ``IS DISTINCT FROM <value>``;
- ``LIKE`` becomes ``ILIKE``: SQLite's ``LIKE`` ignores the case of ASCII letters, and free text in the
  filter language means the same on both backends.

A query outside that part is a programming error here, found by the tests that run the hub on both.
"""

from collections.abc import Sequence
from functools import lru_cache
import re

import orjson

_LITERAL = re.compile(r"'(?:[^']|'')*'")
_JSON_FIELD = re.compile(r"json_extract\(body, '\$\.([A-Za-z_][A-Za-z0-9_]*)'\)(\s*=\s*\?)?")
_REWRITES = (
    (re.compile(r"\bIFNULL\(", re.IGNORECASE), "COALESCE("),
    (re.compile(r"\bIS NOT (?!NULL\b|DISTINCT\b)", re.IGNORECASE), "IS DISTINCT FROM "),
    (re.compile(r"\bLIKE\b", re.IGNORECASE), "ILIKE"),
)
_JSON_COMPARED = "\x00"
"""Marks, while translating, a parameter compared with a JSON field."""


@lru_cache(maxsize=512)
def translate(sql: str) -> tuple[str, tuple[int, ...]]:
    """``sql`` in PostgreSQL's words, and the positions (0-based) of the parameters compared with a JSON
    field's text."""
    sql = _JSON_FIELD.sub(lambda m: f"(body::json ->> '{m[1]}')" + (" = " + _JSON_COMPARED if m[2] else ""), sql)
    parts: list[str] = []
    compared: list[int] = []
    count = 0
    position = 0
    for literal in [*_LITERAL.finditer(sql), None]:
        end = literal.start() if literal else len(sql)
        code = sql[position:end]
        for pattern, replacement in _REWRITES:
            code = pattern.sub(replacement, code)
        pieces = re.split(r"(\?|\x00)", code)
        for piece in pieces:
            if piece in ("?", _JSON_COMPARED):
                if piece == _JSON_COMPARED:
                    compared.append(count)
                count += 1
                parts.append(f"${count}")
            else:
                parts.append(piece)
        if literal:
            parts.append(literal[0])
            position = literal.end()
    return "".join(parts), tuple(compared)


def parameters(values: Sequence[object], json_compared: tuple[int, ...]) -> list[object]:
    """The values for a translated query: those compared with a JSON field's text as that text would be."""
    out = list(values)
    for index in json_compared:
        value = out[index]
        if value is not None and not isinstance(value, str):
            out[index] = orjson.dumps(value).decode()
    return out
