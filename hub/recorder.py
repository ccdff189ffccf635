"""The hub's side of the event log: batched appends off the event loop, and change notification.

Callers ``record()`` a body and go on; a single writer thread appends everything queued since its
last commit in one transaction (batching is what makes 1,000s of records/s cheap). A record that
cannot be encoded never sinks its batch, and a failing database is retried, never given up on. Streams wait on
``wait_past(seq)`` and then read from the log themselves, so every subscriber sees the same order
and none needs a buffer of its own.
"""

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
import asyncio
import logging

import msgspec

from switchroom.hub.record_bodies import bounded, bounded_json
from switchroom.hub.redaction import Redactor
from switchroom.protocol import Record, UserConnection, body_of
from switchroom.protocol.kinds import kind_of
from switchroom.store import StateChanges
from switchroom.store.hub_log import HubLog, open_hub_log
from switchroom.store.log_threads import READER, LogThreads

READ_THREADS = 4
RETRY_SECONDS = 1.0
USERS_RECHECK_S = 1.0
T = TypeVar("T")
log = logging.getLogger("switchroom.hub")


class MadeElsewhere(Exception):
    """A trigger event whose item another hub made an event of first: not stored, not to be delivered."""


class Recorder:
    def __init__(self, db: Path | str, redactor: Redactor | None = None,
                 observe: Callable[[Record], None] | None = None) -> None:
        """``db``: a SQLite file or a PostgreSQL URL (``store.hub_log``). ``redactor`` knows the hub's keys
        and tokens; without one, only secret-named fields are redacted. ``observe`` is shown each record
        as it is queued (the hub's metrics)."""
        self._redactor = redactor or Redactor()
        self._observe = observe
        writer = open_hub_log(db)
        self.hub_id = writer.ensure_hub_id()
        self.head_seq = writer.head_seq()
        """The last seq committed, by this hub or (on a shared database) by another."""
        self._threads: LogThreads[HubLog] = LogThreads(writer, "eventlog", {READER: READ_THREADS})
        self._pending: list[dict[str, Any]] = []
        self._pending_state = StateChanges()
        self._seq_waiters: dict[int, asyncio.Future[int]] = {}  # index in _pending → its seq, once stored
        self._flush_waiters: list[asyncio.Future[None]] = []  # done once what is pending now is committed
        self._flushing = False
        self._user_reads: dict[tuple[str, str], list[asyncio.Future[UserConnection | None]]] = {}
        self._user_reader: asyncio.Task[None] | None = None
        self._queued = asyncio.Event()
        self._advanced = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._write_loop(), name="eventlog-writer"),
                       asyncio.create_task(self._threads.writer.follow_head(self._head_at), name="eventlog-head")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._flush()
        self._threads.close(wait_for_reads=False)

    def record(self, record: Record) -> None:
        """Queue a record for the log, its secrets redacted (DESIGN §10: the one door to the log, so no
        record kind is left out); the writer thread commits it with the others queued."""
        if self._observe is not None:
            try:
                self._observe(record)
            except Exception:  # a figure lost, never a record
                log.exception("a %s record could not be counted in the metrics", type(record).__name__)
        self._pending.append(self._redactor.record(_body(record)))
        self._queued.set()

    def record_with_seq(self, record: Record) -> "asyncio.Future[int]":
        """Queue a record; the future gives its seq once it is committed (``MadeElsewhere`` for a trigger
        event another hub on the shared log made first: it is not stored)."""
        waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._seq_waiters[len(self._pending)] = waiter
        self.record(record)
        return waiter

    async def committed(self) -> None:
        """Return once everything queued so far (records and state) is committed."""
        if not self._pending and not self._pending_state and not self._flushing:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._flush_waiters.append(waiter)
        self._queued.set()
        await waiter

    def remember_seen(self, identity: str, meta_ids: list[str]) -> None:
        """Queue trigger items as seen; they are committed with the records queued beside them."""
        self._pending_state.seen.extend((identity, meta_id) for meta_id in meta_ids)
        self._queued.set()

    def remember_user_connection(self, user_connection: UserConnection) -> None:
        """Queue a user connection to be stored (replacing what was stored for that user and connection)."""
        key = (user_connection.user_id, user_connection.connection_id)
        self._pending_state.user_connections[key] = user_connection.model_dump_json()
        self._queued.set()

    def stored_user_connections(self) -> list[UserConnection]:
        """The user connections stored by earlier runs; for start-up, before the writer starts."""
        return [UserConnection.model_validate_json(body) for body in self._threads.writer.user_connections()]

    def before_start(self, job: Callable[[HubLog], T]) -> T:
        """Run ``job`` on the writer's log at once, on this thread: only before ``start``."""
        assert not self._tasks, "the writer thread owns the log once started"
        return job(self._threads.writer)

    @property
    def shared(self) -> bool:
        """Whether other hubs write to this log (PostgreSQL): state held in memory is read again."""
        return self._threads.writer.shared

    async def user_connection(self, user_id: str, connection_id: str) -> UserConnection | None:
        """One user connection as committed, by this hub or another. The keys asked for while a read is under
        way are read together by the next one, in one query (each request on a hub that shares its database
        asks for its user's: under load, many at a time)."""
        key = (user_id, connection_id)
        waiter: asyncio.Future[UserConnection | None] = asyncio.get_running_loop().create_future()
        self._user_reads.setdefault(key, []).append(waiter)
        if self._user_reader is None or self._user_reader.done():
            self._user_reader = asyncio.create_task(self._read_user_connections())
        return await waiter

    async def _read_user_connections(self) -> None:
        while self._user_reads:
            asked, self._user_reads = self._user_reads, {}
            try:
                found = await self.read(lambda log: log.user_connections_of(list(asked)))
            except Exception as exc:  # every request waiting gets the failure (a 500 of its own)
                for waiters in asked.values():
                    for waiter in waiters:
                        if not waiter.done():
                            waiter.set_exception(exc)
                continue
            for key, waiters in asked.items():
                stored = UserConnection.model_validate_json(found[key]) if key in found else None
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(stored)

    async def follow_user_connections(self, on_change: Callable[[UserConnection], None]) -> None:
        """Tell ``on_change`` of each user connection that any hub writes, every ``USERS_RECHECK_S``,
        until cancelled."""
        version = 0
        while True:
            try:
                bodies, version = await self.read(lambda log: log.user_connections_after(version))
            except Exception:  # the database is away (restarting): the next look catches up
                log.warning("could not read the user connections other hubs wrote; trying again", exc_info=True)
                bodies = []
            for body in bodies:
                on_change(UserConnection.model_validate_json(body))
            await asyncio.sleep(USERS_RECHECK_S)

    async def _write_loop(self) -> None:
        while True:
            await self._queued.wait()
            self._queued.clear()
            try:
                await self._flush()
            except Exception:  # the database itself failed (disk full, …): keep the batch and retry
                log.exception("the event log could not be written; retrying")
                await asyncio.sleep(RETRY_SECONDS)
                self._queued.set()

    async def _flush(self) -> None:
        if not self._pending and not self._pending_state:
            self._release(self._flush_waiters)
            return
        batch, self._pending = self._pending, []
        state, self._pending_state = self._pending_state, StateChanges()
        waiters, self._seq_waiters = self._seq_waiters, {}
        flushed, self._flush_waiters = self._flush_waiters, []
        self._flushing = True
        try:
            records = await self._threads.write(partial(self._append_safely, batch=batch, state=state))
        except BaseException:
            self._flush_waiters[:0] = flushed
            # Nothing was committed: the batch goes first next time (newer state changes win).
            self._seq_waiters = waiters | {i + len(batch): w for i, w in self._seq_waiters.items()}
            self._pending[:0] = batch
            self._pending_state = StateChanges(
                state.seen + self._pending_state.seen, state.user_connections | self._pending_state.user_connections
            )
            raise
        finally:
            self._flushing = False
        self._release(flushed)
        for index, waiter in waiters.items():
            stored = records[index]
            if waiter.done():
                continue
            if stored is None:
                waiter.set_exception(MadeElsewhere())
            else:
                waiter.set_result(stored["seq"])
        seqs = [record["seq"] for record in records if record is not None]
        if seqs:
            self._head_at(max(seqs))

    @staticmethod
    def _release(waiters: list["asyncio.Future[None]"]) -> None:
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
        waiters.clear()

    def _head_at(self, seq: int) -> None:
        """The log's head is at least ``seq``: wake the streams waiting for it."""
        if seq > self.head_seq:
            self.head_seq = seq
            advanced, self._advanced = self._advanced, asyncio.Event()
            advanced.set()

    def _append_safely(self, writer: HubLog, batch: list[dict[str, Any]],
                       state: StateChanges) -> list[dict[str, Any] | None]:
        """Append a batch, each record within the size a stream frame can carry (``bounded``, measured here
        off the event loop); if one record cannot be stored, store the rest and a stand-in for it."""
        batch = [bounded(body) for body in batch]
        try:
            return list(writer.append(batch, state))
        except (TypeError, ValueError, KeyError) as exc:  # unencodable or kindless; a database error propagates
            log.warning("a batch of %d records could not be stored whole (%s); storing one by one", len(batch), exc)
        records: list[dict[str, Any] | None] = []
        writer.append([], state)
        for body in batch:
            try:
                records += writer.append([body])
            except (TypeError, ValueError, KeyError) as exc:
                records += writer.append([_stand_in(body, exc)])
        return records

    async def head_now(self) -> int:
        """The log's head as committed this moment: where other hubs write too, read from the database
        (this hub hears of their commits a moment later)."""
        if self.shared:
            self._head_at(await self.read(lambda log: log.head_seq()))
        return self.head_seq

    async def wait_past(self, seq: int, timeout: float) -> bool:
        """Wait until the log's head passes ``seq``; False if ``timeout`` elapsed first."""
        while self.head_seq <= seq:
            try:
                await asyncio.wait_for(self._advanced.wait(), timeout)
            except TimeoutError:
                return self.head_seq > seq
        return True

    async def seen_meta_ids(self, identity: str) -> set[str] | None:
        """The trigger items already seen for a subscription (None: never polled), as committed."""
        return await self.read(lambda log: log.seen_meta_ids(identity))

    async def read_after_json(self, after: int, limit: int, kinds: tuple[str, ...],
                              max_chars: int | None = None) -> tuple[list[str], int]:
        """Raw JSON of records after ``after`` (of the given kinds), read on a reader thread. A record stored
        before records were bounded is cut here (``bounded_json``), so that no stream stops at it."""

        def bounded_read(log: HubLog) -> tuple[list[str], int]:
            bodies, through = log.read_after_json(after, limit, kinds, max_chars)
            return [bounded_json(body) for body in bodies], through

        return await self.read(bounded_read)

    async def read(self, query: Callable[[HubLog], T]) -> T:
        """Run a read-only ``query`` on one of the reader threads, each with its own connection."""
        return await self._threads.read(query)


def _body(record: Record) -> dict[str, Any]:
    """``record`` as the log stores it. One that holds a value JSON cannot carry comes as its top-level
    fields, for the writer to refuse and keep a stand-in of (``_stand_in``), never failing its caller."""
    try:
        return body_of(record)
    except (TypeError, ValueError, RecursionError):
        fields = msgspec.structs.asdict(record)
        return {"kind": kind_of(type(record)), **{k: v for k, v in fields.items() if v is not None}}


def _stand_in(body: dict[str, Any], problem: Exception) -> dict[str, Any]:
    """What is kept of a record that cannot be stored: its plain top-level fields, and why."""
    kept = {k: v for k, v in body.items() if isinstance(v, str | int | float | bool) or v is None}
    kind = kept.get("kind") if isinstance(kept.get("kind"), str) else "unknown"
    return {**kept, "kind": kind, "unrecordable": f"{type(problem).__name__}: {problem}"[:500]}
