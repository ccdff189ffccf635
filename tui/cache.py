"""The dashboard's replica of a hub's event log: one SQLite file per hub id.

Writes go through one writer thread and reads through one reader thread, each with its own
connection (WAL lets them run side by side), so neither ever runs on the UI's event loop.
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
import asyncio

import platformdirs

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

    async def replicate(self, records: list[dict[str, Any]], through_seq: int) -> int:
        """Store a batch and its cursor together; returns how many records were new."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._write_thread, self._writer.replicate, records, through_seq)

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
