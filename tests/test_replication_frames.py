"""Frames a hub should never send — malformed, oversized, unknown — are counted, and the stream goes on.

The peer here is a tiny websocket server that speaks the protocol badly on purpose: no real hub sends
such frames, so this is the one place a stand-in is the point.
"""

from http import HTTPStatus
from pathlib import Path
import asyncio
import json

import websockets
from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from store import EventLog
from tui.replication import LinkState, Replicator

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
        async with asyncio.timeout(20):
            while 4 not in ingested or replicator.bad_frames < len(BAD_FRAMES):
                await asyncio.sleep(0.02)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    assert replicator.bad_frames == len(BAD_FRAMES)
    assert any(link.name == "live" for link in links)
    assert replicator.cache is not None
    cache = EventLog(replicator.cache.path)
    assert [r["seq"] for r in cache.read_after(0, 100)] == [1, 2, 3, 4]
    assert cache.cursor() == 4
