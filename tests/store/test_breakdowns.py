"""The indexer's derived data and the summaries read from it: breakdowns, grouped failures, connection
stats; each checked against a plain SQL count over the same records."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
import math
import os
import sqlite3
import threading

import pytest

from switchroom.store import EventLog, iso_timestamp
from switchroom.store.analytics.breakdowns import breakdowns, feature_breakdown
from switchroom.store.analytics.connection_summaries import connection_summaries
from switchroom.store.analytics.derived import Indexer, attach, derived_path
from switchroom.store.analytics.aggregates import window_sums
from switchroom.store.analytics.failures import Cause, failure_groups
from switchroom.store.filters import RecordFilter, parse_status
from switchroom.store.analytics.record_windows import count_matches
from switchroom.store.analytics.retention import trim
from switchroom.store.status_codes import status_class, status_key
from switchroom.tui.indexing import IndexRunner
from tests.support.seeded_records import START, records
from tests.support.waiting import eventually_sync

@pytest.fixture
def log(tmp_path: Path) -> Iterator[EventLog]:
    cache = EventLog(tmp_path / "cache.sqlite", replica=True)
    yield cache
    cache.close()


def indexed(log: EventLog) -> int:
    indexer = Indexer(log.path)
    try:
        return indexer.catch_up(chunk=700)
    finally:
        indexer.close()
        attach(log)  # the derived tables, for the checks below


def sql_codes(log: EventLog, feature_id: str, since_ts: str, through_seq: int) -> dict[str, int]:
    rows = log.execute(
        "SELECT status_code, skipped, COUNT(*) FROM records WHERE kind = 'api_call' AND feature_id = ? "
        "AND ts >= ? AND seq <= ? GROUP BY status_code, skipped", (feature_id, since_ts, through_seq))
    counts: dict[str, int] = {}
    for code, skipped, count in rows:
        counts[status_key(code, bool(skipped))] = counts.get(status_key(code, bool(skipped)), 0) + count
    return counts


@pytest.mark.parametrize("since", [None, "2026-11-26T10:17:43.210Z", "2026-11-26T11:00:00.000Z",
                                   "2026-11-26T11:41:00.000Z", "2026-11-26T09:00:00.000Z"])
def test_breakdown_counts_equal_a_sql_count_over_the_same_records(log: EventLog, since: str | None) -> None:
    log.replicate(records(6000), 6000)  # 2 h 50 min, across three hour boundaries
    indexed(log)
    for feature in ("glow", "dim"):
        breakdown = feature_breakdown(log, feature, since)
        assert breakdown.through_seq == 6000
        expected = sql_codes(log, feature, since or "", 6000)
        assert {share.key: share.count for share in breakdown.codes} == expected
        assert breakdown.total == sum(expected.values())
        by_class: dict[str, int] = {}
        for key, count in expected.items():
            by_class[status_class(key)] = by_class.get(status_class(key), 0) + count
        assert {share.key: share.count for share in breakdown.classes} == by_class
        assert sum(share.share for share in breakdown.codes) == pytest.approx(1.0)
        for share in (*breakdown.codes, *breakdown.classes):  # selecting a bar filters the log to its calls
            shown = RecordFilter(feature_id=feature, since_ts=since, statuses=(parse_status(share.key),))
            assert count_matches(log, shown).total == share.count
    per_feature = {(b.connection_id, b.feature_id): b.total for b in breakdowns(log, since)}
    rows = log.execute("SELECT connection_id, feature_id, COUNT(*) FROM records WHERE kind = 'api_call' AND ts >= ? "
                       "GROUP BY connection_id, feature_id", (since or "",))
    assert per_feature == {(c, f): n for c, f, n in rows}


def test_percentiles_are_within_the_histograms_precision(log: EventLog) -> None:
    log.replicate(records(4000), 4000)
    indexed(log)
    breakdown = feature_breakdown(log, "glow", "2026-11-26T10:30:05.500Z", connection_id="evening-glow",
                                  direction="inbound")
    latencies = [row[0] for row in log.execute(
        "SELECT latency_ms FROM records WHERE kind = 'api_call' AND feature_id = 'glow' AND connection_id = "
        "'evening-glow' AND direction = 'inbound' AND ts >= '2026-11-26T10:30:05.500Z' ORDER BY latency_ms")]
    assert breakdown.total == len(latencies) > 100
    for fraction, read in ((0.5, breakdown.p50_ms), (0.95, breakdown.p95_ms)):
        exact = latencies[math.ceil(fraction * len(latencies)) - 1]
        assert read is not None and abs(read - exact) / exact <= 0.091
    assert breakdown.codes[0].meaning  # every code is labelled


def test_the_indexer_catches_up_incrementally_counting_each_record_once(log: EventLog) -> None:
    made = records(3000)
    log.replicate(made[:1200], 1200)
    assert indexed(log) == 1200
    log.replicate(made[1200:], 3000)
    assert indexed(log) == 1800
    assert indexed(log) == 0
    [(entries,)] = log.execute("SELECT COUNT(*) FROM derived_entries")
    assert entries == 3000
    breakdown = feature_breakdown(log, "dim")
    assert {s.key: s.count for s in breakdown.codes} == sql_codes(log, "dim", "", 3000)


def test_retention_takes_derived_data_out_with_the_records(log: EventLog) -> None:
    made = records(5000)
    made[10]["error_message"] = "zanzibar unreachable"
    log.replicate(made, 5000)
    indexed(log)
    cutoff = "2026-11-26T10:40:00.000Z"
    dropped = trim(log, older_than=cutoff, chunk=600)
    assert dropped > 1000
    [(entries,)] = log.execute("SELECT COUNT(*) FROM derived_entries")
    [(kept,)] = log.execute("SELECT COUNT(*) FROM records")
    assert entries == kept == 5000 - dropped
    for feature in ("glow", "dim"):
        assert {s.key: s.count for s in feature_breakdown(log, feature).codes} == sql_codes(log, feature, "", 5000)
    assert log.execute("SELECT COUNT(*) FROM derived_text WHERE derived_text MATCH 'zanzibar'") == [(0,)]
    assert all(group.first_seen >= cutoff for group in failure_groups(log))
    [(countable,)] = log.execute("SELECT COUNT(*) FROM records WHERE kind IN ('api_call', 'script_run')")
    assert log.execute("SELECT SUM(count) FROM derived_minute_counts") == [(countable,)]
    assert window_sums(attach(log), None, ()).groups[()].count == countable
    assert log.integrity_ok()


def test_a_storm_of_identical_failures_is_one_group(log: EventLog) -> None:
    storm = [{"seq": n, "ts": iso_timestamp(START + timedelta(milliseconds=40 * n)), "kind": "api_call",
              "direction": "outbound", "connection_id": "rain-alert", "feature_id": "alert", "op_id": "messages.send",
              "status_code": 503, "latency_ms": 12.0, "error_code": "service_error"} for n in range(1, 10_001)]
    timeouts = [{"seq": 10_000 + n, "ts": iso_timestamp(START + timedelta(minutes=7, seconds=n)), "kind": "script_run",
                 "connection_id": "rain-alert", "feature_id": "alert", "op_id": "weather.rain",
                 "status": "timeout", "duration_ms": 10_000.0} for n in range(1, 4)]
    fine = {"seq": 10_004, "ts": iso_timestamp(START + timedelta(minutes=8)), "kind": "api_call",
            "direction": "inbound", "connection_id": "rain-alert", "feature_id": "alert", "op_id": "messages.send",
            "status_code": 204, "latency_ms": 3.0}
    log.replicate([*storm, *timeouts, fine], 10_004)
    indexed(log)
    groups = failure_groups(log)
    assert [(g.kind, g.code, g.count) for g in groups] == [("script_run", "timeout", 3), ("api_call", "503", 10_000)]
    script, storm_group = groups
    assert (storm_group.first_seen, storm_group.last_seen, storm_group.last_seq) == (
        storm[0]["ts"], storm[-1]["ts"], 10_000)
    assert storm_group.error_code == "service_error" and storm_group.meaning == "the service is unavailable"
    assert script.meaning == "the script was stopped at its time limit"
    for group in groups:  # each group's filter shows exactly its records
        where, params = group.record_filter().where()
        assert log.execute(f"SELECT COUNT(*) FROM records WHERE {where}", params) == [(group.count,)]
    since = iso_timestamp(START + timedelta(seconds=200.5))
    [(later,)] = log.execute("SELECT COUNT(*) FROM records WHERE status_code = 503 AND ts >= ?", (since,))
    assert [g.count for g in failure_groups(log, since) if g.kind == "api_call"] == [later]


def test_connection_summaries_count_every_direction_and_script_failures(log: EventLog) -> None:
    made = records(3000)
    hooks = [{"seq": 3001 + n, "ts": iso_timestamp(START + timedelta(seconds=5100 + n)), "kind": "api_call",
              "connection_id": "porch-welcome", "feature_id": "dim", "direction": "webhook", "op": "webhook",
              "status_code": 500 if n % 3 == 0 else 200} for n in range(30)]
    made += hooks
    log.replicate(made, len(made))
    indexed(log)
    since, now = "2026-11-26T10:30:00.000Z", "2026-11-26T11:29:59.999Z"
    summaries = {s.connection_id: s for s in connection_summaries(log, since, now, points=12)}
    assert set(summaries) == {"evening-glow", "porch-welcome"}

    def failed(r: dict[str, object]) -> bool:  # DESIGN §4: no answer or an error status; a skip is no failure
        code = r.get("status_code")
        return r["kind"] == "script_run" and r["status"] != "ok" or r["kind"] == "api_call" and not r.get(
            "skipped") and (code is None or int(code) >= 400)  # type: ignore[call-overload]

    for conn_id, summary in summaries.items():  # counted again here, record by record
        mine = [r for r in made if r["connection_id"] == conn_id and str(r["ts"]) >= since]
        inbound = [r for r in mine if r["kind"] == "api_call" and r["direction"] == "inbound"]
        out = [r for r in mine if r["kind"] == "api_call" and r["direction"] in ("outbound", "webhook")]
        runs = [r for r in mine if r["kind"] == "script_run"]
        assert (summary.calls, summary.errors) == (len(inbound), sum(map(failed, inbound)))
        assert (summary.out_calls, summary.out_errors) == (len(out), sum(map(failed, out)))
        assert (summary.script_runs, summary.script_failures) == (len(runs), sum(map(failed, runs)))
        assert len(summary.calls_series) == 12 and sum(summary.calls_series) == len(
            [r for r in inbound if str(r["ts"]) <= now])
        assert summary.p95_ms is not None and summary.last_error is not None
        assert summary.last_error.connection_id == conn_id
    # The cache holds records from before 10:30, so the whole hour is held: a rate per its 60 minutes.
    glow = summaries["evening-glow"]
    assert glow.calls_per_minute == pytest.approx(glow.calls / 60, rel=0.01)
    assert summaries["porch-welcome"].out_errors >= 10  # the webhooks' 500s among them


def test_a_rate_counts_the_minutes_the_cache_holds_not_the_whole_window(log: EventLog) -> None:
    """A cache that began 10 minutes into an hour's window: 30 calls are 3 a minute, not 0.5."""
    start = datetime(2026, 11, 26, 11, 50, tzinfo=UTC)
    log.replicate([{"seq": n + 1, "ts": iso_timestamp(start + timedelta(seconds=20 * n)), "kind": "api_call",
                    "connection_id": "evening-glow", "feature_id": "glow", "direction": "inbound",
                    "status_code": 204} for n in range(30)], 30)
    indexed(log)
    [summary] = connection_summaries(log, "2026-11-26T11:00:00.000Z", "2026-11-26T12:00:00.000Z")
    assert summary.calls == 30 and summary.calls_per_minute == pytest.approx(3.0)


def test_the_runner_indexes_what_arrives_when_woken(log: EventLog) -> None:
    made = records(2000)
    log.replicate(made[:1000], 1000)
    reached: list[int] = []
    caught_up = threading.Event()

    def progress(cursor: int) -> None:
        reached.append(cursor)
        if cursor == 2000:
            caught_up.set()

    runner = IndexRunner(log.path, progress, chunk=300)
    runner.start()
    log.replicate(made[1000:], 2000)
    runner.wake()
    assert caught_up.wait(120)  # a safety net against a hang, not a timing check
    attach(log)
    eventually_sync(lambda: log.execute("SELECT COUNT(*) FROM derived_entries") == [(2000,)])  # entered behind
    runner.stop()
    assert reached == sorted(reached) and reached[-1] == 2000


def test_a_backlog_is_counted_with_a_helper_process_and_counted_right(log: EventLog) -> None:
    """Past ``help_from`` records to count, helper processes count the chunks ahead, each its share: the
    counts are those of the records all the same, each counted once."""
    log.replicate(records(12_000), 12_000)
    caught_up = threading.Event()
    runner = IndexRunner(log.path, lambda cursor: caught_up.set() if cursor == 12_000 else None, chunk=300,
                         help_from=1_000)
    runner.start()
    try:
        assert caught_up.wait(120)  # a safety net against a hang, not a timing check
        assert runner.helped() or (os.cpu_count() or 1) == 1
    finally:
        runner.stop()
    attach(log)
    for feature in ("glow", "dim"):
        assert {s.key: s.count for s in feature_breakdown(log, feature).codes} == sql_codes(log, feature, "", 12_000)
    [(countable,)] = log.execute("SELECT COUNT(*) FROM records WHERE kind IN ('api_call', 'script_run')")
    assert log.execute("SELECT SUM(count) FROM derived_minute_counts") == [(countable,)]


def test_the_indexer_never_takes_the_caches_write_lock(log: EventLog) -> None:
    log.replicate(records(1500), 1500)
    indexer = Indexer(log.path)
    writer = sqlite3.connect(log.path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # the replication writer, mid-transaction
    try:
        assert indexer.catch_up() == 1500
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        indexer.close()


def test_records_dropped_behind_the_indexers_back_leave_the_derived_data_on_its_next_step(log: EventLog) -> None:
    log.replicate(records(2000), 2000)
    indexed(log)
    log.execute(f"DELETE FROM {log.stored_table} WHERE seq <= 700")  # as if retention had stopped before forgetting them
    log.replicate(records(100, first_seq=2001), 2100)
    assert indexed(log) == 100
    [(entries, lowest)] = log.execute("SELECT COUNT(*), MIN(seq) FROM derived_entries")
    assert (entries, lowest) == (1400, 701)
    assert {s.key: s.count for s in feature_breakdown(log, "glow").codes} == sql_codes(log, "glow", "", 2100)


def test_a_cache_started_afresh_under_the_same_name_gets_its_derived_data_afresh(log: EventLog, tmp_path: Path) -> None:
    log.replicate(records(1000), 1000)
    indexed(log)
    log.close()
    for suffix in ("", "-wal", "-shm"):  # set aside, as the dashboard does with a cache ahead of its hub
        if (tmp_path / f"cache.sqlite{suffix}").exists():
            (tmp_path / f"cache.sqlite{suffix}").rename(tmp_path / f"old.sqlite{suffix}")
    fresh = EventLog(tmp_path / "cache.sqlite", replica=True)
    try:
        fresh.replicate(records(300, seed=99), 300)
        assert indexed(fresh) == 300
        assert {s.key: s.count for s in feature_breakdown(fresh, "dim").codes} == sql_codes(fresh, "dim", "", 300)
    finally:
        fresh.close()


def test_derived_data_of_an_older_layout_is_built_afresh(log: EventLog) -> None:
    """A derived file written by a version whose tables had other columns (no ``op``) is dropped and built
    again, not read with the wrong columns."""
    log.replicate(records(500), 500)
    indexed(log)
    derived = sqlite3.connect(derived_path(log.path))
    with derived:
        derived.execute("ALTER TABLE derived_entries DROP COLUMN op")
        derived.execute("UPDATE derived_meta SET value = substr(value, 1, instr(value, '/') - 1) WHERE key = 'cache_id'")
    derived.close()
    assert indexed(log) == 500
    assert {s.key: s.count for s in feature_breakdown(log, "glow").codes} == sql_codes(log, "glow", "", 500)
    derived = sqlite3.connect(derived_path(log.path))
    assert "op" in {column for _, column, *_ in derived.execute("PRAGMA table_info(derived_entries)")}
    derived.close()


def test_entries_hold_each_column_as_the_cache_reads_it(log: EventLog) -> None:
    """The indexer takes an entry's columns from the parsed record, the cache's ``records`` view reads them out of
    the text in SQL: the columns filters use agree, odd values included, so a filter counts the same on
    either side of the indexer's cursor. A field of the wrong type (DESIGN §8: a hub is untrusted input) is
    the exception: the record is counted as bad, and its entry has no such field, as everything the dashboard
    shows reads it (``store.record_shape``)."""
    odd: list[dict[str, object]] = [
        {"status_code": "teapot", "connection_id": {"nested": [1, True]}, "latency_ms": [1, 2], "skipped": True},
        {"status_code": 1 << 63, "skipped": None, "user_id": "", "direction": None, "latency_ms": 0},
        {"status_code": 504, "skipped": False, "op_id": "", "feature_id": "é \"quoted\""},
    ]
    made = [{**record, **changes} for record, changes in zip(records(3), odd, strict=True)]
    log.replicate(made, 3)
    indexed(log)
    columns = "seq, ts, kind, direction, connection_id, feature_id, user_id, op_id, status_code"  # the filters'
    entries = log.execute(f"SELECT {columns}, skipped FROM derived_entries ORDER BY seq")
    read = log.execute(f"SELECT {columns}, CASE WHEN skipped THEN 1 ELSE 0 END FROM records ORDER BY seq")
    assert entries[1:] == read[1:]
    bad_entry, bad_read = entries[0], read[0]
    assert (bad_entry[4], bad_entry[8]) == (None, None) and (bad_read[4], bad_read[8]) == ('{"nested":[1,true]}', "teapot")
    assert bad_entry[:4] + bad_entry[5:8] + bad_entry[9:] == bad_read[:4] + bad_read[5:8] + bad_read[9:]
    assert log.execute("SELECT seq, fields FROM derived_bad") == [(1, "connection_id,status_code,latency_ms")]
    # A latency that is no number is left out (it would have no place in a histogram).
    assert log.execute("SELECT latency_ms FROM derived_entries WHERE seq = 1") == [(None,)]


def test_the_two_halves_of_one_failing_call_are_one_group(log: EventLog) -> None:
    """DESIGN §4: a service's error answers the caller 502, its silence 504; each such call is one group
    with the service's answers as its causes. Polls and webhooks have no inbound half and stay apart, and
    so does a trigger test that its poll failed (that poll is one among the rest)."""
    made: list[dict[str, object]] = []

    def call(direction: str, op_id: str, status: int | None, error_code: str | None) -> None:
        seq = len(made) + 1
        op = "webhook" if direction == "webhook" else "trigger" if op_id == "lights.light_on" else "action"
        made.append({"seq": seq, "ts": iso_timestamp(START + timedelta(seconds=seq)), "kind": "api_call",
                     "direction": direction, "connection_id": "porch-welcome", "feature_id": "greet",
                     "op": op, "op_id": op_id, "status_code": status, "latency_ms": 5.0,
                     **({"error_code": error_code} if error_code else {})})

    for n in range(12):  # each failing run: the service's answer first, then the 502 it made
        call("outbound", "lights.change_color", 503 if n < 9 else 500, "service_error")
        call("inbound", "lights.change_color", 502, "service_error")
    for _ in range(4):
        call("outbound", "lights.change_color", None, "service_timeout")
        call("inbound", "lights.change_color", 504, "service_timeout")
    for _ in range(5):
        call("outbound", "lights.light_on", 503, "service_error")  # trigger polls
    call("inbound", "lights.light_on", 502, "service_error")  # a trigger test, its poll the last of them
    for _ in range(2):
        call("webhook", "lights.light_on", 500, None)
    log.replicate(made, len(made))
    indexed(log)
    rows = {(g.side, g.answer): (g.count, g.causes) for g in failure_groups(log)}
    assert rows == {
        ("in←out", "502←503,500"): (12, (Cause("503", 9), Cause("500", 3))),
        ("in←out", "504←none"): (4, (Cause("none", 4),)),
        ("poll", "503 service_error"): (5, ()),
        ("in", "502 service_error"): (1, ()),
        ("hook", "500"): (2, ()),
    }
    merged = next(g for g in failure_groups(log) if g.code == "502" and g.causes)
    assert merged.meaning.startswith("service_error: the service answered 503 ×9 (the service is unavailable), 500 ×3")
    where, params = merged.record_filter().where()  # enter shows the inbound calls, the ones a rerun runs again
    assert log.execute(f"SELECT COUNT(*), MIN(direction) FROM records WHERE {where}", params) == [(12, "inbound")]
