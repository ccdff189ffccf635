"""Completion for the filter bar: the word being typed is completed to a filter key (``sta`` →
``status:``) or, after a key, to a value the cache knows (``conn:eve`` → ``conn:evening-glow``); the
suggestion shows greyed after the cursor and → takes it (Textual's ``Input`` suggester).

The values come from the cache when the bar opens (``known_values``, on the summaries' thread): the
connection, feature, user and operation ids and the codes its records carry, a bounded number of each.
"""

from collections.abc import Mapping

from textual.suggester import Suggester

from switchroom.protocol.kinds import KINDS, OUTCOME_FIELD
from switchroom.store import EventLog
from switchroom.store.filters import DIRECTIONS, FILTER_KEYS

MAX_VALUES = 1_000
"""Of each kind of value; users beyond these are typed in full."""
FIXED_VALUES: dict[str, tuple[str, ...]] = {
    "status": ("2xx", "3xx", "4xx", "5xx", "skipped"),
    "kind": (*KINDS, "all"),
    "dir": DIRECTIONS,
    "since": ("15m", "1h", "6h", "24h", "7d"),
}
_COLUMNS = {"conn": "connection_id", "connection": "connection_id", "feature": "feature_id", "user": "user_id",
            "op": "op_id"}


def known_values(log: EventLog) -> dict[str, tuple[str, ...]]:
    """Per filter key, the values the cache's records carry (most common first for codes)."""
    values: dict[str, tuple[str, ...]] = {}
    for key, column in _COLUMNS.items():
        rows = log.execute(f"SELECT DISTINCT {column} FROM records WHERE {column} IS NOT NULL "
                           f"ORDER BY {column} LIMIT ?", [MAX_VALUES])
        values[key] = tuple(str(row[0]) for row in rows)
    statuses = log.execute("SELECT DISTINCT status_code FROM records WHERE status_code IS NOT NULL "
                           "ORDER BY status_code LIMIT ?", [MAX_VALUES])
    outcome = "CASE kind " + " ".join(f"WHEN '{kind}' THEN json_extract(body, '$.{name}')"
                                      for kind, name in OUTCOME_FIELD.items()) + " END"
    outcomes = log.execute(f"SELECT {outcome} AS o, COUNT(*) FROM (SELECT kind, body FROM records ORDER BY seq DESC "
                           f"LIMIT 100000) WHERE o IS NOT NULL GROUP BY o ORDER BY COUNT(*) DESC LIMIT ?",
                           [MAX_VALUES])
    codes = tuple(str(row[0]) for row in statuses)
    values["code"] = codes + tuple(str(row[0]) for row in outcomes)
    values["status"] = FIXED_VALUES["status"] + codes
    return values


class FilterSuggester(Suggester):
    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.values: Mapping[str, tuple[str, ...]] = {}
        """Per key, what its values may be (``known_values``, then the fixed ones)."""

    async def get_suggestion(self, value: str) -> str | None:
        return complete(value, {**FIXED_VALUES, **self.values})


def complete(value: str, values: Mapping[str, tuple[str, ...]]) -> str | None:
    """``value`` with its last word completed, or None when nothing completes it. A word in quotes or
    with nothing typed yet is free text: not completed."""
    if not value or value.endswith(" ") or value.count('"') % 2:
        return None
    head, _, word = value.rpartition(" ")
    start = f"{head} " if head else ""
    key, colon, typed = word.partition(":")
    if not colon:
        found = next((k for k in FILTER_KEYS if k.startswith(key.lower()) and k != key.lower()), None)
        return f"{start}{found}:" if found and key else None
    choices = values.get(key.lower(), ())
    earlier, _, part = typed.rpartition(",")  # status:502,50 completes the part after the last comma
    found = next((v for v in choices if v.startswith(part) and v != part), None) if part else None
    return f"{start}{key}:{earlier + ',' if earlier else ''}{found}" if found else None
