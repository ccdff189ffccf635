"""The dashboard's replica of a hub's event log: one SQLite file per hub id.

Writes go through one writer thread, and reads through two reader threads (one for what is on screen,
one for summaries over many records), each with its own connection (``store.log_threads``), so none ever
runs on the UI's event loop. A third thread copies the write-ahead log into the database file behind the
writer (see ``_Checkpointer``).
"""

from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
import asyncio
import re
import sqlite3
import threading

import platformdirs

from switchroom.protocol.batches import KeyedText, batch_rows
from switchroom.store import EventLog, iso_timestamp
from switchroom.store.analytics.derived import derived_path
from switchroom.store.file_damage import damage_of, remove, set_aside
from switchroom.store.log_threads import READER, LogThreads
from switchroom.store.analytics.kind_totals import KindTotal, remember_total
from switchroom.store.private_files import private_folder
from switchroom.store.analytics.retention import trim

if TYPE_CHECKING:  # the settings' module loads Textual, which opening a cache does not wait for
    from switchroom.tui.config import CacheLimits

T = TypeVar("T")
SUMMARIES = "summaries"
"""The reader thread for queries over much of the cache, beside ``READER`` for what is on screen."""
# Frame bytes written between two background checkpoints: about four full batches of the hub's. (At one
# batch, waking the checkpointer took 6% of the writer thread's time in a 1M-record catch-up, and every
# checkpoint ends in two fsyncs.)
CHECKPOINT_EVERY_BYTES = 4 << 20


LOG_CURSOR = "stream"
"""The cursor of the log stream (api calls, script runs, reruns); the trigger stream keeps its own."""


HUB_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
"""What a hub id must be to name a cache file. The id is the hub's to choose, and one such as
``../../x`` would otherwise put a cache (and write records) anywhere the user can write."""


class BadHubId(ValueError):
    """A hub id that cannot name a cache file (``HUB_ID``)."""


class CacheClosed(Exception):
    """A read of a cache that has been closed."""


class WriteRefused(Exception):
    """A batch not stored because one before it failed to: storing it would move the cursor past the
    records that failed, and lose them. The stream must start over from the cursor (``resume_writes``)."""


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("switchroom", appauthor=False))


class Cache:
    def __init__(self, directory: Path, hub_id: str) -> None:
        self.hub_id = hub_id
        self.path = self.path_of(directory, hub_id)
        private_folder(self.path.parent)
        self._notes = repair(self.path)
        writer = EventLog(self.path, check_same_thread=False, replica=True)
        writer.set_meta("hub_id", hub_id)
        self._threads = LogThreads(writer, "cache", {READER: 1, SUMMARIES: 1})
        self._checkpointer = _Checkpointer(self.path)
        self._unchecked_bytes = 0
        self._closed = False
        self._write_failure: BaseException | None = None

    def take_notes(self) -> list[str]:
        """What was found damaged and done about it as this cache opened, one line each; told once."""
        notes, self._notes = self._notes, []
        return notes

    @staticmethod
    def path_of(directory: Path, hub_id: str) -> Path:
        """Where ``hub_id``'s cache lives; ``BadHubId`` for an id that cannot name a file in ``hubs/``."""
        if not HUB_ID.fullmatch(hub_id):
            raise BadHubId(f"the hub's id {hub_id[:80]!r} cannot name a cache file")
        return directory / "hubs" / f"{hub_id}.sqlite"

    @staticmethod
    def exists(directory: Path, hub_id: str) -> bool:
        return HUB_ID.fullmatch(hub_id) is not None and Cache.path_of(directory, hub_id).exists()

    async def store_batch(self, frame_text: str | bytes, cursor: str = LOG_CURSOR) -> tuple[int, int]:
        """Decode a batch frame and store its records and cursor together, all on the writer thread.

        Decoding a frame of thousands of records takes milliseconds; done there, it never holds up the
        UI's event loop. (Decoding on a thread of its own, beside the writer, was tried: the two threads
        taking Python's lock in turn cost more CPU than the overlap saved, and on two cores shared with
        the hub CPU is what runs out.) Frames are written in the order they came. Returns (records that
        were new, the seq the batch covers through); raises ``MalformedFrame`` for anything that is not
        a well-formed batch. ``cursor`` names the stream the frame came on.

        A frame handed over here is written even if the caller stops waiting (is cancelled): dropping
        one still queued while a later one got written would leave a gap.
        """
        write = self._threads.write_soon(lambda _writer: self._store_batch(frame_text, cursor))
        return await asyncio.shield(asyncio.wrap_future(write))

    def _store_batch(self, frame_text: str | bytes, cursor: str = LOG_CURSOR) -> tuple[int, int]:
        """``store_batch``'s work, on the writer thread."""
        rows, through_seq = batch_rows(frame_text)
        return self._write(rows, through_seq, len(frame_text), cursor)

    def _write(self, rows: list[KeyedText], through_seq: int, frame_size: int,
               cursor: str = LOG_CURSOR) -> tuple[int, int]:
        if self._write_failure is not None:
            raise WriteRefused("a batch before this one failed to store") from self._write_failure
        try:
            added = self._threads.writer.replicate_rows(rows, through_seq, cursor)
        except Exception as exc:  # the cache locked, the disk full, ...: nothing after it may be stored
            self._write_failure = exc
            raise
        self._unchecked_bytes += frame_size
        if self._unchecked_bytes >= CHECKPOINT_EVERY_BYTES:
            self._unchecked_bytes = 0
            self._checkpointer.wake()
        return added, through_seq

    def resume_writes(self) -> None:
        """Store batches again after one failed to: for a stream starting over from the cursor, once no
        batch of the stream before is still on its way to the writer."""
        self._write_failure = None

    async def read(self, query: Callable[[EventLog], T]) -> T:
        """Run ``query`` against the cache on the reader thread: for what is on screen, answered quickly.
        Raises ``CacheClosed`` once the cache is closed (the replicator moved to another file)."""
        return await self._on(READER, query)

    async def summarise(self, query: Callable[[EventLog], T]) -> T:
        """Run a query over much of the cache (counts, breakdowns) on a thread of its own, so that it never
        holds up the rows a key press asks for."""
        return await self._on(SUMMARIES, query)

    def summarise_soon(self, query: Callable[[EventLog], T]) -> "Future[T]":
        """Start ``query`` on the summaries' thread at once, from any thread and before any event loop runs:
        the dashboard asks for its first screen's summaries while Textual is still starting."""
        return self._threads.read_soon(query, SUMMARIES)

    async def _on(self, pool: str, query: Callable[[EventLog], T]) -> T:
        if self._closed:
            raise CacheClosed(self.path)
        try:
            return await self._threads.read(query, pool)
        except RuntimeError as exc:  # shut down between the check and the call
            raise CacheClosed(self.path) from exc

    @property
    def closed(self) -> bool:
        return self._closed

    async def trim(self, limits: "CacheLimits") -> int:
        """Apply the retention limits, on the writer thread between batches; how many records went."""
        older_than = (iso_timestamp(datetime.now(UTC) - timedelta(seconds=limits.max_age_seconds))
                      if limits.max_age_seconds else None)
        return await self._threads.write(partial(trim, older_than=older_than, max_bytes=limits.max_bytes))

    async def remember_total(self, kind: str, total: KindTotal) -> None:
        """Keep a kind's total for later runs (``store.analytics.kind_totals``), on the writer thread between
        batches. A total that cannot be kept (the cache closed or busy) is counted again next time."""
        try:
            await self._threads.write(partial(remember_total, kind=kind, total=total))
        except (RuntimeError, sqlite3.Error):
            pass

    def close(self) -> None:
        self._closed = True
        self._threads.close()
        self._checkpointer.close()


def repair(path: Path, way_on: str = "a fresh one is copied from the hub") -> list[str]:
    """Before a cache is opened: a damaged one set aside (``way_on`` says what comes next: a ``Cache``
    then makes a fresh one, which its replicator fills), a damaged derived file deleted (the indexer
    builds it again). What was done, one line each."""
    problem = damage_of(path)
    if problem is not None:
        aside = set_aside(path)
        remove(derived_path(path))
        return [f"The cache {path.name} was damaged ({problem}) and is set aside as {aside.name}; {way_on}"]
    problem = damage_of(derived_path(path))
    if problem is not None:
        remove(derived_path(path))
        return [f"The cache's derived file was damaged ({problem}) and is deleted; it is built again from the cache"]
    return []


class _Checkpointer:
    """Copies committed pages from the cache's write-ahead log into its database file, on its own thread.

    A checkpoint is mostly waiting for the disk (it ends in an fsync of the log and of the database);
    run here, that wait overlaps the writer's next batches instead of stopping them. It never blocks
    the writer (a PASSIVE checkpoint takes no write lock). The writer's own, rarer checkpoints
    (``REPLICA_WAL_AUTOCHECKPOINT_BYTES``) still bound the log: they find little left to copy, and once a
    checkpoint has caught up, the next transaction starts the log over from its beginning.
    """

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._wanted = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="cache-checkpointer", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wanted.set()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            if self._closing:
                return
            try:
                self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error:
                pass  # nothing is lost: the writer's own checkpoints carry on

    def close(self) -> None:
        self._closing = True
        self._wanted.set()
        self._thread.join()
        self._conn.close()
