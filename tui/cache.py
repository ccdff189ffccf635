"""The dashboard's replica of a hub's event log: one SQLite file per hub id.

Writes go through one writer thread and reads through one reader thread, each with its own
connection (WAL lets them run side by side), so neither ever runs on the UI's event loop.
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar
import asyncio

import platformdirs

from protocol import BatchFrame, parse_server_frame
from protocol.frames import MalformedFrame
from store import EventLog

T = TypeVar("T")


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("switchroom", appauthor=False))


class Cache:
    def __init__(self, directory: Path, hub_id: str) -> None:
        self.hub_id = hub_id
        self.path = directory / "hubs" / f"{hub_id}.sqlite"
        self._writer = EventLog(self.path, check_same_thread=False)
        self._writer.set_meta("hub_id", hub_id)
        self._write_thread = ThreadPoolExecutor(1, thread_name_prefix="cache-writer")
        self._read_thread = ThreadPoolExecutor(1, thread_name_prefix="cache-reader")
        self._reader: EventLog | None = None

    async def store_batch(self, frame_text: str | bytes) -> tuple[int, int]:
        """Decode a batch frame and store its records and cursor together, all on the writer thread.

        Decoding a frame of thousands of records takes milliseconds; done here, it never holds up the
        UI's event loop. Returns (records that were new, the seq the batch covers through); raises
        ``MalformedFrame`` for anything that is not a well-formed batch.
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._write_thread, self._store_batch, frame_text)

    def _store_batch(self, frame_text: str | bytes) -> tuple[int, int]:
        frame = parse_server_frame(frame_text)
        if not isinstance(frame, BatchFrame):
            raise MalformedFrame(f"expected a batch frame, got {frame.type}")
        return self._writer.replicate(frame.records, frame.through_seq), frame.through_seq

    async def read(self, query: Callable[[EventLog], T]) -> T:
        """Run ``query`` against the cache on the reader thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._read_thread, self._run_read, query)

    def _run_read(self, query: Callable[[EventLog], T]) -> T:
        if self._reader is None:
            self._reader = EventLog(self.path, check_same_thread=False)
        return query(self._reader)

    def close(self) -> None:
        self._write_thread.shutdown(wait=True)
        self._read_thread.shutdown(wait=True)
        self._writer.close()
        if self._reader is not None:
            self._reader.close()
