"""Frames a hub should never send — malformed, oversized, unknown — are counted, and the stream goes on.

The peer here is a tiny websocket server that speaks the protocol badly on purpose: no real hub sends
such frames, so this is the one place a stand-in is the point.
"""

from http import HTTPStatus
from pathlib import Path
import asyncio
import json
import sqlite3

import orjson
import pytest
import websockets
from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from switchroom.protocol.batches import MalformedFrame, split_batch
from switchroom.store import EventLog, connection_counts
from tests.support.waiting import eventually
from switchroom.tui.cache import Cache
from switchroom.tui.replication import LinkState, Replicator

HUB_ID = "badly-behaved-hub"


def record(seq: int) -> dict[str, object]:
    return {"seq": seq, "ts": "2026-11-26T10:00:00.000Z", "kind": "api_call", "direction": "inbound",
            "status_code": 204, "request_id": f"r{seq}"}


BAD_FRAMES: list[str | bytes] = [
    "not json at all",
    '{"type": "batch", "records": "none", "through_seq": 3}',      # records not a list
    '{"type": "batch", "records": [{"kind": "api_call"}], "through_seq": 3}',  # a record without seq
    '{"type":"batch","records":[{"seq":"one","kind":"api_call"}],"through_seq":3}',  # fast path, bad seq
    '{"type": "telepathy", "payload": 1}',                          # unknown frame type
    '[1, 2, 3]',
]


async def serve_badly(websocket: ServerConnection) -> None:
    await websocket.recv()  # the subscribe
    await websocket.send(json.dumps({"type": "hello", "hub_id": HUB_ID, "protocol": 1, "head_seq": 4}))
    await websocket.send(json.dumps({"type": "batch", "records": [record(1), record(2)], "through_seq": 2}))
    for frame in BAD_FRAMES:
        await websocket.send(frame)
    await websocket.send(json.dumps({"type": "batch", "records": [record(3), record(4)], "through_seq": 4}))
    await websocket.wait_closed()


def health(connection: ServerConnection, request: Request) -> Response | None:
    if request.path == "/v1/health":
        return connection.respond(HTTPStatus.OK, json.dumps({"status": "ok", "hub_id": HUB_ID}) + "\n")
    return None


async def test_bad_frames_are_counted_and_the_stream_continues(tmp_path: Path) -> None:
    ingested: list[int] = []
    links: list[LinkState] = []
    async with websockets.serve(serve_badly, "127.0.0.1", 0, process_request=health) as server:
        port = server.sockets[0].getsockname()[1]
        replicator = Replicator(f"http://127.0.0.1:{port}", "token", tmp_path, lambda cache: None,
                                lambda added, through: ingested.append(through), links.append)
        task = asyncio.create_task(replicator.run())
        await eventually(lambda: 4 in ingested and replicator.bad_frames >= len(BAD_FRAMES))
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    assert replicator.bad_frames == len(BAD_FRAMES)
    assert any(link.name == "live" for link in links)
    assert replicator.cache is not None
    cache = EventLog(replicator.cache.path)
    assert [r["seq"] for r in cache.read_after(0, 100)] == [1, 2, 3, 4]
    assert cache.cursor() == 4


# -- splitting a batch frame into its records' own text ----------------------------------------------

HOSTILE_STRINGS = [
    '","', "}", "]", "},{", '],"through_seq":9}', ',{"seq":', '{"seq":7,"kind":"x"}', 'say \\"hi\\"', '\\',
    'a "quoted" word', "line\nbreak\ttab", "é ü 中文 🙂", "\u2028\u2029", "\x00\x1f", "",
]


def hostile_records(start: int) -> list[dict[str, object]]:
    records: list[dict[str, object]] = []
    for offset, text in enumerate(HOSTILE_STRINGS):
        records.append({
            "seq": start + offset, "ts": "2026-11-26T10:00:00.000Z", "kind": "api_call", "direction": "inbound",
            "connection_id": text, "user_id": text, "status_code": 204, "skipped": offset % 2 == 0,
            "latency_ms": 1.5 * offset, "request_body": {"text": text, "nested": {"deeper": [text, {"k": text}]}},
            text or "empty": [text, 1, None, True],
        })
    return records


def hub_frame(records: list[dict[str, object]], through: int) -> str:
    """A batch frame exactly as hub/streams.py writes it: stored bodies spliced between head and tail."""
    bodies = ",".join(orjson.dumps(r).decode() for r in records)
    return f'{{"type":"batch","records":[{bodies}],"through_seq":{through}}}'


def test_records_split_from_a_frame_are_what_a_full_decode_gives() -> None:
    records = hostile_records(1)
    frame = hub_frame(records, through=40)
    split = split_batch(frame)
    assert split is not None
    pieces, through = split
    assert through == 40
    assert [record for _, record in pieces] == orjson.loads(frame)["records"] == records
    assert [text for text, _ in pieces] == [orjson.dumps(r).decode() for r in records]  # each record's own text
    assert split_batch(frame.encode()) == split
    assert split_batch('{"type":"batch","records":[],"through_seq":5}') == ([], 5)


def test_a_nested_array_holding_a_seq_object_is_decoded_in_full(tmp_path: Path) -> None:
    records = hostile_records(1)
    records[3]["items"] = [1, {"seq": 2, "kind": "x"}, {"seq": 3}]  # ',{"seq":' outside any string
    frame = hub_frame(records, through=len(records))
    assert split_batch(frame) is None  # the cut inside the array leaves no JSON: the fast path steps aside
    cache = Cache(tmp_path, "hub")
    try:
        assert cache._store_batch(frame) == (len(records), len(records))
        assert EventLog(cache.path).read_after(0, 100) == records
    finally:
        cache.close()


def test_split_records_are_stored_as_they_came_and_read_back_equal(tmp_path: Path) -> None:
    records = hostile_records(1)
    frame = hub_frame(records, through=20)
    cache = Cache(tmp_path, "hub")
    try:
        assert cache._store_batch(frame) == (len(records), 20)
        assert cache._store_batch(frame) == (0, 20)  # again: nothing stored twice
    finally:
        cache.close()
    log = EventLog(tmp_path / "hubs" / "hub.sqlite")
    assert log.read_after(0, 100) == records
    assert log.read_after_json(0, 100)[0] == [orjson.dumps(r).decode() for r in records]
    assert log.cursor() == 20
    rows = log.execute("SELECT connection_id, skipped, latency_ms FROM records ORDER BY seq")
    # A cache reads its columns out of each text with SQLite's json_extract, which (in SQLite 3.40) ends
    # a string at an escaped NUL; the text itself keeps it.
    assert rows == [(str(r["connection_id"]).split("\x00")[0], int(r["skipped"]), r["latency_ms"])  # type: ignore[call-overload]
                    for r in records]
    assert connection_counts(log)[0].calls == sum(1 for r in records if str(r["connection_id"]).split("\x00")[0] == "")


MALFORMED_FAST_PATH = [
    '{"type":"batch","records":[{"seq":1,"kind":"api_call"},{"seq":2,"kind":"api_call"],"through_seq":2}',
    '{"type":"batch","records":[{"seq":1,"kind":"api_call"},{"seq":2,"kind":"api_call"}',  # truncated
    '{"type":"batch","records":[{"seq":1,"kind":"api_call"}],"through_seq":1.5}',
    '{"type":"batch","records":[{"seq":1,"kind":"api_call"}],"through_seq":"1"}',
    '{"type":"batch","records":[{"seq":1,"kind":"api_call"},{"seq":2}],"through_seq":2}',  # no kind
    '{"type":"batch","records":[{"seq":1,"kind":"api_call"},{"seq":true,"kind":"x"}],"through_seq":2}',
    '{"type":"batch","records":[{"seq":1,"kind":"api_call"},{"seq":2,"kind":"x","a":[}],"through_seq":2}',
    '{"type":"batch","records":[{"seq":1,"kind":"api_call"},{"seq":2,"kind":"x"} {"seq":3}],"through_seq":3}',
    '{"type":"batch","records":[{"seq":1,"kind":"api_call","s":"\ud800"}],"through_seq":1}',
    b'{"type":"batch","records":[{"seq":1,"kind":"\xff"}],"through_seq":1}',
]


def test_a_malformed_frame_in_the_hubs_layout_is_refused_whole(tmp_path: Path) -> None:
    cache = Cache(tmp_path, "hub")
    try:
        for frame in MALFORMED_FAST_PATH:
            assert split_batch(frame) is None
            with pytest.raises(MalformedFrame):
                cache._store_batch(frame)
        assert cache._store_batch(hub_frame([record(1)], through=1)) == (1, 1)  # and the cache goes on
    finally:
        cache.close()
    log = EventLog(tmp_path / "hubs" / "hub.sqlite")
    assert [r["seq"] for r in log.read_after(0, 100)] == [1]
    assert log.cursor() == 1
    assert log.integrity_ok()


async def test_an_oversized_frame_is_counted_and_the_stream_resumes(tmp_path: Path) -> None:
    """A frame past the dashboard's limit ends that connection (close 1009); it is counted, and the next
    connection resumes from the cache's cursor."""
    connections = 0

    async def serve_one_oversized(websocket: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        after = json.loads(await websocket.recv())["after"]
        await websocket.send(json.dumps({"type": "hello", "hub_id": HUB_ID, "protocol": 1, "head_seq": 4}))
        if connections == 1:
            await websocket.send(json.dumps({"type": "batch", "records": [record(1), record(2)], "through_seq": 2}))
            await websocket.send(json.dumps({"type": "batch", "records": [record(3)] * 3000, "through_seq": 3}))
        else:
            assert after == 2
            await websocket.send(json.dumps({"type": "batch", "records": [record(3), record(4)], "through_seq": 4}))
        await websocket.wait_closed()

    ingested: list[int] = []
    async with websockets.serve(serve_one_oversized, "127.0.0.1", 0, process_request=health) as server:
        port = server.sockets[0].getsockname()[1]
        replicator = Replicator(f"http://127.0.0.1:{port}", "token", tmp_path, lambda cache: None,
                                lambda added, through: ingested.append(through), lambda link: None,
                                max_frame_bytes=64 * 1024)
        task = asyncio.create_task(replicator.run())
        await eventually(lambda: 4 in ingested)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    assert replicator.bad_frames == 1 and connections == 2
    assert replicator.cache is not None
    assert [r["seq"] for r in EventLog(replicator.cache.path).read_after(0, 100)] == [1, 2, 3, 4]


def test_records_whose_columns_have_unusual_values_are_stored_and_read_as_json_extract_gives_them(
        tmp_path: Path) -> None:
    """No record can make a batch fail to store, which would end the session and ask for it again forever:
    a cache stores each record's text, and its columns read what SQLite's json_extract gives (an object or
    an array as its JSON text, an integer past 64 bits as a real)."""
    records: list[dict[str, object]] = [
        {**record(1), "status_code": "teapot", "connection_id": {"nested": True}, "latency_ms": [1, 2]},
        {**record(2), "status_code": 1 << 63, "skipped": "yes", "user_id": 7},  # past SQLite's integers
        {key: value for key, value in record(3).items() if key != "ts"},  # no ts
        record(4),
    ]
    frame = hub_frame(records, through=4)
    cache = Cache(tmp_path, "hub")
    try:
        assert cache._store_batch(frame) == (4, 4)
    finally:
        cache.close()
    log = EventLog(tmp_path / "hubs" / "hub.sqlite")
    assert log.read_after(0, 100) == records
    rows = log.execute("SELECT seq, ts, status_code, connection_id, latency_ms, skipped, user_id FROM records ORDER BY seq")
    assert rows[0] == (1, "2026-11-26T10:00:00.000Z", "teapot", '{"nested":true}', "[1,2]", None, None)
    assert rows[1] == (2, "2026-11-26T10:00:00.000Z", float(1 << 63), None, None, "yes", 7)
    assert rows[2][:3] == (3, None, 204)
    assert rows[3] == (4, "2026-11-26T10:00:00.000Z", 204, None, None, None, None)


def test_a_seq_past_what_sqlite_holds_makes_the_frame_malformed(tmp_path: Path) -> None:
    cache = Cache(tmp_path, "hub")
    try:
        for seq in (1 << 63, -1):
            with pytest.raises(MalformedFrame):
                cache._store_batch(hub_frame([record(1), {**record(2), "seq": seq}], through=2))
    finally:
        cache.close()
    assert EventLog(tmp_path / "hubs" / "hub.sqlite").read_after(0, 10) == []


def test_a_large_frame_is_stored_whole_in_many_row_statements(tmp_path: Path) -> None:
    records = [record(seq) for seq in range(1, 1235)]  # several statements of many rows, and the rest one by one
    cache = Cache(tmp_path, "hub")
    try:
        assert cache._store_batch(hub_frame(records[:1000], through=1000)) == (1000, 1000)
        assert cache._store_batch(hub_frame(records[990:], through=1234)) == (234, 1234)  # 10 again: ignored
    finally:
        cache.close()
    log = EventLog(tmp_path / "hubs" / "hub.sqlite")
    assert log.read_after(0, 2000) == records
    assert log.execute("PRAGMA page_size") == [(16384,)]


async def test_a_cache_write_that_fails_is_retried_not_fatal(tmp_path: Path) -> None:
    """A cache that another process holds locked for longer than the writer waits (one recovering it after a
    kill, say) fails a write for real: nothing after it is stored, the session starts over from the cursor,
    and once the lock is gone the records arrive; the replicator itself carries on."""
    lock_held = asyncio.Event()

    async def serve(websocket: ServerConnection) -> None:
        after = json.loads(await websocket.recv())["after"]
        await websocket.send(json.dumps({"type": "hello", "hub_id": HUB_ID, "protocol": 1, "head_seq": 2}))
        await lock_held.wait()  # the first batch meets a locked cache
        records = [record(seq) for seq in (1, 2) if seq > after]
        await websocket.send(hub_frame(records, through=2))
        while True:  # as a hub does, when it has nothing new
            await websocket.send(json.dumps({"type": "heartbeat", "head_seq": 2}))
            await asyncio.sleep(0.1)

    ingested: list[int] = []
    links: list[LinkState] = []
    async with websockets.serve(serve, "127.0.0.1", 0, process_request=health) as server:
        port = server.sockets[0].getsockname()[1]
        replicator = Replicator(f"http://127.0.0.1:{port}", "token", tmp_path, lambda cache: None,
                                lambda added, through: ingested.append(through), links.append)
        task = asyncio.create_task(replicator.run())
        await eventually(lambda: replicator.cache is not None)
        assert replicator.cache is not None
        other_process = sqlite3.connect(replicator.cache.path, isolation_level=None)
        other_process.execute("BEGIN EXCLUSIVE")  # every other writer now waits, then gives up
        lock_held.set()
        try:
            await eventually(lambda: any(link.name == "reconnecting" for link in links), timeout=30)
            assert not ingested  # the batch that failed moved no cursor
        finally:
            other_process.execute("ROLLBACK")
            other_process.close()
        await eventually(lambda: 2 in ingested and not task.done(), lambda: f"ingested {ingested}, task {task}")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    assert [link.detail for link in links if link.name == "reconnecting"] == ["OperationalError"]
    assert [r["seq"] for r in EventLog(replicator.cache.path).read_after(0, 10)] == [1, 2]


async def test_a_batch_queued_behind_a_failed_write_is_refused_until_the_stream_starts_over(tmp_path: Path) -> None:
    """The cache's own latch: a batch already handed to the writer when the one before it failed is not
    stored, even though the lock is gone by the time its turn comes; storing it would move the cursor past
    the records that failed."""
    from switchroom.tui.cache import WriteRefused

    cache = Cache(tmp_path, HUB_ID)
    other_process = sqlite3.connect(cache.path, isolation_level=None)
    try:
        other_process.execute("BEGIN EXCLUSIVE")
        first = asyncio.ensure_future(cache.store_batch(hub_frame([record(1), record(2)], through=2)))
        second = asyncio.ensure_future(cache.store_batch(hub_frame([record(3), record(4)], through=4)))
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await first  # after the writer's busy wait
        other_process.execute("ROLLBACK")  # the lock is gone before the second batch could be stored
        with pytest.raises(WriteRefused):
            await second
        assert await cache.read(lambda log: log.cursor()) == 0
        cache.resume_writes()  # the stream starts over from the cursor
        assert await cache.store_batch(hub_frame([record(1), record(2)], through=2)) == (2, 2)
        assert await cache.store_batch(hub_frame([record(3), record(4)], through=4)) == (2, 4)
    finally:
        other_process.close()
        cache.close()


def test_absent_and_null_fields_both_leave_their_columns_null(tmp_path: Path) -> None:
    records: list[dict[str, object]] = [
        {"seq": 1, "kind": "script_run"},  # every indexed field but seq and kind absent
        {"seq": 2, "kind": "api_call", **{name: None for name in ("ts", "direction", "connection_id", "feature_id",
                                                                  "user_id", "op_id", "status_code", "skipped",
                                                                  "latency_ms")}},
        {**record(3), "skipped": False, "latency_ms": 0, "status_code": 0, "connection_id": "0", "op_id": ""},
    ]
    cache = Cache(tmp_path, "hub")
    try:
        assert cache._store_batch(hub_frame(records, through=3)) == (3, 3)
    finally:
        cache.close()
    log = EventLog(tmp_path / "hubs" / "hub.sqlite")
    rows = log.execute("SELECT seq, ts, kind, direction, connection_id, feature_id, user_id, op_id, status_code, "
                       "skipped, latency_ms FROM records ORDER BY seq")
    assert rows[0] == (1, None, "script_run", *[None] * 8)
    assert rows[1] == (2, None, "api_call", *[None] * 8)
    assert rows[2] == (3, "2026-11-26T10:00:00.000Z", "api_call", "inbound", "0", None, None, "", 0, 0, 0.0)
    assert log.execute("SELECT typeof(skipped), typeof(latency_ms) FROM records WHERE seq = 3") == [("integer", "integer")]
