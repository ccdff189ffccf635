"""Replicating a hub's log stream into the local cache, reconnecting when the link drops.

The replicator resumes from the cache's own cursor, so a reconnect neither loses nor repeats a
record; batches and the cursor are committed together (``Cache.replicate``). A hub with another id
than the cache's gets a fresh cache file instead of a mix of two hubs' records.
"""

from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
import asyncio
import functools
import ipaddress
import random
import sqlite3
import time

import httpx
import websockets
from switchroom.protocol import BatchFrame, ErrorFrame, HeartbeatFrame, HelloFrame, SubscribeFrame, dumps, parse_server_frame
from switchroom.protocol.batches import MalformedFrame
from switchroom.tui.cache import LOG_CURSOR, Cache, WriteRefused
from switchroom.tui.http import hub_client
from switchroom.tui.link import LinkState

MAX_FRAME_BYTES = 64 << 20
CATCHING_UP_SLACK = 1_000
"""Seqs the cache may be behind the hub's head before the status line says ``catching up`` and not
``live``: less than a tenth of a second of a 10,000 records/s stream."""
MAX_WRITES_IN_FLIGHT = 4
# How the hub starts every batch frame; any other frame is decoded on the event loop.
BATCH_PREFIXES = ('{"type":"batch"', b'{"type":"batch"')
BATCH_PREFIX_LENGTH = len(BATCH_PREFIXES[0])
BACKOFF_BASE = 0.1  # the first retry comes after 0.1–0.2 s, then doubling, with jitter
BACKOFF_CAP = 30.0
CLOSE_POLICY_VIOLATION = 1008
CLOSE_MESSAGE_TOO_BIG = 1009
STREAM_CURSORS = {"logs": LOG_CURSOR, "triggers": "triggers"}
"""Each of the hub's streams (``/v1/streams/<name>``) and the cache cursor it resumes from."""


class Unauthorized(Exception):
    pass


class HubChanged(Exception):
    pass


class CursorAhead(Exception):
    """The cache holds records past the end of the hub's log: the hub's database was restored."""


class Replicator:
    def __init__(
        self,
        hub_url: str,
        token: str,
        cache_dir: Path,
        on_cache: Callable[[Cache], None],
        on_ingest: Callable[[int, int], None],
        on_link: Callable[[LinkState], None],
        known_hub_id: str | None = None,
        max_frame_bytes: int = MAX_FRAME_BYTES,
        streams: tuple[str, ...] = ("logs",),
        cache: Cache | None = None,
    ) -> None:
        """``known_hub_id``: the hub's id when it was last seen; its cache is opened at once, so it can be
        browsed while the hub cannot be reached. ``streams``: which of the hub's streams to copy, side by
        side into the one cache, each resuming from its own cursor (``STREAM_CURSORS``); ``on_ingest``
        is told the log stream's cursor whichever stream a batch came on. ``cache``: this hub's cache, when
        the caller has opened it already (the dashboard does, to show its first screen sooner)."""
        self.hub_url = hub_url.rstrip("/")
        self.token = token
        self.cache_dir = cache_dir
        self.cache = cache
        self.bad_frames = 0
        self._writes: deque[asyncio.Future[tuple[int, int]]] = deque()
        self._on_cache, self._on_ingest, self._on_link = on_cache, on_ingest, on_link
        self._known_hub_id = known_hub_id
        self.max_frame_bytes = max_frame_bytes
        self.streams = streams
        self._log_through = 0
        self.hub_head = 0
        """The hub's head seq, as its last ``hello`` or heartbeat on the log stream said."""
        self._write_failure: BaseException | None = None
        self._progressed = False
        self._error = ""

    @property
    def compression(self) -> Literal["deflate"] | None:
        """Frames are compressed only when the hub is on another machine.

        On one machine compressing costs both sides CPU (deflating a backlog took a third of the hub's
        time) and saves nothing worth having.
        """
        return None if _is_loopback(urlsplit(self.hub_url).hostname) else "deflate"

    def stream_url(self, name: str = "logs") -> str:
        scheme, _, rest = self.hub_url.partition("://")
        return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/v1/streams/{name}"

    async def run(self) -> None:
        """Replicate until cancelled; a refused token ends it, anything else is retried.

        The backoff starts over only after a session that carried something (a batch or a heartbeat), not
        on a ``hello`` alone: a hub that greets and then fails at once (a frame too big for us, every
        time) is asked again less and less often, not in a tight loop.
        """
        attempt = 0

        def went_live() -> None:  # still showing what went wrong until the link carries something
            if not self._error:
                self._on_link(LinkState("live"))

        self._on_link(LinkState("connecting"))
        if self.cache is None and self._known_hub_id is not None and Cache.exists(self.cache_dir, self._known_hub_id):
            self._open_cache(self._known_hub_id)
        while True:
            self._progressed = False
            try:
                await self._session(went_live)
            except Unauthorized as exc:
                self._on_link(LinkState("offline", detail=str(exc)))
                return
            except HubChanged:
                continue
            except CursorAhead:
                self._set_cache_aside()
                continue
            except (OSError, TimeoutError, ValueError, KeyError, httpx.HTTPError, websockets.WebSocketException,
                    sqlite3.Error, WriteRefused) as exc:  # the cache busy, or briefly locked (recovering from a kill)
                attempt = 1 if self._progressed else attempt + 1
                self._on_link(LinkState("reconnecting", attempt, detail=type(exc).__name__, error=self._error))
            await asyncio.sleep(min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt) * random.uniform(0.5, 1.0))

    async def _session(self, went_live: Callable[[], None]) -> None:
        hub_id = await self._hub_id()
        if self.cache is None or self.cache.hub_id != hub_id:
            self._open_cache(hub_id)
        assert self.cache is not None
        while self._writes:  # writes of a session stopped midway: done before the cursor is read again
            await asyncio.gather(self._writes.popleft(), return_exceptions=True)
        self._write_failure = None
        self.cache.resume_writes()
        if len(self.streams) == 1:
            return await self._stream(self.streams[0], went_live)
        try:  # the streams run side by side; when one ends, the others are stopped and all start over
            async with asyncio.TaskGroup() as group:
                for name in self.streams:
                    group.create_task(self._stream(name, went_live))
        except BaseExceptionGroup as failed:
            raise _first_cause(failed) from None

    async def _stream(self, name: str, went_live: Callable[[], None]) -> None:
        assert self.cache is not None
        cursor_name = STREAM_CURSORS[name]
        headers = {"Authorization": f"Bearer {self.token}"}
        async with websockets.connect(
            self.stream_url(name), additional_headers=headers, max_size=self.max_frame_bytes, open_timeout=10,
            compression=self.compression,
        ) as ws:
            cursor = await self.cache.read(lambda log: log.cursor(cursor_name))
            if cursor_name == LOG_CURSOR:
                self._log_through = cursor
            try:
                await ws.send(dumps(SubscribeFrame(after=cursor)).decode())
                async for message in ws:
                    await self._handle(message, went_live, cursor_name)
            except websockets.ConnectionClosed as closed:
                if closed.sent is not None and closed.sent.code == CLOSE_MESSAGE_TOO_BIG:
                    self.bad_frames += 1  # past our limit: counted and shown; the next session asks again
                    self._error = f"the hub sent a frame over the {_size(self.max_frame_bytes)} limit"
            finally:
                await self._finish_writes(0)
            if ws.close_code == CLOSE_POLICY_VIOLATION:
                raise Unauthorized(ws.close_reason or "the hub refused the operator token")
            raise ConnectionResetError(f"stream closed ({ws.close_code})")

    async def _handle(self, message: str | bytes, went_live: Callable[[], None], cursor: str = LOG_CURSOR) -> None:
        assert self.cache is not None
        if self._write_failure is not None:  # start over from the cursor (frames come at least every heartbeat)
            await self._finish_writes(0)
        if message[:BATCH_PREFIX_LENGTH] in BATCH_PREFIXES:  # the bulk of the bytes: decoded off the loop
            write = asyncio.ensure_future(self.cache.store_batch(message, cursor))
            write.add_done_callback(functools.partial(self._written, cursor))
            self._writes.append(write)
            await self._finish_writes(MAX_WRITES_IN_FLIGHT)
            return
        try:
            frame = parse_server_frame(message)
        except MalformedFrame:
            self.bad_frames += 1
            return
        if isinstance(frame, HelloFrame):
            if frame.hub_id != self.cache.hub_id:
                raise HubChanged(frame.hub_id)
            self._heard_head(cursor, frame.head_seq)
            went_live()
        elif isinstance(frame, HeartbeatFrame):
            self._heard_head(cursor, frame.head_seq)
            self._carried()
        elif isinstance(frame, BatchFrame):  # a batch whose keys come in another order
            self._ingested(cursor, *await self.cache.store_batch(message, cursor))
        elif isinstance(frame, ErrorFrame) and frame.code == "cursor_ahead":
            raise CursorAhead(frame.message)
        elif isinstance(frame, ErrorFrame) and frame.code == "unauthorized":
            raise Unauthorized(frame.message)

    async def _finish_writes(self, keep: int) -> None:
        """Wait for cache writes, oldest first, until at most ``keep`` are in flight.

        Writing one batch while the next is received keeps both the socket and the writer busy; the
        writer thread applies them in order, and the cursor only ever moves with its batch.
        """
        failure: Exception | None = None
        while len(self._writes) > keep:
            try:
                await self._writes.popleft()
            except MalformedFrame:
                pass  # counted in _written
            except Exception as exc:  # a failed write ends the session, once every write in flight is done
                failure, keep = failure or exc, 0
        if failure is not None:
            raise failure

    def _written(self, cursor: str, write: "asyncio.Future[tuple[int, int]]") -> None:
        if write.cancelled():
            return
        if isinstance(write.exception(), MalformedFrame):
            self.bad_frames += 1
        elif write.exception() is None:
            self._ingested(cursor, *write.result())
        elif self._write_failure is None:  # the cache stores nothing more; the next frame ends the session
            self._write_failure = write.exception()

    def _ingested(self, cursor: str, added: int, through_seq: int) -> None:
        self._carried()
        if cursor == LOG_CURSOR:
            self._log_through = through_seq
        self._on_ingest(added, self._log_through)

    def _heard_head(self, cursor: str, head_seq: int) -> None:
        if cursor == LOG_CURSOR:
            self.hub_head = head_seq

    def catching_up(self) -> float | None:
        """The share of the hub's log the cache holds while it is more than ``CATCHING_UP_SLACK`` seqs
        behind the head the hub last told; None once it has caught up (or before the hub said)."""
        if self.hub_head - self._log_through <= CATCHING_UP_SLACK:
            return None
        return self._log_through / self.hub_head

    def _carried(self) -> None:
        """The link carried something: the backoff starts over after it, and an error shown is over."""
        self._progressed = True
        if self._error:
            self._error = ""
            self._on_link(LinkState("live"))

    async def _hub_id(self) -> str:
        async with hub_client(self.hub_url, 5.0) as http:
            response = await http.get(f"{self.hub_url}/v1/health")
            response.raise_for_status()
            body = response.json()
        if not isinstance(body, dict) or "hub_id" not in body:
            raise KeyError("hub_id")  # tried again later, as any answer that is not the hub's health
        hub_id = str(body["hub_id"])
        Cache.path_of(self.cache_dir, hub_id)  # BadHubId (a ValueError: tried again later) if it names no file
        return hub_id

    def _set_cache_aside(self) -> None:
        """Keep the cache that is ahead of its hub under another name, and start this hub's afresh."""
        assert self.cache is not None
        hub_id, path = self.cache.hub_id, self.cache.path
        self.cache.close()
        self.cache = None
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        for suffix in ("", "-wal", "-shm"):
            old = path.with_name(path.name + suffix)
            if old.exists():
                old.rename(path.with_name(f"{hub_id}.ahead-of-hub-{stamp}.sqlite{suffix}"))
        self._open_cache(hub_id)

    def _open_cache(self, hub_id: str) -> None:
        if self.cache is not None:
            self.cache.close()
        self.cache = Cache(self.cache_dir, hub_id)
        self._on_cache(self.cache)


def _first_cause(failed: BaseExceptionGroup) -> BaseException:
    """The first failure among a group's that is not the cancelling of a stream that was still fine."""
    causes = [exc for exc in failed.exceptions if not isinstance(exc, asyncio.CancelledError)]
    first = causes[0] if causes else failed.exceptions[0]
    return _first_cause(first) if isinstance(first, BaseExceptionGroup) else first


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n >> 10} KiB"


def _is_loopback(host: str | None) -> bool:
    if host is None or host == "localhost":
        return host is not None
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
