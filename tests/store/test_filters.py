"""The filter language, free text through FTS, and windows over filtered records."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from switchroom.store import EventLog
from switchroom.store.analytics.derived import Indexer, attach
from switchroom.store.filters import (FilterError, RecordFilter, StatusMatch, matching_records, parse_filter,
                                      with_times_in_utc, without_keys)
from switchroom.store.analytics.record_windows import Anchor, count_matches, window
from tests.support.seeded_records import records

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("status:5xx", {"statuses": (StatusMatch(500, 599),)}),
    ("status:503", {"statuses": (StatusMatch(503, 503),)}),
    ("status:skipped", {"statuses": (StatusMatch(skipped=True),)}),
    ("status:502,504", {"statuses": (StatusMatch(502, 502), StatusMatch(504, 504))}),
    ("status:none", {"statuses": (StatusMatch(no_answer=True),)}),
    ("code:503", {"statuses": (StatusMatch(503, 503),)}),
    ("code:service_timeout", {"outcomes": ("service_timeout",)}),
    ("code:timeout,oom", {"outcomes": ("timeout", "oom")}),
    ("status:4xx code:service_error", {"statuses": (StatusMatch(400, 499),), "outcomes": ("service_error",)}),
    ("feature:glow", {"feature_id": "glow"}),
    ("conn:evening-glow", {"connection_id": "evening-glow"}),
    ("connection:evening-glow", {"connection_id": "evening-glow"}),
    ("user:user-001", {"user_id": "user-001"}),
    ("op:lights.change_color", {"op_id": "lights.change_color"}),
    ("kind:script_run", {"kinds": ("script_run",)}),
    ("kind:all", {"kinds": ("api_call", "script_run", "trigger_event", "rerun", "script_trial")}),
    ("dir:outbound", {"direction": "outbound"}),
    ("since:1h", {"since_ts": "2026-11-26T11:00:00.000Z"}),
    ("since:90s", {"since_ts": "2026-11-26T11:58:30.000Z"}),
    ("since:2026-11-26T09:30", {"since_ts": "2026-11-26T09:30:00.000Z"}),
    ("since:11:45", {"since_ts": "2026-11-26T11:45:00.000Z"}),
    ("since:2026-11-26", {"since_ts": "2026-11-26T00:00:00.000Z"}),
    ("timeout", {"text": ("timeout",)}),
    ('"connection refused" porch', {"text": ("connection refused", "porch")}),
    ("  STATUS:5XX   Feature:glow  ", {"statuses": (StatusMatch(500, 599),), "feature_id": "glow"}),
    ("", {}),
])
def test_every_documented_form_parses(text: str, expected: dict[str, object]) -> None:
    parsed = parse_filter(text, now=NOW)
    assert {name: getattr(parsed, name) for name in expected} == expected
    untouched = set(RecordFilter.__dataclass_fields__) - set(expected)
    assert all(getattr(parsed, name) == getattr(RecordFilter(), name) for name in untouched)


@pytest.mark.parametrize(("zone", "now", "since", "expected"), [
    # India, +05:30 all year: 13:05 there is 07:35 UTC
    ("Asia/Kolkata", "2026-11-26T12:00Z", "13:05", "2026-11-26T07:35:00.000Z"),
    ("Asia/Kolkata", "2026-11-26T12:00Z", "2026-11-26T13:05", "2026-11-26T07:35:00.000Z"),
    ("Asia/Kolkata", "2026-11-26T12:00Z", "18:00", "2026-11-25T12:30:00.000Z"),  # 17:30 there now: yesterday's
    ("Asia/Kolkata", "2026-11-26T12:00Z", "2026-11-26T13:05Z", "2026-11-26T13:05:00.000Z"),  # a time's own zone
    ("Asia/Kolkata", "2026-11-26T12:00Z", "2026-11-26T13:05+01:00", "2026-11-26T12:05:00.000Z"),
    ("Asia/Kolkata", "2026-11-26T12:00Z", "15m", "2026-11-26T11:45:00.000Z"),  # a duration has no zone
    # Nepal, +05:45: 17:45 there now, so 00:10 is today's, 18:25 UTC the day before
    ("Asia/Kathmandu", "2026-11-26T12:00Z", "00:10", "2026-11-25T18:25:00.000Z"),
    # Berlin on the day clocks go forward (02:00 CET → 03:00 CEST at 01:00 UTC), it being 14:00 CEST
    ("Europe/Berlin", "2026-03-29T12:00Z", "01:30", "2026-03-29T00:30:00.000Z"),
    ("Europe/Berlin", "2026-03-29T12:00Z", "03:30", "2026-03-29T01:30:00.000Z"),
    ("Europe/Berlin", "2026-03-29T12:00Z", "02:30", "2026-03-29T01:30:00.000Z"),  # skipped: read at +01:00
    ("Europe/Berlin", "2026-03-29T00:30Z", "13:05", "2026-03-28T12:05:00.000Z"),  # yesterday, still CET
    # and on the day they go back (03:00 CEST → 02:00 CET at 01:00 UTC): 02:30 twice, the first one taken
    ("Europe/Berlin", "2026-10-25T12:00Z", "02:30", "2026-10-25T00:30:00.000Z"),
    ("Europe/Berlin", "2026-10-25T12:00Z", "03:30", "2026-10-25T02:30:00.000Z"),
    ("Europe/Berlin", "2026-10-25T12:00Z", "2026-10-24T12:00", "2026-10-24T10:00:00.000Z"),
])
def test_since_reads_a_time_in_the_zone_given(zone: str, now: str, since: str, expected: str) -> None:
    parsed = parse_filter(f"since:{since}", now=datetime.fromisoformat(now), zone=ZoneInfo(zone))
    assert parsed.since_ts == expected


def test_since_times_are_written_in_utc_for_a_reader_elsewhere() -> None:
    """What the dashboard sends the hub (a bulk rerun's filter) means there what it meant on screen."""
    india, now = ZoneInfo("Asia/Kolkata"), datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    text = 'conn:rain-alert since:13:05 "no umbrella" status:5xx'
    sent = with_times_in_utc(text, india, now)
    assert sent == 'conn:rain-alert since:2026-11-26T07:35:00.000Z "no umbrella" status:5xx'
    assert parse_filter(sent, now=now) == parse_filter(text, now=now, zone=india)
    assert with_times_in_utc("since:1h status:5xx", india, now) == "since:1h status:5xx"  # counted back there
    assert with_times_in_utc("since:2026-11-26T13:05Z", india, now) == "since:2026-11-26T13:05:00.000Z"
    assert with_times_in_utc("since:forever", india, now) == "since:forever"  # refused there, saying why


def test_since_reads_utc_when_no_zone_is_given() -> None:
    """The hub's rerun API and the CLI give none: a time there is UTC unless it says."""
    assert parse_filter("since:13:05", now=NOW).since_ts == "2026-11-25T13:05:00.000Z"
    assert parse_filter("since:2026-11-26T07:35", now=NOW).since_ts == "2026-11-26T07:35:00.000Z"


def test_a_filter_narrows_the_panes_own() -> None:
    base = RecordFilter(kinds=("script_run",), connection_id="rain-alert")
    parsed = parse_filter("code:timeout", base)
    assert (parsed.kinds, parsed.connection_id, parsed.outcomes) == (("script_run",), "rain-alert", ("timeout",))


@pytest.mark.parametrize(("text", "column", "says"), [
    ("status:9xx", 1, "'9xx' is not a status"),
    ("kind:script_run status:error", 17, "for a script run's outcome or an error code, use code:error"),
    ("feature:glow status:", 14, "'status:' needs a value, like status:5xx"),
    ("colour:blue", 1, "'colour:' is not a filter"),
    ("http://example.com", 1, "'http:' is not a filter"),
    ("code:5xx", 1, "'5xx' is not a code"),
    ("code:Bad-Code", 1, "'Bad-Code' is not a code"),
    ("since:forever", 1, "'forever' is not a duration or a time"),
    ("since:24:00", 1, "'24:00' is not a time of day"),
    ("since:12:60", 1, "'12:60' is not a time of day"),
    ("kind:scripts", 1, "'scripts' is not a kind"),
    ("dir:sideways", 1, "'sideways' is not a direction"),
    ("feature:a  feature:b", 12, "'feature:' is given twice"),
    ('porch "connection refused', 7, "quote (\") is not closed"),
    ("status:502,,504", 1, "empty value between commas"),
    ("abc ---", 5, "'---' has no letters or digits"),
])
def test_bad_input_is_refused_saying_what_and_where(text: str, column: int, says: str) -> None:
    with pytest.raises(FilterError) as refused:
        parse_filter(text, now=NOW)
    assert refused.value.column == column
    assert says in refused.value.reason
    assert str(refused.value).startswith(f"column {column}: ")


@pytest.fixture
def log(tmp_path: Path) -> Iterator[EventLog]:
    cache = EventLog(tmp_path / "cache.sqlite", replica=True)
    made = records(4000)
    made[100]["error_message"] = "Zanzibar lights did not answer"
    made[2500]["response_body"] = {"errors": [{"message": "zanzibar is down"}]}
    made[3900]["error_message"] = "zanzibar again, not indexed yet"
    cache.replicate(made[:3800], 3800)
    indexer = Indexer(cache.path)
    indexer.catch_up()
    indexer.close()
    attach(cache)
    cache.replicate(made[3800:], 4000)  # a tail the indexer has not reached
    yield cache
    cache.close()


def sql_seqs(log: EventLog, record_filter: RecordFilter) -> list[int]:
    where, params = record_filter.where()
    return [seq for (seq,) in log.execute(f"SELECT seq FROM records WHERE {where} ORDER BY seq", params)]


@pytest.mark.parametrize("text", [
    "", "status:5xx", "code:503 status:skipped", "status:none dir:outbound", "code:service_error feature:glow", "conn:porch-welcome dir:inbound",
    "user:user-3 since:2026-11-26T11:00", "kind:script_run code:timeout", "kind:all since:2026-11-26T10:33:17.5",
    "zanzibar", "code:502 zanzibar", "lights change_color", '"change_color"',
])
def test_counts_and_windows_match_sql_over_the_records(log: EventLog, text: str) -> None:
    record_filter = parse_filter(text)
    expected = sql_seqs(log, record_filter)
    matches = count_matches(log, record_filter)
    assert matches.total == len(expected) and matches.through_seq == 3800
    for offset in (0, 1, len(expected) // 2, len(expected) - 7, len(expected) - 1):
        got = [r["seq"] for r in window(log, record_filter, matches, max(0, offset), 20)]
        assert got == expected[max(0, offset):max(0, offset) + 20]
    if len(expected) > 100:  # scrolling from an anchor in the middle, a page down and a page up
        middle = len(expected) // 2
        anchor = Anchor(middle, expected[middle])
        for offset in (middle - 30, middle - 5, middle, middle + 1, middle + 20):
            got = [r["seq"] for r in window(log, record_filter, matches, offset, 20, anchor)]
            assert got == expected[offset:offset + 20]


def test_free_text_is_found_through_the_index_and_in_the_tail(log: EventLog) -> None:
    record_filter = parse_filter("zanzibar kind:all")
    where, params = record_filter.where(indexed=True)
    indexed = [seq for (seq,) in log.execute(f"SELECT seq FROM derived_entries WHERE {where}", params)]
    assert indexed == [101, 2501]  # found by FTS, case and all
    matches = count_matches(log, record_filter)
    assert (matches.indexed, matches.tail) == (2, 1)
    assert [r["seq"] for r in window(log, record_filter, matches, 0, 10)] == [101, 2501, 3901]


def test_the_newest_n_and_the_cli_reading(log: EventLog) -> None:
    record_filter = RecordFilter(statuses=(StatusMatch(500, 599),), limit=30)
    expected = sql_seqs(log, RecordFilter(statuses=(StatusMatch(500, 599),)))[-30:]
    matches = count_matches(log, record_filter)
    assert matches.total == 30
    assert [r["seq"] for r in window(log, record_filter, matches, 0, 100)] == expected
    assert [int(body.split(",")[0].split(":")[1]) for body in matching_records(log, record_filter)] == expected


def test_without_keys_takes_out_only_the_words_naming_that_field() -> None:
    text = 'conn:light-log status:5xx "conn:quoted stays" Connection:porch-welcome garage'
    assert without_keys(text, {"conn"}) == 'status:5xx "conn:quoted stays" garage'
    assert without_keys("feature:glow", {"conn"}) == "feature:glow"
