"""The log and trigger streams (DESIGN §7) over websockets.

Each subscriber reads from the event log itself, from its own cursor: backlog and live are one
loop (read what lies past the cursor, else wait for the head to move), so there is no seam between
them where a record could be lost or repeated, and a slow client costs the hub no memory — it simply
reads further behind.
"""

from collections.abc import Coroutine
from typing import Any
import asyncio
import logging

from prometheus_client import Gauge
from pydantic import ValidationError
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from switchroom.protocol.kinds import LOG_STREAM_KINDS, TRIGGER_STREAM_KINDS
from switchroom.hub.auth import OperatorTokens
from switchroom.hub.recorder import Recorder
from switchroom.protocol.batches import batch_frame
from switchroom.protocol import ErrorFrame, HeartbeatFrame, HelloFrame, SubscribeFrame, dumps

log = logging.getLogger("switchroom.hub")

BATCH_LIMIT = 2000
BATCH_MAX_CHARS = 4 << 20  # with records of at most 1 MiB (record_bodies), a frame stays far below 64 MiB
HEARTBEAT_SECONDS = 5.0
SUBSCRIBE_TIMEOUT = 10.0
CLOSE_POLICY_VIOLATION = 1008
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_INTERNAL_ERROR = 1011
CLOSE_CURSOR_AHEAD = 4000

STREAMS: dict[str, tuple[str, ...]] = {"/v1/streams/logs": LOG_STREAM_KINDS,
                                       "/v1/streams/triggers": TRIGGER_STREAM_KINDS}
"""Each stream's path and the kinds of record it carries."""
CLOSE_CODES: dict[int, str] = {
    CLOSE_POLICY_VIOLATION: "unauthorized: missing or wrong operator token",
    CLOSE_PROTOCOL_ERROR: "bad_subscribe: the first frame was not a subscribe frame, or came too late",
    CLOSE_INTERNAL_ERROR: "internal_error: the stream failed; reconnect to resume from your cursor",
    CLOSE_CURSOR_AHEAD: "cursor_ahead: the log ends before the client's cursor (a restore); start a fresh cache",
}
"""Why the hub closes a stream, each after an ``error`` frame of that code."""


class StreamEndpoint:
    def __init__(self, recorder: Recorder, tokens: OperatorTokens, kinds: tuple[str, ...], subscribers: Gauge) -> None:
        """``subscribers``: the gauge of this stream's clients, up while one with a valid token is connected."""
        self.recorder = recorder
        self.tokens = tokens
        self.kinds = kinds
        self.subscribers = subscribers

    async def handle(self, websocket: WebSocket) -> None:
        await websocket.accept()
        if self.tokens.actor(websocket.headers.get("authorization")) is None:
            await self._refuse(websocket, "unauthorized", "Missing or wrong operator token", CLOSE_POLICY_VIOLATION)
            return
        self.subscribers.inc()
        try:
            subscribe = await self._read_subscribe(websocket)
            if subscribe is None:
                return
            await _until_first_done(self._stream(websocket, subscribe.after), _client_gone(websocket))
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass  # the client went away; it resumes from its own cursor
        except Exception:
            log.exception("stream failed")
            await self._refuse(websocket, "internal_error", "The stream failed; reconnect to resume", CLOSE_INTERNAL_ERROR)
        finally:
            self.subscribers.dec()

    async def _read_subscribe(self, websocket: WebSocket) -> SubscribeFrame | None:
        try:
            text = await asyncio.wait_for(websocket.receive_text(), SUBSCRIBE_TIMEOUT)
            return SubscribeFrame.model_validate_json(text)
        except (TimeoutError, ValidationError, KeyError, RuntimeError):
            await self._refuse(websocket, "bad_subscribe", 'Expected {"type": "subscribe", "after": <seq>}',
                               CLOSE_PROTOCOL_ERROR)
            return None

    async def _stream(self, websocket: WebSocket, cursor: int) -> None:
        if cursor > self.recorder.head_seq and cursor > await self.recorder.head_now():
            # the client saw records this log no longer has (a restore)
            await self._refuse(websocket, "cursor_ahead",
                               f"This hub's log ends at seq {self.recorder.head_seq}, before your cursor {cursor}: "
                               "start a fresh cache", CLOSE_CURSOR_AHEAD)
            return
        hello = HelloFrame(hub_id=self.recorder.hub_id, head_seq=self.recorder.head_seq)
        await websocket.send_text(dumps(hello).decode())
        while True:
            bodies, through = await self.recorder.read_after_json(cursor, BATCH_LIMIT, self.kinds, BATCH_MAX_CHARS)
            if through > cursor:
                cursor = through
                await websocket.send_text(batch_frame(bodies, through))
                continue
            if not await self.recorder.wait_past(cursor, HEARTBEAT_SECONDS):
                await websocket.send_text(dumps(HeartbeatFrame(head_seq=self.recorder.head_seq)).decode())

    @staticmethod
    async def _refuse(websocket: WebSocket, code: str, message: str, close_code: int) -> None:
        try:
            await websocket.send_text(dumps(ErrorFrame(code=code, message=message)).decode())
            await websocket.close(code=close_code, reason=message[:120])
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass


async def _client_gone(websocket: WebSocket) -> None:
    """Return once the client has closed (it sends nothing after subscribing but a close)."""
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass


async def _until_first_done(*coroutines: Coroutine[Any, Any, None]) -> None:
    tasks = [asyncio.create_task(c) for c in coroutines]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        task.result()


def stream_routes(recorder: Recorder, tokens: OperatorTokens, subscribers: Gauge) -> list[WebSocketRoute]:
    """The two streams; ``subscribers`` is the gauge of their clients, labelled by stream (``logs``, ``triggers``)."""
    return [WebSocketRoute(path, StreamEndpoint(recorder, tokens, kinds, subscribers.labels(path.rsplit("/", 1)[1])).handle)
            for path, kinds in STREAMS.items()]
