"""Threads around one event log file, so that no query runs on an event loop: one writer, and readers.

SQLite takes one writer at a time and, in WAL mode, any number of readers beside it; a connection is
used by one thread at a time. So every write is a job for the one writer thread, handed the log (an
``EventLog``, or the hub's ``PostgresLog``) it writes with, and every read a job for a reader thread, handed
that thread's own (``reader()``, on its first read). Readers come in named pools, so that one kind of read (the dashboard's summaries over
many records) never queues behind another (the rows a key press asks for). How writes are gathered into
batches, and what a closed log answers, is each side's own (``hub.recorder``, ``tui.cache``).
"""

from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, Protocol, Self, TypeVar
import asyncio
import threading

T = TypeVar("T")


class _Log(Protocol):
    def reader(self) -> Self: ...

    def close(self) -> None: ...


L = TypeVar("L", bound=_Log)
READER = "reader"
"""The pool a read goes to unless it names another."""


class LogThreads(Generic[L]):
    def __init__(self, writer: L, name: str, read_pools: Mapping[str, int]) -> None:
        """``writer`` is used by the writer thread only; ``read_pools`` names each pool of reader threads
        (``READER`` among them) and says how many threads it has. Threads are named ``{name}-{pool}``."""
        self.writer = writer
        self._write_thread = ThreadPoolExecutor(1, thread_name_prefix=f"{name}-writer")
        self._read_pools = {pool: ThreadPoolExecutor(threads, thread_name_prefix=f"{name}-{pool}")
                            for pool, threads in read_pools.items()}
        self._readers = threading.local()
        self._opened: list[L] = []

    def write_soon(self, job: Callable[[L], T]) -> "Future[T]":
        """Queue ``job`` for the writer thread, from any thread; jobs run one at a time, in order."""
        return self._write_thread.submit(job, self.writer)

    async def write(self, job: Callable[[L], T]) -> T:
        return await asyncio.wrap_future(self.write_soon(job))

    def read_soon(self, query: Callable[[L], T], pool: str = READER) -> "Future[T]":
        """Start ``query`` on a thread of ``pool``, from any thread and before any event loop runs."""
        return self._read_pools[pool].submit(self._read, query)

    async def read(self, query: Callable[[L], T], pool: str = READER) -> T:
        return await asyncio.wrap_future(self.read_soon(query, pool))

    def _read(self, query: Callable[[L], T]) -> T:
        reader: L | None = getattr(self._readers, "log", None)
        if reader is None:
            reader = self._readers.log = self.writer.reader()
            self._opened.append(reader)
        return query(reader)

    def close(self, wait_for_reads: bool = True) -> None:
        """Run the writes queued, then close the log. Without ``wait_for_reads`` the reads under way finish
        on their own (a stream's read need not hold up a hub's stop), their connections left open until
        this object is collected."""
        self._write_thread.shutdown(wait=True)
        for pool in self._read_pools.values():
            pool.shutdown(wait=wait_for_reads)
        self.writer.close()
        if wait_for_reads:
            for reader in self._opened:
                reader.close()
