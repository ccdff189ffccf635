"""The hub's log on a real PostgreSQL server: seqs gap-free and visible in order across writer processes,
the hub's state committed with its records, one hub id, and the ops queries written in SQLite's SQL."""

from multiprocessing import get_context
import asyncio
import random

import pytest

from switchroom.store import StateChanges
from switchroom.store.filters import matching_records, parse_filter
from switchroom.store.hub_log import open_hub_log, shown_db
from switchroom.store.postgres_log import PostgresLog
from switchroom.store.postgres_sql import translate
from switchroom.store.queries import connection_stats
from switchroom.store.related import records_near

WRITERS = 3
PER_WRITER = 12_000


def _write(url: str, writer: int, seed: int) -> None:
    """One writer process: ``PER_WRITER`` records in batches of 1 to 40, as a hub's group commits come."""
    log = PostgresLog(url)
    rng = random.Random(seed)
    written = 0
    while written < PER_WRITER:
        size = min(rng.randint(1, 40), PER_WRITER - written)
        log.append([{"kind": "api_call", "writer": writer, "n": written + i} for i in range(size)])
        written += size
    log.close()


def test_three_writer_processes_make_one_gap_free_log_that_a_follower_reads_without_skipping(postgres_url: str) -> None:
    follower = PostgresLog(postgres_url)
    processes = [get_context("spawn").Process(target=_write, args=(postgres_url, w, w)) for w in range(WRITERS)]
    for process in processes:
        process.start()
    seen: list[int] = []
    cursor = 0
    while len(seen) < WRITERS * PER_WRITER and any(p.is_alive() for p in processes) or cursor < follower.head_seq():
        rows = follower.execute("SELECT seq FROM records WHERE seq > ? ORDER BY seq LIMIT 5000", (cursor,))
        seen += [seq for (seq,) in rows]
        cursor = seen[-1] if seen else cursor
    for process in processes:
        process.join()
        assert process.exitcode == 0
    assert seen == list(range(1, WRITERS * PER_WRITER + 1))  # none skipped, none twice, in order
    per_writer = follower.execute("SELECT body::json ->> 'writer', COUNT(*) FROM records GROUP BY 1 ORDER BY 1")
    assert per_writer == [(str(w), PER_WRITER) for w in range(WRITERS)]
    follower.close()


def test_state_is_committed_with_the_records_and_every_hub_names_the_same_id(postgres_url: str) -> None:
    first, second = open_hub_log(postgres_url), open_hub_log(postgres_url)
    assert first.ensure_hub_id() == second.ensure_hub_id()
    records = first.append([{"kind": "trigger_event", "meta_id": "a1"}],
                           StateChanges(seen=[("ident", "a1")], user_connections={("u1", "c1"): '{"x": 1}'}))
    assert [r["seq"] for r in records] == [1]
    assert second.seen_meta_ids("ident") == {"a1"} and second.seen_meta_ids("other") is None
    assert second.user_connections() == ['{"x": 1}']
    second.append([], StateChanges(user_connections={("u1", "c1"): '{"x": 2}'}))
    assert first.user_connections() == ['{"x": 2}'] and first.head_seq() == 1
    # A caller's id may hold a NUL, which PostgreSQL's text refuses: it is stored, not a wedged writer.
    first.append([{"kind": "api_call", "user_id": "u\x00", "direction": "inbound", "skipped": True}])
    assert first.execute("SELECT user_id, skipped FROM records WHERE seq = 2") == [("u\ufffd", 1)]
    with pytest.raises(KeyError):  # a record without a kind is refused, as the SQLite log refuses it
        first.append([{"no": "kind"}])
    assert first.head_seq() == 2  # and takes no seq
    first.close()
    second.close()


def test_a_follower_hears_of_each_commit(postgres_url: str) -> None:
    log = PostgresLog(postgres_url)

    async def follow() -> list[int]:
        heads: list[int] = []
        task = asyncio.create_task(log.reader().follow_head(heads.append))
        while not heads:
            await asyncio.sleep(0.01)
        for _ in range(3):
            await asyncio.to_thread(log.append, [{"kind": "api_call"}, {"kind": "api_call"}])
        while heads[-1] < 6:
            await asyncio.sleep(0.01)
        task.cancel()
        return heads

    heads = asyncio.run(asyncio.wait_for(follow(), 10))
    assert heads[0] == 0 and heads[-1] == 6 and heads == sorted(heads)
    log.close()


def test_the_ops_queries_read_the_same_on_postgresql(postgres_url: str, tmp_path) -> None:
    records = [
        {"kind": "api_call", "ts": "2026-12-06T10:00:00.000Z", "direction": "inbound", "connection_id": "c",
         "status_code": 204, "latency_ms": 10.0, "request_id": "r1", "error": None},
        {"kind": "api_call", "ts": "2026-12-06T10:00:01.000Z", "direction": "inbound", "connection_id": "c",
         "status_code": 502, "latency_ms": 30.0, "request_id": "r2", "error": "Service_Error"},
        {"kind": "api_call", "ts": "2026-12-06T10:00:02.000Z", "direction": "outbound", "connection_id": "c",
         "status_code": None, "skipped": True, "latency_ms": 5.0, "request_id": "r2"},
        {"kind": "script_run", "ts": "2026-12-06T10:00:03.000Z", "connection_id": "c", "status": "timeout",
         "trigger_event_id": 1},
    ]
    answers = []
    for log in (open_hub_log(tmp_path / "hub.sqlite"), open_hub_log(postgres_url)):
        log.append(records)
        answers.append((
            connection_stats(log, "2026-12-06T00:00:00Z"),
            list(matching_records(log, parse_filter("status:5xx SERVICE_error"))),
            list(matching_records(log, parse_filter("kind:all code:timeout"))),
            list(matching_records(log, parse_filter("kind:all status:skipped"))),
            records_near(log, "script_run", "trigger_event_id", 1, 1, 10),
            records_near(log, "api_call", "request_id", "r2", 1, 10, skip=2),
            log.execute("SELECT IFNULL(MAX(seq), 0) FROM records"),
        ))
        log.close()
    sqlite, postgres = answers
    assert postgres == sqlite
    assert sqlite[0]["c"].calls == 2 and sqlite[0]["c"].errors == 1 and len(sqlite[1]) == 1


def test_translation_leaves_string_literals_alone() -> None:
    sql, compared = translate("SELECT 'a ? LIKE b' FROM records WHERE x LIKE ? AND json_extract(body, '$.k') = ? "
                              "AND y IS NOT ? AND z IS NOT NULL AND IFNULL(w, 0) > ?")
    assert sql == ("SELECT 'a ? LIKE b' FROM records WHERE x ILIKE $1 AND (body::json ->> 'k') = $2 "
                   "AND y IS DISTINCT FROM $3 AND z IS NOT NULL AND COALESCE(w, 0) > $4")
    assert compared == (1,)


def test_a_database_url_is_named_without_its_password() -> None:
    assert shown_db("postgresql://hub:s3cret@db.internal:5432/switchroom") == "postgresql://hub:***@db.internal:5432/switchroom"
    assert shown_db("postgresql://hub@db/switchroom") == "postgresql://hub@db/switchroom"
    assert shown_db("postgresql://hub@db/switchroom?sslmode=require&password=s3cret") == (
        "postgresql://hub@db/switchroom?sslmode=require&password=***")


def test_the_seen_marks_key_decides_which_trigger_events_exist(postgres_url: str) -> None:
    """Two hubs that polled one subscription at once: the event whose mark is committed first exists, the
    other is not appended and takes no seq; a test event (which keeps no marks) is never dropped."""
    first, second = PostgresLog(postgres_url), PostgresLog(postgres_url)
    event = {"kind": "trigger_event", "trigger_identity": "ident", "meta_id": "m1", "source": "poll"}
    [made] = first.append([event], StateChanges(seen=[("ident", "m1")]))
    assert made is not None and made["seq"] == 1
    again = second.append([event, {"kind": "api_call"}, {**event, "source": "test"}],
                          StateChanges(seen=[("ident", "m1")]))
    assert again[0] is None and [r["seq"] for r in again[1:] if r] == [2, 3]
    assert second.execute("SELECT COUNT(*) FROM records WHERE kind = 'trigger_event'") == [(2,)]
    assert second.head_seq() == 3  # no gap where the duplicate would have been
    first.close()
    second.close()
