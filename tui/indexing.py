"""The indexer of one cache on a thread of its own: it catches up whenever woken, then sleeps.

The dashboard starts one per cache it opens, wakes it after each stored batch (``wake`` is cheap and
safe from any thread), and stops it before the cache closes. It never runs on the UI's event loop.
``on_progress`` is called on the indexer's thread with the derived cursor after every chunk; a Textual
app hands that on with ``call_from_thread``.
"""

from collections.abc import Callable
from pathlib import Path
import logging
import sqlite3
import threading

from store.derived import CHUNK, Indexer

log = logging.getLogger("switchroom.dashboard")
RETRY_SECONDS = 1.0


class IndexRunner:
    def __init__(self, path: Path, on_progress: Callable[[int], None] | None = None, chunk: int = CHUNK) -> None:
        self.path = path
        self._on_progress = on_progress
        self._chunk = chunk
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cache-indexer", daemon=True)

    def start(self) -> None:
        """Start the thread; it catches up with what the cache already holds at once."""
        self._wanted.set()
        self._thread.start()

    def wake(self) -> None:
        """New records are in the cache: index them."""
        self._wanted.set()

    def stop(self) -> None:
        """Stop after the chunk in hand (each chunk is its own transaction) and wait for the thread."""
        self._stopping.set()
        self._wanted.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        indexer = self._open()
        if indexer is None:
            return
        try:
            while not self._stopping.is_set():
                self._wanted.wait()
                self._wanted.clear()
                self._catch_up(indexer)
        finally:
            indexer.close()

    def _open(self) -> Indexer | None:
        """The indexer, once the cache lets it open (it may be busy past the timeout); None if stopped first."""
        while not self._stopping.is_set():
            try:
                return Indexer(self.path)
            except sqlite3.OperationalError as exc:
                log.warning("cache indexer: %s; retrying", exc)
                self._stopping.wait(RETRY_SECONDS)
        return None

    def _catch_up(self, indexer: Indexer) -> None:
        try:
            while not self._stopping.is_set() and indexer.step(self._chunk):
                if self._on_progress:
                    self._on_progress(indexer.cursor())
        except sqlite3.OperationalError as exc:  # the cache was busy past the timeout: try again shortly
            log.warning("cache indexer: %s; retrying", exc)
            if not self._stopping.is_set():
                threading.Timer(RETRY_SECONDS, self._wanted.set).start()
