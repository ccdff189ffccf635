"""The indexer's fast path (each record decoded for its entry alone, its search text built behind the
counts) counts what the records say: each figure here is computed a second way, record by record in
Python from the records as made, bad-typed fields, trigger polls beside calls, and retention included."""

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
import itertools
import json
import random

import pytest

from switchroom.store import EventLog, iso_timestamp
from switchroom.protocol.batches import keyed_texts
from switchroom.store.eventlog import record_of
from switchroom.store.analytics.breakdowns import feature_breakdown
from switchroom.store.analytics.derived import ENTRIES_CURSOR, Indexer, attach, entries_of, entry_of
from switchroom.store.analytics.derived_counts import count_of
from switchroom.store.analytics.entry_fields import count_texts, entry_from_text
from switchroom.store.analytics.record_windows import count_matches, window
from switchroom.store.analytics.retention import trim
from switchroom.store.filters import RecordFilter, parse_status
from switchroom.store.record_shape import SHAPE, TYPES, bad_fields, shaped
from switchroom.store.status_codes import status_key

START = datetime(2026, 11, 26, 9, 58, 30, tzinfo=UTC)
WORDS = ("garage", "porch", "sunset", "kitchen")
ODD_VALUES = ("text", "", 7, -3, 1 << 63, 1 << 70, 2.5, True, False, None, [1, "garage"], {"nested": "garage"})
"""Values of every JSON type, and integers past what SQLite holds, to put in each field the dashboard checks."""


def made_records(count: int, seed: int = 3, odd: bool = True) -> list[dict[str, object]]:
    """api_calls (calls and trigger polls, both directions), script runs with errors and console lines,
    trigger events and reruns, a few seconds apart; with ``odd``, about one in ten has a field of the
    wrong type."""
    rng = random.Random(seed)
    odd_fields = sorted((set(SHAPE) | set(TYPES)) - {"seq", "kind"})  # a cache refuses a record without these
    made: list[dict[str, object]] = []
    for n in range(count):
        ts = iso_timestamp(START + timedelta(seconds=2.3 * n))
        connection, feature = rng.choice(("evening-glow", "rain-alert")), rng.choice(("glow", "dim"))
        roll = rng.random()
        if roll < 0.1:
            record: dict[str, object] = {
                "kind": "script_run", "connection_id": connection, "feature_id": feature, "op_id": "weather.rain",
                "status": rng.choice(("ok", "error", "timeout")), "duration_ms": rng.uniform(1, 900),
                "console": [{"level": "log", "text": f"checking {rng.choice(WORDS)}"}],
                "error": {"message": "TypeError", "line": 3}, "calls": [{"kind": "action", "status_code": 204}]}
        elif roll < 0.2:
            record = {"kind": "trigger_event", "connection_id": connection, "feature_id": feature,
                      "ingredients": {"text": rng.choice(WORDS)}, "delivered_to": "script"}
        elif roll < 0.23:
            record = {"kind": "rerun", "phase": "item", "original": n, "outcome": rng.choice(("ok", "failed"))}
        else:
            status = rng.choice((204, 200, 422, 502, 504, None))
            record = {"kind": "api_call", "connection_id": connection, "feature_id": feature,
                      "direction": rng.choice(("inbound", "outbound")), "op": rng.choice(("action", "trigger")),
                      "op_id": "lights.change_color", "status_code": status, "skipped": status == 422,
                      "latency_ms": round(rng.lognormvariate(3, 1), 2), "user_id": f"user-{rng.randint(1, 4)}",
                      "request_body": {"fields": {"color": rng.choice(WORDS)}},
                      **({"error_code": "service_error"} if status in (502, None) else {})}
        if odd and rng.random() < 0.1:
            record[rng.choice(odd_fields)] = rng.choice(ODD_VALUES)
        made.append({"seq": n + 1, "ts": ts, **record})
    return made


def stored(log: EventLog, made: list[dict[str, object]]) -> None:
    rows = keyed_texts([json.dumps(record) for record in made])
    assert rows is not None
    log.replicate_rows(rows, len(made))


@pytest.fixture
def log(tmp_path: Path) -> Iterator[EventLog]:
    cache = EventLog(tmp_path / "cache.sqlite", replica=True)
    yield cache
    cache.close()


def index(log: EventLog, entries: bool = True) -> None:
    """Count every record; with ``entries``, enter them too (the indexer does so behind the counts)."""
    indexer = Indexer(log.path)
    try:
        while indexer.step(900):
            pass
        while indexer.roll_up():
            pass
        while entries and indexer.step_entries(900):
            pass
    finally:
        indexer.close()
        attach(log)


def as_read(record: dict[str, object]) -> dict[str, object]:
    """A record as the dashboard reads it from its text (an integer past 64 bits comes back a real)."""
    return record_of(json.dumps(record))


def counted_by_hand(made: list[dict[str, object]]) -> Counter[tuple[object, ...]]:
    """Each minute's api_calls and script runs by kind, connection, feature, op, direction, status and
    outcome, from the records as read from their text: a field of the wrong type counts as absent
    (DESIGN §8), and a record without a timestamp of the hub's shape is in no minute."""
    counts: Counter[tuple[object, ...]] = Counter()
    for record in made:
        kept = shaped(as_read(record))
        if record["kind"] not in ("api_call", "script_run") or "ts" not in kept:
            continue
        outcome = kept.get("error_code" if record["kind"] == "api_call" else "status")
        counts[(str(kept["ts"])[:16], record["kind"], kept.get("connection_id") or "", kept.get("feature_id") or "",
                kept.get("op") or "", kept.get("direction") or "", kept.get("status_code") or 0,
                1 if kept.get("skipped") else 0, outcome or "")] += 1
    return counts


def counted_by_indexer(log: EventLog, span: str = "m") -> Counter[tuple[object, ...]]:
    """The indexer's rows of a span: minutes ('m'), ten minutes ('t') or hours ('h')."""
    table, where = ("derived_minute_counts", "") if span == "m" else ("derived_counts", f"WHERE span = '{span}'")
    rows = log.execute(f"SELECT bucket, kind, connection_id, feature_id, op, direction, status_code, skipped, outcome, "
                       f"SUM(count) FROM {table} {where} GROUP BY bucket, kind, connection_id, feature_id, "
                       "op, direction, status_code, skipped, outcome")
    return Counter({tuple(row[:-1]): row[-1] for row in rows})


def assert_counted(log: EventLog, expected: Counter[tuple[object, ...]]) -> None:
    """The indexer's minutes hold ``expected``, and its ten minutes and hours, where rolled up, their sums."""
    assert counted_by_indexer(log, "m") == expected
    rolled = dict(log.execute("SELECT span, bucket FROM derived_rollups"))
    assert rolled["t"] > rolled["h"] > min(str(key[0]) for key in expected), "the records span hours, most rolled up"
    assert counted_by_indexer(log, "t") == rolled_up_from(expected, "t", rolled["t"])
    assert counted_by_indexer(log, "h") == rolled_up_from(expected, "h", rolled["h"])


def rolled_up_from(counts: Counter[tuple[object, ...]], span: str, before: str) -> Counter[tuple[object, ...]]:
    """Minute counts summed by the buckets of ``span`` ('t' or 'h') that come before ``before``."""
    width = {"t": 15, "h": 13}[span]
    summed: Counter[tuple[object, ...]] = Counter()
    for (bucket, *key), count in counts.items():
        if str(bucket)[:width] < before:
            summed[(str(bucket)[:width], *key)] += count
    return summed


def test_the_fast_decoding_gives_each_well_formed_record_the_entry_the_slow_way_does() -> None:
    """Every field the dashboard checks, given a value of each JSON type: the decoder either refuses the
    record (it is then read the slow way) or gives the entry the slow way gives, never another."""
    base = made_records(40)
    fields = sorted(set(SHAPE) | set(TYPES))
    accepted = refused = 0
    for record, field, value in itertools.product(base, fields, ODD_VALUES):
        changed = {**record, field: value}
        if field == "seq" or not isinstance(changed["kind"], str):
            continue  # a cache refuses a record without these (``protocol.batches.keyed_texts``)
        text = json.dumps(changed)
        fast = entry_from_text(int(record["seq"]), changed["kind"], text)
        kept = shaped(record_of(text))
        if fast is None:
            refused += 1
            continue
        accepted += 1
        assert not bad_fields(kept), (field, value)
        assert fast == entry_of(int(record["seq"]), changed["kind"], kept), (field, value)
    assert accepted and refused


def test_counting_straight_from_the_text_counts_as_the_entries_do() -> None:
    """The indexer counts a chunk from each record's decoded fields without making its entry; a chunk
    with a record the decoder refuses, or a ``ts`` of another shape, is counted from its entries."""
    made = made_records(3000, odd=False)
    for record in made[::50]:
        record["latency_ms" if record["kind"] == "api_call" else "duration_ms"] = None
    rows = [(int(r["seq"]), str(r["kind"]), json.dumps(r)) for r in made]
    for low in range(0, 3000, 500):
        chunk = rows[low:low + 500]
        fast = count_texts(chunk)
        assert fast is not None
        assert fast == count_of(entries_of(chunk, whole=False)[0])
    odd = [(1, "api_call", json.dumps({**made[0], "kind": "api_call", "ts": "yesterday"})), *rows[1:10]]
    assert count_texts(odd) is None


def test_counts_equal_a_count_by_hand_bad_fields_and_trigger_polls_included(log: EventLog) -> None:
    made = made_records(3000)
    stored(log, made)
    index(log)
    expected = counted_by_hand(made)
    assert_counted(log, expected)
    polls = sum(n for key, n in expected.items() if key[1] == "api_call" and key[4] == "trigger")
    assert polls and polls < sum(n for key, n in expected.items() if key[1] == "api_call")
    bad = {seq for (seq,) in log.execute("SELECT seq FROM derived_bad")}
    assert bad == {int(r["seq"]) for r in made if bad_fields(as_read(r))} and bad


@pytest.mark.parametrize("since", ["2026-11-26T10:17:43.210Z", "2026-11-26T11:00:00.000Z", None])
def test_a_breakdown_read_before_the_records_are_entered_counts_every_record(log: EventLog, since: str | None) -> None:
    """The entries come behind the counts: a window starting inside a minute reads that minute's records
    from the cache meanwhile, and counts as it will once they are entered."""
    made = made_records(3000)
    stored(log, made)
    expected: Counter[str] = Counter()
    for record in map(as_read, made):
        kept = shaped(record)
        if (kept["kind"] == "api_call" and kept.get("feature_id") == "glow" and "ts" in kept
                and (since is None or kept["ts"] >= since)):
            expected[status_key(kept.get("status_code"), bool(kept.get("skipped")))] += 1
    for entered in (False, True):
        index(log, entries=entered)
        assert {code.key: code.count for code in feature_breakdown(log, "glow", since).codes} == expected


@pytest.mark.parametrize("since", ["2026-11-26T10:17:43.210Z", "2026-11-26T11:00:00.000Z", None])
def test_a_backlog_is_counted_whole_before_its_minutes_are_rolled_up(log: EventLog, since: str | None) -> None:
    """A backlog is counted first and rolled up into ten minutes and hours after, an hour at a time: a
    window read in between sums the minutes alone, and counts what it counts once they are rolled up."""
    made = made_records(3000)  # from 09:58 to 11:53
    stored(log, made)
    expected = Counter(status_key(r.get("status_code"), bool(r.get("skipped"))) for r in map(shaped, map(as_read, made))
                       if r["kind"] == "api_call" and r.get("feature_id") == "glow" and "ts" in r
                       and (since is None or r["ts"] >= since))
    indexer = Indexer(log.path)
    try:
        while indexer.step(900):
            pass
        attach(log)
        assert log.execute("SELECT COUNT(*) FROM derived_counts") == [(0,)]
        assert {code.key: code.count for code in feature_breakdown(log, "glow", since).codes} == expected
        slices = 0
        while indexer.roll_up():
            slices += 1
    finally:
        indexer.close()
        attach(log)
    assert slices == 3, "the hours 09, 10 and 11, each its own transaction"
    assert {code.key: code.count for code in feature_breakdown(log, "glow", since).codes} == expected
    assert_counted(log, counted_by_hand(made))


@pytest.mark.parametrize("since", ["2026-11-26T10:17:43.210Z", "2026-11-26T11:00:00.000Z", None])
def test_records_counted_late_are_counted_in_ten_minutes_and_hours_already_rolled_up(log: EventLog,
                                                                                      since: str | None) -> None:
    """A hub's records come in seq order, their times only nearly so: one stamped an hour before the
    newest counted lands in a ten minutes and an hour already summed from their minutes."""
    made = made_records(3000, odd=False)
    rng = random.Random(5)
    for record in made[::7]:
        record["ts"] = iso_timestamp(datetime.fromisoformat(str(record["ts"])) - timedelta(minutes=rng.randint(5, 70)))
    stored(log, made)
    indexer = Indexer(log.path)
    try:
        while indexer.step(300):  # rolled up between chunks, as the indexer of a live hub's cache is
            while indexer.roll_up():
                pass
    finally:
        indexer.close()
        attach(log)
    assert_counted(log, counted_by_hand(made))
    expected = Counter(status_key(r.get("status_code"), bool(r.get("skipped"))) for r in made
                       if r["kind"] == "api_call" and r["feature_id"] == "glow" and (since is None or r["ts"] >= since))
    assert {code.key: code.count for code in feature_breakdown(log, "glow", since).codes} == expected


def test_two_helpers_count_every_other_chunk_and_the_indexer_writes_them_in_turn(log: EventLog) -> None:
    """Each helper counts its share of the chunks, from the end of the chunk before, which is where the
    indexer's cursor is when that chunk's turn comes."""
    made = made_records(6000)
    stored(log, made)
    lead, helpers = Indexer(log.path), (Indexer(log.path), Indexer(log.path))
    try:
        shares = []
        for which, helper in enumerate(helpers):
            position, share = 0, []
            while (counted := helper.count_ahead(position, 250, (which, 2))) is not None:
                share.append(counted)
                position = counted.through
            shares.append(share)
        assert [c.after for c in shares[0]] == list(range(0, 6000, 500))
        assert [c.after for c in shares[1]] == list(range(250, 6000, 500))
        for counted in sorted(shares[0] + shares[1], key=lambda c: c.after):
            assert counted.after == lead.cursor()
            assert lead.step(250, counted) == counted.records == 250
        assert lead.step(250) == 0
        while lead.roll_up():
            pass
    finally:
        for indexer in (lead, *helpers):
            indexer.close()
        attach(log)
    assert_counted(log, counted_by_hand(made))


def test_chunks_a_helper_counted_are_written_by_the_indexer_each_once(log: EventLog) -> None:
    """A helper counts the chunks ahead and the indexer writes them; one the indexer counted itself
    meanwhile makes the helper's count of it stale, and it is not written again."""
    made = made_records(6000)
    stored(log, made)
    lead, helper = Indexer(log.path), Indexer(log.path)
    try:
        position, from_helper = 0, []
        while (counted := helper.count_ahead(position, 250)) is not None:
            from_helper.append(counted)
            position = counted.through
        assert position == 6000 and len(from_helper) == 24
        for index, counted in enumerate(from_helper):
            if index == 5:
                lead.step(250)
            if counted.after == lead.cursor():
                assert lead.step(250, counted) == counted.records
            else:
                assert index == 5
        while lead.step(250):
            pass
        while lead.roll_up():
            pass
    finally:
        lead.close()
        helper.close()
        attach(log)
    assert_counted(log, counted_by_hand(made))


def test_retention_drops_only_records_the_indexer_has_entered(log: EventLog) -> None:
    """Their entries say what to take out of the counts; a record counted but not yet entered stays."""
    made = made_records(3000)
    stored(log, made)
    index(log, entries=False)
    assert trim(log, older_than=iso_timestamp(START + timedelta(minutes=40)), chunk=500) == 0
    assert counted_by_indexer(log, "m") == counted_by_hand(made)


def test_retention_takes_the_dropped_records_out_of_the_counts(log: EventLog) -> None:
    made = made_records(3000)
    stored(log, made)
    index(log)
    cutoff = iso_timestamp(START + timedelta(minutes=40))
    dropped = trim(log, older_than=cutoff, chunk=500)
    remaining = {seq for (seq,) in log.execute("SELECT seq FROM records")}
    kept = [r for r in made if int(r["seq"]) in remaining]  # a record whose ts is of the wrong shape may stay
    assert dropped and len(made) - len(kept) == dropped
    assert all(str(r["ts"]) >= cutoff for r in kept if isinstance(r["ts"], str) and r["ts"][:4] == "2026")
    assert_counted(log, counted_by_hand(kept))


def matching_by_hand(made: list[dict[str, object]], word: str, kinds: tuple[str, ...]) -> list[int]:
    """The seqs of the records of ``kinds`` with ``word`` in one of their strings (but ``ts`` and ``kind``)."""
    def strings(value: object) -> Iterator[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from strings(item)
        elif isinstance(value, list):
            for item in value:
                yield from strings(item)
    return [int(r["seq"]) for r in made if r["kind"] in kinds and any(
        word in s.lower().split() for k, v in r.items() if k not in ("ts", "kind") for s in strings(v))]


@pytest.mark.parametrize("kinds", [("api_call",), ("script_run", "trigger_event"), ("api_call", "script_run",
                                                                                    "trigger_event", "rerun")])
def test_free_text_counts_and_pages_every_match_whether_or_not_the_records_are_entered(
        log: EventLog, kinds: tuple[str, ...]) -> None:
    """The counts come first and the entries and search text behind them; a search meanwhile reads the
    records past the entries' cursor itself, so its count and its pages are whole either way. (Without odd fields: one
    the text search leaves out, a ``ts`` that is a list of strings say, is in the body ``LIKE`` reads.)"""
    made = made_records(2000, odd=False)
    stored(log, made)
    expected = matching_by_hand(made, "garage", kinds)
    record_filter = RecordFilter(kinds=kinds, text=("garage",))
    for entered in (False, True):
        index(log, entries=entered)
        assert log.execute("SELECT seq FROM derived_cursors WHERE name = ?", (ENTRIES_CURSOR,)) == (
            [(len(made),)] if entered else [])
        matches = count_matches(log, record_filter)
        assert matches.total == len(expected)
        pages = [window(log, record_filter, matches, offset, 50) for offset in range(0, matches.total, 50)]
        assert [int(r["seq"]) for page in pages for r in page] == expected


def test_a_filtered_list_counts_and_pages_every_match_whether_or_not_the_records_are_entered(log: EventLog) -> None:
    """Before: from the records past the entries; after: counted by the indexer's counts, paged by the
    entries. (Without odd fields: a record without a timestamp is listed but in no minute's count.)"""
    made = made_records(2000, odd=False)
    stored(log, made)
    expected = [int(r["seq"]) for r in made if r["kind"] == "api_call" and r["feature_id"] == "glow"
                and r["status_code"] == 502]
    record_filter = RecordFilter(kinds=("api_call",), feature_id="glow", statuses=(parse_status("502"),))
    for entered in (False, True):
        index(log, entries=entered)
        matches = count_matches(log, record_filter)
        assert matches.total == len(expected)
        pages = [window(log, record_filter, matches, offset, 50) for offset in range(0, matches.total, 50)]
        assert [int(r["seq"]) for page in pages for r in page] == expected
