"""Which records to show: the dashboard's filter language and the CLI's options, as a ``RecordFilter``
that turns into SQL.

The language (``parse_filter``), words separated by spaces::

    status:5xx status:503 status:skipped   a class, a code, skipped, or none: no answer at all
                                           (several: status:502,504)
    code:503 code:service_timeout          a status code, an api_call's error code, a script run's
                                           outcome (ok, error, timeout, oom) or a trigger event's delivery
    feature:glow conn:evening-glow user:user-001 op:lights.change_color
    kind:script_run                        api_call, script_run, trigger_event, rerun, script_trial, or all
    dir:outbound                           inbound, outbound or webhook
    since:15m                              90s, 15m, 1h, 2d, 1w ago, a time of day (13:05, the last one
                                           that has come), or a time: 2026-11-26T13:00
    anything else                          free text, every word must occur; "quoted words" as a phrase

``status:`` and ``code:`` words are alternatives (any of them matches); every other word narrows the
filter further. Free text matches the strings in a record's body: paths, ids, error codes and messages,
request and response bodies, script errors and console output, trigger ingredients. Text with a colon
in it goes in quotes. A word that means nothing raises ``FilterError`` with its column, and so does a
filter past ``MAX_FILTER_CHARS`` characters or ``MAX_FILTER_TERMS`` terms (SQLite refuses a query
with too many conditions or too long a ``LIKE`` pattern, so the bound is here, where every user of
the language gets the same message).
"""

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta, tzinfo
import re

from switchroom.protocol.kinds import API_CALL, KINDS, OUTCOME_FIELD
from switchroom.store.eventlog import EventLog, iso_timestamp
from switchroom.store.status_codes import NO_ANSWER

MAX_FILTER_CHARS = 1_000
MAX_FILTER_TERMS = 50
"""Words, and the comma-separated values of a ``status:``/``code:``/``kind:`` word, counted alike."""
DIRECTIONS = ("inbound", "outbound", "webhook")
_DURATION = re.compile(r"^(\d{1,7})([smhdw])$")
_TIME_OF_DAY = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_STATUS = re.compile(r"^(?:([1-5])xx|([1-5]\d\d)|(skipped))$")
_OUTCOME = re.compile(r"^[a-z][a-z_]*$")
_TOKEN = re.compile(r'"[^"]*"?|[^\s"]+')
_KEY = re.compile(r"^([A-Za-z_]+):(.*)$", re.DOTALL)
_KEYS = {"status": "status", "code": "code", "feature": "feature_id", "conn": "connection_id",
         "connection": "connection_id", "user": "user_id", "op": "op_id", "kind": "kind", "since": "since",
         "dir": "direction"}
FILTER_KEYS: tuple[str, ...] = tuple(_KEYS)
"""The words before a colon that the language knows (``status``, ``conn``, …)."""
_RAW_OUTCOME = "CASE kind " + " ".join(f"WHEN '{kind}' THEN json_extract(body, '$.{name}')"
                                       for kind, name in OUTCOME_FIELD.items()) + " END"


class FilterError(ValueError):
    """A filter that means nothing; the message says what would, and ``column`` (1-based) where the
    word in question starts, when it came from the filter language."""

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(f"column {column}: {message}" if column else message)
        self.reason = message
        self.column = column


@dataclass(frozen=True)
class StatusMatch:
    """A status class (``5xx``), one code (``503``), ``skipped``, or ``none``: no answer at all."""

    low: int = 0
    high: int = 0
    skipped: bool = False
    no_answer: bool = False

    def matches(self, status_code: int | None, skipped: bool) -> bool:
        if self.skipped:
            return skipped
        if self.no_answer:
            return status_code is None and not skipped
        return not skipped and status_code is not None and self.low <= status_code <= self.high

    def sql(self) -> str:
        if self.skipped:
            return "skipped = 1"
        if self.no_answer:
            return "(status_code IS NULL AND skipped IS NOT 1)"
        return f"(status_code BETWEEN {self.low} AND {self.high} AND skipped IS NOT 1)"


def parse_status(text: str) -> StatusMatch:
    """A status as the filter language and the breakdown's keys write it (``store.status_codes``)."""
    if text.strip().lower() == NO_ANSWER:
        return StatusMatch(no_answer=True)
    match = _STATUS.match(text.strip().lower())
    if match is None and _OUTCOME.match(text.strip()):  # an outcome or error code, asked for as a status
        raise FilterError(f"'{text}' is not a status: for a script run's outcome or an error code, use "
                          f"code:{text.strip()}; a status is a class like 5xx, a code like 503, skipped, or none")
    if match is None:
        raise FilterError(f"'{text}' is not a status: use a class like 5xx, a code like 503, skipped, or none "
                          "(no answer)")
    if match[1]:
        return StatusMatch(int(match[1]) * 100, int(match[1]) * 100 + 99)
    if match[2]:
        return StatusMatch(int(match[2]), int(match[2]))
    return StatusMatch(skipped=True)


def parse_since(text: str, now: datetime | None = None, zone: tzinfo = UTC) -> str:
    """``90s``, ``15m``, ``1h``, ``2d``, ``1w`` ago; a time of day (``13:05``, ``13:05:30``: today's, or
    yesterday's while today's is still to come); or a date and time (``2026-11-26T13:00``, or a date
    alone); as a record timestamp. Times are read in ``zone`` (the dashboard's is the one it shows; the
    hub and the CLI read UTC) unless they name their own (``2026-11-26T13:00Z``, ``…+01:00``)."""
    now = now or datetime.now(UTC)
    match = _DURATION.match(text.strip())
    if match is not None:
        return iso_timestamp(now - timedelta(**{_UNITS[match[2]]: int(match[1])}))
    clock = _TIME_OF_DAY.match(text.strip())
    if clock is not None:
        return iso_timestamp(_last_time_of_day(text, clock, now, zone))
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(f"'{text}' is not a duration or a time: use a number and s, m, h, d or w, like 15m "
                          "or 1h, a time of day like 13:05, or a date and time like 2026-11-26T13:00") from None
    return iso_timestamp(moment if moment.tzinfo else moment.replace(tzinfo=zone))


def _last_time_of_day(text: str, clock: re.Match[str], now: datetime, zone: tzinfo) -> datetime:
    """The latest moment, up to ``now``, at which the clocks of ``zone`` showed ``clock``: today or yesterday
    (in the zone: a day is its calendar day, 23 or 25 hours long when daylight saving starts or ends)."""
    hour, minute, second = int(clock[1]), int(clock[2]), int(clock[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise FilterError(f"'{text}' is not a time of day: use hours 0–23 and minutes 0–59, like 13:05")
    today = now.astimezone(zone).date()
    moment = datetime.combine(today, time(hour, minute, second), tzinfo=zone)
    return moment if moment <= now else datetime.combine(today - timedelta(days=1), moment.timetz())


@dataclass(frozen=True)
class RecordFilter:
    kinds: tuple[str, ...] = (API_CALL,)
    since_ts: str | None = None
    statuses: tuple[StatusMatch, ...] = ()
    outcomes: tuple[str, ...] = ()
    """Error codes, script outcomes or trigger deliveries; alternatives to ``statuses``."""
    connection_id: str | None = None
    feature_id: str | None = None
    user_id: str | None = None
    op_id: str | None = None
    direction: str | None = None
    text: tuple[str, ...] = ()
    """Free text: words or phrases that must all occur in a record's strings."""
    limit: int | None = None
    """The newest ``limit`` matches (still given oldest first); all when None."""

    def where(self, indexed: bool = False) -> tuple[str, list[object]]:
        """The SQL condition and its parameters: over ``records`` (free text as ``LIKE`` on the body), or
        with ``indexed`` over the indexer's ``derived_entries`` (free text through its FTS index)."""
        clauses = [f"kind IN ({', '.join('?' for _ in self.kinds)})"]
        params: list[object] = list(self.kinds)
        if self.since_ts:
            clauses.append("ts >= ?")
            params.append(self.since_ts)
        answers = [s.sql() for s in self.statuses]
        if self.outcomes:
            answers.append(f"{'outcome' if indexed else _RAW_OUTCOME} IN ({', '.join('?' for _ in self.outcomes)})")
            params.extend(self.outcomes)
        if answers:
            clauses.append("(" + " OR ".join(answers) + ")")
        for column in ("connection_id", "feature_id", "user_id", "op_id", "direction"):
            value = getattr(self, column)
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if self.text and indexed:
            clauses.append("seq IN (SELECT rowid FROM derived_text WHERE derived_text MATCH ?)")
            params.append(self.text_query())
        elif self.text:
            clauses.extend("body LIKE ? ESCAPE '\\'" for _ in self.text)
            params.extend("%" + re.sub(r"([\\%_])", r"\\\1", phrase) + "%" for phrase in self.text)
        return " AND ".join(clauses), params

    def text_query(self) -> str:
        """The free text as an FTS5 query over the columns of the filter's kinds (the indexer's
        ``derived_text`` keeps each record's text in its kind's column): every phrase must occur."""
        phrases = " ".join('"' + phrase.replace('"', '""') + '"' for phrase in self.text)
        return f"{{{' '.join(self.kinds)}}} : ({phrases})"


def parse_filter(text: str, base: RecordFilter = RecordFilter(), now: datetime | None = None,
                 zone: tzinfo = UTC) -> RecordFilter:
    """The filter the language in ``text`` says, on top of ``base`` (the pane's own kinds and focus);
    ``since:`` times are read in ``zone`` unless they name their own."""
    fields: dict[str, object] = {}
    statuses: list[StatusMatch] = []
    outcomes: list[str] = []
    words: list[str] = []
    terms = 0
    if len(text) > MAX_FILTER_CHARS:
        raise FilterError(f"a filter is at most {MAX_FILTER_CHARS:,} characters (this one has {len(text):,})",
                          MAX_FILTER_CHARS + 1)
    for token, column in _tokens(text):
        keyed = _KEY.match(token)
        terms += 1 + (keyed[2].count(",") if keyed else 0)
        if terms > MAX_FILTER_TERMS:
            raise FilterError(f"a filter has at most {MAX_FILTER_TERMS} terms (words and comma-separated "
                              "values): narrow it with status:, code:, feature:, conn: or since:", column)
        if token.startswith('"'):
            words.append(_phrase(token[1:-1], column))
        elif keyed is None:
            words.append(_phrase(token, column))
        else:
            key, value = keyed[1].lower(), keyed[2]
            if key not in _KEYS:
                raise FilterError(f"'{keyed[1]}:' is not a filter: use {', '.join(k + ':' for k in _KEYS)}, "
                                  "or put text with a colon in quotes", column)
            if not value:
                raise FilterError(f"'{key}:' needs a value, like {_EXAMPLES[key]}", column)
            try:
                _read(key, value, fields, statuses, outcomes, now, zone)
            except FilterError as exc:
                raise FilterError(exc.reason, column) from None
    return replace(base, **fields, statuses=(*base.statuses, *statuses), outcomes=(*base.outcomes, *outcomes),
                   text=(*base.text, *words))


def without_keys(text: str, keys: set[str]) -> str:
    """``text`` with the words that name one of ``keys`` taken out (``conn`` also takes ``connection:``,
    the same field); the rest kept as written."""
    fields = {_KEYS[key] for key in keys}
    kept = [match[0] for match in _TOKEN.finditer(text)
            if not ((keyed := _KEY.match(match[0])) and _KEYS.get(keyed[1].lower()) in fields)]
    return " ".join(kept)


def with_times_in_utc(text: str, zone: tzinfo, now: datetime | None = None) -> str:
    """``text`` with each ``since:`` time (``13:05``, ``2026-11-26T13:05``) written as the UTC moment it means
    in ``zone`` (``since:2026-11-26T07:35:00.000Z``), so that a reader in UTC — the hub, given a bulk rerun's
    filter — takes it as meant; durations (``since:1h``), words it cannot read and the rest kept as written."""
    words = []
    for match in _TOKEN.finditer(text):
        keyed = _KEY.match(match[0])
        if keyed and keyed[1].lower() == "since" and not _DURATION.match(keyed[2].strip()):
            try:
                words.append(f"{keyed[1]}:{parse_since(keyed[2], now, zone)}")
                continue
            except FilterError:
                pass  # the reader refuses it, saying why
        words.append(match[0])
    return " ".join(words)


_EXAMPLES = {"status": "status:5xx", "code": "code:503", "feature": "feature:glow", "conn": "conn:evening-glow",
             "connection": "connection:evening-glow", "user": "user:user-001", "op": "op:lights.change_color",
             "kind": "kind:script_run", "since": "since:1h", "dir": "dir:inbound"}


def _tokens(text: str) -> Iterator[tuple[str, int]]:
    for match in _TOKEN.finditer(text):
        token, column = match[0], match.start() + 1
        if token.startswith('"') and (len(token) == 1 or not token.endswith('"')):
            raise FilterError('this quote (") is not closed', column)
        yield token, column


def _phrase(text: str, column: int) -> str:
    if not any(c.isalnum() for c in text):
        raise FilterError(f"'{text}' has no letters or digits to search for", column)
    return text


def _read(key: str, value: str, fields: dict[str, object], statuses: list[StatusMatch], outcomes: list[str],
          now: datetime | None, zone: tzinfo) -> None:
    """Add what ``key:value`` says to ``fields`` (single values) or ``statuses``/``outcomes`` (alternatives)."""
    name = _KEYS[key]
    if name == "status":
        statuses.extend(parse_status(part) for part in _parts(value))
    elif name == "code":
        for part in _parts(value):
            if _STATUS.match(part.lower()) and not part.lower().endswith("xx"):
                statuses.append(parse_status(part))
            elif _OUTCOME.match(part):
                outcomes.append(part)
            else:
                raise FilterError(f"'{part}' is not a code: use a status like 503, an error code like "
                                  "service_timeout, or a script outcome like timeout")
    elif name == "kind":
        kinds = tuple(k for part in _parts(value) for k in (KINDS if part == "all" else (part,)))
        if unknown := [k for k in kinds if k not in KINDS]:
            raise FilterError(f"'{unknown[0]}' is not a kind: use {', '.join(KINDS)} or all")
        _set(fields, "kinds", tuple(dict.fromkeys(kinds)), key)
    elif name == "since":
        _set(fields, "since_ts", parse_since(value, now, zone), key)
    elif name == "direction" and value not in DIRECTIONS:
        raise FilterError(f"'{value}' is not a direction: use {', '.join(DIRECTIONS)}")
    else:
        _set(fields, name, value, key)


def _parts(value: str) -> list[str]:
    parts = value.split(",")
    if not all(parts):
        raise FilterError(f"'{value}' has an empty value between commas")
    return parts


def _set(fields: dict[str, object], name: str, value: object, key: str) -> None:
    if name in fields:
        raise FilterError(f"'{key}:' is given twice: a record has one {key}")
    fields[name] = value


def matching_records(log: EventLog, record_filter: RecordFilter) -> Iterator[str]:
    """The JSON of every record the filter matches, oldest first."""
    where, params = record_filter.where()
    if record_filter.limit is None:
        rows = log.execute(f"SELECT body FROM records WHERE {where} ORDER BY seq", params)
    else:
        rows = log.execute(f"SELECT body FROM records WHERE {where} ORDER BY seq DESC LIMIT ?",
                           [*params, record_filter.limit])[::-1]
    return (row[0] for row in rows)
